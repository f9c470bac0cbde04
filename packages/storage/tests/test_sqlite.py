"""Tests for pepperpy.storage._sqlite: group commit, durability, concurrency, failures."""

from __future__ import annotations

import asyncio
import os
import signal
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
    Entry,
    SQLiteBackend,
    Storage,
    StorageError,
    VersionConflictError,
)


def make(tmp_path: Path, name: str = "db", **options: object) -> Storage:
    return Storage.create(name, data_dir=tmp_path, purge_interval=None, **options)


async def test_wal_mode_and_schema_version(tmp_path: Path) -> None:
    async with make(tmp_path) as storage:
        await storage.put("k", 1)
        backend = storage.backend
        assert isinstance(backend, SQLiteBackend)
        assert await backend.schema_version() == SCHEMA_VERSION
    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        version = "SELECT value FROM pepperpy_meta WHERE key = 'schema_version'"
        assert conn.execute(version).fetchone()[0] == str(SCHEMA_VERSION)


async def test_concurrent_puts_are_group_committed(tmp_path: Path) -> None:
    async with make(tmp_path) as storage:
        backend = storage.backend
        assert isinstance(backend, SQLiteBackend)
        before = backend.batches
        versions = await asyncio.gather(*(storage.put(f"k{i}", i) for i in range(300)))
        assert sorted(versions) == list(range(1, 301))  # one store-wide revision each
        assert backend.batches - before < 30  # far fewer commits than puts
        assert await storage.count() == 300
        stats = storage.stats()
        assert stats["backend"] == "sqlite"
        assert stats["operations"] >= 300
        assert stats["operations"] / stats["batches"] > 5
        assert stats["pending"] == 0


async def test_one_conflict_does_not_fail_its_batch(tmp_path: Path) -> None:
    async with make(tmp_path) as storage:
        await storage.put("guarded", "v1")
        results = await asyncio.gather(
            *(storage.put(f"ok{i}", i) for i in range(20)),
            storage.put("guarded", "stale", version=7),
            storage.incr("counter"),
            return_exceptions=True,
        )
        assert len(set(results[:20])) == 20 and all(isinstance(v, int) for v in results[:20])
        assert isinstance(results[20], VersionConflictError)
        assert results[21] == 1
        assert await storage.get("guarded") == "v1"
        assert await storage.count("ok") == 20


async def test_sql_failure_is_isolated_to_its_caller(tmp_path: Path) -> None:
    async with make(tmp_path) as storage:
        await storage.put("setup", 1)
    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        conn.execute(
            "CREATE TRIGGER poison BEFORE INSERT ON kv WHEN NEW.key = 'poison' "
            "BEGIN SELECT RAISE(ABORT, 'poisoned key'); END"
        )
    async with make(tmp_path) as storage:
        results = await asyncio.gather(
            *(storage.put(f"good{i}", i) for i in range(10)),
            storage.put("poison", 1),
            *(storage.put(f"more{i}", i) for i in range(10)),
            return_exceptions=True,
        )
        good = results[:10] + results[11:]
        assert len(set(good)) == 20 and all(isinstance(v, int) for v in good)
        assert isinstance(results[10], StorageError)
        assert "poisoned key" in str(results[10])
        assert await storage.count() == 21


_WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from pepperpy.storage import Storage

    async def main():
        storage = Storage.create("db", data_dir=sys.argv[1], purge_interval=None)
        i = 0
        while True:
            await storage.put(f"key{i:06d}", {"i": i})
            print(i, flush=True)
            i += 1

    asyncio.run(main())
    """
)


@pytest.mark.parametrize("round_", range(3))
def test_committed_put_survives_kill_9(tmp_path: Path, round_: int) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    acknowledged = -1
    for _ in range(30 + 40 * round_):
        acknowledged = int(proc.stdout.readline())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    async def check() -> None:
        async with make(tmp_path) as storage:
            for i in range(acknowledged + 1):
                assert await storage.get(f"key{i:06d}") == {"i": i}

    asyncio.run(check())
    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


_CONCURRENT = textwrap.dedent(
    """
    import asyncio, sys
    from pepperpy.storage import Storage

    async def main():
        name = sys.argv[2]
        async with Storage.create("db", data_dir=sys.argv[1], purge_interval=None) as storage:
            for i in range(0, 200, 20):
                await asyncio.gather(
                    *(storage.put(f"{name}/{j:04d}", j) for j in range(i, i + 20)),
                    *(storage.incr("shared") for _ in range(5)),
                )
        print("done", flush=True)

    asyncio.run(main())
    """
)


def test_two_processes_write_concurrently_without_corruption(tmp_path: Path) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CONCURRENT, str(tmp_path), name],
            stdout=subprocess.PIPE,
            text=True,
        )
        for name in ("p1", "p2")
    ]
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        assert out.strip() == "done"

    async def check() -> None:
        async with make(tmp_path) as storage:
            for name in ("p1", "p2"):
                assert await storage.count(f"{name}/") == 200
                page = await storage.scan(f"{name}/", limit=200)
                assert page.values() == list(range(200))
            assert await storage.get("shared") == 100

    asyncio.run(check())
    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


_OPEN = textwrap.dedent(
    """
    import asyncio, sys
    from pepperpy.storage import Storage

    async def main():
        async with Storage.create("db", data_dir=sys.argv[1], purge_interval=None) as storage:
            await storage.incr("opened")
        print("done", flush=True)

    asyncio.run(main())
    """
)


def test_processes_opening_a_new_file_at_once_all_succeed(tmp_path: Path) -> None:
    """Each switches the new file to WAL and migrates it; SQLite's instant BUSY is retried."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _OPEN, str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert out.strip() == "done"

    async def check() -> None:
        async with make(tmp_path) as storage:
            assert await storage.get("opened") == 6

    asyncio.run(check())


async def test_corrupted_file_gives_clear_error(tmp_path: Path) -> None:
    (tmp_path / "db.sqlite3").write_bytes(b"this is not a database" * 100)
    storage = make(tmp_path)
    with pytest.raises(StorageError) as info:
        await storage.get("k")
    assert info.value.code == "pepperpy.storage.corrupted"
    assert info.value.context["path"] == str(tmp_path / "db.sqlite3")
    assert "import_jsonl" in (info.value.hint or "")
    assert (tmp_path / "db.sqlite3").read_bytes().startswith(b"this is not")


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    async with make(tmp_path) as storage:
        await storage.put("k", 1)
    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        conn.execute("UPDATE pepperpy_meta SET value = '999' WHERE key = 'schema_version'")
    with pytest.raises(StorageError, match="schema 999") as info:
        await make(tmp_path).start()
    assert info.value.code == "pepperpy.storage.schema"


async def test_read_only_database_keeps_data(
    tmp_path: Path, read_only: Callable[[Path], None]
) -> None:
    async with make(tmp_path) as storage:
        await storage.put("kept", {"precious": True})
    read_only(tmp_path / "db.sqlite3")
    read_only(tmp_path)
    storage = make(tmp_path)
    try:
        with pytest.raises(StorageError) as info:
            await storage.start()
            await storage.put("new", 1)
        assert info.value.code in ("pepperpy.storage.read_only", "pepperpy.storage.unavailable")
        assert str(tmp_path) in str(info.value.context["path"])
        assert info.value.hint
    finally:
        await storage.stop()
    # The committed value is still in the (checkpointed) database file.
    assert b'{"precious":true}' in (tmp_path / "db.sqlite3").read_bytes()


async def test_read_only_file_still_reads_and_refuses_writes_clearly(
    tmp_path: Path, read_only: Callable[[Path], None]
) -> None:
    async with make(tmp_path) as storage:
        await storage.put("kept", {"precious": True})
    read_only(tmp_path / "db.sqlite3")
    async with make(tmp_path) as storage:
        assert await storage.get("kept") == {"precious": True}
        with pytest.raises(StorageError) as info:
            await storage.put("new", 1)
        assert info.value.code == "pepperpy.storage.read_only"
        assert "read-only" in info.value.message
        assert "Nothing was lost" in (info.value.hint or "")
        assert await storage.get("kept") == {"precious": True}
        assert await storage.get("new") is None


async def test_unwritable_data_dir_gives_clear_error(
    tmp_path: Path, read_only: Callable[[Path], None]
) -> None:
    read_only(tmp_path)
    with pytest.raises(StorageError) as info:
        await make(tmp_path / "sub").put("k", 1)
    assert info.value.code == "pepperpy.storage.read_only"
    assert "data_dir" in (info.value.hint or "")


async def test_data_dir_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StorageError) as info:
        await make(tmp_path / "file").put("k", 1)
    assert str(tmp_path / "file") in str(info.value.context["path"])


