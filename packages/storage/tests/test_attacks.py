"""Attacks from issue 18 that concern one backend: read-only opens and 0.1.0 stores.

The findings that hold for every backend (#1-#3) are in the conformance suite,
``test_storage.py``; cancellation and concurrent delete/recreate in
``test_concurrency.py``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from pepperpy.core import InvalidArgumentError
from pepperpy.storage import (
    SCHEMA_VERSION,
    Storage,
    StorageError,
    VersionConflictError,
)

# --------------------------------------------------------------------------- #4 read-only


async def _assert_writes_refused(storage: Storage) -> None:
    """Every kind of write fails with a clear read_only error and changes nothing."""
    before = await storage.keys()
    attempts = [
        lambda: storage.put("new", 1),
        lambda: storage.delete("kept"),
        lambda: storage.incr("n"),
        lambda: storage.compare_and_set("kept", 2, version=1),
        lambda: storage.put_many({"a": 1}),
        lambda: storage.delete_many(["kept"]),
        lambda: storage.clear(),
        lambda: storage.purge_expired(),
    ]
    for attempt in attempts:
        with pytest.raises(StorageError) as info:
            await attempt()
        assert info.value.code == "pepperpy.storage.read_only"
        assert "read-only" in info.value.message
        assert "read_only=True" in (info.value.hint or "")
    with pytest.raises(StorageError) as info:
        async with storage.transaction() as tx:
            tx.put("kept", (await tx.get("kept", 0)) + 1)
    assert info.value.code == "pepperpy.storage.read_only"
    assert await storage.keys() == before


@pytest.mark.parametrize("backend", ["sqlite", "filesystem"])
async def test_read_only_open_of_a_read_only_directory(
    tmp_path: Path, read_only: Callable[[Path], None], backend: str
) -> None:
    """issue 18 #4: a store on a read-only directory opens with read_only=True and reads.

    SQLite's own answer is ``mode=ro`` (``immutable=1`` when the read-only directory
    cannot hold the -shm file SQLite's WAL mode needs and no -wal is left).
    """
    async with Storage.create("ro", data_dir=tmp_path, backend=backend) as storage:
        await storage.put("kept", 1)
        await storage.put_many({f"item/{i}": i for i in range(5)})
    for path in sorted(tmp_path.rglob("*"), reverse=True):  # noqa: ASYNC240
        read_only(path)
    read_only(tmp_path)

    # Without read_only=True it still fails, and the hint says how to read it.
    plain = Storage.create("ro", data_dir=tmp_path, backend=backend, purge_interval=None)
    with pytest.raises(StorageError) as info:
        await plain.put("x", 1)
    assert "read_only=True" in (info.value.hint or "")
    await plain.stop()

    storage = Storage.create("ro", data_dir=tmp_path, backend=backend, read_only=True)
    async with storage:
        assert storage.read_only
        assert await storage.get("kept") == 1
        entry = await storage.get_entry("kept")
        assert entry is not None
        assert entry.version >= 1
        assert await storage.count("item/") == 5
        assert (await storage.scan("item/", limit=2)).keys() == ["item/0", "item/1"]
        assert await storage.get_many(["item/3", "nope"]) == {"item/3": 3}
        export = tmp_path.parent / f"{tmp_path.name}-export.jsonl"
        assert await storage.export_jsonl(export) == 6
        export.unlink()
        # A transaction that only reads commits (its reads are checked by reading).
        async with storage.transaction() as tx:
            assert await tx.get("kept") == 1
        await _assert_writes_refused(storage)


async def test_read_only_sqlite_left_with_a_wal_after_kill_9(
    tmp_path: Path, read_only: Callable[[Path], None]
) -> None:
    """issue 18 #4: a -wal left by a killed writer is read too (mode=ro, not immutable)."""
    script = textwrap.dedent(
        """
        import asyncio, os, sys
        from pepperpy.storage import Storage

        async def main():
            storage = Storage.create("db", data_dir=sys.argv[1], purge_interval=None)
            await storage.put("in-wal", {"committed": True})
            os._exit(0)  # no checkpoint, no cleanup: the value is only in the -wal

        asyncio.run(main())
        """
    )
    subprocess.run(  # noqa: ASYNC221 - the writer must be another process
        [sys.executable, "-c", script, str(tmp_path)], check=True, timeout=60
    )
    assert (tmp_path / "db.sqlite3-wal").stat().st_size > 0
    for path in sorted(tmp_path.rglob("*")):  # noqa: ASYNC240
        read_only(path)
    read_only(tmp_path)
    async with Storage.create("db", data_dir=tmp_path, read_only=True) as storage:
        assert await storage.get("in-wal") == {"committed": True}
        await _assert_writes_refused(storage)


