"""Typed metrics on prometheus-client: declarations, label guard, timing helpers."""

from __future__ import annotations

import contextvars
import inspect
import logging
import math
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar, cast, overload

import prometheus_client
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest

from pepperpy.context import current as _context_values
from pepperpy.core import safe_str
from pepperpy.core.exceptions import ConflictError, InvalidArgumentError, safe_repr
from pepperpy.core.types import Clock, system_clock
from pepperpy.telemetry._wrap import bracket

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "Counter",
    "CounterChild",
    "Enum",
    "EnumChild",
    "Info",
    "InfoChild",
    "Gauge",
    "GaugeChild",
    "Histogram",
    "HistogramChild",
    "LabelCardinalityError",
    "MetricSet",
    "MetricSpec",
    "Metrics",
    "Summary",
    "SummaryChild",
    "counter",
    "enum",
    "gauge",
    "histogram",
    "info",
    "summary",
]

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound="_Family[Any]")
C = TypeVar("C")

Overflow = Literal["raise", "other"]

_log = logging.getLogger("pepperpy.telemetry")
OTHER = "__other__"
"""The label value every label gets when ``overflow="other"`` folds a new label set."""

DEFAULT_BUCKETS: tuple[float, ...] = prometheus_client.Histogram.DEFAULT_BUCKETS


class LabelCardinalityError(InvalidArgumentError):
    """A metric was asked for more distinct label sets than its limit allows."""

    code = "pepperpy.telemetry.cardinality"


# --------------------------------------------------------------------------- helpers


class _Timer:
    """Times a block or every call of a function (sync or async) and records seconds."""

    __slots__ = ("_clock", "_record", "_start")

    def __init__(self, record: Callable[[float], None], clock: Clock) -> None:
        self._record = record
        self._clock = clock
        self._start = 0.0

    def __enter__(self) -> Self:
        self._start = self._clock.monotonic()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._record(max(0.0, self._clock.monotonic() - self._start))

    async def __aenter__(self) -> Self:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    def __call__(self, fn: F) -> F:
        """Time each call of *fn* (sync, async, or a whole (async) generator iteration)."""
        record, clock = self._record, self._clock

        def finish(start: float, exc: BaseException | None) -> None:
            record(max(0.0, clock.monotonic() - start))

        return bracket(fn, clock.monotonic, finish)


class _Bracket:
    """Runs *enter* before and *exit(exc)* after a block or call (sync or async)."""

    __slots__ = ("_enter", "_exit")

    def __init__(
        self, enter: Callable[[], None], exit: Callable[[BaseException | None], None]
    ) -> None:
        self._enter = enter
        self._exit = exit

    def __enter__(self) -> Self:
        self._enter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._exit(exc)

    async def __aenter__(self) -> Self:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._exit(exc)

    def __call__(self, fn: F) -> F:
        """Bracket each call of *fn* (sync, async, or a whole (async) generator iteration)."""
        exit_ = self._exit
        return bracket(fn, self._enter, lambda _token, exc: exit_(exc))


def _label_text(value: Any) -> str:
    """A label value as a string; never raises (a broken ``__str__`` names the type).

    The result is always encodable as UTF-8: a lone surrogate (a path decoded with
    ``surrogateescape``) is written as a backslash escape, since one unencodable
    value would make every later render of the registry fail.
    """
    if type(value) is str:
        text = value
    else:
        try:
            text = str(value)
        except Exception:
            return f"<{type(value).__name__} object (str failed)>"
    return _encodable(text)


def _encodable(text: str) -> str:
    """*text*, with lone surrogates written as backslash escapes (valid UTF-8 always)."""
    if not isinstance(text, str) or text.isascii():  # a non-str is refused by validation
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


_MAX_FLOAT = sys.float_info.max


_warned_values: set[str] = set()


def _drop_value(what: str, value: Any) -> None:
    """Log (once per kind) that a value was dropped instead of corrupting a series."""
    if what not in _warned_values:
        _warned_values.add(what)
        _log.warning(
            "dropped a %s of %s: a NaN, infinite or non-numeric value would corrupt the "
            "series for good (reported once)",
            what,
            safe_repr(value, 60),
        )


def _observation(amount: Any) -> float | None:
    """*amount* as a finite float observation, or ``None`` (dropped with a warning)."""
    try:
        value = float(amount) if not isinstance(amount, (str, bytes)) else math.nan
    except (TypeError, ValueError, OverflowError):
        value = math.nan
    if not math.isfinite(value):
        _drop_value("observation", amount)
        return None
    return value


def _fast_inc(raw: Any) -> Callable[[float], None]:
    # prometheus_client's value object: skips the per-call checks we do ourselves
    value = getattr(raw, "_value", None)
    inc = getattr(value, "inc", None)
    return cast("Callable[[float], None]", inc if callable(inc) else raw.inc)


