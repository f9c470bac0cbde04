"""Hostile review of pepperpy-core's utilities after issue 19 #12-16.

Each test attacks a variation next to a fixed finding (the docstring names it):
user code that raises a BaseException where the helper caught only Exception,
and "none is left running" promises.
"""

from __future__ import annotations

import asyncio

import pytest

from pepperpy.core import ManualClock
from pepperpy.core.utils import debounce, gather_limited


async def _settle(rounds: int = 20) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0)


async def test_debounced_call_whose_function_raises_cancelled_error_does_not_hang() -> None:
    """Next to issue 19 #16 (once/throttle after a cancel): an async debounced function that
    raises CancelledError (it awaited a future someone else cancelled) left every caller of
    the burst waiting forever: the run caught only Exception and never resolved the callers."""
    clock = ManualClock()
    other: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @debounce(1, clock=clock)
    async def save() -> None:
        await other

    caller = asyncio.ensure_future(save())
    await _settle()
    await clock.advance(1)
    await _settle()
    other.cancel()
    await _settle()
    assert caller.done()
    with pytest.raises(asyncio.CancelledError):
        caller.result()


async def test_gather_limited_cancels_given_tasks_it_never_reached() -> None:
    """Next to issue 19 #16: gather_limited promises that on the first error "none is left
    running"; tasks (not coroutines) it had not reached yet kept running."""
    gate = asyncio.Event()

    async def fail() -> None:
        raise LookupError("first fails")

    async def wait() -> None:
        await gate.wait()

    later = [asyncio.ensure_future(wait()) for _ in range(3)]
    with pytest.raises(LookupError):
        await gather_limited([fail(), *later], 1)
    await _settle()
    assert all(task.cancelled() for task in later)


async def test_gather_limited_returns_an_inner_cancellation_as_a_result() -> None:
    """Next to issue 19 #12 (a cancellation nobody asked for): with return_exceptions=True an
    awaitable that raises CancelledError is a result, as asyncio.gather does, and the caller
    (not cancelled) is not cancelled."""
    cancelled: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    cancelled.cancel()

    async def ok() -> int:
        return 1

    results = await gather_limited([ok(), cancelled, ok()], 2, return_exceptions=True)
    assert results[0] == 1 and results[2] == 1
    assert isinstance(results[1], asyncio.CancelledError)
