"""``Pool[T]``: a typed async object pool with health checks, idle/lifetime limits and stats."""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from pepperpy.core.exceptions import ClosedError, InvalidArgumentError, safe_repr
from pepperpy.core.types import MISSING, Clock, Lifecycle, LifecycleState, Missing, system_clock
from pepperpy.resources._errors import PoolCheckError, PoolTimeoutError

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["Pool", "PoolStats"]

T = TypeVar("T")

_log = logging.getLogger("pepperpy.resources")

# Freshly created items the health check may reject in one acquire before it
# gives up with PoolCheckError (stale idle items do not count: each is replaced).
_FRESH_REJECTS = 3


def _seconds(label: str, value: object, *, zero: bool) -> float | None:
    """*value* as seconds (``None`` and ``math.inf``: no limit), or InvalidArgumentError.

    A NaN passed the old ``value <= 0`` checks (every comparison with NaN is
    false) and made waits never end; a str or bool is refused too.
    """
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or value != value  # NaN
        or value < 0
        or (value == 0 and not zero)
    ):
        bound = ">= 0" if zero else "> 0"
        raise InvalidArgumentError(
            f"{label} must be a number of seconds {bound} or None, got {safe_repr(value)}",
            context={label: safe_repr(value)},
            hint=f"Pass a number of seconds {bound} for {label}, or None for no limit.",
        )
    return None if value == math.inf else float(value)