def _no_labels_error(name: str, labels: Sequence[str]) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"metric {name!r} has labels {list(labels)}; pick a series first",
        code="pepperpy.telemetry.labels",
        context={"metric": name, "labels": list(labels)},
        hint=f"Call {name}.labels({', '.join(f'{n}=...' for n in labels)}) and use its result.",
    )


class _Unlabeled:
    """Stand-in for the value of a labelled family: every use explains the mistake."""

    __slots__ = ("_error",)

    def __init__(self, error: InvalidArgumentError) -> None:
        self._error = error

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise self._error

    def __getattr__(self, name: str) -> Any:
        raise self._error


# --------------------------------------------------------------------------- children


class CounterChild:
    """One counter series: only goes up."""

    __slots__ = ("_clock", "_inc", "_raw")

    def __init__(self, raw: Any, clock: Clock) -> None:
        self._raw = raw
        self._clock = clock
        self._inc = _fast_inc(raw)

    def inc(self, amount: float = 1.0) -> None:
        """Add *amount* (>= 0).

        A NaN, infinite or non-numeric amount is dropped with a warning (once per
        process): added, it would make the series NaN or infinite for good.
        """
        try:
            if 0 <= amount <= _MAX_FLOAT:  # NaN, inf, huge ints and non-numbers fail here
                self._inc(amount)
                return
            negative = amount < 0
        except TypeError:
            negative = False
        if negative:
            raise InvalidArgumentError(
                f"a counter cannot go down (inc({safe_repr(amount)}))",
                code="pepperpy.telemetry.counter_negative",
                hint="Use a Gauge for values that go up and down.",
            )
        _drop_value("counter increment", amount)

    def count_exceptions(self, *types: type[BaseException]) -> _Bracket:
        """Count exceptions of *types* (default: ``Exception``) leaving a block or a call.

        Works as a context manager (``with``/``async with``) and as a
        decorator of sync and async functions; exceptions are re-raised.
        """
        kinds: tuple[type[BaseException], ...] = types or (Exception,)
        inc = self._inc
        if isinstance(inc, _Unlabeled):
            inc()  # raises: a labelled family needs .labels(...) first

        def on_exit(exc: BaseException | None) -> None:
            if exc is not None and isinstance(exc, kinds):
                inc(1.0)

        return _Bracket(_noop, on_exit)

    @property
    def value(self) -> float:
        """The current value (for tests and alert rules)."""
        return float(self._raw._value.get())


class GaugeChild:
    """One gauge series: a value that goes up and down."""

    __slots__ = ("_clock", "_raw")

    def __init__(self, raw: Any, clock: Clock) -> None:
        self._raw = raw
        self._clock = clock

    def set(self, value: float) -> None:
        """Set the value."""
        self._raw.set(value)

    def inc(self, amount: float = 1.0) -> None:
        """Add *amount*."""
        self._raw.inc(amount)

    def dec(self, amount: float = 1.0) -> None:
        """Subtract *amount*."""
        self._raw.dec(amount)

    def set_to_current_time(self) -> None:
        """Set the value to the clock's wall time (seconds since the epoch)."""
        self._raw.set(self._clock.time())

    def track_inprogress(self) -> _Bracket:
        """Add 1 while a block or call runs (sync or async), subtract 1 after."""
        raw = self._raw
        return _Bracket(raw.inc, lambda exc: raw.dec())

    def time(self) -> _Timer:
        """Set the value to the duration of a block or call, in seconds."""
        return _Timer(self._raw.set, self._clock)

    @property
    def value(self) -> float:
        """The current value."""
        return float(self._raw._value.get())


class HistogramChild:
    """One histogram series: observations counted into buckets."""

    __slots__ = ("_clock", "_raw")

    def __init__(self, raw: Any, clock: Clock) -> None:
        self._raw = raw
        self._clock = clock

    def observe(self, amount: float) -> None:
        """Record one observation; a NaN, infinite or non-numeric one is dropped (warned once).

        Recorded, it would make the series' ``_sum`` NaN or infinite for good.
        """
        value = _observation(amount)
        if value is not None:
            self._raw.observe(value)

    def time(self) -> _Timer:
        """Observe the duration of a block or of every call (sync or async), in seconds."""
        return _Timer(self._raw.observe, self._clock)


class SummaryChild:
    """One summary series: count and sum of observations."""

    __slots__ = ("_clock", "_raw")

    def __init__(self, raw: Any, clock: Clock) -> None:
        self._raw = raw
        self._clock = clock

    def observe(self, amount: float) -> None:
        """Record one observation; a NaN, infinite or non-numeric one is dropped (warned once).

        Recorded, it would make the series' ``_sum`` NaN or infinite for good.
        """
        value = _observation(amount)
        if value is not None:
            self._raw.observe(value)

    def time(self) -> _Timer:
        """Observe the duration of a block or of every call (sync or async), in seconds."""
        return _Timer(self._raw.observe, self._clock)


