"""A virtual clock that is also the event loop's clock."""

from __future__ import annotations

import asyncio
import math
import selectors
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from pepperpy.core.exceptions import InvalidArgumentError, safe_repr

__all__ = ["VirtualClock", "VirtualTimeLoop"]

T = TypeVar("T")


class _JumpingSelector(selectors.BaseSelector):
    """Wraps the real selector: when the loop would wait for a timer, time jumps instead."""

    def __init__(self, real: selectors.BaseSelector, loop_ref: list[VirtualTimeLoop]) -> None:
        self._real = real
        self._loop_ref = loop_ref

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._real.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._real.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._real.modify(fileobj, events, data)

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        events = self._real.select(0)
        if events or timeout == 0:
            return events
        loop = self._loop_ref[0]
        if timeout is not None and loop.autojump:
            if loop.waiting_on_real_work():
                # a thread or a write is in flight: it finishes in real time, so
                # wait for it (a little at a time) instead of skipping past it
                return self._real.select(min(timeout, 0.01))
            loop.jump(timeout)  # nothing else can happen before the next timer: go there
            return []
        # No timer pending (or manual mode): wait for real I/O, a little at a time.
        return self._real.select(0.01 if timeout is None or not loop.autojump else timeout)

    def close(self) -> None:
        self._real.close()

    def get_map(self) -> Any:
        return self._real.get_map()


def _check_seconds(seconds: float) -> None:
    """Reject time steps that would break the clock (negative, NaN, infinite, not a number)."""
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, (int, float))
        or not math.isfinite(seconds)
        or seconds < 0
    ):
        raise InvalidArgumentError(
            f"virtual time moves by a finite number of seconds >= 0, got {safe_repr(seconds)}",
            code="pepperpy.testing.virtual_time",
            hint="Pass seconds as a non-negative int or float, e.g. advance(60).",
        )


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop whose ``time()`` is virtual.

    With ``autojump`` (the default), whenever every task is waiting for a timer the
    loop moves time straight to the next one, so ``await asyncio.sleep(3600)``
    returns at once while the program sees an hour pass. Real I/O still works
    (sockets are polled without blocking first).

    Time never jumps while real work is in flight (looptime's rule): executor
    jobs (``run_in_executor``, ``asyncio.to_thread``) still running, or data
    waiting to be written to a socket. The loop waits for them in real time, so
    ``wait_for(to_thread(work), timeout=30)`` sees the work finish, not a
    timeout that virtual time skipped to.
    """

    def __init__(self, *, autojump: bool = True, start: float = 0.0) -> None:
        self._virtual_now = start
        self._executor_jobs = 0
        self.autojump = autojump
        ref: list[VirtualTimeLoop] = []
        super().__init__(_JumpingSelector(selectors.DefaultSelector(), ref))
        ref.append(self)

    def time(self) -> float:
        """The virtual monotonic time."""
        return self._virtual_now

    def run_in_executor(self, executor: Any, func: Callable[..., T], *args: Any) -> Any:  # type: ignore[override]
        """:meth:`asyncio.AbstractEventLoop.run_in_executor`, counted as real work in flight."""
        future = super().run_in_executor(executor, func, *args)
        self._executor_jobs += 1
        future.add_done_callback(self._executor_job_done)
        return future

    def _executor_job_done(self, _future: Any) -> None:
        self._executor_jobs -= 1

    def waiting_on_real_work(self) -> bool:
        """Whether executor jobs are running or a socket has data waiting to be written."""
        if self._executor_jobs:
            return True
        selector: Any = self._selector  # type: ignore[attr-defined]
        try:
            keys = list(selector.get_map().values())
        except Exception:
            return False
        return any(key.events & selectors.EVENT_WRITE for key in keys)

    def jump(self, seconds: float) -> None:
        """Move virtual time forward by *seconds* (timers fire on the next iteration)."""
        _check_seconds(seconds)
        self._virtual_now += seconds


class VirtualClock:
    """A :class:`pepperpy.core.types.Clock` whose time is the event loop's virtual time.

    Code that takes a ``clock`` sees the same time as code that calls
    :func:`asyncio.sleep` or uses ``asyncio.wait_for`` timeouts: all of it runs on
    virtual time. Run a coroutine with :meth:`run`::

        clock = VirtualClock()
        clock.run(main())            # an hour of sleeps, retries and schedules: instant

    Inside, ``await clock.advance(60)`` moves time explicitly (useful with
    ``autojump=False``, where time moves only when told).

    Args:
        autojump: Jump to the next timer whenever every task waits for one.
        epoch: The wall-clock time (seconds since the epoch) at virtual time 0.
    """

    def __init__(self, *, autojump: bool = True, epoch: float = 1_700_000_000.0) -> None:
        self.autojump = autojump
        self.epoch = epoch
        self._loop: VirtualTimeLoop | None = None

    @property
    def loop(self) -> VirtualTimeLoop:
        """The loop this clock drives (created on first use)."""
        if self._loop is None or self._loop.is_closed():
            # a new loop (after run() closed the last one) continues from the same time
            start = self._loop.time() if self._loop is not None else 0.0
            self._loop = VirtualTimeLoop(autojump=self.autojump, start=start)
        return self._loop

    def time(self) -> float:
        """Virtual wall-clock time: ``epoch`` plus the loop's virtual time."""
        return self.epoch + self.monotonic()

    def monotonic(self) -> float:
        """The loop's virtual time (kept after :meth:`run` closes the loop)."""
        return self._loop.time() if self._loop is not None else 0.0

    async def sleep(self, seconds: float) -> None:
        """:func:`asyncio.sleep` on virtual time."""
        await asyncio.sleep(max(0.0, seconds))

    async def advance(self, seconds: float) -> None:
        """Move time forward by *seconds* and let everything due run."""
        _check_seconds(seconds)
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            raise InvalidArgumentError(
                "advance() must be awaited inside VirtualClock.run()",
                hint="Run the test's coroutine with clock.run(...).",
            )
        target = loop.time() + seconds
        while True:
            await asyncio.sleep(0)
            due = [h.when() for h in getattr(loop, "_scheduled", []) if not h.cancelled()]
            nxt = min((w for w in due if w <= target), default=None)
            if nxt is None:
                break
            if nxt > loop.time():
                loop.jump(nxt - loop.time())
            for _ in range(3):
                await asyncio.sleep(0)
        if target > loop.time():
            loop.jump(target - loop.time())
        for _ in range(3):
            await asyncio.sleep(0)

    def run(self, main: Coroutine[Any, Any, T] | Callable[[], Awaitable[T]]) -> T:
        """Run *main* to completion on a fresh virtual-time loop and close the loop.

        Tasks still pending when *main* returns are cancelled and awaited, as
        :func:`asyncio.run` does.
        """
        coro = main() if callable(main) else main
        loop = self.loop
        try:
            asyncio.set_event_loop(loop)
            return loop.run_until_complete(coro)
        finally:
            try:
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for task in pending:
                    task.cancel()
                if pending:
                    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                asyncio.set_event_loop(None)
                loop.close()
