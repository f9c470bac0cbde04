from __future__ import annotations

import asyncio

import pytest


@pytest.fixture
async def no_leaked_tasks():
    """Fail the test if it leaves a task running."""
    before = asyncio.all_tasks()
    yield
    for _ in range(5):
        await asyncio.sleep(0)
    leaked = asyncio.all_tasks() - before - {asyncio.current_task()}
    assert not leaked, leaked
