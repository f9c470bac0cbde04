from __future__ import annotations

import asyncio

import pytest

from pepperpy.event import EventManager


@pytest.fixture
async def events():
    """A running EventManager; the test fails if a task outlives stop()."""
    before = asyncio.all_tasks()
    manager = EventManager(on_error="collect")
    await manager.start()
    yield manager
    await manager.stop()
    for _ in range(3):
        await asyncio.sleep(0)
    leaked = asyncio.all_tasks() - before - {asyncio.current_task()}
    assert not leaked, leaked


# --------------------------------------------------------------------------- Redis
# redis_url, redis_namespace and redis_client come from the pepperpy-testing plugin:
# a real server ($PEPPERPY_REDIS_URL, else one started for the session with
# tools/services.py); skipped when unavailable, failed under PEPPERPY_REQUIRE_SERVICES=1.