def _size(label: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(
            f"{label} must be an int, got {safe_repr(value)}",
            context={label: safe_repr(value)},
            hint="For example min_size=1, max_size=10.",
        )
    return value


async def _maybe_await(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value


@attrs.frozen
class PoolStats:
    """A snapshot of a :class:`Pool`'s counters.

    Attributes:
        size: Items that exist now (idle + in use + being created, checked,
            reset or closed).
        idle: Items waiting in the pool.
        in_use: Items handed out and not yet released.
        waiting: Tasks blocked in :meth:`Pool.acquire`.
        created: Items created since the pool started.
        discarded: Items closed because they failed a check, expired or were
            released with ``discard=True``.
        acquired: Successful acquisitions.
        timeouts: Acquisitions that gave up after the timeout.
        max_size: The configured upper bound.
    """

    size: int
    idle: int
    in_use: int
    waiting: int
    created: int
    discarded: int
    acquired: int
    timeouts: int
    max_size: int


class _Item(Generic[T]):
    __slots__ = ("created_at", "last_used", "value")

    def __init__(self, value: T, now: float) -> None:
        self.value = value
        self.created_at = now
        self.last_used = now


class _Progress:
    """What an acquisition is doing, so a timeout can say where it was stuck."""

    __slots__ = ("rejected", "stage")

    def __init__(self) -> None:
        self.stage = "waiting for a free item"
        self.rejected = 0

    def why(self) -> str:
        text = self.stage
        if self.rejected:
            text += f" ({self.rejected} item(s) failed the health check)"
        return text


class _Acquire(Generic[T]):
    """What :meth:`Pool.acquire` returns: await it, or use it with ``async with``."""

    __slots__ = ("_pool", "_timeout", "_value")

    def __init__(self, pool: Pool[T], timeout: float | None) -> None:
        self._pool = pool
        self._timeout = timeout
        self._value: T | None = None

    def __await__(self) -> Generator[Any, None, T]:
        return self._pool._acquire(self._timeout).__await__()

    async def __aenter__(self) -> T:
        self._value = await self._pool._acquire(self._timeout)
        return self._value

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        value, self._value = self._value, None
        if value is not None:
            await self._pool.release(value)


class Pool(Lifecycle, Generic[T]):
    """A typed pool of reusable async resources (connections, sessions, workers).

    Items come from *factory* (sync or async) and are closed by *close* (or
    their own ``aclose()``/``close()``). The pool keeps between *min_size*
    and *max_size* items, hands them out in strict FIFO order to waiting
    tasks (fair: a released item goes straight to the longest waiter), and
    never hands out an item that is too old or fails its health check::

        pool: Pool[Connection] = Pool(connect, max_size=10, check=ping)
        async with pool:
            async with pool.acquire() as conn:
                await conn.query(...)

    ``item = await pool.acquire()`` followed by ``await pool.release(item)``
    works too. :meth:`drain` waits for every borrowed item to come back before
    :meth:`close`.

    Whatever is cancelled or raises (at any await point of :meth:`acquire`,
    :meth:`release`, start or a sweep), every item the factory created is
    idle in the pool, handed out, or closed, as with asyncpg's pool.

    Args:
        factory: Creates one item.
        close: Closes one item; defaults to its ``aclose``/``close`` method.
        min_size: Items created on start and kept even when idle.
        max_size: The most items that may exist at once.
        acquire_timeout: Default deadline of :meth:`acquire` in seconds (waiting,
            creating and health-checking together), ``None`` = no deadline.
        max_idle: Close items idle longer than this (down to *min_size*).
        max_lifetime: Close items older than this when they next come back.
        check: Health check ``item -> bool`` (sync or async) run on acquire;
            a ``False`` result or an exception discards the item and the
            acquisition tries another one (after 3 fresh items in a row fail,
            it raises :class:`PoolCheckError`).
        check_on_release: Also run *check* when an item is released.
        reset: Called on release to clean an item for its next user;
            an exception discards the item.
        reap_interval: Seconds between idle/lifetime sweeps; derived from the
            limits when omitted.
        clock: Time source for idle and lifetime limits.
        name: A label used in errors.
    """

    def __init__(
        self,
        factory: Callable[[], T] | Callable[[], Awaitable[T]],
        *,
        close: Callable[[T], Any] | None = None,
        min_size: int = 0,
        max_size: int = 10,
        acquire_timeout: float | None = 30.0,
        max_idle: float | None = None,
        max_lifetime: float | None = None,
        check: Callable[[T], bool] | Callable[[T], Awaitable[bool]] | None = None,
        check_on_release: bool = False,
        reset: Callable[[T], Any] | None = None,
        reap_interval: float | None = None,
        clock: Clock = system_clock,
        name: str = "pool",
    ) -> None:
        if not callable(factory):
            raise InvalidArgumentError(
                "factory must be callable",
                context={"factory": repr(factory)},
                hint="Pass a function (sync or async) that creates one item.",
            )
        min_size = _size("min_size", min_size)
        max_size = _size("max_size", max_size)
        if max_size < 1 or min_size < 0 or min_size > max_size:
            raise InvalidArgumentError(
                "pool sizes must satisfy 0 <= min_size <= max_size and max_size >= 1",
                context={"min_size": min_size, "max_size": max_size},
                hint="For example min_size=1, max_size=10.",
            )
        acquire_timeout = _seconds("acquire_timeout", acquire_timeout, zero=False)
        max_idle = _seconds("max_idle", max_idle, zero=False)
        max_lifetime = _seconds("max_lifetime", max_lifetime, zero=False)
        reap_interval = _seconds("reap_interval", reap_interval, zero=False)
        self._factory = factory
        self._close = close
        self.min_size = min_size
        self.max_size = max_size
        self.acquire_timeout = acquire_timeout
        self.max_idle = max_idle
        self.max_lifetime = max_lifetime
        self._check = check
        self._check_on_release = check_on_release
        self._reset = reset
        limits = [v for v in (max_idle, max_lifetime) if v is not None]
        self._reap_interval = reap_interval or (min(limits) / 2 if limits else None)
        self._clock = clock
        self.name = name
        self._idle: deque[_Item[T]] = deque()
        self._in_use: dict[int, _Item[T]] = {}
        self._creating = 0
        self._limbo = 0  # items being health-checked, reset or closed
        self._background: set[asyncio.Task[Any]] = set()
        self._waiters: deque[asyncio.Future[_Item[T] | None]] = deque()
        self._draining = False
        self._returned: asyncio.Event | None = None
        self._reaper: asyncio.Task[None] | None = None
        self._created = 0
        self._discarded = 0
        self._acquired = 0
        self._timeouts = 0

    def __repr__(self) -> str:
        s = self.stats()
        return (
            f"Pool(name={self.name!r}, state={self.state.value!r}, size={s.size}, "
            f"in_use={s.in_use}, idle={s.idle}, max_size={s.max_size})"
        )

    # ----------------------------------------------------------------- stats

    @property
    def size(self) -> int:
        """Items that exist now (idle, in use, being created, checked, reset or closed)."""
        return len(self._idle) + len(self._in_use) + self._creating + self._limbo

    def stats(self) -> PoolStats:
        """Return a :class:`PoolStats` snapshot."""
        return PoolStats(
            size=self.size,
            idle=len(self._idle),
            in_use=len(self._in_use),
            waiting=sum(1 for w in self._waiters if not w.done()),
            created=self._created,
            discarded=self._discarded,
            acquired=self._acquired,
            timeouts=self._timeouts,
            max_size=self.max_size,
        )

    # ----------------------------------------------------------------- lifecycle

    async def _on_start(self) -> None:
        self._draining = False
        self._returned = asyncio.Event()
        if self.min_size:
            await self._fill()  # on failure, stop() closes the items already made
        if self._reap_interval is not None:
            self._reaper = asyncio.ensure_future(self._reap_loop(self._reap_interval))

    async def _on_stop(self) -> None:
        self._draining = True
        if self._reaper is not None:
            self._reaper.cancel()
            try:
                await self._reaper
            except asyncio.CancelledError:
                pass
            self._reaper = None
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(self._closed_error())
        idle, self._idle = list(self._idle), deque()
        fatal: BaseException | None = None
        for item in idle:
            try:
                await self._destroy(item, discarded=False)
            except BaseException as exc:  # close the others, then let it through
                fatal = fatal or exc
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)
        if fatal is not None:
            raise fatal

    async def close(self) -> None:
        """Alias of :meth:`stop`: close idle items; borrowed ones close when released."""
        await self.stop()

    async def drain(self, timeout: float | None = None) -> bool:
        """Stop lending and wait until every borrowed item is released.

        New :meth:`acquire` calls fail with :class:`ClosedError` from now on;
        tasks already waiting are failed too. Call :meth:`close` afterwards.

        Returns:
            ``True`` if everything came back, ``False`` if *timeout* passed first.
        """
        timeout = _seconds("timeout", timeout, zero=True)
        self._draining = True
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(self._closed_error())
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while self._in_use or self._creating or self._limbo:
            event = self._returned
            if event is None:
                break
            event.clear()
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return False
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except (asyncio.TimeoutError, TimeoutError):
                return not (self._in_use or self._creating or self._limbo)
        return True

    def _closed_error(self) -> ClosedError:
        return ClosedError(
            f"pool {self.name!r} is closing and lends no more items",
            context={"pool": self.name, "state": self.state.value},
            hint="Acquire before drain()/close(), or start the pool again.",
        )

    # ----------------------------------------------------------------- acquire / release

    def acquire(self, timeout: float | Missing | None = MISSING) -> _Acquire[T]:
        """Borrow an item: ``await pool.acquire()`` or ``async with pool.acquire() as x``.

        Args:
            timeout: A deadline in seconds for the whole acquisition: waiting
                for a free item, creating one and health-checking it (as
                asyncpg's ``acquire(timeout=)``); defaults to the pool's
                *acquire_timeout*; ``None``: no deadline.

        Raises:
            PoolTimeoutError: No usable item in time; the message says what the
                acquisition was doing (waiting, creating or checking).
            PoolCheckError: Freshly created items kept failing the health check.
            ClosedError: The pool is not running or is draining.
        """
        if timeout is MISSING:
            return _Acquire(self, self.acquire_timeout)
        return _Acquire(self, _seconds("timeout", timeout, zero=True))

    def _check_open(self) -> None:
        if self._draining and self.state is LifecycleState.RUNNING:
            raise self._closed_error()
        self._ensure_running()

    async def _acquire(self, timeout: float | None) -> T:
        self._check_open()
        if self._idle and not self._waiters and self._check is None:
            item = self._idle.pop()  # the fast path: nothing to await
            if self._usable_now(item, on_acquire=True):
                return self._lend(item)
            self._idle.append(item)
        if timeout is None:
            return await self._obtain(_Progress())
        progress = _Progress()
        inner = asyncio.ensure_future(self._obtain(progress))
        try:
            await asyncio.wait({inner}, timeout=timeout)
        except asyncio.CancelledError:
            await self._abandon(inner)
            raise
        if not inner.done():
            await self._abandon(inner)
            self._timeouts += 1
            raise PoolTimeoutError(
                f"no usable item of pool {self.name!r} within {timeout}s: gave up while "
                f"{progress.why()}",
                context={
                    "pool": self.name,
                    "timeout": timeout,
                    "stage": progress.stage,
                    "rejected": progress.rejected,
                    "in_use": len(self._in_use),
                    "max_size": self.max_size,
                    "waiting": len(self._waiters),
                },
                hint="Release items sooner (use 'async with pool.acquire()'), raise "
                "max_size or the acquire timeout, or check why creating or health-checking "
                "an item is slow.",
            )
        return inner.result()

    async def _abandon(self, inner: asyncio.Task[T]) -> None:
        """Give up on *inner*: cancel it and let it unwind (as ``asyncio.wait_for`` does).

        An item it obtained anyway (it finished as we gave up) goes back to the pool.
        """
        inner.cancel()
        inner.add_done_callback(self._adopt)
        if not inner.done():
            await asyncio.wait({inner})

    def _adopt(self, inner: asyncio.Task[T]) -> None:
        if inner.cancelled() or inner.exception() is not None:
            return
        item = self._in_use.pop(id(inner.result()), None)
        if item is None:  # pragma: no cover - released by nobody else
            return
        self._acquired -= 1
        if not self._hand_back(item):
            self._dispose(item, discarded=False)

    def _lend(self, item: _Item[T]) -> T:
        item.last_used = self._clock.monotonic()
        self._in_use[id(item.value)] = item
        self._acquired += 1
        return item.value

    async def _obtain(self, progress: _Progress) -> T:
        """Get a usable item: idle, new or waited for; check it; retry a bounded number of times.

        Cancellation-safe at every await: the item in hand is returned to the
        pool or closed.
        """
        fresh_rejects = 0
        while True:
            self._check_open()
            fresh = False
            if self._idle and not self._waiters:
                item = self._idle.pop()
            elif self.size < self.max_size and not self._waiters:
                progress.stage = "creating an item"
                item = await self._create()
                fresh = True
            else:
                progress.stage = (
                    f"waiting for a free item ({len(self._in_use)} of {self.max_size} in use)"
                )
                handed = await self._wait()
                if handed is None:  # a slot was reserved for us
                    self._creating -= 1
                    progress.stage = "creating an item"
                    item = await self._create()
                    fresh = True
                else:
                    item = handed
            progress.stage = "health-checking an item"
            self._limbo += 1
            try:
                usable = await self._usable(item, on_acquire=True)
            except BaseException:
                self._limbo -= 1
                self._dispose(item, discarded=True)
                raise
            self._limbo -= 1
            if usable:
                return self._lend(item)
            progress.rejected += 1
            fresh_rejects += fresh
            await self._destroy_shielded(item)
            if fresh_rejects >= _FRESH_REJECTS:
                raise PoolCheckError(
                    f"pool {self.name!r} gave up: {fresh_rejects} newly created items in a row "
                    "failed the health check",
                    context={"pool": self.name, "rejected": progress.rejected},
                    hint="Check the health check and what the factory connects to; the "
                    "rejected items were closed.",
                )

    async def _wait(self) -> _Item[T] | None:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[_Item[T] | None] = loop.create_future()
        self._waiters.append(waiter)
        try:
            return await asyncio.shield(waiter)
        except BaseException:
            try:
                self._waiters.remove(waiter)
            except ValueError:
                pass
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                handed = waiter.result()  # handed to us as we gave up: pass it on
                if handed is None:
                    self._creating -= 1
                    self._wake_for_capacity()
                elif not self._hand_back(handed):
                    self._dispose(handed, discarded=False)
            else:
                waiter.cancel()
            raise

    async def _create(self) -> _Item[T]:
        self._creating += 1
        try:
            value = await _maybe_await(self._factory())
        except BaseException:
            self._creating -= 1
            self._wake_for_capacity()
            raise
        self._creating -= 1
        if id(value) in self._in_use or any(item.value is value for item in self._idle):
            # Loans are tracked by identity: a second loan of one object would
            # overwrite the first's record (more than max_size lent, a failing release).
            self._wake_for_capacity()
            raise InvalidArgumentError(
                f"the factory of pool {self.name!r} returned an object the pool already "
                "holds; each item must be a distinct object",
                code="pepperpy.resources.duplicate_item",
                context={"pool": self.name, "item": safe_repr(value)},
                hint="Return a new object from each factory call (wrap a shared client in a "
                "per-item object if needed).",
            )
        self._created += 1
        return _Item(value, self._clock.monotonic())

    def _usable_now(self, item: _Item[T], *, on_acquire: bool) -> bool:
        """The age and idle-time limits (no health check)."""
        now = self._clock.monotonic()
        if self.max_lifetime is not None and now - item.created_at >= self.max_lifetime:
            return False
        return not (
            on_acquire and self.max_idle is not None and now - item.last_used >= self.max_idle
        )

    async def _usable(self, item: _Item[T], *, on_acquire: bool) -> bool:
        if not self._usable_now(item, on_acquire=on_acquire):
            return False
        if self._check is None or (not on_acquire and not self._check_on_release):
            return True
        try:
            return bool(await _maybe_await(self._check(item.value)))
        except Exception as exc:
            _log.warning("pool %r: health check raised %r; discarding the item", self.name, exc)
            return False

    async def release(self, value: T, *, discard: bool = False) -> None:
        """Give a borrowed item back (``discard=True`` closes it instead of reusing it).

        Raises:
            InvalidArgumentError: *value* was not borrowed from this pool.
        """
        item = self._in_use.pop(id(value), None)
        if item is None:
            raise InvalidArgumentError(
                f"this item was not borrowed from pool {self.name!r}",
                context={"pool": self.name, "item": repr(value)[:80]},
                hint="Release each item once, to the pool it came from.",
            )
        try:
            keep = not discard and self.state is LifecycleState.RUNNING
            self._limbo += 1  # being reset and checked: still counted
            try:
                if keep and self._reset is not None:
                    try:
                        await _maybe_await(self._reset(item.value))
                    except Exception as exc:
                        _log.warning(
                            "pool %r: reset raised %r; discarding the item", self.name, exc
                        )
                        keep = False
                if keep:
                    keep = await self._usable(item, on_acquire=False)
            except BaseException:  # cancelled or interrupted half-way: close it
                self._limbo -= 1
                self._dispose(item, discarded=True)
                raise
            self._limbo -= 1
            item.last_used = self._clock.monotonic()
            if not keep:
                await asyncio.shield(self._dispose(item, discarded=discard or self.is_running))
            elif not self._hand_back(item):
                await asyncio.shield(self._dispose(item, discarded=False))
        finally:
            if self._returned is not None:
                self._returned.set()

    def _hand_back(self, item: _Item[T]) -> bool:
        """Give *item* to the longest waiter or the idle stack; ``False`` if closing."""
        if self._draining or self.state not in (LifecycleState.RUNNING, LifecycleState.STARTING):
            return False
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(item)
                return True
        self._idle.append(item)
        return True

    def _wake_for_capacity(self) -> None:
        """A slot freed up: reserve it for the longest waiter, which will create an item."""
        while self._waiters and self.size < self.max_size:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._creating += 1  # reserved; the waiter converts it into a creation
                waiter.set_result(None)
                return

    def _dispose(self, item: _Item[T], *, discarded: bool) -> asyncio.Task[None]:
        """Close *item* in a task of its own (it finishes even if the caller is cancelled)."""
        self._limbo += 1  # counted until the task starts closing it

        async def close() -> None:
            self._limbo -= 1
            try:
                await self._destroy(item, discarded=discarded)
            except Exception:  # pragma: no cover - _destroy logs closer errors itself
                _log.exception("pool %r: closing an item failed", self.name)

        task = asyncio.ensure_future(close())
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def _destroy_shielded(self, item: _Item[T]) -> None:
        """Close a rejected item; a cancelled caller leaves the close running."""
        await asyncio.shield(self._dispose(item, discarded=True))

    async def _destroy(self, item: _Item[T], *, discarded: bool) -> None:
        if discarded:
            self._discarded += 1
        self._limbo += 1
        try:
            if self._close is not None:
                await _maybe_await(self._close(item.value))
            else:
                closer = getattr(item.value, "aclose", None) or getattr(item.value, "close", None)
                if callable(closer):
                    await _maybe_await(closer())
        except Exception as exc:
            _log.warning("pool %r: closing an item raised %r", self.name, exc)
        finally:
            self._limbo -= 1
            self._wake_for_capacity()
            if self._returned is not None:
                self._returned.set()

    # ----------------------------------------------------------------- maintenance

    async def _fill(self) -> None:
        """Create items up to *min_size*, concurrently.

        Every item made is kept (or closed when the pool is closing), even when
        another creation fails or the caller is cancelled; the first failure is
        raised afterwards.
        """
        missing = self.min_size - self.size
        if missing <= 0 or self._draining:
            return
        tasks = [asyncio.ensure_future(self._create()) for _ in range(missing)]
        try:
            await asyncio.wait(tasks)
        finally:
            # No await from here on: a cancellation cannot skip a finished item.
            for task in tasks:
                if task.done():
                    self._keep_created(task)
                else:  # we were cancelled: stop it; what it makes anyway is kept
                    task.cancel()
                    task.add_done_callback(self._keep_created)
                    self._background.add(task)
                    task.add_done_callback(self._background.discard)
        for task in tasks:
            error = task.exception()
            if error is not None:
                raise error

    def _keep_created(self, task: asyncio.Task[_Item[T]]) -> None:
        """Put the item a creation task made into the pool (closed if the pool is closing)."""
        if task.cancelled() or task.exception() is not None:
            return
        item = task.result()
        if not self._hand_back(item):
            self._dispose(item, discarded=False)

    async def _reap_loop(self, interval: float) -> None:
        while True:
            await self._clock.sleep(interval)
            try:
                await self.reap()
            except Exception as exc:  # keep reaping; the factory may recover
                _log.warning("pool %r: maintenance failed: %r", self.name, exc)

    async def reap(self) -> None:
        """Close idle items past *max_idle*/*max_lifetime*, then refill to *min_size*.

        Runs periodically on its own; call it to force a sweep.
        """
        now = self._clock.monotonic()
        keep: deque[_Item[T]] = deque()
        expired: list[_Item[T]] = []
        idle_count = len(self._idle)
        for item in self._idle:  # oldest-used first
            too_old = self.max_lifetime is not None and now - item.created_at >= self.max_lifetime
            too_idle = self.max_idle is not None and now - item.last_used >= self.max_idle
            busy = len(self._in_use) + self._creating
            if too_old or (too_idle and busy + idle_count - len(expired) > self.min_size):
                expired.append(item)
            else:
                keep.append(item)
        self._idle = keep
        # Closed in tasks of their own: a cancelled sweep (stop() cancels the
        # reaper) cannot leave an expired item neither idle nor closed.
        closing = [self._dispose(item, discarded=True) for item in expired]
        if closing:
            await asyncio.shield(asyncio.gather(*closing))
        await self._fill()