class InfoChild:
    """One info series: a constant set of key/value pairs (build, version ...)."""

    __slots__ = ("_clock", "_raw")

    def __init__(self, raw: Any, clock: Clock) -> None:
        self._raw = raw
        self._clock = clock

    def info(self, values: dict[str, str]) -> None:
        """Set the key/value pairs (exposed as labels of ``<name>_info 1``)."""
        self._raw.info({_label_text(k): _label_text(v) for k, v in values.items()})


class EnumChild:
    """One enum series: exactly one of a fixed set of states is current."""

    __slots__ = ("_clock", "_raw")

    def __init__(self, raw: Any, clock: Clock) -> None:
        self._raw = raw
        self._clock = clock

    def state(self, state: str) -> None:
        """Make *state* the current one.

        Raises:
            InvalidArgumentError: *state* was not declared.
        """
        try:
            self._raw.state(state)
        except ValueError as exc:
            raise InvalidArgumentError(
                f"unknown state {safe_repr(state)}: {exc}",
                code="pepperpy.telemetry.enum_state",
                hint="Use one of the states declared with enum(..., states=[...]).",
            ) from exc


def _noop() -> None:
    return None


# --------------------------------------------------------------------------- families


class _Family(Generic[C]):
    """The label handling shared by every metric type."""

    kind: ClassVar[str] = ""
    _child_type: ClassVar[type[Any]]

    def __init__(
        self,
        raw: Any,
        *,
        name: str,
        labels: tuple[str, ...],
        context_labels: tuple[str, ...],
        max_label_sets: int,
        overflow: Overflow,
        clock: Clock,
        spec: MetricSpec[Any],
    ) -> None:
        self._family = raw
        self._name = name
        self._labels = labels
        self._context_labels = context_labels
        self._limit = max_label_sets
        self._overflow = overflow
        self._clock = clock
        self._spec = spec
        self._children: dict[tuple[Any, ...], C] = {}
        self._series: dict[tuple[str, ...], C] = {}
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """The full metric name (with namespace)."""
        return self._name

    @property
    def label_names(self) -> tuple[str, ...]:
        """The declared label names."""
        return self._labels

    @property
    def spec(self) -> MetricSpec[Any]:
        """The declaration this metric was built from."""
        return self._spec

    @property
    def series_count(self) -> int:
        """How many label sets exist (what the cardinality limit counts)."""
        return len(self._series)

    def labels(self, *values: Any, **named: Any) -> C:
        """Return the series for one label set (positional in declared order, or by name).

        Labels listed in ``context_labels`` take their value from
        :mod:`pepperpy.context` when not given (``"unknown"`` if unbound).

        Raises:
            InvalidArgumentError: Missing, unknown or surplus labels.
            LabelCardinalityError: A new label set would exceed ``max_label_sets``
                (with ``overflow="raise"``).
        """
        # The cache key carries each value's type: True == 1 and 200.0 == 200
        # hash alike but are different label values once converted to strings.
        if named and not values and not self._context_labels:
            key: tuple[Any, ...] = (
                tuple(named.items()),
                tuple(map(type, named.values())),
            )
        elif self._context_labels:
            bound = _context_values()
            ctx_key = tuple(_label_text(bound.get(n, "unknown")) for n in self._context_labels)
            key = (
                values,
                tuple(named.items()),
                ctx_key,
                tuple(map(type, values)),
                tuple(map(type, named.values())),
            )
        else:
            key = (
                values,
                tuple(named.items()),
                tuple(map(type, values)),
                tuple(map(type, named.values())),
            )
        try:
            child = self._children.get(key)
        except TypeError:  # an unhashable label value: resolve through its str()
            canonical = self._canonical(values, named)
            return self._resolve(canonical, (), dict(zip(self._labels, canonical, strict=True)))
        if child is not None:
            return child
        return self._resolve(key, values, named)

    def _resolve(self, key: tuple[Any, ...], values: tuple[Any, ...], named: dict[str, Any]) -> C:
        canonical = self._canonical(values, named)
        with self._lock:
            child = self._series.get(canonical)
            if child is None:
                if len(self._series) >= self._limit:
                    if self._overflow == "raise":
                        raise LabelCardinalityError(
                            f"metric {self._name!r} reached its limit of {self._limit} "
                            f"label sets; refusing new set "
                            f"{dict(zip(self._labels, canonical, strict=True))}",
                            context={"metric": self._name, "limit": self._limit},
                            hint="Do not use unbounded values (user ids, URLs, raw errors) as "
                            "labels; if the set is legitimately large, raise max_label_sets "
                            "or declare overflow='other'.",
                        )
                    other = tuple(OTHER for _ in self._labels)
                    child = self._series.get(other)
                    if child is None:
                        _log.warning(
                            "metric %r reached its limit of %d label sets; new label sets "
                            "are counted in the %s series (do not use unbounded values "
                            "such as user ids or URLs as labels)",
                            self._name,
                            self._limit,
                            OTHER,
                        )
                        child = self._series[other] = self._child_type(
                            self._family.labels(*other), self._clock
                        )
                    return child  # not cached under the new key: keeps the cache bounded
                child = self._series[canonical] = self._child_type(
                    self._family.labels(*canonical), self._clock
                )
            if len(self._children) < 4 * self._limit + 16:
                self._children[key] = child
            return child

    def _canonical(self, values: tuple[Any, ...], named: dict[str, Any]) -> tuple[str, ...]:
        names = self._labels
        if not names:
            raise InvalidArgumentError(
                f"metric {self._name!r} has no labels",
                code="pepperpy.telemetry.labels",
                context={"metric": self._name},
                hint="Use the metric directly (inc/set/observe) or declare labels=(...).",
            )
        if values:
            if len(values) > len(names):
                raise self._label_error(f"got {len(values)} positional label values")
            merged = dict(zip(names, values, strict=False))
            overlap = set(merged) & set(named)
            if overlap:
                raise self._label_error(f"labels given twice: {sorted(overlap)}")
            merged.update(named)
        else:
            merged = dict(named)
        for label in self._context_labels:
            if label not in merged:
                merged[label] = _context_values().get(label, "unknown")
        unknown = sorted(set(merged) - set(names))
        missing = [n for n in names if n not in merged]
        if unknown or missing:
            parts = []
            if missing:
                parts.append(f"missing {missing}")
            if unknown:
                parts.append(f"unknown {unknown}")
            raise self._label_error("; ".join(parts))
        return tuple(_label_text(merged[n]) for n in names)

    def _label_error(self, what: str) -> InvalidArgumentError:
        return InvalidArgumentError(
            f"bad labels for metric {self._name!r}: {what}",
            code="pepperpy.telemetry.labels",
            context={"metric": self._name, "labels": list(self._labels)},
            hint=f"Pass exactly: {', '.join(self._labels)}.",
        )

    def remove(self, *values: Any, **named: Any) -> None:
        """Delete one label set (frees a slot of the cardinality limit)."""
        canonical = self._canonical(values, named)
        with self._lock:
            child = self._series.pop(canonical, None)
            if child is None:
                return
            self._children = {k: v for k, v in self._children.items() if v is not child}
            self._family.remove(*canonical)

    def clear(self) -> None:
        """Delete every label set."""
        with self._lock:
            self._series.clear()
            self._children.clear()
            if self._labels:
                self._family.clear()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._name!r}, labels={list(self._labels)})"


