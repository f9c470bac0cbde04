"""A distributed lock on Redis with leases and fencing tokens (``pepperpy-state[redis]``).

Keys (``ns`` is the namespace, ``"pepperpy:lock"`` by default)
    ``{ns}:{name}``        the lock: ``"<owner>:<token>"``, expiring after the lease.
    ``{ns}:{name}:fence``  the fencing counter; never expires, only grows.

Every successful acquisition increments the counter in the same server-side
script that takes the lock, so fencing tokens are strictly increasing across
every holder and process. A lease that runs out (a paused or killed holder)
frees the lock for the next one, whose token is higher: a resource that
remembers the highest token it has seen (:class:`Fence`) refuses the old
holder's late writes. Release and lease extension only act while the lock
still holds this holder's value, so a holder whose lease expired can never
free or extend someone else's lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import uuid
from datetime import timedelta
from types import TracebackType
from typing import Any

from pepperpy.core.exceptions import (
    ConfigurationError,
    InvalidArgumentError,
    OperationTimeoutError,
    safe_repr,
)
from pepperpy.core.utils import import_driver, parse_duration
from pepperpy.state._errors import LockLostError, LockUnavailableError, StaleTokenError

__all__ = [
    "REDIS_URL_ENV",
    "Fence",
    "LockLostError",
    "LockUnavailableError",
    "RedisLock",
    "StaleTokenError",
]

REDIS_URL_ENV = "PEPPERPY_REDIS_URL"
"""The environment variable :class:`RedisLock` reads its URL from when given none."""

# KEYS: lock, fence counter. ARGV: owner, lease ms. Returns the token or nil.
_ACQUIRE = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return nil
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. token, 'PX', ARGV[2])
return token
"""

# KEYS: lock. ARGV: expected value. Returns 1 if deleted.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# KEYS: lock. ARGV: expected value, lease ms. Returns 1 if extended.
_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


_MAX_SECONDS = 100 * 365 * 24 * 3600.0


def _seconds(name: str, value: float | str | timedelta) -> float:
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, bool):
        seconds = -1.0
    else:
        try:
            seconds = parse_duration(value)
        except Exception as exc:
            raise InvalidArgumentError(
                f"invalid {name} {safe_repr(value)}",
                context={name: safe_repr(value)},
                hint="Pass seconds (30), a duration string ('30s') or a timedelta.",
            ) from exc
    # NaN fails both comparisons; Redis takes PX only below 2**63 milliseconds.
    if not 0 < seconds < _MAX_SECONDS:
        raise InvalidArgumentError(
            f"{name} must be a positive, finite number of seconds (under a century), "
            f"got {safe_repr(value)}",
            context={name: safe_repr(value)},
            hint="For example lease='30s'.",
        )
    return seconds


