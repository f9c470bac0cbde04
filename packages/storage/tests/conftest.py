"""Shared fixtures for the pepperpy-storage tests."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import socket
import subprocess
import threading
import uuid
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn
from urllib.parse import urlsplit

import pytest


@pytest.fixture
def read_only() -> Iterator[Callable[[Path], None]]:
    """Make a file or directory unwritable, even for root (chattr +i), undone afterwards."""
    undo: list[Callable[[], None]] = []

    def make(path: Path) -> None:
        if os.geteuid() != 0:
            mode = path.stat().st_mode
            path.chmod(0o555 if path.is_dir() else 0o444)
            undo.append(lambda: path.chmod(mode))
            return
        result = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
        if result.returncode != 0:
            pytest.skip("cannot make a path read-only for root here (no chattr)")
        undo.append(lambda: subprocess.run(["chattr", "-i", str(path)], check=False))

    yield make
    for fn in reversed(undo):
        fn()


@pytest.fixture(params=["sqlite", "memory", "filesystem", "postgres"])
def backend_name(request: pytest.FixtureRequest) -> str:
    """Every built-in backend, and PostgreSQL (a real server, a fresh schema per test)."""
    if request.param == "postgres":
        request.getfixturevalue("postgres_schema")
    return str(request.param)


# --------------------------------------------------------------------------- PostgreSQL
# The postgres backend runs the same suite against a real server: the one named by
# $PEPPERPY_POSTGRES_DSN (tools/services.py start writes it), else one started here
# with tools/services.py for the session. Without a server the tests skip with the
# reason, except under PEPPERPY_REQUIRE_SERVICES=1 (CI), where they fail.

POSTGRES_ENV = "PEPPERPY_POSTGRES_DSN"
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


def _postgres_answers(dsn: str) -> bool:
    parts = urlsplit(dsn)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), 2) as s:
            s.sendall((8).to_bytes(4, "big") + (80877103).to_bytes(4, "big"))  # SSLRequest
            return s.recv(1) in (b"S", b"N")
    except OSError:
        return False


@pytest.fixture(scope="session")
def postgres_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A DSN of a running PostgreSQL server (started for the session when needed)."""
    try:
        import asyncpg  # noqa: F401
    except ImportError:
        services_unavailable("asyncpg is not installed (pip install 'pepperpy-storage[postgres]')")
    dsn = os.environ.get(POSTGRES_ENV)
    if dsn:
        if not _postgres_answers(dsn):
            services_unavailable(f"${POSTGRES_ENV}={dsn} does not answer")
        yield dsn
        return
    tool = _services_tool()
    if tool is None:
        services_unavailable(f"${POSTGRES_ENV} is not set and tools/services.py is not here")
    env_file = tmp_path_factory.mktemp("services") / "services.env"
    try:
        values = tool.start(env_file, redis=False, install=False)
    except tool.ServiceError as exc:
        services_unavailable(f"PostgreSQL could not be started: {exc}")
    try:
        yield values[POSTGRES_ENV]
    finally:
        tool.stop(env_file)


def _in_thread(coro: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run *coro* on its own loop in another thread (the test's loop stays untouched)."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(coro())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


@pytest.fixture
def postgres_schema(postgres_dsn: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh schema for one test; ``$PEPPERPY_POSTGRES_DSN`` points at it meanwhile.

    The DSN gets ``?search_path=<schema>`` (asyncpg turns unknown query parameters
    into server settings), so ``Storage.create(..., backend="postgres")`` creates
    its table there; the schema is dropped afterwards. Parallel runs on one
    server never see each other's data.
    """
    import asyncpg

    schema = f"t_{uuid.uuid4().hex[:16]}"

    async def create() -> None:
        conn = await asyncpg.connect(postgres_dsn)
        try:
            await conn.execute(f'CREATE SCHEMA "{schema}"')
        finally:
            await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(postgres_dsn)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()

    _in_thread(create)
    joiner = "&" if "?" in postgres_dsn else "?"
    monkeypatch.setenv(POSTGRES_ENV, f"{postgres_dsn}{joiner}search_path={schema}")
    yield schema
    _in_thread(drop)