def _child_raw(raw: Any, name: str, labels: tuple[str, ...]) -> Any:
    return _Unlabeled(_no_labels_error(name, labels)) if labels else raw


class Counter(_Family[CounterChild], CounterChild):
    """A counter: declared with :meth:`Metrics.counter` or :func:`counter`.

    Unlabelled counters are used directly (``requests.inc()``); labelled ones
    through :meth:`labels` (``requests.labels(method="GET").inc()``).
    Counter names get prometheus' ``_total`` suffix in the exposition.
    """

    kind = "counter"
    _child_type = CounterChild

    def __init__(self, raw: Any, **kwargs: Any) -> None:
        _Family.__init__(self, raw, **kwargs)
        self._clock = kwargs["clock"]
        self._raw = _child_raw(raw, self._name, self._labels)
        self._inc = self._raw if self._labels else _fast_inc(raw)
        self._only_context = bool(self._labels) and set(self._labels) == set(self._context_labels)

    def inc(self, amount: float = 1.0) -> None:
        """Add *amount* (>= 0); with only context labels, to the current context's series."""
        if self._only_context:
            self.labels().inc(amount)
            return
        CounterChild.inc(self, amount)


class Gauge(_Family[GaugeChild], GaugeChild):
    """A gauge: declared with :meth:`Metrics.gauge` or :func:`gauge`."""

    kind = "gauge"
    _child_type = GaugeChild

    def __init__(self, raw: Any, **kwargs: Any) -> None:
        _Family.__init__(self, raw, **kwargs)
        GaugeChild.__init__(self, _child_raw(raw, self._name, self._labels), kwargs["clock"])


class Histogram(_Family[HistogramChild], HistogramChild):
    """A histogram: declared with :meth:`Metrics.histogram` or :func:`histogram`."""

    kind = "histogram"
    _child_type = HistogramChild

    def __init__(self, raw: Any, **kwargs: Any) -> None:
        _Family.__init__(self, raw, **kwargs)
        HistogramChild.__init__(self, _child_raw(raw, self._name, self._labels), kwargs["clock"])


class Info(_Family[InfoChild], InfoChild):
    """An info metric: declared with :meth:`Metrics.info` or :func:`info`."""

    kind = "info"
    _child_type = InfoChild

    def __init__(self, raw: Any, **kwargs: Any) -> None:
        _Family.__init__(self, raw, **kwargs)
        InfoChild.__init__(self, _child_raw(raw, self._name, self._labels), kwargs["clock"])


