from __future__ import annotations

import asyncio
import importlib.util
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import NoReturn
from urllib.parse import urlsplit

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
# A real Redis server for RedisQueue: $PEPPERPY_REDIS_URL (tools/services.py start
# writes it), else one started with tools/services.py for the session. Without one the
# tests skip with the reason, except under PEPPERPY_REQUIRE_SERVICES=1 (CI).

REDIS_ENV = "PEPPERPY_REDIS_URL"
REQUIRE_ENV = "PEPPERPY_REQUIRE_SERVICES"


def services_unavailable(reason: str) -> NoReturn:
    """Skip (or fail, when services are required) because a server is missing."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1, so backend tests may not be skipped)")
    pytest.skip(f"{reason}; run `python tools/services.py start` or set the variable")


def _services_tool() -> ModuleType | None:
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "tools" / "services.py"
        if candidate.is_file():
            spec = importlib.util.spec_from_file_location("_pepperpy_services", candidate)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    return None


def _redis_answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 2) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a running Redis server (started for the session when needed)."""
    if importlib.util.find_spec("redis") is None:
        services_unavailable("redis-py is not installed (pip install 'pepperpy-task[redis]')")
    url = os.environ.get(REDIS_ENV)
    if url:
        if not _redis_answers(url):
            services_unavailable(f"${REDIS_ENV}={url} does not answer")
        yield url
        return
    tool = _services_tool()
    if tool is None:
        services_unavailable(f"${REDIS_ENV} is not set and tools/services.py is not here")
    env_file = tmp_path_factory.mktemp("services") / "services.env"
    try:
        values = tool.start(env_file, postgres=False, install=False)
    except tool.ServiceError as exc:
        services_unavailable(f"redis-server could not be started: {exc}")
    try:
        yield values[REDIS_ENV]
    finally:
        tool.stop(env_file)


@pytest.fixture
def redis_namespace() -> str:
    """A namespace no other test (or parallel test run on the same server) uses."""
    return f"test:{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def redis_client(redis_url: str, redis_namespace: str) -> AsyncIterator[object]:
    """A redis.asyncio client; every key of the test's namespace is removed afterwards."""
    import redis.asyncio

    pool = redis.asyncio.BlockingConnectionPool.from_url(redis_url, max_connections=32)
    client = redis.asyncio.Redis(connection_pool=pool)
    yield client
    keys = [key async for key in client.scan_iter(match=f"{redis_namespace}*")]
    if keys:
        await client.unlink(*keys)
    await client.aclose()
