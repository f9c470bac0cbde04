"""Shared fixtures for the pepperpy-storage tests."""

from __future__ import annotations

import asyncio
import os
import subprocess
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

from pepperpy.core import ManualClock
from pepperpy.storage import Storage


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


@pytest.fixture
def clock() -> ManualClock:
    """A manual clock for TTL tests."""
    return ManualClock()


@pytest.fixture
async def store(tmp_path: Path, backend_name: str, clock: ManualClock) -> AsyncIterator[Storage]:
    """The conformance fixture: a started store on every backend (see ``backend_name``)."""
    storage = Storage.create("test", data_dir=tmp_path, backend=backend_name, clock=clock)
    async with storage:
        yield storage


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

# postgres_dsn comes from the pepperpy-testing plugin: a real server
# ($PEPPERPY_POSTGRES_DSN, else one started for the session with tools/services.py);
# skipped when unavailable, failed under PEPPERPY_REQUIRE_SERVICES=1.


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