class Enum(_Family[EnumChild], EnumChild):
    """An enum (state set) metric: declared with :meth:`Metrics.enum` or :func:`enum`."""

    kind = "enum"
    _child_type = EnumChild

    def __init__(self, raw: Any, **kwargs: Any) -> None:
        _Family.__init__(self, raw, **kwargs)
        EnumChild.__init__(self, _child_raw(raw, self._name, self._labels), kwargs["clock"])


class Summary(_Family[SummaryChild], SummaryChild):
    """A summary (count and sum): declared with :meth:`Metrics.summary` or :func:`summary`."""

    kind = "summary"
    _child_type = SummaryChild

    def __init__(self, raw: Any, **kwargs: Any) -> None:
        _Family.__init__(self, raw, **kwargs)
        SummaryChild.__init__(self, _child_raw(raw, self._name, self._labels), kwargs["clock"])


# --------------------------------------------------------------------------- declarations


class MetricSpec(Generic[M]):
    """A typed metric declaration; build one with :func:`counter`, :func:`gauge`...

    As a class attribute of a :class:`MetricSet` it becomes the live metric
    on instances, with its precise type::

        class ShopMetrics(MetricSet):
            orders = counter("orders", "Orders placed", labels=("channel",))
            latency = histogram("checkout_seconds", "Checkout latency")

        m = ShopMetrics(Metrics())
        m.orders.labels(channel="web").inc()     # m.orders is a Counter
    """

    __slots__ = (
        "attr",
        "buckets",
        "context_labels",
        "documentation",
        "kind",
        "labels",
        "max_label_sets",
        "name",
        "overflow",
        "states",
        "unit",
    )

    def __init__(
        self,
        kind: str,
        name: str,
        documentation: str = "",
        *,
        labels: Iterable[str] = (),
        context_labels: Iterable[str] = (),
        unit: str = "",
        buckets: Sequence[float] | None = None,
        states: Sequence[str] | None = None,
        max_label_sets: int | None = None,
        overflow: Overflow | None = None,
    ) -> None:
        self.kind = kind
        self.name = name
        self.documentation = _encodable(documentation or name.replace("_", " "))
        self.context_labels = tuple(context_labels)
        self.labels = tuple(dict.fromkeys((*labels, *self.context_labels)))
        self.unit = unit
        self.buckets = tuple(buckets) if buckets is not None else None
        self.states = tuple(states) if states is not None else None
        self.max_label_sets = max_label_sets
        self.overflow = overflow
        self.attr: str | None = None
        _validate_spec(self)

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.attr = name

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> MetricSpec[M]: ...

    @overload
    def __get__(self, obj: object, owner: type[Any]) -> M: ...

    def __get__(self, obj: object, owner: type[Any]) -> MetricSpec[M] | M:
        if obj is None:
            return self
        if not isinstance(obj, MetricSet):
            raise InvalidArgumentError(
                "metric declarations work as attributes of a MetricSet subclass",
                code="pepperpy.telemetry.metric_set",
                hint="Subclass MetricSet, or call Metrics.register(spec).",
            )
        return obj.metrics.register(self)

    def key(self) -> tuple[Any, ...]:
        """What makes two declarations the same metric."""
        return (self.kind, self.name, self.labels, self.unit, self.buckets, self.states)

    def __repr__(self) -> str:
        return f"{self.kind}({self.name!r}, labels={list(self.labels)})"


def _validate_spec(spec: MetricSpec[Any]) -> None:
    import re

    if not isinstance(spec.name, str) or not re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", spec.name):
        raise InvalidArgumentError(
            f"invalid metric name {safe_repr(spec.name)}",
            code="pepperpy.telemetry.metric_name",
            hint="Use letters, digits, '_' and ':' and do not start with a digit "
            "(e.g. 'http_requests').",
        )
    for label in spec.labels:
        if (
            not isinstance(label, str)
            or not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", label)
            or (label.startswith("__"))
        ):
            raise InvalidArgumentError(
                f"invalid label name {safe_repr(label)} for metric {spec.name!r}",
                code="pepperpy.telemetry.label_name",
                hint="Use letters, digits and '_', not starting with '__'.",
            )
    limit: Any = spec.max_label_sets
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InvalidArgumentError(
            "max_label_sets must be an int >= 1",
            code="pepperpy.telemetry.limit",
            context={"metric": spec.name, "max_label_sets": spec.max_label_sets},
            hint="Pass a positive limit.",
        )


def counter(
    name: str,
    documentation: str = "",
    *,
    labels: Iterable[str] = (),
    context_labels: Iterable[str] = (),
    unit: str = "",
    max_label_sets: int | None = None,
    overflow: Overflow | None = None,
) -> MetricSpec[Counter]:
    """Declare a counter (see :class:`MetricSpec`).

    Args:
        name: The metric name; prometheus adds ``_total``.
        documentation: The help text.
        labels: Label names.
        context_labels: Labels filled from :mod:`pepperpy.context` when not given.
        unit: Unit suffix (``"seconds"``, ``"bytes"``).
        max_label_sets: Cardinality limit (default: the registry's).
        overflow: ``"raise"`` or ``"other"`` (fold new sets into ``__other__``).
    """
    return MetricSpec(
        "counter",
        name,
        documentation,
        labels=labels,
        context_labels=context_labels,
        unit=unit,
        max_label_sets=max_label_sets,
        overflow=overflow,
    )