class RedisLock:
    """A lock shared by every process using the same Redis server and lock name.

    ``async with lock as token:`` waits for the lock and yields its fencing
    token. While held, a background task renews the lease every third of it
    (``auto_renew``); if renewing finds the lock taken over (the process was
    paused past its lease), :attr:`lost` becomes true.

    Args:
        client: A ``redis.asyncio.Redis`` client or a URL (``redis://host:6379/0``);
            default ``$PEPPERPY_REDIS_URL``.
        name: The lock's name (what holders agree on).
        lease: How long the lock survives its holder without renewal.
        namespace: Prefix of the Redis keys.
        auto_renew: Renew the lease in the background while held.
        retry_interval: The first pause between attempts while waiting (grows
            to a quarter second, never beyond the holder's remaining lease).

    Raises:
        ConfigurationError: No client or URL was given or found, or redis-py is missing.
        InvalidArgumentError: A bad name, lease or interval.
    """

    def __init__(
        self,
        client: Any = None,
        name: str = "lock",
        *,
        lease: float | str | timedelta = 30.0,
        namespace: str = "pepperpy:lock",
        auto_renew: bool = True,
        retry_interval: float = 0.02,
    ) -> None:
        if client is None:
            client = os.environ.get(REDIS_URL_ENV)
            if not client:
                raise ConfigurationError(
                    "RedisLock needs a client or a URL",
                    code="pepperpy.state.no_redis_url",
                    context={"env": REDIS_URL_ENV},
                    hint=f"Pass 'redis://host:6379/0' or a redis.asyncio.Redis, or set "
                    f"${REDIS_URL_ENV}.",
                )
        if not isinstance(name, str) or not name:
            raise InvalidArgumentError(
                f"lock name must be a non-empty string, got {safe_repr(name)}",
                code="pepperpy.state.invalid_lock_name",
            )
        self._owns_client = isinstance(client, str)
        if isinstance(client, str):
            aioredis = import_driver("redis.asyncio", area="state", user="RedisLock", extra="redis")
            client = aioredis.Redis.from_url(client)
        self.client = client
        self.name = name
        self.lease = _seconds("lease", lease)
        self.auto_renew = auto_renew
        self.retry_interval = _seconds("retry_interval", retry_interval)
        self._key = f"{namespace}:{name}"
        self._fence_key = f"{self._key}:fence"
        self._acquire_script = client.register_script(_ACQUIRE)
        self._release_script = client.register_script(_RELEASE)
        self._extend_script = client.register_script(_EXTEND)
        self._value: str | None = None
        self._token: int | None = None
        self._renewer: asyncio.Task[None] | None = None
        self._lost = False

    def __repr__(self) -> str:
        state = f"held, token {self._token}" if self._token is not None else "not held"
        return f"RedisLock({self.name!r}, {state})"

    @property
    def token(self) -> int | None:
        """The fencing token of the current hold (``None`` when not held)."""
        return self._token

    @property
    def held(self) -> bool:
        """Whether this object holds the lock (as far as it knows; see :attr:`lost`)."""
        return self._token is not None and not self._lost

    @property
    def lost(self) -> bool:
        """Whether a renewal found the lock no longer ours while we thought we held it."""
        return self._lost

    def _failed(self, exc: Exception, operation: str) -> LockUnavailableError:
        error = LockUnavailableError(
            f"lock {self.name!r}: {operation} failed: {type(exc).__name__}: {exc}",
            context={"lock": self.name, "operation": operation},
            hint="Check that the Redis server is running and reachable.",
            retryable=True,
        )
        error.__cause__ = exc
        return error

    async def try_acquire(self) -> int | None:
        """Take the lock if it is free; return the fencing token, or ``None`` if held."""
        if self._token is not None:
            raise InvalidArgumentError(
                f"lock {self.name!r} is already held by this object (token {self._token})",
                code="pepperpy.state.lock_not_reentrant",
                hint="Release it first, or use one RedisLock object per holder.",
            )
        owner = uuid.uuid4().hex
        try:
            token = await self._acquire_script(
                keys=[self._key, self._fence_key], args=[owner, self._lease_ms()]
            )
        except Exception as exc:
            raise self._failed(exc, "acquire") from exc
        if token is None:
            return None
        self._token = int(token)
        self._value = f"{owner}:{self._token}"
        self._lost = False
        if self.auto_renew:
            self._renewer = asyncio.ensure_future(self._renew_loop(self._value))
        return self._token

    async def acquire(self, *, timeout: float | str | timedelta | None = None) -> int:
        """Wait for the lock; return its fencing token.

        Raises:
            OperationTimeoutError: *timeout* passed while another holder kept it.
            LockUnavailableError: Redis failed.
        """
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + _seconds("timeout", timeout)
        pause = self.retry_interval
        while True:
            token = await self.try_acquire()
            if token is not None:
                return token
            now = loop.time()
            if deadline is not None and now >= deadline:
                raise OperationTimeoutError(
                    f"lock {self.name!r} stayed held by another holder",
                    context={"lock": self.name, "timeout": timeout},
                    hint="Raise the timeout, or check for a holder that keeps renewing.",
                )
            try:
                left_ms = int(await self.client.pttl(self._key))
            except Exception as exc:
                raise self._failed(exc, "acquire") from exc
            wait = pause * (0.5 + random.random() / 2)
            if left_ms > 0:
                wait = min(wait, left_ms / 1000)
            if deadline is not None:
                wait = min(wait, max(0.0, deadline - now))
            await asyncio.sleep(wait)
            pause = min(pause * 2, 0.25)

    async def release(self) -> None:
        """Give the lock up.

        Raises:
            LockLostError: The lease had run out (the lock was free or someone
                else's); nothing was changed.
            InvalidArgumentError: This object does not hold the lock.
        """
        value, token = self._value, self._token
        if value is None or token is None:
            raise InvalidArgumentError(
                f"lock {self.name!r} is not held by this object",
                code="pepperpy.state.lock_not_held",
                hint="Acquire it first.",
            )
        await self._stop_renewer()
        self._value = self._token = None
        try:
            released = await self._release_script(keys=[self._key], args=[value])
        except Exception as exc:
            raise self._failed(exc, "release") from exc
        if not released:
            raise LockLostError(
                f"lock {self.name!r} (token {token}) was lost before release: its lease ran out",
                context={"lock": self.name, "token": token},
                hint="Raise the lease or keep auto_renew on; guard shared resources "
                "with a Fence so a late holder's writes are refused.",
            )

    async def extend(self, lease: float | str | timedelta | None = None) -> None:
        """Restart the lease (``lease`` or the lock's own) from now.

        Raises:
            LockLostError: The lock is no longer this holder's.
        """
        value = self._value
        if value is None:
            raise InvalidArgumentError(
                f"lock {self.name!r} is not held by this object",
                code="pepperpy.state.lock_not_held",
                hint="Acquire it first.",
            )
        ms = self._lease_ms() if lease is None else max(1, round(_seconds("lease", lease) * 1000))
        try:
            extended = await self._extend_script(keys=[self._key], args=[value, ms])
        except Exception as exc:
            raise self._failed(exc, "extend") from exc
        if not extended:
            self._lost = True
            raise LockLostError(
                f"lock {self.name!r} (token {self._token}) was lost: its lease ran out",
                context={"lock": self.name, "token": self._token},
                hint="Stop working on the guarded resource; acquire the lock again.",
            )

    def _lease_ms(self) -> int:
        return max(1, round(self.lease * 1000))

    async def _renew_loop(self, value: str) -> None:
        while self._value == value:
            await asyncio.sleep(self.lease / 3)
            if self._value != value:
                return
            try:
                extended = await self._extend_script(
                    keys=[self._key], args=[value, self._lease_ms()]
                )
            except Exception:
                continue
            if not extended:
                self._lost = True
                return

    async def _stop_renewer(self) -> None:
        renewer, self._renewer = self._renewer, None
        if renewer is not None and not renewer.done():
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer

    async def aclose(self) -> None:
        """Stop renewing (the lock is released if held) and close a client made from a URL."""
        if self._value is not None:
            with contextlib.suppress(LockLostError, LockUnavailableError):
                await self.release()
        await self._stop_renewer()
        if self._owns_client:
            await self.client.aclose()

    async def __aenter__(self) -> int:
        return await self.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.release()
        except LockLostError:
            if exc is None:
                raise


