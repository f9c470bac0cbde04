"""Real Redis and PostgreSQL servers for backend tests (fixtures ``redis_url``, ``postgres_dsn``).

A server named by ``$PEPPERPY_REDIS_URL`` / ``$PEPPERPY_POSTGRES_DSN`` is used when it
answers. Otherwise one is started for the test session from this package's own code
(:mod:`pepperpy.testing._servers`: redis-server, or initdb + pg_ctl, on 127.0.0.1) and
stopped afterwards; the plugin never executes files from the project under test.
Without a server the backend tests skip with the reason, except under
``PEPPERPY_REQUIRE_SERVICES=1`` (CI), where they fail: a backend suite may never pass
by skipping.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, NoReturn
from urllib.parse import urlsplit

import pytest

__all__ = ["REQUIRE_ENV", "services_unavailable"]

REDIS_ENV = "PEPPERPY_REDIS_URL"
POSTGRES_ENV = "PEPPERPY_POSTGRES_DSN"
REQUIRE_ENV = "PEPPERPY_REQUIRE_SERVICES"


def services_unavailable(reason: str) -> NoReturn:
    """Skip the test because a server is missing, or fail it when services are required."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1, so backend tests may not be skipped)")
    pytest.skip(f"{reason}; install the server or set {REDIS_ENV} / {POSTGRES_ENV}")


def _answers(url: str, default_port: int, probe: bytes, ok: Callable[[bytes], bool]) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 2
        ) as sock:
            sock.sendall(probe)
            return ok(sock.recv(64))
    except OSError:
        return False


def _redis_answers(url: str) -> bool:
    return _answers(url, 6379, b"*1\r\n$4\r\nPING\r\n", lambda r: r.startswith(b"+PONG"))


def _postgres_answers(dsn: str) -> bool:
    ssl_request = (8).to_bytes(4, "big") + (80877103).to_bytes(4, "big")
    return _answers(dsn, 5432, ssl_request, lambda r: r[:1] in (b"S", b"N"))


def _server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    *,
    variable: str,
    answers: Callable[[str], bool],
    which: str,
    client: str,
) -> Iterator[str]:
    if importlib.util.find_spec(client) is None:
        services_unavailable(f"{client} is not installed (pip install {client})")
    url = os.environ.get(variable)
    if url:
        if not answers(url):
            services_unavailable(f"${variable}={url} does not answer")
        yield url
        return
    from pepperpy.testing import _servers

    start, stop, key = (
        (_servers.start_redis, _servers.stop_redis, "url")
        if which == "redis"
        else (_servers.start_postgres, _servers.stop_postgres, "dsn")
    )
    try:
        state = start()
    except _servers.ServiceError as exc:
        services_unavailable(f"${variable} is not set and {which} could not be started: {exc}")
    try:
        yield state[key]
    finally:
        stop(state)


@pytest.fixture(scope="session")
def redis_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The URL of a running Redis server (started for the session when needed)."""
    yield from _server(
        request,
        tmp_path_factory,
        variable=REDIS_ENV,
        answers=_redis_answers,
        which="redis",
        client="redis",
    )


@pytest.fixture
def redis_namespace() -> str:
    """A key prefix no other test (or parallel test run on the same server) uses."""
    return f"test:{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def postgres_dsn(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The DSN of a running PostgreSQL server (started for the session when needed)."""
    yield from _server(
        request,
        tmp_path_factory,
        variable=POSTGRES_ENV,
        answers=_postgres_answers,
        which="postgres",
        client="asyncpg",
    )


def register_async_fixtures(namespace: dict[str, Any]) -> None:
    """Add ``redis_client`` and ``redis_server`` (need pytest-asyncio) to the plugin's namespace."""
    if importlib.util.find_spec("pytest_asyncio") is None:
        return
    import pytest_asyncio

    @pytest_asyncio.fixture
    async def redis_client(redis_url: str, redis_namespace: str) -> AsyncIterator[Any]:
        """A redis.asyncio client; the test's namespace is emptied afterwards."""
        import redis.asyncio

        pool = redis.asyncio.BlockingConnectionPool.from_url(redis_url, max_connections=32)
        client = redis.asyncio.Redis(connection_pool=pool)
        yield client
        keys = [key async for key in client.scan_iter(match=f"{redis_namespace}*")]
        if keys:
            await client.unlink(*keys)
        await client.aclose()
        await pool.disconnect()  # redis-py leaves a pool it was given open

    @pytest_asyncio.fixture
    async def redis_server() -> AsyncIterator[Any]:
        """A started :class:`~pepperpy.testing.RedisServer` of this test's own (kill/restart it)."""
        from pepperpy.testing._redis_server import RedisServer

        async with RedisServer() as server:
            yield server

    namespace["redis_client"] = redis_client
    namespace["redis_server"] = redis_server
