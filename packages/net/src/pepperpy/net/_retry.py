"""Retry configuration, the per-client retry budget and ``Retry-After`` parsing."""

from __future__ import annotations

import email.utils
import math
import threading
from typing import TYPE_CHECKING, Any

import attrs

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.core.types import Clock, system_clock

if TYPE_CHECKING:
    from pepperpy.core.utils import RetryPolicy

__all__ = ["IDEMPOTENT_METHODS", "RETRY_STATUSES", "Retry", "RetryBudget", "parse_retry_after"]

IDEMPOTENT_METHODS: frozenset[str] = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
"""Methods that are safe to send twice (RFC 9110 section 9.2.2)."""

RETRY_STATUSES: frozenset[int] = frozenset({429, 502, 503, 504})
"""Statuses that say "try again later" rather than "this request is wrong"."""


def _non_negative(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise InvalidArgumentError(
            f"{type(instance).__name__}.{attribute.name} must be a number >= 0",
            code="pepperpy.net.invalid_retry",
            context={"field": attribute.name, "value": value},
        )


def _attempts(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgumentError(
            "Retry.attempts must be an integer >= 1 (1 means no retries)",
            code="pepperpy.net.invalid_retry",
            context={"attempts": value},
        )


def _upper(values: Any) -> frozenset[str]:
    return frozenset(str(v).upper() for v in values)


@attrs.frozen
class Retry:
    """When and how a client retries a failed request.

    Only methods in *methods* are retried, unless the request carries an
    idempotency key or is sent with ``retry=True``. A request is retried when
    the connection fails (refused, dropped, connect or read timeout) or the
    response status is in *statuses*. The wait is the core
    :class:`~pepperpy.core.utils.RetryPolicy` backoff (exponential with jitter),
    or the server's ``Retry-After`` when that is longer; a ``Retry-After`` over
    *max_retry_after* is not waited for and the response is returned as is.

    Every retry also needs a token from the client's :class:`RetryBudget`, so
    a failing service does not receive *attempts* times its normal traffic.

    Attributes:
        attempts: Attempts in total, the first one included (1 disables retries).
        delay: The first backoff delay in seconds.
        max_delay: The longest backoff delay.
        backoff: The multiplier between two delays.
        jitter: Random jitter passed to the core policy.
        methods: Methods retried without an idempotency key.
        statuses: Response statuses that are retried.
        respect_retry_after: Honour the ``Retry-After`` response header.
        max_retry_after: The longest ``Retry-After`` wait accepted, in seconds.
        budget_ratio: Retry tokens earned per request sent (0.2 = at most 20 % extra).
        budget_min_per_second: Retries always allowed per second, even at low traffic.
    """

    attempts: int = attrs.field(default=3, validator=_attempts)
    delay: float = attrs.field(default=0.1, validator=_non_negative)
    max_delay: float = attrs.field(default=10.0, validator=_non_negative)
    backoff: float = attrs.field(default=2.0, validator=_non_negative)
    jitter: float = attrs.field(default=0.1, validator=_non_negative)
    methods: frozenset[str] = attrs.field(default=IDEMPOTENT_METHODS, converter=_upper)
    statuses: frozenset[int] = attrs.field(default=RETRY_STATUSES, converter=frozenset)
    respect_retry_after: bool = True
    max_retry_after: float = attrs.field(default=30.0, validator=_non_negative)
    budget_ratio: float = attrs.field(default=0.2, validator=_non_negative)
    budget_min_per_second: float = attrs.field(default=5.0, validator=_non_negative)

    @property
    def policy(self) -> RetryPolicy:
        """The core :class:`~pepperpy.core.utils.RetryPolicy` computing the backoff."""
        return _policy_for(self)

    def backoff_delay(self, retry_number: int) -> float:
        """Return the backoff before retry number *retry_number* (1 = the first retry)."""
        return float(self.policy.delay_for(retry_number))


_POLICIES: dict[Retry, RetryPolicy] = {}
_POLICIES_LOCK = threading.Lock()


def _policy_for(config: Retry) -> RetryPolicy:
    policy = _POLICIES.get(config)
    if policy is None:
        from pepperpy.core.utils import RetryPolicy

        policy = RetryPolicy(
            attempts=config.attempts,
            delay=config.delay,
            max_delay=config.max_delay,
            backoff=config.backoff,
            jitter=config.jitter,
        )
        with _POLICIES_LOCK:
            if len(_POLICIES) > 256:
                _POLICIES.clear()
            _POLICIES[config] = policy
    return policy


class RetryBudget:
    """Caps retries to a fraction of the traffic, so retries cannot multiply an outage.

    Each request sent deposits *ratio* tokens (up to *max_tokens*); each retry
    withdraws one. A reserve refilled at *min_per_second* tokens per second
    keeps retries possible when traffic is low. With no time passing, *n*
    requests allow at most ``ratio * n + min_per_second`` retries.

    Args:
        ratio: Tokens earned per request.
        min_per_second: Reserve refill rate (and its capacity).
        max_tokens: Cap on the earned tokens.
        clock: The time source for the reserve refill.
    """

    def __init__(
        self,
        ratio: float = 0.2,
        min_per_second: float = 5.0,
        *,
        max_tokens: float = 100.0,
        clock: Clock = system_clock,
    ) -> None:
        if ratio < 0 or min_per_second < 0 or max_tokens < 0:
            raise InvalidArgumentError(
                "RetryBudget ratio, min_per_second and max_tokens must be >= 0",
                code="pepperpy.net.invalid_retry",
                context={"ratio": ratio, "min_per_second": min_per_second},
            )
        self._ratio = ratio
        self._min_rate = min_per_second
        self._max_tokens = max_tokens
        self._clock = clock
        self._earned = 0.0
        self._reserve = min_per_second
        self._stamp = clock.monotonic()

    def _refill(self) -> None:
        now = self._clock.monotonic()
        elapsed = now - self._stamp
        if elapsed > 0:
            self._reserve = min(self._min_rate, self._reserve + elapsed * self._min_rate)
        self._stamp = now

    def deposit(self) -> None:
        """Record one request sent (earning *ratio* tokens)."""
        self._earned = min(self._max_tokens, self._earned + self._ratio)

    def try_withdraw(self) -> bool:
        """Take one token for a retry; ``False`` when the budget is spent."""
        self._refill()
        if self._reserve >= 1.0:
            self._reserve -= 1.0
            return True
        if self._earned >= 1.0:
            self._earned -= 1.0
            return True
        return False

    def refund(self) -> None:
        """Give back the token of a retry that was never sent (cancelled in its backoff)."""
        if self._reserve + 1.0 <= self._min_rate:
            self._reserve += 1.0
        else:
            self._earned = min(self._max_tokens, self._earned + 1.0)

    @property
    def available(self) -> float:
        """Tokens available now (earned plus reserve)."""
        self._refill()
        return self._earned + self._reserve


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Return the wait a ``Retry-After`` header asks for, in seconds.

    Accepts delta-seconds (``"120"``) and HTTP-dates; *now* is the current
    epoch time. A date in the past gives ``0.0``; anything unparsable gives
    ``None``.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return float(text)  # a huge value becomes inf, which no cap accepts
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None or when.tzinfo is None:
        return None
    seconds = when.timestamp() - now
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)