async def test_read_only_reader_sees_another_writers_commits(tmp_path: Path) -> None:
    """issue 18 #4: read_only=True beside a live writer: never a stale (cached) value."""
    async with (
        Storage.create("db", data_dir=tmp_path) as writer,
        Storage.create("db", data_dir=tmp_path, read_only=True) as reader,
    ):
        await writer.put("k", 1)
        assert await reader.get("k") == 1
        assert await reader.get("k") == 1  # served from the read cache
        await writer.put("k", 2)
        assert await reader.get("k") == 2
        await writer.delete("k")
        assert await reader.get("k") is None


@pytest.mark.parametrize("backend", ["sqlite", "filesystem"])
async def test_read_only_open_of_a_missing_store_is_clear(tmp_path: Path, backend: str) -> None:
    """issue 18 #4: read_only=True creates nothing; a missing store says so."""
    storage = Storage.create("absent", data_dir=tmp_path / "none", backend=backend, read_only=True)
    with pytest.raises(StorageError) as info:
        await storage.get("k")
    assert info.value.code == "pepperpy.storage.unavailable"
    assert "no store" in info.value.message
    assert not (tmp_path / "none").exists()


async def test_read_only_sqlite_refuses_a_newer_schema(tmp_path: Path) -> None:
    async with Storage.create("db", data_dir=tmp_path) as storage:
        await storage.put("k", 1)
    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        conn.execute("UPDATE pepperpy_meta SET value = '999' WHERE key = 'schema_version'")
    with pytest.raises(StorageError) as info:
        await Storage.create("db", data_dir=tmp_path, read_only=True).start()
    assert info.value.code == "pepperpy.storage.schema"


async def test_unknown_backend_option_is_a_clear_error(tmp_path: Path) -> None:
    """issue 18 #4: read_only= on a backend without it (memory) is not a raw TypeError."""
    with pytest.raises(InvalidArgumentError, match="read_only") as info:
        Storage.create("m", data_dir=tmp_path, backend="memory", read_only=True)
    assert info.value.context["backend"] == "memory"


# --------------------------------------------------------------------------- 0.1.0 stores

# The exact on-disk layout pepperpy-storage 0.1.0 wrote (SQLite schema 1: per-key
# versions, no revision; filesystem schema 1).
_V010_SQLITE = (
    "CREATE TABLE pepperpy_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS kv ( key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL,"
    " version INTEGER NOT NULL, expires_at REAL) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS kv_expires_at ON kv(expires_at) WHERE expires_at IS NOT NULL",
    "INSERT INTO pepperpy_meta (key, value) VALUES ('schema_version', '1')",
)


def _make_v010_sqlite(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        for statement in _V010_SQLITE:
            conn.execute(statement)
        conn.executemany(
            "INSERT INTO kv (key, value, version, expires_at) VALUES (?, ?, ?, ?)",
            [("a", b'"A"', 7, None), ("b", b"3", 3, None)],
        )
    conn.close()


async def test_a_010_sqlite_store_is_migrated_in_place(tmp_path: Path) -> None:
    """issue 18 #1: a 0.1.0 file opens; the revision starts above every version in it."""
    _make_v010_sqlite(tmp_path / "db.sqlite3")
    # Read-only first: nothing may be migrated, the data reads as before.
    async with Storage.create("db", data_dir=tmp_path, read_only=True) as storage:
        assert await storage.get_entry("a") is not None
        assert (await storage.get_entry("a")).version == 7  # type: ignore[union-attr]
    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        assert conn.execute("SELECT value FROM pepperpy_meta").fetchall() == [("1",)]
    conn.close()
    async with Storage.create("db", data_dir=tmp_path) as storage:
        assert await storage.get_many(["a", "b"]) == {"a": "A", "b": 3}
        assert await storage.compare_and_set("b", 4, version=3)  # old versions still valid
        assert await storage.delete("a", version=7)
        recreated = await storage.put("a", "again")
        assert recreated > 7
        assert not await storage.compare_and_set("a", "stale", version=7)
        assert await storage.incr("b") == 5
    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        meta = dict(conn.execute("SELECT key, value FROM pepperpy_meta").fetchall())
        assert meta["schema_version"] == str(SCHEMA_VERSION) == "2"
        assert int(meta["revision"]) >= recreated
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


async def test_a_010_filesystem_store_is_migrated_in_place(tmp_path: Path) -> None:
    """issue 18 #1: a 0.1.0 directory opens; the revision starts above its versions."""
    items = tmp_path / "fs" / "items"
    items.mkdir(parents=True)
    (tmp_path / "fs" / "pepperpy-storage.json").write_text('{"schema_version": 1}')
    header = json.dumps({"key": "a", "version": 9, "expires_at": None}).encode()
    (items / "a").write_bytes(header + b"\n" + b'"A"')
    options = {"backend": "filesystem", "data_dir": tmp_path}
    async with Storage.create("fs", read_only=True, **options) as storage:
        assert (await storage.get_entry("a")).version == 9  # type: ignore[union-attr]
    assert json.loads((tmp_path / "fs" / "pepperpy-storage.json").read_text()) == {
        "schema_version": 1
    }
    async with Storage.create("fs", **options) as storage:
        assert await storage.get("a") == "A"
        assert await storage.delete("a", version=9)
        recreated = await storage.put("a", "again")
        assert recreated > 9
        with pytest.raises(VersionConflictError):
            await storage.put("a", "stale", version=9)
        assert await storage.put("b", 1) > recreated
    meta = json.loads((tmp_path / "fs" / "pepperpy-storage.json").read_text())
    assert meta["schema_version"] == 2
    assert meta["revision"] >= recreated + 1


async def test_a_010_postgres_table_is_migrated_in_place(postgres_schema: str) -> None:
    """issue 18 #1: a 0.1.0 table gets its revision sequence, started above its versions."""
    import asyncpg

    dsn = os.environ["PEPPERPY_POSTGRES_DSN"]
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "CREATE TABLE pepperpy_storage_meta (key text PRIMARY KEY, value text NOT NULL)"
        )
        await conn.execute(
            'CREATE TABLE pepperpy_storage (store text NOT NULL, key text COLLATE "C" NOT NULL,'
            " value bytea NOT NULL, version bigint NOT NULL, expires_at double precision,"
            " PRIMARY KEY (store, key))"
        )
        await conn.execute("INSERT INTO pepperpy_storage_meta VALUES ('schema', '1')")
        await conn.execute(
            "INSERT INTO pepperpy_storage VALUES ('data', 'a', '\"A\"', 12, NULL), "
            "('other', 'z', '1', 40, NULL)"
        )
    finally:
        await conn.close()
    async with Storage.create("data", backend="postgres") as storage:
        assert await storage.get("a") == "A"
        assert await storage.delete("a", version=12)
        recreated = await storage.put("a", "again")
        assert recreated > 40  # above every version of every store in the table
        assert not await storage.compare_and_set("a", "stale", version=12)
        assert await storage.backend.schema_version() == 2  # type: ignore[attr-defined]


