"""Record formatters (pretty text, JSON lines), the sink error guard and the stdlib forwarder."""

from __future__ import annotations

import datetime as _dt
import json
import logging
import math
import queue
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from pepperpy.core import Redactor, default_redactor
from pepperpy.core.exceptions import safe_repr

if TYPE_CHECKING:
    from loguru import Message, Record

__all__ = ["SinkFailure", "SinkGuard", "ThreadQueueSink", "json_formatter", "text_formatter"]

PRIVATE = "_pp_"
"""Prefix of the extra keys pepperpy.logging uses internally (never rendered)."""

FROM_STDLIB = "_pp_from_std"
"""Extra key marking a record captured from stdlib ``logging``."""

TEXT_FORMAT = (
    "<green>{time:YYYY-MM-DD HH:mm:ss.SSS}</green> | <level>{level: <8}</level> | "
    "<cyan>{name}</cyan>:<cyan>{function}</cyan>:<cyan>{line}</cyan> - "
    "<level>{message}</level>{extra[_pp_kv]}\n{exception}"
)

_RESERVED = ("time", "level", "logger", "message")


_NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}

# Types written as they are (exact types: subclasses such as IntEnum go through _plain).
_JSON_EXACT = frozenset({str, int, bool, type(None)})
# Strict JSON (no NaN/Infinity: _plain turns them into strings), UTF-8 as is.
_ENCODE = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode


