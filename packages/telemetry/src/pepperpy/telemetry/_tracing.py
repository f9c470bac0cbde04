"""Tracing: spans carried by pepperpy.context across tasks, threads and HTTP."""

from __future__ import annotations

import contextvars
import functools
import inspect
import json
import logging
import math
import queue
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, cast, runtime_checkable

import attrs

from pepperpy import context
from pepperpy.core import MASK, default_redactor, is_secret_value, redact_text, safe_str
from pepperpy.core.exceptions import InvalidArgumentError, safe_repr
from pepperpy.core.types import Clock, system_clock
from pepperpy.telemetry._wrap import bracket

if TYPE_CHECKING:
    from pepperpy.telemetry._metrics import Histogram, Metrics

__all__ = [
    "InMemoryExporter",
    "JsonLinesExporter",
    "Span",
    "SpanEvent",
    "SpanExporter",
    "Tracer",
    "current_span",
]

F = TypeVar("F", bound=Callable[..., Any])
SpanStatus = Literal["unset", "ok", "error"]

_log = logging.getLogger("pepperpy.telemetry")
_CURRENT: contextvars.ContextVar[Span | None] = contextvars.ContextVar(
    "pepperpy.telemetry.span", default=None
)


def _clean(value: Any, depth: int = 0) -> Any:
    """Return an attribute value that is safe to export (secrets masked, JSON-friendly).

    Masking is pepperpy.core's one redactor: secret keys at any depth, secret
    objects, secrets inside strings (``key=value``, URL passwords) and
    dataclass/attrs fields. Never raises.
    """
    kind = type(value)
    if kind is str:
        return redact_text(value)
    if value is None or kind is bool or kind is int:
        return value
    if kind is float:
        return value if math.isfinite(value) else repr(value)
    if depth > 12:
        return "<...>"
    if is_secret_value(value):
        return MASK
    if isinstance(value, Mapping):
        return _clean_attributes(value, depth + 1)
    if isinstance(value, (list, tuple, set, frozenset)):
        try:
            return [_clean(v, depth + 1) for v in value]
        except Exception:
            return safe_str(value, 200)
    return (
        safe_str(value, 200)
        if not isinstance(value, (int, float))
        else _clean(float(value) if isinstance(value, float) else int(value), depth)
    )


def _clean_attributes(attributes: Mapping[Any, Any], depth: int = 0) -> dict[str, Any]:
    try:
        items = list(attributes.items())
    except Exception:
        return {"attributes": MASK}
    out: dict[str, Any] = {}
    for k, v in items:
        key = k if isinstance(k, str) else safe_str(k, 100)
        out[key] = (
            MASK if default_redactor.is_secret_key(key) and v is not None else _clean(v, depth)
        )
    return out


def _exception_info(exc: BaseException) -> dict[str, str]:
    return {"type": type(exc).__name__, "message": safe_str(exc, 2000)}


@attrs.define
class SpanEvent:
    """Something that happened during a span (a retry, a cache miss ...)."""

    name: str
    time: float
    attributes: dict[str, Any] = attrs.field(factory=dict)


