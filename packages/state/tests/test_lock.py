"""Tests for pepperpy.state._lock: the task-reentrant lock."""

from __future__ import annotations

import asyncio

import pytest

from pepperpy.state import TaskLock


async def test_reentrant_for_the_owner_exclusive_for_others() -> None:
    """The holder may re-acquire; another task waits until every level is released."""
    lock = TaskLock()
    order: list[str] = []

    async def other() -> None:
        async with lock:
            order.append("other")

    async with lock:
        assert lock.held_by_current_task()
        async with lock:
            task = asyncio.ensure_future(other())
            await asyncio.sleep(0)
            order.append("inner")
        await asyncio.sleep(0)
        order.append("outer")
        assert lock.locked()
    await task
    assert ["inner", "outer", "other"] == order
    assert not lock.locked()


async def test_release_unheld_raises() -> None:
    """Releasing a lock nobody holds is a programming error."""
    with pytest.raises(RuntimeError):
        TaskLock().release()
    assert "locked=False" in repr(TaskLock())


async def _waiter(lock: TaskLock, got: list[str], name: str) -> None:
    await lock.acquire()
    got.append(name)
    lock.release()


@pytest.mark.parametrize("release_first", [False, True])
async def test_a_cancelled_waiter_is_skipped(release_first: bool) -> None:
    """A waiter cancelled before its turn leaves the queue; the next one gets the lock.

    Whether the holder releases before or after the cancelled waiter has run its
    clean-up, the lock must not be handed to it (asyncio.Lock behaves the same).
    """
    lock = TaskLock()
    got: list[str] = []
    await lock.acquire()
    a = asyncio.ensure_future(_waiter(lock, got, "a"))
    b = asyncio.ensure_future(_waiter(lock, got, "b"))
    await asyncio.sleep(0)  # both are queued
    a.cancel()
    if not release_first:
        await asyncio.sleep(0)  # a leaves the queue itself
    lock.release()
    with pytest.raises(asyncio.CancelledError):
        await a
    await asyncio.wait_for(b, 30)  # a guard against a hang, not a timing assertion
    assert got == ["b"]
    assert not lock.locked()


async def test_a_waiter_cancelled_as_the_lock_is_handed_to_it_passes_it_on() -> None:
    """The lock was handed to *a* just as *a* was cancelled: *a* must pass it to *b*.

    Without that, a cancellation at this exact moment would leave the lock held
    by a task that is gone (the race asyncio.Lock also handles on cancellation).
    """
    lock = TaskLock()
    got: list[str] = []
    await lock.acquire()
    a = asyncio.ensure_future(_waiter(lock, got, "a"))
    b = asyncio.ensure_future(_waiter(lock, got, "b"))
    await asyncio.sleep(0)  # both are queued
    lock.release()  # hands the lock to a ...
    a.cancel()  # ... which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await a
    await asyncio.wait_for(b, 30)  # a guard against a hang, not a timing assertion
    assert got == ["b"]
    assert not lock.locked()
