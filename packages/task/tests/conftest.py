from __future__ import annotations

import asyncio

import pytest

from pepperpy.core import ManualClock
from pepperpy.task import TaskManager


async def settle(rounds: int = 20) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0)


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
async def tasks(clock):
    """A running TaskManager on a manual clock; fails if a task outlives stop()."""
    before = asyncio.all_tasks()
    manager = TaskManager(concurrency=4, clock=clock, shutdown_timeout=0)
    await manager.start()
    yield manager
    await manager.stop()
    await settle(5)
    leaked = asyncio.all_tasks() - before - {asyncio.current_task()}
    assert not leaked, leaked


# --------------------------------------------------------------------------- Redis
# redis_url, redis_namespace and redis_client come from the pepperpy-testing plugin:
# a real server ($PEPPERPY_REDIS_URL, else one started for the session with
# tools/services.py); skipped when unavailable, failed under PEPPERPY_REQUIRE_SERVICES=1.