@attrs.define(eq=False)
class Span:
    """One timed operation of a trace.

    Attributes:
        name: What the span measures.
        trace_id: 32 hex digits shared by every span of the trace.
        span_id: 16 hex digits.
        parent_id: The parent span's id (possibly remote), or ``None`` for a root.
        service: The tracer's service name.
        start_time: Wall-clock start (seconds since the epoch).
        end_time: Wall-clock end, once ended.
        duration: Seconds, measured on the monotonic clock, once ended.
        status: ``"unset"``, ``"ok"`` or ``"error"``.
        status_message: Why, for an error.
        attributes: Key/value details; secret-looking keys and secret objects
            are masked when the span is exported.
        events: :class:`SpanEvent` entries.
        exception: ``{"type": ..., "message": ...}`` of the exception that ended it.
        request_id: The ``request_id`` bound in :mod:`pepperpy.context` at start.
        sampled: Whether exporters receive it.
    """

    name: str
    trace_id: str
    span_id: str
    parent_id: str | None
    service: str
    start_time: float
    request_id: str | None = None
    sampled: bool = True
    attributes: dict[str, Any] = attrs.field(factory=dict)
    events: list[SpanEvent] = attrs.field(factory=list)
    end_time: float | None = None
    duration: float | None = None
    status: SpanStatus = "unset"
    status_message: str | None = None
    exception: dict[str, str] | None = None
    _start_mono: float = attrs.field(default=0.0, repr=False)
    _tracer: Tracer | None = attrs.field(default=None, repr=False)

    @property
    def ended(self) -> bool:
        """Whether :meth:`end` ran."""
        return self.end_time is not None

    def set_attribute(self, key: str, value: Any) -> None:
        """Set one attribute."""
        self.attributes[key] = value

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        """Set several attributes."""
        self.attributes.update(attributes)

    def add_event(self, name: str, attributes: Mapping[str, Any] | None = None) -> None:
        """Record an event now."""
        clock = self._tracer.clock if self._tracer is not None else system_clock
        self.events.append(SpanEvent(name, clock.time(), dict(attributes or {})))

    def record_exception(self, exc: BaseException) -> None:
        """Mark the span failed by *exc* (type and message are kept, not the traceback).

        The message is rendered through pepperpy.core's redactor (secrets
        masked) and never raises, even for an exception whose ``__str__`` does.
        """
        info = _exception_info(exc)
        self.exception = info
        self.status = "error"
        self.status_message = f"{info['type']}: {info['message']}"

    def set_status(self, status: SpanStatus, message: str | None = None) -> None:
        """Set the status explicitly."""
        if status not in ("unset", "ok", "error"):
            raise InvalidArgumentError(
                f"unknown span status {safe_repr(status)}",
                code="pepperpy.telemetry.span_status",
                hint="Use 'unset', 'ok' or 'error'.",
            )
        self.status = status
        self.status_message = message

    def end(self) -> None:
        """End the span and hand it to the exporters; later calls do nothing."""
        if self.end_time is not None:
            return
        tracer = self._tracer
        clock = tracer.clock if tracer is not None else system_clock
        self.duration = max(0.0, clock.monotonic() - self._start_mono)
        self.end_time = self.start_time + self.duration
        if self.status == "unset":
            self.status = "ok"
        if tracer is not None:
            tracer._finish(self)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict with secrets masked (what exporters write)."""
        return {
            "name": self.name,
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "parent_id": self.parent_id,
            "service": self.service,
            "request_id": self.request_id,
            "start_time": self.start_time,
            "end_time": self.end_time,
            "duration": self.duration,
            "status": self.status,
            "status_message": None
            if self.status_message is None
            else safe_str(self.status_message, 2000),
            "attributes": _clean_attributes(self.attributes),
            "events": [
                {"name": e.name, "time": e.time, "attributes": _clean_attributes(e.attributes)}
                for e in self.events
            ],
            "exception": None if self.exception is None else _clean_attributes(self.exception),
        }


def current_span() -> Span | None:
    """Return the span open in the current context, if any."""
    return _CURRENT.get()


@runtime_checkable
class SpanExporter(Protocol):
    """Receives every ended, sampled span."""

    def export(self, span: Span) -> None:
        """Take one span; must be quick and must not block on I/O."""
        ...

    def shutdown(self) -> None:
        """Flush and release resources."""
        ...


class InMemoryExporter:
    """Keeps ended spans in a list: the exporter for tests."""

    def __init__(self) -> None:
        self._spans: list[Span] = []
        self._lock = threading.Lock()

    @property
    def spans(self) -> list[Span]:
        """The spans exported so far, in end order."""
        with self._lock:
            return list(self._spans)

    def export(self, span: Span) -> None:
        """Store *span*."""
        with self._lock:
            self._spans.append(span)

    def find(self, name: str) -> list[Span]:
        """The spans called *name*."""
        return [s for s in self.spans if s.name == name]

    def clear(self) -> None:
        """Forget every span."""
        with self._lock:
            self._spans.clear()

    def shutdown(self) -> None:
        """Nothing to release."""


class _QueuedExporter:
    """Base for exporters doing slow I/O.

    Spans are queued and handled in batches by a daemon thread, so traced
    code never waits on a disk or a network. The queue is bounded: while the
    destination is stuck, spans beyond :attr:`max_queue` waiting ones are
    dropped and counted in :attr:`dropped` (reported once on the
    ``pepperpy.telemetry`` logger), as OpenTelemetry's batch processor does,
    so a hung disk or collector never grows the application's memory.
    """

    _thread_name = "pepperpy-span-exporter"
    max_queue: int = 10_000
    """How many spans may wait to be written; later ones are dropped."""

    def __init__(self) -> None:
        self.errors = 0
        self.dropped = 0
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    def _ensure_thread(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name=self._thread_name, daemon=True
                    )
                    self._thread.start()

    def _item(self, span: Span) -> Any:
        return span

    @property
    def pending(self) -> int:
        """Spans queued and not yet taken by the writer thread."""
        return self._queue.qsize()

    def export(self, span: Span) -> None:
        """Queue *span*; it is written by the background thread (dropped when full)."""
        if self._closed:
            return
        self._ensure_thread()
        if self._queue.qsize() >= self.max_queue:
            self.dropped += 1
            if self.dropped == 1:
                _log.warning(
                    "%s: %d spans are waiting to be written; new spans are dropped until "
                    "the destination catches up (counted in .dropped)",
                    type(self).__name__,
                    self.max_queue,
                )
            return
        self._queue.put(self._item(span))

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            batch: list[Any] = []
            while True:
                if item is None or isinstance(item, threading.Event):
                    if batch:
                        self._safe_write(batch)
                        batch = []
                    if item is None:
                        return
                    item.set()
                else:
                    batch.append(item)
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._safe_write(batch)

    def _safe_write(self, batch: list[Any]) -> None:
        try:
            self._write(batch)
        except Exception as exc:
            first = self.errors == 0
            self.errors += len(batch)
            if first:
                _log.warning("%s cannot write spans: %s", type(self).__name__, exc)

    def _write(self, batch: list[Any]) -> None:
        raise NotImplementedError

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Wait until every queued span is handled; ``False`` on timeout."""
        if self._thread is None:
            return True
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def _close(self) -> None:
        pass

    def shutdown(self) -> None:
        """Flush and stop the background thread."""
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
        self._close()


