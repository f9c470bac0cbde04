"""Hostile review of pepperpy-state after issue 18 #8-9.

Attacks the observer delivery loop, which runs user code: when the task
delivering a change was cancelled while an async observer awaited, or an
observer raised a BaseException that is not an Exception, the observers after
it never heard of that change (it had been taken off the queue), although the
change was applied. The change must still reach every other observer (the
exception itself propagates, as asyncio lets it).
"""

from __future__ import annotations

import asyncio

import pytest

from pepperpy.state import Change, StateManager


class Halt(BaseException):
    """A BaseException that is not an Exception (as KeyboardInterrupt or SystemExit)."""


async def test_cancelled_delivery_still_reaches_the_later_observers() -> None:
    state = StateManager()
    state.register("a", int, default=0)
    async with state:
        entered = asyncio.Event()
        delivered = asyncio.Event()
        seen: list[int] = []

        async def slow(change: Change) -> None:
            entered.set()
            await asyncio.Event().wait()  # never set: only a cancellation ends it

        def later(change: Change) -> None:
            seen.append(change.new)
            delivered.set()

        state.subscribe("a", slow)
        state.subscribe("a", later)
        task = asyncio.ensure_future(state.set("a", 1))
        await entered.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert state.get("a") == 1  # applied before delivery began
        await asyncio.wait_for(delivered.wait(), 30)  # a bound against a hang, not a timing
        assert seen == [1]


async def test_a_base_exception_from_an_observer_does_not_hide_the_change_from_others() -> None:
    state = StateManager()
    state.register("a", int, default=0)
    async with state:
        delivered = asyncio.Event()
        seen: list[int] = []

        def halting(change: Change) -> None:
            raise Halt

        def later(change: Change) -> None:
            seen.append(change.new)
            delivered.set()

        halting_sub = state.subscribe("a", halting)
        state.subscribe("a", later)
        with pytest.raises(Halt):
            await state.set("a", 1)
        await asyncio.wait_for(delivered.wait(), 30)
        assert seen == [1]
        halting_sub.unsubscribe()
        await state.set("a", 2)  # the manager still delivers afterwards
        assert seen == [1, 2]


async def test_a_watch_ends_when_the_manager_stops() -> None:
    """`async for change in state.watch(...)` used to wait forever once the manager stopped.

    A consumer task on shutdown then never finished (a hang and a leak). It now
    gets every change committed before the stop, then the iteration ends.
    """
    state = StateManager()
    state.register("a", int, default=0)
    await state.start()
    got: list[int] = []

    async def consume() -> None:
        async for change in state.watch("a"):
            got.append(change.new)

    consumer = asyncio.ensure_future(consume())
    await asyncio.sleep(0)  # the consumer subscribes (its first step), then waits
    await state.set("a", 1)
    await state.stop()
    await asyncio.wait_for(consumer, 30)  # a bound against the hang, not a timing
    assert got == [1]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lease": float("inf")},
        {"lease": 1e300},
        {"lease": "1e400s"},
        {"retry_interval": float("inf")},
        {"retry_interval": float("nan")},
    ],
    ids=repr,
)
def test_redis_lock_durations_are_finite(kwargs: dict[str, float | str]) -> None:
    """RedisLock(lease=inf) was accepted, then every acquire failed with a misleading
    LockUnavailableError (OverflowError inside; Redis refuses PX past 2**63 ms)."""
    from pepperpy.core.exceptions import InvalidArgumentError
    from pepperpy.state import RedisLock

    with pytest.raises(InvalidArgumentError):
        RedisLock("redis://127.0.0.1:1/0", "review", **kwargs)  # never connects
