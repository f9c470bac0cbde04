"""Helpers with one name for sync and async callables.

:func:`retry`, :func:`timeout`, :func:`once`, :func:`throttle` and
:func:`debounce` decorate plain functions and coroutine functions alike;
:func:`batched` accepts sync and async iterables. Bad arguments raise
:class:`~pepperpy.core.exceptions.InvalidArgumentError` naming the value and
what would be valid.
"""

from __future__ import annotations

import decimal
import functools
import importlib
import inspect
import math
import os
import random
import re
import sys
import threading
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
)
from datetime import timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar, Union, cast, overload

from pepperpy.core._redact import safe_str
from pepperpy.core.exceptions import (
    ConfigurationError,
    InvalidArgumentError,
    OperationTimeoutError,
    PluginError,
    safe_repr,
)
from pepperpy.core.types import Clock, system_clock

if TYPE_CHECKING:
    import asyncio

__all__ = [
    "Backends",
    "RetryPolicy",
    "batched",
    "call_maybe_async",
    "cancel_requested",
    "chunked",
    "debounce",
    "deep_merge",
    "gather_limited",
    "import_driver",
    "import_string",
    "is_async_callable",
    "once",
    "parse_duration",
    "parse_size",
    "retry",
    "throttle",
    "timeout",
]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

RetryOn = Union[
    type[BaseException], tuple[type[BaseException], ...], Callable[[BaseException], bool]
]


# --------------------------------------------------------------------------- callables


def cancel_requested(stopping: bool | None = None) -> bool:
    """Whether the current asyncio task was asked to stop (its *own* cancellation).

    A loop that runs user code must tell its own cancellation, which it lets
    through, from a ``CancelledError`` the user's code raised (it awaited a
    future somebody else cancelled), which is that code's failure. *stopping*
    is the caller's own stop flag, set before it cancels its tasks (``None``
    when it has none). On Python 3.11+ ``Task.cancelling()`` answers as well;
    on 3.10 only the flag can, so there the result is the flag. Outside a running
    event loop the answer is ``False``.

    Example::

        try:
            await handler(event)
        except asyncio.CancelledError:
            if cancel_requested(self._stopping):
                raise  # our own cancellation
            record_failure()  # the handler's
    """
    if stopping:
        return True
    # asyncio is loaded whenever a task runs; a dict lookup, not an import statement, on
    # this path that every queued event and pipeline item takes (import stays lazy).
    asyncio_module = sys.modules.get("asyncio")
    if asyncio_module is None:
        return False
    try:
        task = asyncio_module.current_task()
    except RuntimeError:  # no running event loop: no task to have been asked
        return False
    cancelling = getattr(task, "cancelling", None)
    return bool(cancelling()) if cancelling is not None else False


def is_async_callable(obj: object) -> bool:
    """Return whether calling *obj* returns a coroutine.

    Sees through :func:`functools.partial` and objects whose ``__call__`` is a
    coroutine function, which :func:`inspect.iscoroutinefunction` alone misses.
    """
    while isinstance(obj, functools.partial):
        obj = obj.func
    if inspect.iscoroutinefunction(obj):
        return True
    call = getattr(obj, "__call__", None)  # noqa: B004 - we want the bound method
    return call is not None and not inspect.isfunction(obj) and inspect.iscoroutinefunction(call)