class JsonLinesExporter(_QueuedExporter):
    """Appends each span as one JSON object per line to *path*, from a background thread.

    The caller never waits on the disk: spans are queued and written by a
    daemon thread. :meth:`flush` waits until everything queued is written;
    :meth:`shutdown` flushes and stops the thread. Write errors are reported
    once on the ``pepperpy.telemetry`` stdlib logger and counted in
    :attr:`errors`, never raised.
    """

    _thread_name = "pepperpy-span-writer"

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)

    def _item(self, span: Span) -> Any:
        return span.to_dict()

    def _write(self, batch: list[Any]) -> None:
        lines = []
        for item in batch:
            try:
                text = json.dumps(item, ensure_ascii=False, default=safe_str)
            except Exception as exc:  # one span that cannot be written never costs the others
                self.errors += 1
                _log.warning("%s cannot write a span: %s", type(self).__name__, safe_str(exc))
                continue
            # A lone surrogate can only sit inside a JSON string, where its backslash
            # escape (\udcff) is valid JSON: the file stays valid UTF-8 and keeps the value.
            lines.append(text.encode("utf-8", "backslashreplace") + b"\n")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as fh:
            fh.write(b"".join(lines))


class _SpanScope:
    """``with`` / ``async with`` block that opens a span and makes it current."""

    __slots__ = ("_attributes", "_name", "_prev", "_scope", "_span", "_tracer")

    def __init__(self, tracer: Tracer, name: str, attributes: Mapping[str, Any] | None) -> None:
        self._tracer = tracer
        self._name = name
        self._attributes = attributes
        self._span: Span | None = None
        self._scope: context.scope | None = None
        self._prev: Span | None = None

    def __enter__(self) -> Span:
        span = self._tracer.start_span(self._name, self._attributes)
        self._span = span
        self._scope = context.scope(
            {
                context.TRACE_ID: span.trace_id,
                context.SPAN_ID: span.span_id,
                context.TRACE_FLAGS: "01" if span.sampled else "00",
            }
        )
        self._scope.__enter__()
        self._prev = _CURRENT.get()
        _CURRENT.set(span)
        return span

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        span = self._span
        if span is None:
            return
        self._span = None
        if _CURRENT.get() is span:
            _CURRENT.set(self._prev)
        if self._scope is not None:
            self._scope.__exit__(exc_type, exc, tb)
        if exc is not None:
            span.record_exception(exc)
        span.end()

    async def __aenter__(self) -> Span:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)


