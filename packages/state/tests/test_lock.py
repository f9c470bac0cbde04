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