async def call_maybe_async(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Call *fn* and await its result if it is awaitable."""
    result = fn(*args, **kwargs)
    if inspect.isawaitable(result):
        return await result
    return result


def _name_of(fn: object) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


# --------------------------------------------------------------------------- retry


def _check_positive(name: str, value: float, *, allow_zero: bool = True) -> None:
    if value < 0 or (not allow_zero and value == 0):
        bound = ">= 0" if allow_zero else "> 0"
        raise InvalidArgumentError(
            f"{name} must be {bound}, got {safe_repr(value)}",
            context={name: value},
            hint=f"Pass a number {bound}.",
        )


def _make_predicate(retry_on: RetryOn) -> Callable[[BaseException], bool]:
    if isinstance(retry_on, type) and issubclass(retry_on, BaseException):
        exc_type = retry_on
        return lambda exc: isinstance(exc, exc_type)
    if isinstance(retry_on, tuple) and all(
        isinstance(t, type) and issubclass(t, BaseException) for t in retry_on
    ):
        types = retry_on
        return lambda exc: isinstance(exc, types)
    if callable(retry_on):
        return cast("Callable[[BaseException], bool]", retry_on)
    raise InvalidArgumentError(
        f"retry_on must be an exception class, a tuple of them or a predicate, "
        f"got {safe_repr(retry_on)}",
        hint="For example retry_on=(ConnectionError, TimeoutError).",
    )


_HOOKS: set[Any] = set()  # async on_retry calls scheduled by next_delay, kept until done


class RetryPolicy:
    """How to retry: attempt and deadline limits, backoff and what to retry on.

    Delays grow as ``delay * backoff ** (attempt - 1)``, capped at
    ``max_delay``, then spread by ``± jitter`` (a fraction of the delay).
    Cancellation, :class:`KeyboardInterrupt` and :class:`SystemExit` are
    never retried, whatever ``retry_on`` says. When attempts or the deadline
    run out, the last exception is re-raised unchanged.

    Args:
        attempts: Total calls allowed, including the first (>= 1).
        delay: Seconds before the first retry.
        max_delay: Upper bound of any single delay.
        backoff: Multiplier applied to the delay after each retry (>= 1).
        jitter: Random spread as a fraction of the delay, between 0 and 1.
        deadline: Seconds after the first call past which no retry starts.
        retry_on: Exception class(es) or a predicate deciding what is retried.
        on_retry: Called as ``on_retry(attempt, exc, delay)`` before each wait; an
            async one is awaited (by :meth:`acall`, :meth:`wrap` and
            :meth:`anext_delay`). A hook that raises ends the retries with its exception.
        clock: Where time and sleeps come from (a ``ManualClock`` in tests).
    """

    __slots__ = (
        "_predicate",
        "attempts",
        "backoff",
        "clock",
        "deadline",
        "delay",
        "jitter",
        "max_delay",
        "on_retry",
        "retry_on",
    )

    def __init__(
        self,
        attempts: int = 3,
        delay: float = 0.1,
        max_delay: float = 30.0,
        backoff: float = 2.0,
        jitter: float = 0.1,
        deadline: float | None = None,
        retry_on: RetryOn = Exception,
        on_retry: Callable[[int, BaseException, float], Any] | None = None,
        clock: Clock = system_clock,
    ) -> None:
        if not isinstance(attempts, int) or attempts < 1:
            raise InvalidArgumentError(
                f"attempts must be an integer >= 1, got {safe_repr(attempts)}",
                context={"attempts": attempts},
                hint="attempts counts every call, the first included: use 1 for no retry.",
            )
        _check_positive("delay", delay)
        _check_positive("max_delay", max_delay)
        if backoff < 1:
            raise InvalidArgumentError(
                f"backoff must be >= 1, got {safe_repr(backoff)}",
                context={"backoff": backoff},
                hint="Use 1 for a constant delay, 2 to double it after each retry.",
            )
        if not 0 <= jitter <= 1:
            raise InvalidArgumentError(
                f"jitter must be between 0 and 1, got {safe_repr(jitter)}",
                context={"jitter": jitter},
                hint="jitter is a fraction of the delay, such as 0.1 for ±10%.",
            )
        if deadline is not None:
            _check_positive("deadline", deadline, allow_zero=False)
        self.attempts = attempts
        self.delay = delay
        self.max_delay = max_delay
        self.backoff = backoff
        self.jitter = jitter
        self.deadline = deadline
        self.retry_on = retry_on
        self.on_retry = on_retry
        self.clock = clock
        self._predicate = _make_predicate(retry_on)

    def _fields(self) -> tuple[Any, ...]:
        return (
            self.attempts,
            self.delay,
            self.max_delay,
            self.backoff,
            self.jitter,
            self.deadline,
            self.retry_on,
            self.on_retry,
            self.clock,
        )

    def __repr__(self) -> str:
        return (
            f"RetryPolicy(attempts={self.attempts}, delay={self.delay}, "
            f"max_delay={self.max_delay}, backoff={self.backoff}, jitter={self.jitter}, "
            f"deadline={self.deadline}, retry_on={self.retry_on!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RetryPolicy):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def replace(self, **changes: Any) -> RetryPolicy:
        """Return a copy with some settings changed."""
        names = ("attempts", "delay", "max_delay", "backoff", "jitter", "deadline")
        current = dict(zip(names, self._fields()[:6], strict=True))
        current.update(retry_on=self.retry_on, on_retry=self.on_retry, clock=self.clock)
        current.update(changes)
        return RetryPolicy(**current)

    def delay_for(self, attempt: int) -> float:
        """Return the delay before retry number *attempt* (1 is the first retry).

        Never more than ``max_delay``, however large *attempt* is.
        """
        try:
            base = self.delay * float(self.backoff) ** max(0, attempt - 1)
        except OverflowError:  # backoff ** attempt past a float: the cap applies
            base = math.inf if self.delay else 0.0
        base = min(self.max_delay, base)
        if self.jitter:
            base *= 1 + self.jitter * (2 * random.random() - 1)  # not for cryptography
        return max(0.0, min(base, self.max_delay))

    def should_retry(self, exc: BaseException) -> bool:
        """Return whether *exc* is retryable under this policy."""
        if not isinstance(exc, Exception):  # cancellation, interrupts, exits
            return False
        return bool(self._predicate(exc))

    def next_delay(self, attempt: int, exc: BaseException, started: float) -> float | None:
        """Return the wait before retry number *attempt*, or ``None`` to give up.

        For callers that drive their own retry loop: *exc* is the failure of
        attempt number *attempt* (1 is the first call) and *started* the clock's
        ``monotonic()`` at the first call. Attempts, ``retry_on``, the deadline
        (the wait is shortened to fit it) and ``on_retry`` are all applied here.
        An async ``on_retry`` is only scheduled on the running loop: nothing
        waits for it and its failure is not seen. In an async loop use
        :meth:`anext_delay`, which awaits it.
        """
        wait = self._plan(attempt, exc, started)
        if wait is not None and self.on_retry is not None:
            result = self.on_retry(attempt, exc, wait)
            if inspect.isawaitable(result):
                import asyncio

                hook = asyncio.ensure_future(result)
                _HOOKS.add(hook)
                hook.add_done_callback(_HOOKS.discard)
        return wait

    async def anext_delay(self, attempt: int, exc: BaseException, started: float) -> float | None:
        """Like :meth:`next_delay`, for async retry loops: an async ``on_retry`` is awaited.

        Returns the wait before retry number *attempt* (sleep it, then call
        again), or ``None`` to give up (re-raise *exc*). The hook has finished
        when this returns, so hooks, sleeps and calls happen in order, as with
        :meth:`acall` (which uses this) and tenacity's ``before_sleep``. A hook
        that raises ends the retries: its exception propagates unchanged from
        this call (and from :meth:`acall`).

        Example::

            started = policy.clock.monotonic()
            attempt = 1
            while True:
                try:
                    return await fetch()
                except Exception as exc:
                    wait = await policy.anext_delay(attempt, exc, started)
                    if wait is None:
                        raise
                await policy.clock.sleep(wait)
                attempt += 1
        """
        wait = self._plan(attempt, exc, started)
        if wait is not None and self.on_retry is not None:
            result = self.on_retry(attempt, exc, wait)
            if inspect.isawaitable(result):
                await result
        return wait

    def _plan(self, attempt: int, exc: BaseException, started: float) -> float | None:
        if attempt >= self.attempts or not self.should_retry(exc):
            return None
        wait = self.delay_for(attempt)
        if self.deadline is not None:
            remaining = self.deadline - (self.clock.monotonic() - started)
            if remaining <= 0:
                return None
            wait = min(wait, remaining)
        return wait

    def _start(self) -> float:
        # The deadline counts from the first call; without one, no clock read is paid.
        return self.clock.monotonic() if self.deadline is not None else 0.0

    def call(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Call the sync *fn* under this policy (blocking sleeps between tries)."""
        self._check_sync_hook()
        started = self._start()
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            return self._retry_sync(exc, started, fn, args, kwargs)

    async def acall(self, fn: Callable[..., Awaitable[T]], /, *args: Any, **kwargs: Any) -> T:
        """Await the async *fn* under this policy."""
        started = self._start()
        try:
            return await fn(*args, **kwargs)
        except Exception as exc:
            return await self._retry_async(exc, started, fn, args, kwargs)

    def _check_sync_hook(self) -> None:
        if self.on_retry is not None and is_async_callable(self.on_retry):
            raise InvalidArgumentError(
                "an async on_retry cannot be awaited between the tries of a sync function",
                context={"on_retry": _name_of(self.on_retry)},
                hint="Pass a plain function as on_retry, or retry an async function.",
            )

    def _retry_sync(
        self,
        exc: Exception,
        started: float,
        fn: Callable[..., T],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> T:
        attempt = 1
        while True:
            wait = self._plan(attempt, exc, started)
            if wait is None:
                raise exc
            if self.on_retry is not None:
                self.on_retry(attempt, exc, wait)
            _sync_sleep(self.clock, wait)
            attempt += 1
            try:
                return fn(*args, **kwargs)
            except Exception as again:
                exc = again

    async def _retry_async(
        self,
        exc: Exception,
        started: float,
        fn: Callable[..., Awaitable[T]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> T:
        attempt = 1
        while True:
            wait = await self.anext_delay(attempt, exc, started)
            if wait is None:
                raise exc
            await self.clock.sleep(wait)
            attempt += 1
            try:
                return await fn(*args, **kwargs)
            except Exception as again:
                exc = again

    def wrap(self, fn: F) -> F:
        """Return *fn* (sync or async) wrapped so every call uses this policy.

        A call that succeeds first time costs one ``try`` block: the policy is
        consulted only after a failure.
        """
        if is_async_callable(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                started = self._start()
                try:
                    return await fn(*args, **kwargs)
                except Exception as exc:
                    return await self._retry_async(exc, started, fn, args, kwargs)

            async_wrapper.retry_policy = self  # type: ignore[attr-defined]
            return cast("F", async_wrapper)

        self._check_sync_hook()

        @functools.wraps(fn)
        def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
            started = self._start()
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                return self._retry_sync(exc, started, fn, args, kwargs)

        sync_wrapper.retry_policy = self  # type: ignore[attr-defined]
        return cast("F", sync_wrapper)


def _sync_sleep(clock: Clock, seconds: float) -> None:
    """Block for *seconds*; a clock with ``advance_sync`` (ManualClock) is advanced instead."""
    advance = getattr(clock, "advance_sync", None)
    if advance is None:
        import time

        time.sleep(seconds)
    else:
        advance(seconds)


@overload
def retry(fn: F, /) -> F: ...


@overload
def retry(
    fn: None = None,
    /,
    *,
    attempts: int = 3,
    delay: float = 0.1,
    max_delay: float = 30.0,
    backoff: float = 2.0,
    jitter: float = 0.1,
    deadline: float | None = None,
    retry_on: RetryOn = Exception,
    on_retry: Callable[[int, BaseException, float], Any] | None = None,
    clock: Clock = system_clock,
) -> Callable[[F], F]: ...


def retry(
    fn: F | None = None,
    /,
    *,
    attempts: int = 3,
    delay: float = 0.1,
    max_delay: float = 30.0,
    backoff: float = 2.0,
    jitter: float = 0.1,
    deadline: float | None = None,
    retry_on: RetryOn = Exception,
    on_retry: Callable[[int, BaseException, float], Any] | None = None,
    clock: Clock = system_clock,
) -> F | Callable[[F], F]:
    """Retry a sync or async function with exponential backoff and jitter.

    Use bare (``@retry``) or with arguments (``@retry(attempts=5)``); see
    :class:`RetryPolicy` for their meaning. A successful first call costs one
    ``try`` block and a function call: the policy is consulted only on failure.

    Example::

        @retry(attempts=4, retry_on=ConnectionError)
        async def fetch() -> bytes: ...
    """
    policy = RetryPolicy(
        attempts=attempts,
        delay=delay,
        max_delay=max_delay,
        backoff=backoff,
        jitter=jitter,
        deadline=deadline,
        retry_on=retry_on,
        on_retry=on_retry,
        clock=clock,
    )
    if fn is not None:
        return policy.wrap(fn)
    return policy.wrap


# --------------------------------------------------------------------------- timeout


class timeout:
    """Limit how long a block or a call may take.

    ``async with timeout(5):`` cancels the block after 5 seconds and raises
    :class:`OperationTimeoutError`. ``@timeout(5)`` does the same for every
    call of a coroutine function; on a sync function the call runs in a worker
    thread and the caller gets the error after 5 seconds (the thread cannot be
    killed and finishes in the background).

    Args:
        seconds: The limit; a number or a duration string (``"1m30s"``).
    """

    def __init__(self, seconds: float | str | timedelta) -> None:
        self.seconds = parse_duration(seconds)
        self._task: asyncio.Task[Any] | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._fired = False
        self._cancelling = 0

    async def __aenter__(self) -> timeout:
        import asyncio

        task = asyncio.current_task()
        if task is None:
            raise InvalidArgumentError("timeout() must be used inside an asyncio task")
        self._task = task
        self._fired = False
        # Cancellations already requested when the block starts (asyncio.timeout's rule):
        # at exit, only a count back at this level means the deadline was the sole cause.
        cancelling = getattr(task, "cancelling", None)
        self._cancelling = cancelling() if cancelling is not None else 0
        loop = asyncio.get_running_loop()
        self._handle = loop.call_later(self.seconds, self._fire)
        return self

    def _fire(self) -> None:
        if self._task is not None and not self._task.done():
            self._fired = True
            self._task.cancel()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        import asyncio

        if self._handle is not None:
            self._handle.cancel()
        if not self._fired:
            return False
        self._fired = False
        task = self._task
        uncancel = getattr(task, "uncancel", None)
        # Python 3.11+: withdraw our own cancel; if another one is still pending (an
        # outside cancel arrived with the deadline), the block was cancelled, not timed
        # out, and the CancelledError propagates. Python 3.10 cannot tell the two apart.
        remaining = uncancel() if uncancel is not None else self._cancelling
        if remaining <= self._cancelling and exc_type is asyncio.CancelledError:
            raise OperationTimeoutError(
                f"operation timed out after {self.seconds:g}s",
                context={"seconds": self.seconds},
                hint="Raise the limit or make the operation faster.",
            ) from None
        return False

    def __call__(self, fn: F) -> F:
        """Decorate *fn* (sync or async) so each call is limited to ``seconds``."""
        seconds = self.seconds
        if is_async_callable(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                async with timeout(seconds):
                    return await fn(*args, **kwargs)

            return cast("F", async_wrapper)

        @functools.wraps(fn)
        def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
            import concurrent.futures

            pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
            try:
                future = pool.submit(fn, *args, **kwargs)
                try:
                    return future.result(timeout=seconds)
                except concurrent.futures.TimeoutError:
                    raise OperationTimeoutError(
                        f"{_name_of(fn)} timed out after {seconds:g}s",
                        context={"seconds": seconds, "function": _name_of(fn)},
                        hint="Raise the limit or make the function faster.",
                    ) from None
            finally:
                pool.shutdown(wait=False)

        return cast("F", sync_wrapper)


# --------------------------------------------------------------------------- iteration


def _check_size(size: int) -> None:
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise InvalidArgumentError(
            f"batch size must be an integer >= 1, got {safe_repr(size)}",
            context={"size": size},
        )


def _batched_sync(iterable: Iterable[T], size: int) -> Iterator[tuple[T, ...]]:
    it = iter(iterable)
    while True:
        batch = tuple(_take(it, size))
        if not batch:
            return
        yield batch


def _take(it: Iterator[T], n: int) -> Iterator[T]:
    for _ in range(n):
        try:
            yield next(it)
        except StopIteration:
            return


async def _batched_async(iterable: AsyncIterable[T], size: int) -> AsyncIterator[tuple[T, ...]]:
    batch: list[T] = []
    async for item in iterable:
        batch.append(item)
        if len(batch) == size:
            yield tuple(batch)
            batch = []
    if batch:
        yield tuple(batch)


@overload
def batched(iterable: AsyncIterable[T], size: int) -> AsyncIterator[tuple[T, ...]]: ...


@overload
def batched(iterable: Iterable[T], size: int) -> Iterator[tuple[T, ...]]: ...


def batched(
    iterable: Iterable[T] | AsyncIterable[T], size: int
) -> Iterator[tuple[T, ...]] | AsyncIterator[tuple[T, ...]]:
    """Split an iterable (sync or async) into tuples of *size* items; the last may be short."""
    _check_size(size)
    if isinstance(iterable, AsyncIterable):
        return _batched_async(iterable, size)
    return _batched_sync(iterable, size)


chunked = batched
"""Alias of :func:`batched`."""


async def gather_limited(
    aws: Iterable[Awaitable[T]], limit: int, *, return_exceptions: bool = False
) -> list[T]:
    """Await *aws* with at most *limit* running at once; results keep input order.

    On the first error (unless *return_exceptions*), the other awaitables are
    cancelled and awaited before the error propagates, so none is left running.
    """
    import asyncio

    _check_size(limit)
    items = list(aws)
    results: list[Any] = [None] * len(items)
    it = iter(enumerate(items))
    lock = asyncio.Lock()

    async def worker() -> None:
        while True:
            async with lock:
                nxt = next(it, None)
            if nxt is None:
                return
            index, aw = nxt
            # Its own task: a CancelledError raised by the awaitable (it awaited something
            # cancelled) is then told apart from this worker being cancelled.
            future = asyncio.ensure_future(aw)
            try:
                await asyncio.wait((future,))
            except BaseException:
                future.cancel()
                await asyncio.gather(future, return_exceptions=True)
                raise
            error: BaseException | None = (
                asyncio.CancelledError() if future.cancelled() else future.exception()
            )
            if error is None:
                results[index] = future.result()
            elif return_exceptions and isinstance(error, (Exception, asyncio.CancelledError)):
                results[index] = error
            else:
                raise error

    workers = [asyncio.ensure_future(worker()) for _ in range(min(limit, len(items)))]
    try:
        await asyncio.gather(*workers)
    except BaseException:
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        for _, aw in it:  # never started: close coroutines, cancel tasks and futures
            if inspect.iscoroutine(aw):
                aw.close()
            elif asyncio.isfuture(aw):
                aw.cancel()
        raise
    return results


# --------------------------------------------------------------------------- parsing

_DURATION_UNITS = {
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 604800.0,
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(us|µs|ms|s|m|h|d|w)", re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:\.\d*)?|\.\d+")


def parse_duration(value: str | float | timedelta) -> float:
    """Return *value* in seconds: ``"1h30m"`` → 5400.0, ``"500ms"`` → 0.5.

    Numbers (and numeric strings) are seconds. Units: ``us``, ``ms``, ``s``,
    ``m``, ``h``, ``d``, ``w``, combined largest first as in ``"1d2h"``.
    """
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            seconds = float(value)
        except OverflowError:  # an int beyond a float
            raise InvalidArgumentError(
                f"a duration of {safe_repr(value, 40)} seconds is too large",
                context={"value": safe_repr(value, 40)},
                hint="Pass a number of seconds a float can hold.",
            ) from None
    elif isinstance(value, str):
        text = value.strip().replace(" ", "")
        if _NUMBER.fullmatch(text):
            seconds = float(text)  # a 400-digit string is inf (refused below)
        else:
            pos = 0
            seconds = 0.0
            for match in _DURATION_PART.finditer(text):
                if match.start() != pos:
                    break
                seconds += float(match.group(1)) * _DURATION_UNITS[match.group(2).lower()]
                pos = match.end()
            if pos != len(text) or not text or not math.isfinite(seconds):
                raise InvalidArgumentError(
                    f"cannot parse duration {safe_repr(value)}",
                    context={"value": value},
                    hint="Use a number of seconds or units like '1h30m', '500ms', '2d' "
                    "(us, ms, s, m, h, d, w).",
                )
    else:
        raise InvalidArgumentError(
            f"a duration must be a number, a string or a timedelta, got {type(value).__name__}",
            context={"value": safe_repr(value)},
        )
    if isinstance(value, str) and not math.isfinite(seconds):
        raise InvalidArgumentError(
            f"cannot parse duration {safe_repr(value, 60)}: too large",
            context={"value": safe_repr(value, 60)},
            hint="Use a finite number of seconds or units like '1h30m'.",
        )
    if seconds != seconds or seconds < 0:  # NaN or negative
        raise InvalidArgumentError(
            f"a duration must be >= 0, got {safe_repr(value)}",
            context={"value": safe_repr(value)},
        )
    return seconds


_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "m": 1000**2,
    "mb": 1000**2,
    "g": 1000**3,
    "gb": 1000**3,
    "t": 1000**4,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
_SIZE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)", re.IGNORECASE)


def parse_size(value: str | int) -> int:
    """Return *value* in bytes: ``"10MiB"`` → 10485760, ``"1.5kB"`` → 1500.

    Decimal units (kB, MB, GB, TB) are powers of 1000, binary units (KiB, MiB,
    GiB, TiB) powers of 1024; a bare number is bytes.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise InvalidArgumentError(
                f"a size must be >= 0, got {value}", context={"value": value}
            )
        return value
    if isinstance(value, str):
        match = _SIZE.fullmatch(value.strip())
        if match is not None:
            unit = _SIZE_UNITS.get(match.group(2).lower())
            if unit is not None:
                # Exact for long numbers, and no float overflow to infinity.
                number = match.group(1)
                if "." not in number:
                    return int(number) * unit
                with decimal.localcontext() as exact:
                    exact.prec = len(number) + 20
                    return int(decimal.Decimal(number) * unit)
    raise InvalidArgumentError(
        f"cannot parse size {safe_repr(value)}",
        context={"value": safe_repr(value)},
        hint="Use a number of bytes or units like '10MiB', '1.5GB', '512kB' "
        "(B, kB, MB, GB, TB, KiB, MiB, GiB, TiB).",
    )


# --------------------------------------------------------------------------- data


def deep_merge(*mappings: Mapping[str, Any]) -> dict[str, Any]:
    """Merge mappings left to right into a new dict; nested mappings merge recursively.

    Later values win; lists and other values are replaced, not concatenated.
    The inputs are never modified, and the result shares no container with
    them: dicts, lists, tuples and sets are copied (other objects are kept).

    Raises:
        InvalidArgumentError: The values nest deeper than 200 levels, or
            contain themselves (a cycle).
    """
    return _merge(mappings, 0)


_MAX_MERGE_DEPTH = 200


def _merge(mappings: Iterable[Mapping[str, Any]], depth: int) -> dict[str, Any]:
    if depth > _MAX_MERGE_DEPTH:
        raise InvalidArgumentError(
            f"deep_merge() input nests deeper than {_MAX_MERGE_DEPTH} levels (or contains itself)",
            code="pepperpy.core.merge_depth",
            hint="Merge flatter data, and make sure no dict or list contains itself.",
        )
    result: dict[str, Any] = {}
    for mapping in mappings:
        for key, value in mapping.items():
            current = result.get(key)
            if isinstance(current, Mapping) and isinstance(value, Mapping):
                result[key] = _merge((current, value), depth + 1)
            else:
                result[key] = _copy_containers(value, depth + 1)
    return result


def _copy_containers(value: Any, depth: int) -> Any:
    if isinstance(value, Mapping):
        return _merge((value,), depth)
    if isinstance(value, (list, tuple, set, frozenset)) and depth > _MAX_MERGE_DEPTH:
        _merge((), depth)  # raises the depth error
    if isinstance(value, list):
        return [_copy_containers(v, depth + 1) for v in value]
    if isinstance(value, tuple) and type(value) is tuple:
        return tuple(_copy_containers(v, depth + 1) for v in value)
    if isinstance(value, (set, frozenset)):
        return type(value)(value) if type(value) in (set, frozenset) else value
    return value


def import_driver(module: str, *, area: str, user: str, extra: str) -> Any:
    """Import the optional driver *module*, or say which extra of ``pepperpy-<area>`` brings it.

    Args:
        module: The module to import (``"redis.asyncio"``, ``"asyncpg"``).
        area: The PepperPy area whose extra installs it (``"task"``); the
            error code is ``pepperpy.<area>.missing_driver``.
        user: What needs it, for the message (``"RedisQueue"``).
        extra: The extra's name (``"redis"``).

    Raises:
        ConfigurationError: The driver is not installed.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = module.split(".")[0]
        raise ConfigurationError(
            f"{user} needs the {package} package",
            code=f"pepperpy.{area}.missing_driver",
            context={"module": module},
            hint=f"Install the extra: pip install 'pepperpy-{area}[{extra}]'.",
        ) from exc


def import_string(path: str) -> Any:
    """Import and return the object named by ``"package.module:attr"``.

    ``"package.module.attr"`` (a dot instead of the colon) works too.

    Raises:
        InvalidArgumentError: the path is malformed, the module does not
            exist, or it has no such attribute.
    """
    if not isinstance(path, str) or not path.strip():
        raise InvalidArgumentError(
            f"import path must be a non-empty string, got {safe_repr(path)}",
            hint="Use 'package.module:attribute'.",
        )
    if ":" in path:
        module_name, _, attr_path = path.partition(":")
    else:
        module_name, _, attr_path = path.rpartition(".")
    if not module_name or not attr_path:
        raise InvalidArgumentError(
            f"cannot import {path!r}: expected 'package.module:attribute'",
            context={"path": path},
            hint="Use 'package.module:attribute', for example 'json:dumps'.",
        )
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise InvalidArgumentError(
            f"cannot import {path!r}: module {module_name!r} was not found ({safe_str(exc, 500)})",
            context={"path": path, "module": module_name},
            hint="Check the spelling and that the package is installed.",
        ) from exc
    except (Exception, SystemExit) as exc:  # the module's own code failed (or exited)
        raise InvalidArgumentError(
            f"cannot import {path!r}: importing {module_name!r} raised "
            f"{type(exc).__name__}: {safe_str(exc, 500)}",
            context={"path": path, "module": module_name, "error": type(exc).__name__},
            hint="Fix the error raised while that module was imported.",
        ) from exc
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise InvalidArgumentError(
                f"cannot import {path!r}: {module_name!r} has no attribute {attr_path!r}",
                context={"path": path, "module": module_name, "attribute": attr_path},
                hint=f"Check the name; 'dir({module_name})' lists what it has.",
            ) from None
    return obj


class Backends:
    """The implementations an area can use: built-ins plus an entry point group.

    Built-ins are import paths (``"pkg.module:Class"``), imported only when
    asked for, so an optional driver is needed only by whoever uses it; other
    packages add names under the entry point *group*::

        [project.entry-points."pepperpy.task.backends"]
        sqs = "mypkg.sqs:SQSQueue"

    Args:
        area: The PepperPy area (``"task"``): error codes are
            ``pepperpy.<area>.unknown_backend`` and ``pepperpy.<area>.backend_load``.
        kind: What a backend is, for messages (``"durable queue backend"``).
        group: The entry point group (``"pepperpy.task.backends"``).
        builtins: Name -> import path of the built-in implementations.
    """

    def __init__(self, area: str, kind: str, group: str, builtins: dict[str, str]) -> None:
        self.area = area
        self.kind = kind
        self.group = group
        self.builtins = dict(builtins)

    def _entry_points(self) -> dict[str, Any]:
        from importlib.metadata import entry_points

        return {ep.name: ep for ep in entry_points(group=self.group)}

    def names(self) -> list[str]:
        """Every available name, built-in or registered, sorted."""
        return sorted(set(self.builtins) | set(self._entry_points()))

    def load(self, name: str, *, hint: str = "") -> Any:
        """Return the implementation registered as *name* (built-ins win).

        Args:
            name: The backend's name (for URL-selected backends, the scheme).
            hint: What to use instead, prefixed to the hint of the error
                raised for an unknown name.

        Raises:
            ConfigurationError: No backend has that name.
            PluginError: A registered backend failed to import.
        """
        if not isinstance(name, str):
            raise InvalidArgumentError(
                f"a {self.kind} name must be a str, not {type(name).__name__}",
                code=f"pepperpy.{self.area}.backend_name",
                context={"backend": safe_repr(name, 60)},
                hint=f"Pass the {self.kind}'s name, e.g. one of {self.names()}.",
            )
        target = self.builtins.get(name)
        if target is not None:
            module, _, attr = target.partition(":")
            return getattr(importlib.import_module(module), attr)
        ep = self._entry_points().get(name)
        if ep is None:
            raise ConfigurationError(
                f"no {self.kind} named {name!r}",
                code=f"pepperpy.{self.area}.unknown_backend",
                context={"backend": name, "available": self.names()},
                hint=f"{hint + ' ' if hint else ''}Or install the package that registers "
                f"{name!r} under the {self.group!r} entry point group.",
            )
        try:
            return ep.load()
        except (Exception, SystemExit) as exc:  # sys.exit() at import must not end the host
            raise PluginError(
                f"{self.kind} {name!r} failed to load: {type(exc).__name__}: {safe_str(exc, 500)}",
                code=f"pepperpy.{self.area}.backend_load",
                context={"backend": name, "entry_point": ep.value},
                hint="Check that the package providing it is installed correctly.",
            ) from exc

    def for_url(
        self, url: str | None, *, noun: str, env: str, examples: str
    ) -> tuple[str, str, Any]:
        """Resolve a URL to ``(url, scheme, backend class)``; the class has ``from_url``.

        What ``connect_queue(url)``-style functions share: *url* defaults to
        ``$<env>``, its scheme names the backend (:meth:`load`).

        Args:
            url: The URL, or ``None`` to read ``$<env>``.
            noun: What the URL names (``"queue"``): error codes are
                ``pepperpy.<area>.no_<noun>_url`` and ``pepperpy.<area>.<noun>_url``.
            env: The environment variable read when *url* is ``None``.
            examples: Example URLs for hints (``"sqlite:///tasks.db or redis://..."``).

        Raises:
            ConfigurationError: No URL was given or found, or no backend has its scheme.
            InvalidArgumentError: *url* is not a URL.
            PluginError: The backend failed to load or has no ``from_url`` classmethod.
        """
        from urllib.parse import urlsplit

        if url is None:
            url = os.environ.get(env)
            if not url:
                raise ConfigurationError(
                    f"connect_{noun}() needs a URL",
                    code=f"pepperpy.{self.area}.no_{noun}_url",
                    context={"env": env},
                    hint=f"Pass {examples}, or set ${env}.",
                )
        scheme = urlsplit(url).scheme.lower() if isinstance(url, str) and "://" in url else ""
        if not scheme:
            raise InvalidArgumentError(
                f"{safe_repr(url)} is not a {noun} URL",
                code=f"pepperpy.{self.area}.{noun}_url",
                hint=f"Use {examples}.",
            )
        cls = self.load(scheme, hint=f"Use {examples}.")
        if not callable(getattr(cls, "from_url", None)):
            raise PluginError(
                f"{self.kind} {scheme!r} has no from_url()",
                code=f"pepperpy.{self.area}.backend_load",
                context={"backend": scheme, "object": repr(cls)},
                hint="A backend class needs a from_url(url, ...) classmethod.",
            )
        return url, scheme, cls

    def __repr__(self) -> str:
        return f"<Backends {self.group} {self.names()}>"


# --------------------------------------------------------------------------- call control


def once(fn: F) -> F:
    """Run *fn* at most once; later calls return the first result.

    For a coroutine function, concurrent first callers share one call. If the
    call raises or is cancelled, nothing is cached and the next call tries
    again; a call left unfinished by a closed event loop is started afresh on
    the next loop. Thread-safe.
    """
    if is_async_callable(fn):
        import asyncio

        task: asyncio.Future[Any] | None = None

        def stale(future: asyncio.Future[Any]) -> bool:
            if future.done():
                return future.cancelled() or future.exception() is not None
            return future.get_loop() is not asyncio.get_running_loop()

        @functools.wraps(fn)
        async def async_once(*args: Any, **kwargs: Any) -> Any:
            nonlocal task
            if task is None or stale(task):
                task = asyncio.ensure_future(fn(*args, **kwargs))
            return await asyncio.shield(task)

        return cast("F", async_once)

    lock = threading.Lock()
    done = False
    value: Any = None

    @functools.wraps(fn)
    def sync_once(*args: Any, **kwargs: Any) -> Any:
        nonlocal done, value
        if done:
            return value
        with lock:
            if not done:
                value = fn(*args, **kwargs)
                done = True
        return value

    return cast("F", sync_once)


class _Throttled(Generic[T]):
    def __init__(self, fn: Callable[..., T], interval: float, clock: Clock) -> None:
        self.fn = fn
        self.interval = interval
        self.clock = clock
        self.last: float | None = None
        self.result: Any = None
        self.running: Any = None  # the async call in flight, shared by callers meanwhile
        self.lock = threading.Lock()

    def due(self) -> bool:
        now = self.clock.monotonic()
        with self.lock:
            if self.last is not None and now - self.last < self.interval:
                return False
            self.last = now
            return True


def throttle(interval: float | str | timedelta, *, clock: Clock = system_clock) -> Callable[[F], F]:
    """Let *fn* run at most once per *interval*; calls in between return the last result.

    Works for sync and async functions (the first call always runs). For an
    async function, callers that arrive while a run is in flight await that run
    and get its result (or its error).
    """
    seconds = parse_duration(interval)

    def decorate(fn: F) -> F:
        state: _Throttled[Any] = _Throttled(fn, seconds, clock)
        if is_async_callable(fn):
            import asyncio

            def keep(future: asyncio.Future[Any]) -> None:
                if state.running is future:
                    state.running = None
                if not future.cancelled() and future.exception() is None:
                    state.result = future.result()

            @functools.wraps(fn)
            async def async_throttled(*args: Any, **kwargs: Any) -> Any:
                if state.due():
                    future = asyncio.ensure_future(fn(*args, **kwargs))
                    future.add_done_callback(keep)
                    state.running = future
                    return await asyncio.shield(future)
                running = state.running
                if running is not None and running.get_loop() is asyncio.get_running_loop():
                    return await asyncio.shield(running)
                return state.result

            return cast("F", async_throttled)

        @functools.wraps(fn)
        def sync_throttled(*args: Any, **kwargs: Any) -> Any:
            if state.due():
                state.result = fn(*args, **kwargs)
            return state.result

        return cast("F", sync_throttled)

    return decorate


class _AsyncDebounce:
    """The state of one async ``@debounce`` function: the burst's future and its last call."""

    def __init__(self, fn: Callable[..., Awaitable[Any]], seconds: float, clock: Clock) -> None:
        self.fn = fn
        self.seconds = seconds
        self.clock = clock
        self.future: Any = None  # the burst's result, awaited by every caller of the burst
        self.seq = 0
        self.args: tuple[tuple[Any, ...], dict[str, Any]] = ((), {})
        self.timers: set[Any] = set()

    async def call(self, *args: Any, **kwargs: Any) -> Any:
        import asyncio

        future = self.future
        if future is None:
            future = self.future = asyncio.get_running_loop().create_future()
        self.seq += 1
        self.args = (args, kwargs)
        timer = asyncio.ensure_future(self._fire(self.seq, future))
        self.timers.add(timer)
        timer.add_done_callback(self.timers.discard)
        return await asyncio.shield(future)

    def _release(self, seq: int, future: Any, mine: bool) -> bool:
        """Whether this timer settles *future* (it runs the burst, or it is the last one)."""
        if (mine or self.seq == seq) and not future.done():
            if self.future is future:
                self.future = None
            return True
        return False

    async def _fire(self, seq: int, future: Any) -> None:
        mine = False  # this timer runs the burst (no later call restarted the wait)
        try:
            await self.clock.sleep(self.seconds)
            if self.seq != seq:
                return  # a later call restarted the wait
            mine = True
            self.future = None
            args, kwargs = self.args
            result = await self.fn(*args, **kwargs)
        except Exception as exc:
            if self._release(seq, future, mine):
                future.set_exception(exc)
        except BaseException:
            # A CancelledError (the run, or fn's own await, was cancelled) or a
            # KeyboardInterrupt: the burst's callers are cancelled, never left waiting.
            if self._release(seq, future, mine):
                future.cancel()
            raise
        else:
            if not future.done():
                future.set_result(result)


def _sync_debounce(fn: Callable[..., Any], seconds: float) -> Callable[..., None]:
    lock = threading.Lock()
    timer_box: list[threading.Timer] = []

    @functools.wraps(fn)
    def sync_debounced(*args: Any, **kwargs: Any) -> None:
        with lock:
            if timer_box:
                timer_box.pop().cancel()
            timer = threading.Timer(seconds, fn, args, kwargs)
            timer.daemon = True
            timer_box.append(timer)
            timer.start()

    return sync_debounced


def debounce(wait: float | str | timedelta, *, clock: Clock = system_clock) -> Callable[[F], F]:
    """Delay *fn* until *wait* seconds pass without another call, then run it once.

    Async functions: every caller in a burst awaits the single run, made with
    the last call's arguments, and gets its result. Sync functions: the run
    happens in a timer thread; the call returns ``None`` at once.
    """
    seconds = parse_duration(wait)

    def decorate(fn: F) -> F:
        if not is_async_callable(fn):
            return cast("F", _sync_debounce(fn, seconds))
        state = _AsyncDebounce(fn, seconds, clock)

        @functools.wraps(fn)
        async def async_debounced(*args: Any, **kwargs: Any) -> Any:
            return await state.call(*args, **kwargs)

        return cast("F", async_debounced)

    return decorate