class Fence:
    """The resource side of fencing: remembers the highest token seen, refuses older ones.

    Works on any pepperpy-storage ``Storage`` (or anything with its optimistic
    ``transaction()``): :meth:`write` stores a value only if the writer's token
    is at least the highest one recorded for this fence, in the same
    transaction that records it.

    Args:
        storage: A pepperpy-storage ``Storage``.
        name: The fence's name (usually the lock's).
        prefix: Where the highest token is kept in the store.
    """

    def __init__(self, storage: Any, name: str, *, prefix: str = "fence/") -> None:
        self.storage = storage
        self.key = f"{prefix}{name}"

    async def write(self, token: int, key: str, value: Any) -> None:
        """Store *value* under *key* on behalf of the holder of *token*.

        Raises:
            StaleTokenError: A newer holder (a higher token) has written
                through this fence already; nothing was written.
        """
        async with self.storage.transaction() as tx:
            seen = await tx.get(self.key, 0)
            if token < seen:
                tx.discard()
                raise StaleTokenError(
                    f"fencing token {token} is older than {seen}, already seen by {self.key!r}",
                    context={"fence": self.key, "token": token, "seen": seen},
                    hint="This holder lost its lock; stop and acquire it again.",
                )
            if token > seen:
                tx.put(self.key, token)
            tx.put(key, value)

    async def highest(self) -> int:
        """The highest token written through this fence (0 before any)."""
        return int(await self.storage.get(self.key, 0))