class Tracer:
    """Creates spans and hands ended ones to exporters.

    The current span lives in :mod:`pepperpy.context` (``trace_id`` and
    ``span_id``), so children find their parent wherever the context goes:
    tasks (automatic), threads (``context.to_thread``, ``ContextExecutor``),
    subprocesses (``context.wrap``), and remote services
    (``context.inject_headers`` / ``extract_headers``, W3C ``traceparent``).
    Log records of pepperpy.logging carry the same ids.

    Args:
        service: Service name stamped on every span.
        exporters: Where ended spans go.
        clock: Time source (timestamps and durations).
        sample_rate: Fraction of traces exported, decided per trace id so a
            trace is kept or dropped whole.
        metrics: When given, every span is also observed in a
            ``span_duration_seconds`` histogram labelled by name and status.
    """

    def __init__(
        self,
        service: str = "app",
        *,
        exporters: Iterable[SpanExporter] = (),
        clock: Clock = system_clock,
        sample_rate: float = 1.0,
        metrics: Metrics | None = None,
    ) -> None:
        if not 0.0 <= sample_rate <= 1.0:
            raise InvalidArgumentError(
                f"sample_rate must be between 0 and 1, got {sample_rate!r}",
                code="pepperpy.telemetry.sample_rate",
                hint="Use 1.0 to keep every trace, 0.1 to keep one in ten.",
            )
        self.service = service
        self.clock = clock
        self.sample_rate = sample_rate
        self._exporters: list[SpanExporter] = list(exporters)
        self._failed: set[int] = set()
        self._histogram: Histogram | None = None
        if metrics is not None:
            self._histogram = metrics.histogram(
                "span_duration_seconds",
                "Duration of traced operations",
                labels=("span", "status"),
                max_label_sets=500,
                overflow="other",
            )

    @property
    def exporters(self) -> list[SpanExporter]:
        """The exporters in use."""
        return list(self._exporters)

    def add_exporter(self, exporter: SpanExporter) -> None:
        """Send ended spans to *exporter* too."""
        self._exporters.append(exporter)

    def _sampled(self, trace_id: str) -> bool:
        if self.sample_rate >= 1.0:
            return True
        if self.sample_rate <= 0.0:
            return False
        return int(trace_id[-16:], 16) / float(1 << 64) < self.sample_rate

    def start_span(self, name: str, attributes: Mapping[str, Any] | None = None) -> Span:
        """Create and start a span (child of the current one) without making it current.

        Call :meth:`Span.end` when done. Most code wants :meth:`span` instead.
        """
        values = context.current()
        parent = values.get(context.SPAN_ID)
        trace_id = values.get(context.TRACE_ID)
        if not isinstance(trace_id, str) or len(trace_id) != 32:
            trace_id = context.new_trace_id()
            parent = None
        request_id = values.get(context.REQUEST_ID)
        flags = values.get(context.TRACE_FLAGS) if parent is not None else None
        if isinstance(flags, str) and len(flags) == 2:
            # the caller decided (W3C parent-based sampling): bit 0 is "sampled"
            try:
                sampled = bool(int(flags, 16) & 1)
            except ValueError:
                sampled = self._sampled(trace_id)
        else:
            sampled = self._sampled(trace_id)
        return Span(
            name=name,
            trace_id=trace_id,
            span_id=context.new_span_id(),
            parent_id=parent if isinstance(parent, str) else None,
            service=self.service,
            start_time=self.clock.time(),
            request_id=None if request_id is None else str(request_id),
            sampled=sampled,
            attributes=dict(attributes or {}),
            start_mono=self.clock.monotonic(),
            tracer=self,
        )

    def span(self, name: str, attributes: Mapping[str, Any] | None = None) -> _SpanScope:
        """Open a span for a ``with`` or ``async with`` block; it is current inside.

        An exception leaving the block marks the span ``error`` (and is re-raised).
        """
        return _SpanScope(self, name, attributes)

    def traced(
        self, name: str | None = None, attributes: Mapping[str, Any] | None = None
    ) -> Callable[[F], F]:
        """Decorate a function so each call runs in a span.

        Sync and async functions run inside the span (it is current there).
        For a generator or async generator function the span covers the whole
        iteration (first item to exhaustion or error; closing it early is not
        an error) and is not made current, since the body runs in its
        consumer's context between items.
        """

        def decorate(fn: F) -> F:
            span_name = name or f"{fn.__module__}.{fn.__qualname__}"
            if inspect.isasyncgenfunction(fn) or inspect.isgeneratorfunction(fn):

                def finish(span: Span, exc: BaseException | None) -> None:
                    if exc is not None:
                        span.record_exception(exc)
                    span.end()

                return bracket(fn, lambda: self.start_span(span_name, attributes), finish)
            if inspect.iscoroutinefunction(fn):

                @functools.wraps(fn)
                async def traced_async(*args: Any, **kwargs: Any) -> Any:
                    with self.span(span_name, attributes):
                        return await fn(*args, **kwargs)

                return cast("F", traced_async)

            @functools.wraps(fn)
            def traced_sync(*args: Any, **kwargs: Any) -> Any:
                with self.span(span_name, attributes):
                    return fn(*args, **kwargs)

            return cast("F", traced_sync)

        return decorate

    def _finish(self, span: Span) -> None:
        if self._histogram is not None and span.duration is not None:
            self._histogram.labels(span=span.name, status=span.status).observe(span.duration)
        if not span.sampled:
            return
        for exporter in self._exporters:
            try:
                exporter.export(span)
            except Exception as exc:
                key = id(exporter)
                if key not in self._failed:
                    self._failed.add(key)
                    _log.warning("span exporter %r failed: %s", exporter, exc)

    def shutdown(self) -> None:
        """Shut every exporter down (flushing them)."""
        for exporter in self._exporters:
            try:
                exporter.shutdown()
            except Exception as exc:
                _log.warning("span exporter %r failed to shut down: %s", exporter, exc)