def _plain(value: Any, redactor: Redactor, depth: int = 0) -> Any:
    """*value* as plain JSON data: strings for NaN/Infinity and for other objects.

    Strict JSON has no NaN or Infinity, so they are written as the strings
    ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``. Objects JSON cannot carry
    are rendered with the redactor's ``safe_str`` (secrets masked, never raises).
    """
    kind = type(value)
    if kind is str or kind is bool or kind is int or value is None:
        return value
    if kind is float:
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else _NON_FINITE[value]
    if depth > 20:
        return "<...>"
    if isinstance(value, dict):
        return {
            (k if isinstance(k, str) else redactor.safe_str(k, 200)): _plain(v, redactor, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_plain(v, redactor, depth + 1) for v in value]
    if isinstance(value, (set, frozenset)):
        return [_plain(v, redactor, depth + 1) for v in sorted(value, key=safe_repr)]
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return redactor.redact_text(value.decode("utf-8", "replace"))
    if isinstance(value, float):  # float subclasses
        return _plain(float(value), redactor, depth)
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {redactor.safe_str(value)}"
    return redactor.safe_str(value)


def format_exception(exc: Any, redactor: Redactor) -> tuple[str, str]:
    """Return the redacted ``(message, traceback text)`` of loguru's exception info."""
    value = exc.value
    if not isinstance(value, BaseException):  # pragma: no cover - loguru always has one
        return "", f"{exc.type.__name__}\n"
    if value.__traceback__ is None and exc.traceback is not None:
        value = value.with_traceback(exc.traceback)
    return redactor.safe_str(value), redactor.format_exception(value)


def _plain_record(data: dict[Any, Any], redactor: Redactor) -> dict[str, Any]:
    return {
        (k if isinstance(k, str) else redactor.safe_str(k, 200)): (
            v if type(v) in _JSON_EXACT else _plain(v, redactor, 1)
        )
        for k, v in data.items()
    }


def render_json(record: Record, redactor: Redactor) -> str:
    """Return *record* as one strict JSON object (no newline); never raises."""
    data: dict[Any, Any] = {
        "time": record["time"].isoformat(timespec="microseconds"),
        "level": record["level"].name,
        "logger": record["name"],
        "message": record["message"],
    }
    for key, value in record["extra"].items():
        if isinstance(key, str):
            if key.startswith(PRIVATE):
                continue
            if key in data:
                key = f"extra_{key}"
        data[key] = value
    data["function"] = record["function"]
    data["line"] = record["line"]
    data["module"] = record["module"]
    data["process"] = record["process"].id
    data["thread"] = record["thread"].name
    exc = record["exception"]
    if exc is not None and exc.type is not None:
        message, text = format_exception(exc, redactor)
        data["exception"] = {"type": exc.type.__name__, "message": message, "traceback": text}
    try:
        # Most values are already plain (str, int, bool, None) under str keys: the
        # record is written as it is, and only when it holds something else is a
        # plain copy made; the encoder is built once (json.dumps with options
        # builds a new JSONEncoder per call).
        for k, v in data.items():
            if type(k) is not str or type(v) not in _JSON_EXACT:
                data = _plain_record(data, redactor)
                break
        return _ENCODE(data)
    except (TypeError, ValueError, RecursionError):
        # keys JSON cannot carry: fall back to reprs
        safe = {
            str(k): (v if isinstance(v, (str, int, bool)) else redactor.safe_repr(v, 500))
            for k, v in data.items()
        }
        return json.dumps(safe, ensure_ascii=False)


def json_formatter(redactor_ref: Callable[[], Redactor]) -> Callable[[Record], str]:
    """Return a loguru format callable producing JSON lines."""

    def fmt(record: Record) -> str:
        record["extra"]["_pp_json"] = render_json(record, redactor_ref())
        return "{extra[_pp_json]}\n"

    return fmt


def _kv(record: Record, redactor: Redactor) -> str:
    parts = []
    for key, value in record["extra"].items():
        if key.startswith(PRIVATE):
            continue
        if isinstance(value, str):
            text = redactor.redact_text(value)
        else:
            text = redactor.safe_repr(value, 200)
        parts.append(f"{key}={text}")
    return (" | " + " ".join(parts)) if parts else ""


def _exception_text(record: Record, redactor: Redactor) -> str:
    exc = record["exception"]
    if exc is None or exc.type is None:
        return ""
    return format_exception(exc, redactor)[1]


def text_formatter(
    custom: str | None = None,
    redactor_ref: Callable[[], Redactor] | None = None,
    *,
    diagnose: bool = False,
) -> Callable[[Record], str]:
    """Return a loguru format callable: pretty text with the extra values appended.

    The traceback is rendered here, redacted like everything else. Only with
    *diagnose* (the user asked to see variable values) is loguru's own
    ``{exception}`` rendering used, and it is not redacted.
    """
    ref = redactor_ref or (lambda: default_redactor)
    # like loguru with a format string: a newline and the traceback are appended
    template = TEXT_FORMAT if custom is None else custom + "\n{exception}"
    if not diagnose:
        template = template.replace("{exception}", "{extra[_pp_exc]}")
    needs_kv = "_pp_kv" in template
    needs_exc = "_pp_exc" in template

    def fmt(record: Record) -> str:
        redactor = ref()
        if needs_kv:
            record["extra"]["_pp_kv"] = _kv(record, redactor)
        if needs_exc:
            record["extra"]["_pp_exc"] = _exception_text(record, redactor)
        return template

    return fmt


@attrs.define
class SinkFailure:
    """What went wrong with one sink.

    Attributes:
        sink: The sink's name (``"console"``, ``"file:logs/app.jsonl"``...).
        count: How many records it failed to write.
        first_error: The first error, as ``"Type: message"``.
        last_error: The latest error.
        dropped: Records dropped because its thread queue was full
            (``enqueue="thread"`` with ``queue_overflow="drop"``).
    """

    sink: str
    count: int = 0
    first_error: str = ""
    last_error: str = ""
    dropped: int = 0


class SinkGuard:
    """Replaces loguru's per-handler error printer: report the first failure, count the rest.

    Loguru already stops sink errors from reaching the caller; it then
    prints a full traceback for *every* failed record, which floods stderr
    when a disk is full. This guard prints one line the first time and keeps
    counting (see :func:`pepperpy.logging.sink_errors`).
    """

    def __init__(self, name: str, on_error: Callable[[SinkFailure], None] | None = None) -> None:
        self.failure = SinkFailure(name)
        self._lock = threading.Lock()
        self._on_error = on_error

    def should_catch(self) -> bool:
        return True

    def print(self, record: Any = None, *, exception: BaseException | None = None) -> None:
        exc = exception if exception is not None else sys.exc_info()[1]
        text = "unknown error" if exc is None else f"{type(exc).__name__}: {exc}"
        with self._lock:
            failure = self.failure
            failure.count += 1
            failure.last_error = text
            first = failure.count == 1
            if first:
                failure.first_error = text
        if first:
            stream = sys.__stderr__ or sys.stderr
            try:
                if stream is not None:
                    stream.write(
                        f"pepperpy.logging: sink {failure.sink!r} failed to write a record "
                        f"({text}); later failures of this sink are only counted "
                        "(see pepperpy.logging.sink_errors()).\n"
                    )
            except Exception:
                pass
            if self._on_error is not None:
                try:
                    self._on_error(failure)
                except Exception:
                    pass

    def drop(self) -> None:
        """Count one record dropped by a full queue; report the first one."""
        with self._lock:
            self.failure.dropped += 1
            first = self.failure.dropped == 1
        if first:
            stream = sys.__stderr__ or sys.stderr
            try:
                if stream is not None:
                    stream.write(
                        f"pepperpy.logging: sink {self.failure.sink!r} cannot keep up; its "
                        "queue is full and records are being dropped (counted in "
                        "pepperpy.logging.sink_errors()).\n"
                    )
            except Exception:
                pass


class ThreadQueueSink:
    """A bounded in-process queue in front of a sink, drained by one daemon thread.

    The logging call only formats the record and puts it in the queue, so a
    slow disk or pipe never stalls application code (or the event loop).
    When the queue is full, ``overflow="drop"`` drops the record and counts
    it (reported once), ``"block"`` waits for room. Write errors of the
    wrapped sink are reported once and counted by *guard*.
    """

    def __init__(
        self,
        write: Callable[[Any], Any],
        guard: SinkGuard,
        *,
        stop: Callable[[], Any] | None = None,
        size: int = 10_000,
        overflow: str = "drop",
    ) -> None:
        self._write = write
        self._stop_inner = stop
        self._guard = guard
        self._block = overflow == "block"
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=size)
        self._stopped = False
        self._thread = threading.Thread(
            target=self._run, name=f"pepperpy-log-{guard.failure.sink}", daemon=True
        )
        self._thread.start()

    def write(self, message: Any) -> None:
        """Queue one formatted record (called by loguru)."""
        if self._stopped:
            return
        if self._block:
            self._queue.put(message)
            return
        try:
            self._queue.put_nowait(message)
        except queue.Full:
            self._guard.drop()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if isinstance(item, threading.Event):
                item.set()
                continue
            try:
                self._write(item)
            except Exception as exc:
                self._guard.print(exception=exc)

    def drain(self, timeout: float | None = 10.0) -> bool:
        """Wait until every queued record is written; ``False`` on timeout."""
        if self._stopped:
            return True
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def stop(self) -> None:
        """Write what is queued, stop the thread, then stop the wrapped sink (loguru calls it)."""
        if self._stopped:
            return
        self._stopped = True
        self._queue.put(None)
        self._thread.join(timeout=30)
        if self._stop_inner is not None:
            try:
                self._stop_inner()
            except Exception as exc:
                self._guard.print(exception=exc)