def gauge(
    name: str,
    documentation: str = "",
    *,
    labels: Iterable[str] = (),
    context_labels: Iterable[str] = (),
    unit: str = "",
    max_label_sets: int | None = None,
    overflow: Overflow | None = None,
) -> MetricSpec[Gauge]:
    """Declare a gauge (arguments as :func:`counter`)."""
    return MetricSpec(
        "gauge",
        name,
        documentation,
        labels=labels,
        context_labels=context_labels,
        unit=unit,
        max_label_sets=max_label_sets,
        overflow=overflow,
    )


def histogram(
    name: str,
    documentation: str = "",
    *,
    labels: Iterable[str] = (),
    context_labels: Iterable[str] = (),
    unit: str = "",
    buckets: Sequence[float] = DEFAULT_BUCKETS,
    max_label_sets: int | None = None,
    overflow: Overflow | None = None,
) -> MetricSpec[Histogram]:
    """Declare a histogram; *buckets* are the upper bounds (``+Inf`` is added)."""
    return MetricSpec(
        "histogram",
        name,
        documentation,
        labels=labels,
        context_labels=context_labels,
        unit=unit,
        buckets=buckets,
        max_label_sets=max_label_sets,
        overflow=overflow,
    )


def summary(
    name: str,
    documentation: str = "",
    *,
    labels: Iterable[str] = (),
    context_labels: Iterable[str] = (),
    unit: str = "",
    max_label_sets: int | None = None,
    overflow: Overflow | None = None,
) -> MetricSpec[Summary]:
    """Declare a summary (count and sum of observations)."""
    return MetricSpec(
        "summary",
        name,
        documentation,
        labels=labels,
        context_labels=context_labels,
        unit=unit,
        max_label_sets=max_label_sets,
        overflow=overflow,
    )


def info(
    name: str,
    documentation: str = "",
    *,
    labels: Iterable[str] = (),
    max_label_sets: int | None = None,
) -> MetricSpec[Info]:
    """Declare an info metric (``build_info{version="1.2"} 1``)."""
    return MetricSpec("info", name, documentation, labels=labels, max_label_sets=max_label_sets)


def enum(
    name: str,
    documentation: str = "",
    *,
    states: Sequence[str],
    labels: Iterable[str] = (),
    max_label_sets: int | None = None,
) -> MetricSpec[Enum]:
    """Declare an enum metric: one of *states* is current (the first one initially)."""
    if isinstance(states, str) or not states:
        raise InvalidArgumentError(
            f"enum {name!r} needs a non-empty list of states",
            code="pepperpy.telemetry.enum_states",
            hint="Pass states=['starting', 'running', 'stopped'].",
        )
    return MetricSpec(
        "enum", name, documentation, labels=labels, states=states, max_label_sets=max_label_sets
    )


_RAW_TYPES: dict[str, Any] = {
    "info": prometheus_client.Info,
    "enum": prometheus_client.Enum,
    "counter": prometheus_client.Counter,
    "gauge": prometheus_client.Gauge,
    "histogram": prometheus_client.Histogram,
    "summary": prometheus_client.Summary,
}
_OUR_TYPES: dict[str, type[_Family[Any]]] = {
    "info": Info,
    "enum": Enum,
    "counter": Counter,
    "gauge": Gauge,
    "histogram": Histogram,
    "summary": Summary,
}