async def test_a_lost_revision_restarts_above_the_highest_version(tmp_path: Path) -> None:
    """issue 18 #1: if the revision record is lost (edited, restored), no version repeats."""
    async with Storage.create("db", data_dir=tmp_path) as storage:
        top = max(await storage.put_many({"a": 1, "b": 2, "c": 3}))
    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        conn.execute("DELETE FROM pepperpy_meta WHERE key = 'revision'")
    conn.close()
    async with Storage.create("db", data_dir=tmp_path) as storage:
        assert await storage.put("a", 4) > top
    meta = tmp_path / "fs" / "pepperpy-storage.json"
    async with Storage.create("fs", data_dir=tmp_path, backend="filesystem") as storage:
        top = max(await storage.put_many({"a": 1, "b": 2, "c": 3}))
        meta.write_text('{"schema_version": 2}')
        assert await storage.put("a", 4) > top
    assert json.loads(meta.read_text())["revision"] > top


_RECREATOR = textwrap.dedent(
    """
    import asyncio, json, sys
    from pepperpy.storage import Storage

    async def main():
        options = {"fsync": False} if sys.argv[2] == "filesystem" else {}
        storage = Storage.create(
            "shared", data_dir=sys.argv[1], backend=sys.argv[2], purge_interval=None, **options
        )
        versions = []
        async with storage:
            for i in range(60):
                await storage.delete("k")
                versions.append(await storage.put("k", i))
                versions.append(await storage.put(f"own/{sys.argv[3]}/{i % 3}", i))
        print(json.dumps(versions))

    asyncio.run(main())
    """
)


@pytest.mark.parametrize("backend", ["sqlite", "filesystem"])
def test_processes_recreating_one_key_never_share_a_version(tmp_path: Path, backend: str) -> None:
    """issue 18 #1: the revision is read and advanced inside the cross-process write lock."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _RECREATOR, str(tmp_path), backend, str(n)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(2)
    ]
    outputs = [proc.communicate(timeout=120)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0]
    versions = [v for out in outputs for v in json.loads(out)]
    assert len(versions) == 240
    assert len(set(versions)) == 240, "two writes got the same version"


# --------------------------------------------------------------------------- issue 26


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ({"a": [1, {2: "x"}]}, "/a/1"),  # a non-str key deep inside
        ({"a": (1, float("nan"))}, "/a/1"),  # NaN inside a tuple
        ([{"b": [float("inf")]}], "/0/b/0"),
        ({"s": "lone \ud800"}, "/s"),
    ],
)
def test_the_inline_plain_json_walk_still_refuses_what_json_cannot_carry(
    value: object, where: str
) -> None:
    """issue 26: the plain-JSON fast check walks containers without a call per scalar.
    Anything it does not vouch for must still be refused with the path of the culprit,
    as before (a dict key 2 would otherwise become "2", NaN would be written bare)."""
    from pepperpy.storage import StorageValueError
    from pepperpy.storage._codec import Codec

    with pytest.raises(StorageValueError) as info:
        Codec().encode(value, "k")
    assert where in str(info.value) or where in str(getattr(info.value, "context", ""))