_STD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}


class StdlibForwarder:
    """A loguru sink handing each record to stdlib ``logging`` under its logger name.

    Records that came from stdlib (captured by the intercept handler) are not
    handed back: stdlib's own handlers already had them. The traceback text
    (``exc_text``) is the redacted one, so stdlib formatters never render the
    raw exception message.
    """

    def __init__(self, redactor_ref: Callable[[], Redactor] | None = None) -> None:
        self._redactor_ref = redactor_ref or (lambda: default_redactor)

    def write(self, message: Message) -> None:
        record = message.record
        if record["extra"].get(FROM_STDLIB):
            return
        exc = record["exception"]
        std = logging.LogRecord(
            record["name"] or "root",
            record["level"].no,
            record["file"].path,
            record["line"],
            record["message"],
            None,
            (exc.type, exc.value, exc.traceback)  # type: ignore[arg-type]
            if exc is not None and exc.type
            else None,
            record["function"],
        )
        std.levelname = record["level"].name
        if exc is not None and exc.type is not None:
            std.exc_text = format_exception(exc, self._redactor_ref())[1].rstrip("\n")
        std.pepperpy = True  # the intercept handler skips records we forwarded
        for key, value in record["extra"].items():
            if not key.startswith(PRIVATE) and key not in _STD_ATTRS:
                std.__dict__[key] = value
        logging.getLogger(std.name).handle(std)


def stdlib_extra(record: logging.LogRecord) -> dict[str, Any]:
    """Return the attributes a stdlib call added with ``extra={...}``."""
    return {
        key: value
        for key, value in record.__dict__.items()
        if key not in _STD_ATTRS and not key.startswith("_")
    }
