"""A token-bucket rate limiter (one bucket per host in the client)."""

from __future__ import annotations

from typing import Any

import attrs

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.core.types import Clock, system_clock
from pepperpy.net._errors import RateLimitExceededError

__all__ = ["RateLimit", "TokenBucket"]


def _positive(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise InvalidArgumentError(
            f"RateLimit.{attribute.name} must be > 0",
            code="pepperpy.net.invalid_rate_limit",
            context={"field": attribute.name, "value": value},
        )


def _non_negative(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise InvalidArgumentError(
            f"RateLimit.{attribute.name} must be >= 0",
            code="pepperpy.net.invalid_rate_limit",
            context={"field": attribute.name, "value": value},
        )


@attrs.frozen
class RateLimit:
    """A client-side rate limit, applied to each host separately.

    Attributes:
        rate: Requests per second allowed on average.
        burst: Requests allowed at once after an idle period (the bucket
            size); defaults to ``max(1, rate)``.
        max_wait: The longest a request waits for a token; beyond it
            :class:`~pepperpy.net.RateLimitExceededError` is raised at once.
    """

    rate: float = attrs.field(validator=_positive)
    burst: float = attrs.field(
        default=attrs.Factory(lambda self: max(1.0, float(self.rate)), takes_self=True),
        validator=_positive,
    )
    max_wait: float = attrs.field(default=10.0, validator=_non_negative)


class TokenBucket:
    """A token bucket: *rate* tokens per second, at most *burst* stored.

    :meth:`acquire` reserves a token and sleeps (on *clock*) until it is due,
    so concurrent callers are served in order without busy waiting.
    """

    def __init__(self, limit: RateLimit, *, clock: Clock = system_clock) -> None:
        self.limit = limit
        self._clock = clock
        self._tokens = float(limit.burst)
        self._stamp = clock.monotonic()

    def _refill(self) -> None:
        now = self._clock.monotonic()
        self._tokens = min(
            float(self.limit.burst), self._tokens + (now - self._stamp) * self.limit.rate
        )
        self._stamp = now

    @property
    def tokens(self) -> float:
        """Tokens available now (negative while callers wait for reserved ones)."""
        self._refill()
        return self._tokens

    def try_acquire(self) -> bool:
        """Take a token if one is available now."""
        self._refill()
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    async def acquire(self, *, host: str = "") -> float:
        """Take a token, waiting for it if needed; return the seconds waited.

        Raises:
            RateLimitExceededError: The wait would exceed ``max_wait``.
        """
        self._refill()
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        wait = (1.0 - self._tokens) / self.limit.rate
        if wait > self.limit.max_wait:
            raise RateLimitExceededError(
                f"rate limit for {host or 'this host'} needs a {wait:.3f}s wait, over "
                f"max_wait={self.limit.max_wait}s",
                context={"host": host, "rate": self.limit.rate, "wait": round(wait, 3)},
            )
        self._tokens -= 1.0  # reserve the token; it is paid for by the wait
        try:
            await self._clock.sleep(wait)
        except BaseException:
            self._tokens += 1.0  # cancelled while waiting: give the token back
            raise
        return wait