class Metrics:
    """A registry of metrics for one application (or the process-wide default).

    Args:
        namespace: Prefix for every metric name (``"shop"`` -> ``shop_orders_total``).
        registry: The prometheus ``CollectorRegistry``; a new private one by
            default (use :meth:`default` for prometheus_client's global one).
        max_label_sets: Default cardinality limit per metric.
        overflow: Default policy when a metric reaches its limit: ``"other"``
            (default) folds new label sets into one ``__other__`` series and
            logs a warning once, so a metrics call never fails a request;
            ``"raise"`` raises a :class:`LabelCardinalityError`.
        clock: Time source for the timing helpers.
        process_metrics: Also export process, platform and GC metrics
            (the default registry already has them).
    """

    _default: ClassVar[Metrics | None] = None

    def __init__(
        self,
        *,
        namespace: str = "",
        registry: CollectorRegistry | None = None,
        max_label_sets: int = 1000,
        overflow: Overflow = "other",
        clock: Clock = system_clock,
        process_metrics: bool = False,
    ) -> None:
        if max_label_sets < 1:
            raise InvalidArgumentError(
                "max_label_sets must be an int >= 1",
                code="pepperpy.telemetry.limit",
                hint="Pass a positive limit.",
            )
        if overflow not in ("raise", "other"):
            raise InvalidArgumentError(
                f"overflow must be 'raise' or 'other', got {safe_repr(overflow)}",
                code="pepperpy.telemetry.overflow",
                hint="Use 'other' (default) or 'raise'.",
            )
        self.namespace = namespace
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        self.max_label_sets = max_label_sets
        self.overflow: Overflow = overflow
        self.clock = clock
        self._metrics: dict[str, _Family[Any]] = {}
        self._lock = threading.RLock()
        self._hooks: list[tuple[Callable[[], Any], float]] = []
        self._hooks_running: set[int] = set()  # sync hooks whose thread has not ended
        if process_metrics and registry is None:
            prometheus_client.ProcessCollector(registry=self.registry)
            prometheus_client.PlatformCollector(registry=self.registry)
            prometheus_client.GCCollector(registry=self.registry)

    @classmethod
    def default(cls) -> Metrics:
        """The metrics of prometheus_client's global ``REGISTRY``."""
        if cls._default is None:
            cls._default = cls(registry=prometheus_client.REGISTRY)
        return cls._default

    def _full_name(self, spec: MetricSpec[Any]) -> str:
        parts = [p for p in (self.namespace, spec.name) if p]
        name = "_".join(parts)
        if spec.unit and not name.endswith(f"_{spec.unit}"):
            name = f"{name}_{spec.unit}"
        return name

    def register(self, spec: MetricSpec[M]) -> M:
        """Create the metric declared by *spec*, or return the one already registered.

        Declaring the same metric twice (same kind, name, labels, buckets)
        returns the existing object, so modules can be reloaded and
        :class:`MetricSet` instantiated more than once.

        Raises:
            ConflictError: A different metric already uses the name.
        """
        full = self._full_name(spec)
        with self._lock:
            existing = self._metrics.get(full)
            if existing is not None:
                if existing.spec.key() != spec.key():
                    raise ConflictError(
                        f"metric {full!r} is already declared differently "
                        f"({existing.spec!r}, now {spec!r})",
                        code="pepperpy.telemetry.duplicate",
                        context={"metric": full},
                        hint="Declare each metric once (a module-level MetricSet) and share it.",
                    )
                return cast("M", existing)
            kwargs: dict[str, Any] = {"labelnames": spec.labels, "registry": self.registry}
            if spec.states is not None:
                kwargs["states"] = list(spec.states)
            if spec.buckets is not None:
                kwargs["buckets"] = spec.buckets
            try:
                raw = _RAW_TYPES[spec.kind](full, spec.documentation, **kwargs)
            except ValueError as exc:
                raise ConflictError(
                    f"cannot register metric {full!r}: {exc}",
                    code="pepperpy.telemetry.duplicate",
                    context={"metric": full},
                    hint="Another collector in this registry uses the name; rename one, or "
                    "use a separate Metrics() registry.",
                ) from exc
            metric = _OUR_TYPES[spec.kind](
                raw,
                name=full,
                labels=spec.labels,
                context_labels=spec.context_labels,
                max_label_sets=spec.max_label_sets or self.max_label_sets,
                overflow=spec.overflow or self.overflow,
                clock=self.clock,
                spec=spec,
            )
            self._metrics[full] = metric
            return cast("M", metric)

    def counter(self, name: str, documentation: str = "", **options: Any) -> Counter:
        """Declare and register a counter (options as :func:`counter`)."""
        return self.register(counter(name, documentation, **options))

    def gauge(self, name: str, documentation: str = "", **options: Any) -> Gauge:
        """Declare and register a gauge (options as :func:`gauge`)."""
        return self.register(gauge(name, documentation, **options))

    def histogram(self, name: str, documentation: str = "", **options: Any) -> Histogram:
        """Declare and register a histogram (options as :func:`histogram`)."""
        return self.register(histogram(name, documentation, **options))

    def summary(self, name: str, documentation: str = "", **options: Any) -> Summary:
        """Declare and register a summary (options as :func:`summary`)."""
        return self.register(summary(name, documentation, **options))

    def info(self, name: str, documentation: str = "", **options: Any) -> Info:
        """Declare and register an info metric (options as :func:`info`)."""
        return self.register(info(name, documentation, **options))

    def enum(self, name: str, documentation: str = "", **options: Any) -> Enum:
        """Declare and register an enum metric (options as :func:`enum`)."""
        return self.register(enum(name, documentation, **options))

    def get(self, name: str) -> _Family[Any] | None:
        """Return the metric registered under its full *name*, if any."""
        return self._metrics.get(name)

    def __iter__(self) -> Any:
        return iter(list(self._metrics.values()))

    def unregister(self, metric: _Family[Any]) -> None:
        """Remove *metric* from this registry."""
        with self._lock:
            if self._metrics.get(metric.name) is metric:
                del self._metrics[metric.name]
                self.registry.unregister(metric._family)

    def sample(self, name: str, labels: dict[str, str] | None = None) -> float | None:
        """Return the value of one exposed sample (``orders_total``, ``latency_count``...)."""
        value = self.registry.get_sample_value(name, labels or {})
        return None if value is None else float(value)

    def render(self) -> bytes:
        """Render the registry in the Prometheus text format (blocking; see :meth:`arender`)."""
        return bytes(generate_latest(self.registry))

    def on_collect(self, fn: F | None = None, /, *, timeout: float = 5.0) -> Any:
        """Register a sync or async callable run before every :meth:`arender` / scrape.

        Use it for values that are cheaper to read when scraped than to keep
        up to date, including ones that need ``await`` (prometheus_client's
        collectors cannot await)::

            @metrics.on_collect
            async def queue_depth_hook() -> None:
                queue_depth.set(await redis.llen("jobs"))

        Hooks run concurrently, each with *timeout* seconds; sync hooks run in
        a worker thread. A failing or slow hook is logged on the
        ``pepperpy.telemetry`` logger and the scrape goes on with the values
        it has. Works as ``@metrics.on_collect`` or ``@metrics.on_collect(timeout=1)``.
        A sync hook still running from an earlier scrape (it hung past its timeout)
        is skipped, so scrapes never fill the executor the application uses; a
        non-finite or non-positive *timeout* raises :class:`InvalidArgumentError`.
        """
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, (int, float))
            or not math.isfinite(timeout)
            or timeout <= 0
        ):
            raise InvalidArgumentError(
                f"a collect hook timeout must be a finite number of seconds > 0, "
                f"got {safe_repr(timeout)}",
                code="pepperpy.telemetry.collect_hook",
                hint="Pass timeout=5 (seconds) or leave it unset.",
            )

        def register(hook: F) -> F:
            if not callable(hook):
                raise InvalidArgumentError(
                    f"a collect hook must be callable, got {safe_repr(hook)}",
                    code="pepperpy.telemetry.collect_hook",
                    hint="Decorate a function or coroutine function taking no arguments.",
                )
            self._hooks.append((hook, timeout))
            return hook

        return register if fn is None else register(fn)

    async def refresh(self) -> None:
        """Run every :meth:`on_collect` hook once (done by :meth:`arender`)."""
        if not self._hooks:
            return
        import asyncio
        import logging

        from pepperpy.telemetry._health import _caller_cancelled

        running = self._hooks_running

        async def run(hook: Callable[[], Any], limit: float) -> None:
            name = getattr(hook, "__qualname__", None) or type(hook).__name__
            try:
                if inspect.iscoroutinefunction(hook):
                    await asyncio.wait_for(hook(), limit)
                else:
                    key = id(hook)
                    if key in running:
                        # Its thread from an earlier scrape still runs: starting another
                        # would let scrapes fill the executor the application needs.
                        logging.getLogger("pepperpy.telemetry").warning(
                            "metrics collect hook %s is still running from an earlier "
                            "scrape; skipped",
                            name,
                        )
                        return
                    running.add(key)
                    ctx = contextvars.copy_context()
                    thread = asyncio.get_running_loop().run_in_executor(None, ctx.run, hook)
                    thread.add_done_callback(lambda _: running.discard(key))
                    result = await asyncio.wait_for(asyncio.shield(thread), limit)
                    if inspect.isawaitable(result):
                        await asyncio.wait_for(result, limit)
            except (Exception, asyncio.CancelledError) as exc:
                if _caller_cancelled(exc):
                    raise  # the scrape itself is cancelled
                text = safe_str(exc, 500)
                logging.getLogger("pepperpy.telemetry").warning(
                    "metrics collect hook %s failed: %s",
                    name,
                    f"{type(exc).__name__}: {text}" if text else type(exc).__name__,
                )

        await asyncio.gather(*(run(hook, limit) for hook, limit in list(self._hooks)))

    async def arender(self, accept: str | None = None) -> tuple[bytes, str]:
        """Run the collect hooks, then render off the event loop.

        The format is negotiated from an ``Accept`` header.

        Returns:
            ``(body, content_type)``; OpenMetrics when *accept* asks for it.
        """
        from prometheus_client.exposition import choose_encoder

        from pepperpy.context import to_thread

        await self.refresh()
        encoder, content_type = choose_encoder(accept or "")
        body = await to_thread(encoder, self.registry)
        return bytes(body), str(content_type)


class MetricSet:
    """Base class for declaring an application's metrics as typed class attributes.

    Instantiating it registers every declared metric in *metrics* (default:
    :meth:`Metrics.default`); attribute access returns the live, typed metric.
    """

    def __init__(self, metrics: Metrics | None = None) -> None:
        self.metrics = metrics if metrics is not None else Metrics.default()
        for klass in reversed(type(self).__mro__):
            for attr, value in vars(klass).items():
                if isinstance(value, MetricSpec):
                    self.__dict__[attr] = self.metrics.register(value)
