"""Alert rules over metrics (threshold, rate over a window, absence), evaluated on a clock."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import operator
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal, Union

import attrs

from pepperpy.core.exceptions import ConflictError, InvalidArgumentError, safe_repr
from pepperpy.core.types import Clock, Lifecycle, system_clock
from pepperpy.telemetry._metrics import Counter, Gauge, Histogram, Metrics, Summary, _Family

__all__ = [
    "Absence",
    "Alert",
    "AlertManager",
    "AlertState",
    "Rate",
    "Rule",
    "Threshold",
    "log_alert",
]

Comparison = Literal[">", ">=", "<", "<=", "==", "!="]
AlertState = Literal["inactive", "pending", "firing"]
AlertCallback = Callable[["Alert"], Union[Awaitable[None], None]]

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
_log = logging.getLogger("pepperpy.telemetry.alerts")


def _sample_name(metric: str | _Family[Any]) -> str:
    if isinstance(metric, str):
        return metric
    if isinstance(metric, Counter):
        return f"{metric.name}_total"
    if isinstance(metric, (Histogram, Summary)):
        return f"{metric.name}_count"
    if isinstance(metric, Gauge):
        return metric.name
    raise InvalidArgumentError(
        f"an alert rule needs a metric or a sample name, got {safe_repr(metric)}",
        code="pepperpy.telemetry.alert_rule",
        hint="Pass a Counter/Gauge/Histogram/Summary or a sample name such as 'errors_total'.",
    )


def _check_op(op: str) -> None:
    if op not in _OPS:
        raise InvalidArgumentError(
            f"unknown comparison {safe_repr(op)}",
            code="pepperpy.telemetry.alert_rule",
            hint=f"Use one of {', '.join(_OPS)}.",
        )


@attrs.frozen
class Threshold:
    """Fire while the current value compares true against *value*.

    Attributes:
        name: Unique rule name (also the alert name).
        metric: A metric object or a sample name (counters read ``<name>_total``,
            histograms and summaries ``<name>_count``).
        op: ``">"``, ``">="``, ``"<"``, ``"<="``, ``"=="``, ``"!="``.
        value: The threshold.
        labels: Only samples with these labels; their values are summed.
            Empty means every series of the metric, summed.
        for_: Seconds the condition must hold before firing (``pending`` until then).
        severity: Free text passed to callbacks (``"warning"``, ``"page"``).
        description: Free text passed to callbacks.
    """

    name: str
    metric: Any
    op: Comparison
    value: float
    labels: Mapping[str, str] = attrs.field(factory=dict)
    for_: float = 0.0
    severity: str = "warning"
    description: str = ""

    def __attrs_post_init__(self) -> None:
        _check_op(self.op)
        _sample_name(self.metric)


@attrs.frozen
class Rate:
    """Fire while the per-second increase over the last *window* seconds compares true.

    Counter resets (a value going down) are handled like Prometheus' ``rate``.
    The rule needs two evaluations inside the window before it can fire.
    Other attributes as :class:`Threshold`.
    """

    name: str
    metric: Any
    op: Comparison
    value: float
    window: float = 60.0
    labels: Mapping[str, str] = attrs.field(factory=dict)
    for_: float = 0.0
    severity: str = "warning"
    description: str = ""

    def __attrs_post_init__(self) -> None:
        _check_op(self.op)
        _sample_name(self.metric)
        if self.window <= 0:
            raise InvalidArgumentError(
                "a rate window must be positive",
                code="pepperpy.telemetry.alert_rule",
                context={"rule": self.name, "window": self.window},
                hint="Pass window in seconds, e.g. window=300.",
            )


@attrs.frozen
class Absence:
    """Fire while no sample of the metric (with *labels*) exists, or it stopped changing.

    Attributes:
        stale_after: When set, also fire when the value has not changed for
            that many seconds (a heartbeat counter that stopped).
        Others: as :class:`Threshold`.
    """

    name: str
    metric: Any
    labels: Mapping[str, str] = attrs.field(factory=dict)
    for_: float = 0.0
    stale_after: float | None = None
    severity: str = "warning"
    description: str = ""

    def __attrs_post_init__(self) -> None:
        _sample_name(self.metric)


Rule = Union[Threshold, Rate, Absence]


@attrs.define
class Alert:
    """The state of one rule, handed to firing and resolving callbacks.

    Attributes:
        rule: The rule.
        state: ``"inactive"``, ``"pending"`` or ``"firing"``.
        value: The last evaluated value (``None`` when absent / not computable).
        active_since: Wall time the condition started holding.
        fired_at: Wall time it fired.
        resolved_at: Wall time it resolved (set for the resolving callback).
        notifications: How many times the firing callbacks ran (1 per firing).
    """

    rule: Rule
    state: AlertState = "inactive"
    value: float | None = None
    active_since: float | None = None
    fired_at: float | None = None
    resolved_at: float | None = None
    notifications: int = 0
    _active_mono: float | None = attrs.field(default=None, repr=False)

    @property
    def name(self) -> str:
        """The rule's name."""
        return self.rule.name

    @property
    def severity(self) -> str:
        """The rule's severity."""
        return self.rule.severity

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict (for webhooks and logs)."""
        return {
            "name": self.name,
            "state": self.state,
            "severity": self.severity,
            "description": self.rule.description,
            "value": self.value,
            "active_since": self.active_since,
            "fired_at": self.fired_at,
            "resolved_at": self.resolved_at,
        }


def log_alert(alert: Alert) -> None:
    """A ready-made callback: log the alert on the ``pepperpy.telemetry.alerts`` logger.

    Firing alerts are logged at WARNING, resolutions at INFO (pepperpy.logging
    captures them like any stdlib record).
    """
    if alert.state == "firing":
        _log.warning(
            "alert %s firing (value=%s) %s",
            alert.name,
            alert.value,
            alert.rule.description,
            extra={"alert": alert.to_dict()},
        )
    else:
        _log.info("alert %s resolved", alert.name, extra={"alert": alert.to_dict()})


class AlertManager(Lifecycle):
    """Evaluates alert rules against a :class:`Metrics` registry.

    Call :meth:`evaluate` yourself, or start the manager (``async with``):
    it evaluates once at start, then every *interval* seconds on *clock*. Each rule notifies its
    firing callbacks once when it starts firing and its resolving callbacks
    once when it stops: repeated evaluations of a firing rule never notify
    again (de-duplication). Callback errors are logged, never raised.

    Args:
        metrics: The registry whose samples the rules read.
        interval: Seconds between evaluations when started.
        clock: Time source (``ManualClock`` in tests).
        on_fire: Callbacks (sync or async) for firing alerts.
        on_resolve: Callbacks for resolved alerts.
    """

    def __init__(
        self,
        metrics: Metrics,
        *,
        interval: float = 15.0,
        clock: Clock = system_clock,
        on_fire: AlertCallback | list[AlertCallback] | None = None,
        on_resolve: AlertCallback | list[AlertCallback] | None = None,
    ) -> None:
        if interval <= 0:
            raise InvalidArgumentError(
                "the evaluation interval must be positive",
                code="pepperpy.telemetry.alert_interval",
                hint="Pass interval in seconds, e.g. interval=15.",
            )
        self.metrics = metrics
        self.interval = interval
        self.clock = clock
        self._rules: dict[str, Alert] = {}
        self._history: dict[str, deque[tuple[float, float]]] = {}
        self._last_change: dict[str, tuple[float, float]] = {}
        self._on_fire: list[AlertCallback] = _as_list(on_fire)
        self._on_resolve: list[AlertCallback] = _as_list(on_resolve)
        self._task: asyncio.Task[None] | None = None

    def add_rule(self, rule: Rule) -> None:
        """Add a rule.

        Raises:
            ConflictError: A rule with that name exists.
        """
        if not isinstance(rule, (Threshold, Rate, Absence)):
            raise InvalidArgumentError(
                f"not an alert rule: {safe_repr(rule)}",
                code="pepperpy.telemetry.alert_rule",
                hint="Pass a Threshold, Rate or Absence.",
            )
        if rule.name in self._rules:
            raise ConflictError(
                f"an alert rule named {rule.name!r} already exists",
                code="pepperpy.telemetry.alert_duplicate",
                context={"rule": rule.name},
                hint="Give each rule a unique name.",
            )
        self._rules[rule.name] = Alert(rule)

    def remove_rule(self, name: str) -> None:
        """Remove a rule (no resolve notification)."""
        self._rules.pop(name, None)
        self._history.pop(name, None)
        self._last_change.pop(name, None)

    def on_fire(self, callback: AlertCallback) -> AlertCallback:
        """Register a firing callback (usable as a decorator)."""
        self._on_fire.append(callback)
        return callback

    def on_resolve(self, callback: AlertCallback) -> AlertCallback:
        """Register a resolving callback (usable as a decorator)."""
        self._on_resolve.append(callback)
        return callback

    @property
    def alerts(self) -> dict[str, Alert]:
        """Every rule's alert state, by rule name."""
        return dict(self._rules)

    @property
    def firing(self) -> list[Alert]:
        """The alerts firing now."""
        return [a for a in self._rules.values() if a.state == "firing"]

    def _value(self, metric: Any, labels: Mapping[str, str]) -> float | None:
        name = _sample_name(metric)
        total = 0.0
        found = False
        for family in self.metrics.registry.collect():
            for sample in family.samples:
                if sample.name != name:
                    continue
                if all(sample.labels.get(k) == v for k, v in labels.items()):
                    total += float(sample.value)
                    found = True
        return total if found else None

    def _condition(self, alert: Alert, now: float) -> tuple[bool, float | None]:
        rule = alert.rule
        value = self._value(rule.metric, rule.labels)
        if isinstance(rule, Threshold):
            if value is None:
                return False, None
            return _OPS[rule.op](value, rule.value), value
        if isinstance(rule, Rate):
            history = self._history.setdefault(rule.name, deque())
            if value is None:
                history.clear()
                return False, None
            history.append((now, value))
            while history and history[0][0] < now - rule.window:
                history.popleft()
            if len(history) < 2 or history[-1][0] <= history[0][0]:
                return False, None
            increase = 0.0
            points = list(history)
            for (_, before), (_, after) in itertools.pairwise(points):
                increase += after - before if after >= before else after  # reset
            rate = increase / (points[-1][0] - points[0][0])
            return _OPS[rule.op](rate, rule.value), rate
        # Absence
        if value is None:
            return True, None
        if rule.stale_after is not None:
            last = self._last_change.get(rule.name)
            if last is None or last[1] != value:
                self._last_change[rule.name] = (now, value)
                return False, value
            return now - last[0] >= rule.stale_after, value
        return False, value

    async def evaluate(self) -> list[Alert]:
        """Evaluate every rule once; return the alerts that fired or resolved in this pass."""
        now = self.clock.monotonic()
        wall = self.clock.time()
        changed: list[tuple[Alert, list[AlertCallback]]] = []
        for alert in list(self._rules.values()):
            try:
                active, value = self._condition(alert, now)
            except Exception as exc:  # a broken collector must not stop the others
                _log.warning("alert rule %s could not be evaluated: %s", alert.name, exc)
                continue
            alert.value = value
            if active:
                if alert.state == "inactive":
                    alert.state = "pending"
                    alert.active_since = wall
                    alert._active_mono = now
                    alert.resolved_at = None
                since = now if alert._active_mono is None else alert._active_mono
                if alert.state == "pending" and now - since >= alert.rule.for_:
                    alert.state = "firing"
                    alert.fired_at = wall
                    alert.notifications += 1
                    changed.append((alert, self._on_fire))
            elif alert.state != "inactive":
                was_firing = alert.state == "firing"
                alert.state = "inactive"
                alert._active_mono = None
                if was_firing:
                    alert.resolved_at = wall
                    changed.append((alert, self._on_resolve))
        for alert, callbacks in changed:
            for callback in callbacks:
                try:
                    result = callback(alert)
                    if inspect.isawaitable(result):
                        await result
                except Exception as exc:
                    _log.warning("alert callback %r failed for %s: %s", callback, alert.name, exc)
        return [alert for alert, _ in changed]

    async def _loop(self) -> None:
        while True:
            await self.clock.sleep(self.interval)
            await self.evaluate()

    async def _on_start(self) -> None:
        await self.evaluate()
        self._task = asyncio.get_running_loop().create_task(
            self._loop(), name="pepperpy-alert-manager"
        )

    async def _on_stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass


def _as_list(value: AlertCallback | list[AlertCallback] | None) -> list[AlertCallback]:
    if value is None:
        return []
    if isinstance(value, list):
        return list(value)
    return [value]