async def test_writes_after_close_are_refused(tmp_path: Path) -> None:
    backend = SQLiteBackend(tmp_path / "x.sqlite3")
    await backend.open()
    await backend.close()
    with pytest.raises(StorageError, match="closed"):
        await backend.write([], 0.0)


def test_bad_options(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError):
        SQLiteBackend(tmp_path / "x", synchronous="sometimes")
    with pytest.raises(InvalidArgumentError):
        SQLiteBackend(tmp_path / "x", readers=0)


async def test_full_synchronous_mode_and_concurrent_reads(tmp_path: Path) -> None:
    async with make(tmp_path, synchronous="full", readers=3) as storage:
        await storage.put_many({f"k{i}": i for i in range(50)})
        values = await asyncio.gather(*(storage.get(f"k{i % 60}") for i in range(120)))
        assert values == [i % 60 if i % 60 < 50 else None for i in range(120)]


@pytest.fixture
def tiny_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A 512 KiB tmpfs (needs root and mount rights; skipped elsewhere)."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


async def test_full_disk_gives_clear_error_and_loses_nothing(tiny_disk: Path) -> None:
    async with make(tiny_disk) as storage:
        await storage.put("committed", {"safe": True})
        blob = "x" * 20_000
        with pytest.raises(StorageError) as info:
            for i in range(200):
                await storage.put(f"fill/{i}", blob)
        assert info.value.code in ("pepperpy.storage.disk_full", "pepperpy.storage.unavailable")
        assert info.value.context["path"] == str(tiny_disk / "db.sqlite3")
        assert await storage.get("committed") == {"safe": True}


async def test_repeated_key_in_one_batch_gets_consecutive_versions(tmp_path: Path) -> None:
    async with make(tmp_path) as storage:
        versions = await asyncio.gather(
            storage.put("a", 1), storage.put("b", 1), storage.put("a", 2), storage.put("a", 3)
        )
        assert versions == [1, 2, 3, 4]  # in submission order, one revision each
        assert await storage.get_entry("a") == Entry("a", 3, 4, None)
        more = await asyncio.gather(*(storage.put(f"x{i}", i, ttl=60) for i in range(5)))
        assert more == [5, 6, 7, 8, 9]
        entry = await storage.get_entry("x3")
        assert entry is not None
        assert entry.expires_at is not None


_FORGETFUL = textwrap.dedent(
    """
    import asyncio, sys
    from pepperpy.storage import Storage

    storage = Storage.create("db", data_dir=sys.argv[1])   # never stopped

    async def main():
        await storage.put("k", "kept")
        assert await storage.get("k") == "kept"

    asyncio.run(main())
    """
)


def test_process_exits_without_stop_and_keeps_data(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _FORGETFUL, str(tmp_path)], timeout=60, check=False
    )
    assert result.returncode == 0

    async def check() -> None:
        async with make(tmp_path) as storage:
            assert await storage.get("k") == "kept"

    asyncio.run(check())


async def test_read_cache_never_serves_stale_values(tmp_path: Path) -> None:
    async with make(tmp_path) as storage:
        backend = storage.backend
        assert isinstance(backend, SQLiteBackend)
        await storage.put("k", "v1")
        assert await storage.get("k") == "v1"
        assert await storage.get("k") == "v1"
        assert await storage.get("absent") is None
        assert await storage.get("absent") is None
        assert backend.cache_hits >= 2
        # Another connection in this process commits behind the store's back.
        with sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None) as conn:
            conn.execute("UPDATE kv SET value = ?, version = version + 1", (b'"v2"',))
        assert await storage.get("k") == "v2"
        # Another process commits.
        script = (
            "import asyncio, sys\n"
            "from pepperpy.storage import Storage\n"
            "async def main():\n"
            "    async with Storage.create('db', data_dir=sys.argv[1]) as s:\n"
            "        await s.put('k', 'v3')\n"
            "        await s.put('absent', 'now here')\n"
            "asyncio.run(main())\n"
        )
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", script, str(tmp_path))
        assert await proc.wait() == 0
        assert await storage.get("k") == "v3"
        assert await storage.get("absent") == "now here"
        # Its own writes too.
        await storage.put("k", "v4")
        assert await storage.get("k") == "v4"


async def test_read_cache_can_be_disabled(tmp_path: Path) -> None:
    async with make(tmp_path, read_cache=0) as storage:
        await storage.put("k", 1)
        assert await storage.get("k") == 1
        assert await storage.get("k") == 1
        backend = storage.backend
        assert isinstance(backend, SQLiteBackend)
        assert backend.cache_hits == 0
