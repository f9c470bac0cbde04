"""A per-host circuit breaker: closed, open, half-open."""

from __future__ import annotations

import enum
from typing import Any

import attrs

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.core.types import Clock, system_clock

__all__ = ["CircuitBreaker", "CircuitBreakerConfig", "CircuitState"]


class CircuitState(enum.Enum):
    """Where a circuit breaker is."""

    CLOSED = "closed"
    """Requests flow; consecutive failures are counted."""
    OPEN = "open"
    """Requests fail fast with CircuitOpenError until the recovery time passes."""
    HALF_OPEN = "half_open"
    """A few trial requests go through; success closes, failure opens again."""


def _positive(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise InvalidArgumentError(
            f"CircuitBreakerConfig.{attribute.name} must be > 0",
            code="pepperpy.net.invalid_breaker",
            context={"field": attribute.name, "value": value},
        )


@attrs.frozen
class CircuitBreakerConfig:
    """Thresholds of the per-host circuit breakers.

    Attributes:
        failure_threshold: Consecutive failures that open the circuit.
        recovery_time: Seconds the circuit stays open before trial requests.
        half_open_max_calls: Trial requests allowed at once while half-open;
            this many successes close the circuit.
        failure_statuses: Response statuses that count as failures
            (connection errors and timeouts always do).
    """

    failure_threshold: int = attrs.field(default=5, validator=_positive)
    recovery_time: float = attrs.field(default=30.0, validator=_positive)
    half_open_max_calls: int = attrs.field(default=1, validator=_positive)
    failure_statuses: frozenset[int] = attrs.field(
        default=frozenset({500, 502, 503, 504}), converter=frozenset
    )


class CircuitBreaker:
    """One host's breaker. :meth:`allow` before a call, then :meth:`record`.

    Args:
        config: The thresholds.
        clock: The time source (a ``ManualClock`` in tests).
    """

    def __init__(self, config: CircuitBreakerConfig, *, clock: Clock = system_clock) -> None:
        self.config = config
        self._clock = clock
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trials = 0
        self._trial_successes = 0
        self.opened_count = 0
        """How many times the circuit has opened."""

    @property
    def state(self) -> CircuitState:
        """The current state (an open circuit turns half-open once its time is up)."""
        if (
            self._state is CircuitState.OPEN
            and self._clock.monotonic() - self._opened_at >= self.config.recovery_time
        ):
            self._state = CircuitState.HALF_OPEN
            self._trials = 0
            self._trial_successes = 0
        return self._state

    @property
    def retry_in(self) -> float:
        """Seconds until an open circuit lets a trial request through (0 otherwise)."""
        if self.state is not CircuitState.OPEN:
            return 0.0
        return max(0.0, self.config.recovery_time - (self._clock.monotonic() - self._opened_at))

    def allow(self) -> bool:
        """Whether a request may be sent now; a granted half-open trial is counted."""
        state = self.state
        if state is CircuitState.CLOSED:
            return True
        if state is CircuitState.OPEN:
            return False
        if self._trials < self.config.half_open_max_calls:
            self._trials += 1
            return True
        return False

    def record(self, success: bool) -> None:
        """Record the outcome of a request that :meth:`allow` let through."""
        state = self.state
        if success:
            if state is CircuitState.HALF_OPEN:
                self._trial_successes += 1
                if self._trial_successes >= self.config.half_open_max_calls:
                    self._close()
            else:
                self._failures = 0
            return
        if state is CircuitState.HALF_OPEN:
            self._open()
            return
        self._failures += 1
        if self._failures >= self.config.failure_threshold:
            self._open()

    def release(self) -> None:
        """Give back a half-open trial slot whose request never reached the host."""
        if self._state is CircuitState.HALF_OPEN and self._trials > 0:
            self._trials -= 1

    def _open(self) -> None:
        self._state = CircuitState.OPEN
        self._opened_at = self._clock.monotonic()
        self._failures = 0
        self.opened_count += 1

    def _close(self) -> None:
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._trials = 0
        self._trial_successes = 0

    def __repr__(self) -> str:
        return f"CircuitBreaker(state={self.state.value}, failures={self._failures})"
