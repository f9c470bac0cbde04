"""Tests for pepperpy.storage._postgres against a real PostgreSQL server.

The shared behaviour (versions, TTL, scans, transactions, counters ...) runs
for every backend in test_storage.py; here: what only PostgreSQL has (several
processes on one table, dropped connections, schema, configuration).
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pepperpy.core import ConfigurationError, InvalidArgumentError, ManualClock
from pepperpy.storage import (
    PostgresBackend,
    Storage,
    StorageError,
    available_backends,
    load_backend,
)
from pepperpy.storage._postgres import POSTGRES_SCHEMA_VERSION

pytestmark = pytest.mark.usefixtures("postgres_schema")


def _store(tmp_path: Path, name: str = "pg", **options: Any) -> Storage:
    return Storage.create(name, data_dir=tmp_path, backend="postgres", **options)


def test_found_through_the_entry_point() -> None:
    assert "postgres" in available_backends()
    assert load_backend("postgres") is PostgresBackend


async def test_several_clients_on_one_table_lose_no_update(tmp_path: Path) -> None:
    # Two stores = two pools, as two processes would have: the advisory locks
    # serialize their read-modify-write batches, keys that do not exist yet included.
    one, two = _store(tmp_path), _store(tmp_path)
    async with one, two:
        counts = await asyncio.gather(
            *(s.incr("hits") for _ in range(40) for s in (one, two)),
        )
        assert sorted(counts) == list(range(1, 81))
        assert await one.get("hits") == 80
        created = await asyncio.gather(
            *(s.compare_and_set("owner", f"c{i}", version=0) for i in range(10) for s in (one, two))
        )
        assert created.count(True) == 1
        entry = await two.get_entry("owner")
        assert entry is not None
        # issue 18 #1: versions come from the table's revision sequence: past the 80 incrs.
        assert entry.version > 80


async def test_stores_share_a_table_but_not_keys(tmp_path: Path) -> None:
    async with _store(tmp_path, "a") as a, _store(tmp_path, "b") as b:
        await a.put("k", "from a")
        await b.put("k", "from b")
        assert await a.get("k") == "from a"
        assert await b.count() == 1
        assert await a.clear() == 1
        assert await b.get("k") == "from b"


async def test_connection_dropped_mid_transaction_leaves_no_partial_write(
    tmp_path: Path,
) -> None:
    storage = _store(tmp_path)
    async with storage:
        await storage.put("alice", 100)
        backend = storage.backend
        assert isinstance(backend, PostgresBackend)
        original = backend._before_commit

        async def drop_connection(conn: Any) -> None:
            # The rows are written in the open transaction; the server now kills
            # this very connection before COMMIT.
            await conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")

        backend._before_commit = drop_connection  # type: ignore[method-assign]
        with pytest.raises(StorageError) as info:
            async with storage.transaction() as tx:
                alice = await tx.get("alice")
                tx.put("alice", alice - 30)
                tx.put("bob", 30)
                tx.incr("transfers")
        assert info.value.code == "pepperpy.storage.unavailable"
        assert info.value.retryable
        with pytest.raises(StorageError):
            await storage.put_many({"x": 1, "y": 2})

        backend._before_commit = original  # type: ignore[method-assign]
        assert await storage.get_many(["alice", "bob", "transfers", "x", "y"]) == {"alice": 100}
        assert (await storage.get_entry("alice")).version == 1  # type: ignore[union-attr]
        # The pool replaced the dead connection: the same store keeps working.
        alice = (await storage.get_entry("alice")).version  # type: ignore[union-attr]
        x, y = await storage.put_many({"x": 1, "y": 2})
        assert alice < x < y
        assert await storage.count() == 3


async def test_survives_the_server_killing_idle_connections(
    tmp_path: Path, postgres_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncpg

    name = f"victim-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv(
        "PEPPERPY_POSTGRES_DSN", f"{os.environ['PEPPERPY_POSTGRES_DSN']}&application_name={name}"
    )
    async with _store(tmp_path, min_size=2) as storage:
        await storage.put("k", 1)
        admin = await asyncpg.connect(postgres_dsn)
        try:
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = $1",
                name,
            )
        finally:
            await admin.close()
        assert killed >= 1
        assert await storage.get("k") == 1  # reads retry once on a dead pooled connection
        assert await storage.get_many(["k", "x"]) == {"k": 1}
        assert await storage.put("k", 2) == 2


def test_every_call_works_from_a_new_event_loop(tmp_path: Path) -> None:
    clock = ManualClock()
    storage = _store(tmp_path, clock=clock, purge_interval=None)

    async def first() -> None:
        await storage.put("short", 1, ttl=5)
        await storage.put("long", 2)

    async def second() -> None:  # the pool of the first loop is gone with it
        clock.advance_sync(6)
        assert await storage.purge_expired() == 1
        assert await storage.count() == 1
        assert (await storage.scan()).keys() == ["long"]
        assert await storage.get_many(["long", "short"]) == {"long": 2}
        await storage.stop()

    asyncio.run(first())
    asyncio.run(second())


async def test_group_commit_batches_concurrent_writes(tmp_path: Path) -> None:
    async with _store(tmp_path) as storage:
        versions = await asyncio.gather(*(storage.put(f"k{i:03d}", i) for i in range(200)))
        assert len(set(versions)) == 200 and min(versions) >= 1  # store-wide revisions
        stats = storage.stats()
        assert stats["operations"] == 200
        assert stats["batches"] < 200
        page = await storage.scan("k1", limit=1000)
        assert page.keys() == [f"k{i:03d}" for i in range(100, 200)]


async def test_a_failing_operation_does_not_fail_its_batch(tmp_path: Path) -> None:
    async with _store(tmp_path) as storage:
        await storage.put("text", "abc")
        results = await asyncio.gather(
            storage.put("a", 1),
            storage.incr("text"),
            storage.put("b", 2, version=3),
            storage.put("c", 3),
            return_exceptions=True,
        )
        assert isinstance(results[0], int) and isinstance(results[3], int)
        assert results[0] != results[3]
        assert isinstance(results[1], InvalidArgumentError)
        assert isinstance(results[2], Exception)
        assert await storage.get_many(["a", "b", "c"]) == {"a": 1, "c": 3}


async def test_expired_rows_are_purged_per_store(tmp_path: Path) -> None:
    clock = ManualClock()
    async with _store(tmp_path, "p", clock=clock) as p, _store(tmp_path, "q", clock=clock) as q:
        await p.put("old", 1, ttl=5)
        await q.put("old", 1, ttl=5)
        await clock.advance(6)
        assert await p.purge_expired() == 1
        assert await q.count() == 0
        assert await q.purge_expired() == 1


async def test_schema_option_creates_and_uses_a_schema(
    tmp_path: Path, postgres_schema: str
) -> None:
    backend = PostgresBackend(schema=f"{postgres_schema}_own", table="kv_items", store="s")
    async with Storage(backend, name="s") as storage:
        await storage.put("k", {"v": 1})
        assert await backend.schema_version() == POSTGRES_SCHEMA_VERSION
        assert "kv_items" in backend.location
    again = PostgresBackend(schema=f"{postgres_schema}_own", table="kv_items", store="s")
    async with Storage(again, name="s") as storage:
        assert await storage.get("k") == {"v": 1}
        await storage.clear()
    import asyncpg

    conn = await asyncpg.connect(backend.dsn)
    try:
        await conn.execute(f'DROP SCHEMA "{postgres_schema}_own" CASCADE')
    finally:
        await conn.close()


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    async with _store(tmp_path) as storage:
        backend = storage.backend
        assert isinstance(backend, PostgresBackend)
        pool = backend._pool
        await pool.execute("UPDATE pepperpy_storage_meta SET value = '99' WHERE key = 'schema'")
    with pytest.raises(StorageError, match="schema 99") as info:
        async with _store(tmp_path):
            pass
    assert info.value.code == "pepperpy.storage.schema"


def test_configuration_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PEPPERPY_POSTGRES_DSN")
    with pytest.raises(ConfigurationError, match="needs a DSN"):
        PostgresBackend()
    dsn = "postgresql://u:secret@127.0.0.1:1/db"
    with pytest.raises(InvalidArgumentError, match="invalid table"):
        PostgresBackend(dsn, table="Bad-Name")
    with pytest.raises(InvalidArgumentError, match="invalid schema"):
        PostgresBackend(dsn, schema="x;drop")
    with pytest.raises(InvalidArgumentError):
        PostgresBackend(dsn, min_size=5, max_size=2)
    backend = PostgresBackend(dsn)
    assert "secret" not in backend.location
    assert "secret" not in repr(backend)


async def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    storage = _store(tmp_path, dsn=f"postgresql://postgres@127.0.0.1:{port}/postgres")
    with pytest.raises(StorageError, match="unreachable") as info:
        await storage.start()
    assert info.value.code == "pepperpy.storage.unavailable"
    assert info.value.retryable


_key_chars = st.sampled_from(["a", "b", "/", "é", "\uffff", "\U0010ffff", "0", "Z", "_", "%"])


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    keys=st.sets(st.lists(_key_chars, min_size=1, max_size=4).map("".join), max_size=20),
    prefix=st.lists(_key_chars, max_size=2).map("".join),
    limit=st.integers(1, 6),
)
def test_scan_order_matches_python(tmp_path: Path, keys: set[str], prefix: str, limit: int) -> None:
    # Keys sort by code point (the "C" collation), like SQLite and the memory backend;
    # LIKE wildcards in a prefix are plain characters.
    expected = sorted(k for k in keys if k.startswith(prefix))

    async def run() -> None:
        async with _store(tmp_path, "scan", purge_interval=None) as storage:
            await storage.clear()
            if keys:
                await storage.put_many({k: k for k in keys})
            seen: list[str] = []
            cursor = None
            while True:
                page = await storage.scan(prefix, limit=limit, cursor=cursor)
                assert len(page) <= limit
                seen.extend(page.keys())
                cursor = page.cursor
                if cursor is None:
                    break
            assert seen == expected
            assert await storage.count(prefix) == len(expected)

    asyncio.run(run())


async def test_plain_puts_from_two_clients_keep_versions_in_commit_order(tmp_path: Path) -> None:
    """issue 26: a batch of unconditional puts skips the row read and takes its locks and
    versions in one statement. The versions must still be drawn after the locks: the
    last committed put of a key holds the highest version any put of it returned, and
    a compare_and_set with that version succeeds (etcd's mod_revision guarantee)."""
    one, two = _store(tmp_path), _store(tmp_path)
    async with one, two:
        for round_ in range(5):
            versions = await asyncio.gather(
                *(
                    s.put(f"k{i % 3}", {"round": round_, "i": i})
                    for i in range(30)
                    for s in (one, two)
                )
            )
            assert len(set(versions)) == len(versions)  # never handed out twice
            for key in ("k0", "k1", "k2"):
                entry = await one.get_entry(key)
                assert entry is not None
                returned = [v for i, v in enumerate(versions) if (i // 2) % 3 == int(key[1])]
                assert entry.version == max(returned)
                assert await two.compare_and_set(key, "mine", version=entry.version)
