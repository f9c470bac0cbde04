"""One step of a pipeline: what it calls, how it fails, what it measures."""

from __future__ import annotations

import asyncio
import enum
import inspect
import time
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable, Iterable
from concurrent.futures import Executor
from typing import Any, Final, Literal, Union

import attrs

from pepperpy.core.exceptions import InvalidArgumentError, OperationTimeoutError, safe_repr
from pepperpy.core.types import Clock, system_clock
from pepperpy.core.utils import RetryPolicy, is_async_callable
from pepperpy.pipeline._errors import StepError, StepFailure

__all__ = [
    "DROP",
    "ErrorPolicy",
    "StepEvent",
    "StepKind",
    "StepStats",
]

ErrorPolicy = Literal["fail", "skip", "dead_letter"]
"""What a step does with an item it failed on (after any retries):
``"fail"`` stops the pipeline with a :class:`StepError`, ``"skip"`` drops the
item, ``"dead_letter"`` hands a :class:`StepFailure` to the dead-letter sink
and drops the item."""

DeadLetterSink = Callable[[StepFailure], Union[Awaitable[Any], Any]]
Hook = Callable[["StepEvent"], Any]


class _Drop(enum.Enum):
    DROP = "DROP"

    def __repr__(self) -> str:
        return "DROP"


DROP: Final = _Drop.DROP
"""Return this from a step to drop the current item (a filter without a predicate)."""


class StepKind(str, enum.Enum):
    """What a step does with each item."""

    MAP = "map"
    FILTER = "filter"
    FLAT_MAP = "flat_map"
    BATCH = "batch"
    RATE_LIMIT = "rate_limit"
    BRANCH = "branch"


class _Many:
    """Several outputs for one input (fan-out); never leaks to users.

    Either a ready list (``items``) or a lazy ``source`` (an iterator or async
    iterator that a flat_map step returned) read one output at a time by
    :meth:`Step.expand`, so a large fan-out is never held whole in memory.
    """

    __slots__ = ("item", "items", "source")

    def __init__(self, items: list[Any], source: Any = None, item: Any = None) -> None:
        self.items = items
        self.source = source
        self.item = item


@attrs.define(slots=True)
class StepStats:
    """Counters and latency of one step, as read by metrics exporters.

    Attributes:
        calls: Items the step was given.
        emitted: Items the step passed on (a fan-out counts each output).
        dropped: Items filtered out, skipped or dead-lettered.
        errors: Items the step failed on after its retries.
        retries: Retries made.
        total_seconds: Time spent inside the step, summed over calls.
        max_seconds: The slowest single call.
    """

    calls: int = 0
    emitted: int = 0
    dropped: int = 0
    errors: int = 0
    retries: int = 0
    total_seconds: float = 0.0
    max_seconds: float = 0.0

    @property
    def mean_seconds(self) -> float:
        """Average time per call (0 before the first call)."""
        return self.total_seconds / self.calls if self.calls else 0.0


@attrs.frozen
class StepEvent:
    """What a metrics hook receives after every call of a step.

    Attributes:
        pipeline: The pipeline's name.
        step: The step's name.
        seconds: How long the call took, retries included.
        error: The exception the step ended with, or ``None``.
    """

    pipeline: str
    step: str
    seconds: float
    error: BaseException | None = None


def _check_int(name: str, value: object, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidArgumentError(
            f"{name} must be an integer >= {minimum}, got {safe_repr(value)}",
            context={name: safe_repr(value)},
            hint=f"Pass {name}={minimum} or more.",
        )
    return value


def _check_positive(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise InvalidArgumentError(
            f"{name} must be a number > 0, got {safe_repr(value)}",
            context={name: safe_repr(value)},
            hint=f"Pass a positive number of seconds or items for {name}.",
        )
    return float(value)


def _as_retry(retry: RetryPolicy | int | None) -> RetryPolicy | None:
    if retry is None or isinstance(retry, RetryPolicy):
        return retry
    attempts = _check_int("retry", retry)
    return RetryPolicy(attempts=attempts)


_POLICIES = ("fail", "skip", "dead_letter")
_MAP, _FILTER, _BATCH, _RATE_LIMIT = (
    StepKind.MAP,
    StepKind.FILTER,
    StepKind.BATCH,
    StepKind.RATE_LIMIT,
)
_now = time.perf_counter


class Step:
    """One configured step; built by :class:`Pipeline` methods, not directly."""

    __slots__ = (
        "_async",
        "_next_at",
        "batch_size",
        "batch_timeout",
        "buffer",
        "burst",
        "clock",
        "concurrency",
        "dead_letter",
        "executor",
        "fn",
        "hooks",
        "interval",
        "kind",
        "name",
        "on_error",
        "pipeline_name",
        "retry",
        "stats",
        "thread",
        "timeout",
    )

    def __init__(
        self,
        fn: Callable[[Any], Any] | None,
        *,
        name: str,
        kind: StepKind = StepKind.MAP,
        concurrency: int = 1,
        retry: RetryPolicy | int | None = None,
        on_error: ErrorPolicy = "fail",
        dead_letter: DeadLetterSink | None = None,
        thread: bool = False,
        executor: Executor | None = None,
        timeout: float | None = None,
        buffer: int | None = None,
        batch_size: int = 0,
        batch_timeout: float | None = None,
        interval: float = 0.0,
        burst: int = 1,
        clock: Clock = system_clock,
    ) -> None:
        if fn is not None and not callable(fn):
            raise InvalidArgumentError(
                f"a step must be callable, got {safe_repr(fn)}",
                context={"step": name},
                hint="Pass a function, a coroutine function or a Pipeline.",
            )
        if on_error not in _POLICIES:
            raise InvalidArgumentError(
                f"on_error must be one of {', '.join(_POLICIES)}, got {safe_repr(on_error)}",
                context={"step": name, "on_error": safe_repr(on_error)},
                hint="Use on_error='fail' (default), 'skip' or 'dead_letter'.",
            )
        self.fn = fn
        self.name = name
        self.kind = kind
        self.concurrency = _check_int("concurrency", concurrency)
        self.retry = _as_retry(retry)
        self.on_error: ErrorPolicy = on_error
        self.dead_letter = dead_letter
        self.thread = bool(thread)
        if executor is not None and not isinstance(executor, Executor):
            raise InvalidArgumentError(
                f"executor must be a concurrent.futures.Executor, got {safe_repr(executor)}",
                context={"step": name},
                hint="Pass a ThreadPoolExecutor or ProcessPoolExecutor (you own its lifetime).",
            )
        if executor is not None and fn is not None and is_async_callable(fn):
            raise InvalidArgumentError(
                f"step {name!r} is async; an executor runs only sync functions",
                context={"step": name},
                hint="Drop executor=, or pass a plain (sync) function.",
            )
        self.executor = executor
        self.timeout = None if timeout is None else _check_positive("timeout", timeout)
        self.buffer = None if buffer is None else _check_int("buffer", buffer)
        self.batch_size = batch_size
        self.batch_timeout = batch_timeout
        self.interval = interval
        self.burst = burst
        self.clock = clock
        self.stats = StepStats()
        self.hooks: list[Hook] = []
        self.pipeline_name = ""
        self._async = fn is not None and is_async_callable(fn)
        self._next_at: float | None = None

    def copy(self) -> Step:
        """Return an independent copy with fresh stats (used by composition)."""
        new = Step.__new__(Step)
        for slot in Step.__slots__:
            object.__setattr__(new, slot, getattr(self, slot))
        new.stats = StepStats()
        new.hooks = []
        new._next_at = None
        return new

    # ------------------------------------------------------------------ calling

    def _call(self, item: Any) -> Awaitable[Any]:
        """Start one call of the step's function (no retry): an awaitable of its result.

        A plain (un-timed) async function's own coroutine is returned as is, so
        the hot path of a stream awaits no wrapper coroutine.
        """
        if self.timeout is not None:
            return self._call_timed(item)
        if self._async:
            fn = self.fn
            assert fn is not None
            result: Awaitable[Any] = fn(item)
            return result
        return self._invoke_sync(item)

    async def _call_timed(self, item: Any) -> Any:
        timeout = self.timeout
        assert timeout is not None
        fn = self.fn
        assert fn is not None
        call = fn(item) if self._async else self._invoke_sync(item)
        try:
            return await asyncio.wait_for(call, timeout)
        except asyncio.TimeoutError as exc:  # TimeoutError on 3.11+
            raise OperationTimeoutError(
                f"step {self.name!r} took longer than {timeout}s",
                code="pepperpy.pipeline.step_timeout",
                context={"step": self.name, "timeout": timeout},
                hint="Raise timeout=, or give the step a retry policy.",
            ) from exc

    async def _invoke_sync(self, item: Any) -> Any:
        fn = self.fn
        assert fn is not None
        if self.executor is not None:
            loop = asyncio.get_running_loop()
            result = await loop.run_in_executor(self.executor, fn, item)
        elif self.thread:
            result = await asyncio.to_thread(fn, item)
        else:
            result = fn(item)
        if inspect.isawaitable(result):
            result = await result
        return result

    async def _call_with_retry(self, item: Any) -> tuple[Any, int]:
        policy = self.retry
        attempt = 1
        started = policy.clock.monotonic() if policy is not None else 0.0  # the first call
        while True:
            try:
                return await self._call(item), attempt
            except Exception as exc:
                if policy is None:
                    raise _Failed(exc, attempt) from exc
                wait = await self._next_delay(policy, attempt, exc, started)
                if wait is None:
                    raise _Failed(exc, attempt) from exc
                self.stats.retries += 1
                await policy.clock.sleep(wait)
                attempt += 1

    @staticmethod
    async def _next_delay(
        policy: RetryPolicy, attempt: int, exc: Exception, started: float
    ) -> float | None:
        """The policy's wait, its on_retry hook awaited; a failing hook fails the item."""
        try:
            return await policy.anext_delay(attempt, exc, started)
        except Exception as hook_error:
            raise _Failed(hook_error, attempt) from hook_error

    async def _rate_wait(self) -> None:
        clock = self.clock
        now = clock.monotonic()
        allowed = self._next_at if self._next_at is not None else now
        # Up to `burst` calls may run ahead of the steady rate.
        earliest = allowed - self.interval * (self.burst - 1)
        self._next_at = max(allowed, now - self.interval * (self.burst - 1)) + self.interval
        if earliest > now:
            await clock.sleep(earliest - now)

    async def run(self, item: Any) -> Any:
        """Apply the step to one item: return the output, ``DROP`` or a ``_Many``.

        Raises:
            StepError: The step failed and its policy is ``"fail"``.
        """
        kind = self.kind
        stats = self.stats
        stats.calls += 1
        if kind is _RATE_LIMIT:
            await self._rate_wait()
            stats.emitted += 1
            return item
        if kind is _BATCH:  # one item alone is a batch of one
            stats.emitted += 1
            return [item]
        start = _now()
        error: BaseException | None = None
        try:
            # The call and its shaping are inline here (not a helper coroutine):
            # one coroutine less per item on the hot path.
            if self.retry is None:
                try:
                    out = await self._call(item)
                except Exception as exc:
                    raise _Failed(exc, 1) from exc
            else:
                out, _ = await self._call_with_retry(item)
            if kind is not _MAP:
                out = self._shape(out, item)
        except _Failed as failed:
            error = failed.error
            out = await self._handle_failure(item, failed)
        finally:
            # Timing inline (every call); the hooks and the counting of drops and
            # fan-outs in helpers (only when there is something to do).
            elapsed = _now() - start
            stats.total_seconds += elapsed
            if elapsed > stats.max_seconds:
                stats.max_seconds = elapsed
            if self.hooks:
                self._notify(elapsed, error)
        if out is DROP or type(out) is _Many:
            return self._count_special(out)
        stats.emitted += 1
        return out

    def _shape(self, out: Any, item: Any) -> Any:
        """Shape a filter's or a fan-out's result (a map's result is used as is)."""
        if self.kind is _FILTER:
            return item if out else DROP
        try:  # FLAT_MAP and BRANCH: an iterable of outputs
            return _fan_out(out, self.name, item)
        except Exception as exc:
            raise _Failed(exc, 1) from exc

    def _notify(self, elapsed: float, error: BaseException | None) -> None:
        """Tell the metrics hooks about one call."""
        event = StepEvent(self.pipeline_name, self.name, elapsed, error)
        for hook in self.hooks:
            hook(event)

    def _count_special(self, out: Any) -> Any:
        """Count a ``DROP`` or a fan-out (``_Many``); an empty fan-out is a drop."""
        stats = self.stats
        if out is DROP:
            stats.dropped += 1
        elif out.source is not None:
            pass  # counted as expand() yields
        elif out.items:
            stats.emitted += len(out.items)
        else:
            stats.dropped += 1
            return DROP
        return out

    async def expand(self, many: _Many) -> AsyncGenerator[Any, None]:
        """Yield the outputs of a fan-out, reading a lazy one as the consumer asks.

        A lazy fan-out that fails part way follows the step's error policy: the
        outputs already yielded stay, then ``"fail"`` raises :class:`StepError`
        and ``"skip"``/``"dead_letter"`` end the fan-out. The source is closed
        when the caller stops early.
        """
        source = many.source
        if source is None:
            for value in many.items:
                yield value
            return
        stats = self.stats
        emitted = 0
        try:
            try:
                if isinstance(source, AsyncIterable):
                    async for value in source:
                        emitted += 1
                        stats.emitted += 1
                        yield value
                else:
                    for value in source:
                        emitted += 1
                        stats.emitted += 1
                        yield value
            except Exception as exc:
                await self._handle_failure(many.item, _Failed(exc, 1))
        finally:
            if emitted == 0:
                stats.dropped += 1
            aclose = getattr(source, "aclose", None)
            if aclose is not None:
                await aclose()
            elif inspect.isgenerator(source):
                source.close()

    async def _handle_failure(self, item: Any, failed: _Failed) -> Any:
        self.stats.errors += 1
        if self.on_error == "skip":
            return DROP
        if self.on_error == "dead_letter" and self.dead_letter is not None:
            outcome = self.dead_letter(StepFailure(item, self.name, failed.error, failed.attempts))
            if inspect.isawaitable(outcome):
                await outcome
            return DROP
        raise StepError(item, self.name, failed.error, attempts=failed.attempts) from failed.error


class _Failed(Exception):
    """Internal: carries the step's own exception and the attempt count."""

    def __init__(self, error: BaseException, attempts: int) -> None:
        super().__init__(error)
        self.error = error
        self.attempts = attempts


def _fan_out(out: Any, step: str, item: Any) -> Any:
    if out is DROP or out is None:
        return DROP
    if isinstance(out, _Many):
        return out
    if isinstance(out, (list, tuple)):
        return _Many(list(out))
    if isinstance(out, AsyncIterable) or (
        isinstance(out, Iterable) and not isinstance(out, (str, bytes, bytearray))
    ):
        return _Many([], source=out, item=item)
    raise TypeError(
        f"flat_map step {step!r} must return an iterable or async iterable, "
        f"got {type(out).__name__}"
    )
