"""Issue 26: the faster write paths keep what other processes and callers rely on.

No timings here (the machine is noisy): these pin the behaviour the speed-ups
must not change.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pepperpy.storage import PostgresBackend, Storage
from pepperpy.storage._postgres import _lock_id, _lock_ids


def _lock_id_1_0_0(table: str, store: str, key: str) -> int:
    """The advisory-lock id as pepperpy-storage 1.0.0 computes it (hash of the whole string)."""
    digest = hashlib.blake2b(
        b"pepperpy.storage\x00" + f"{table}\x00{store}\x00{key}".encode(), digest_size=8
    ).digest()
    return int.from_bytes(digest, "big", signed=True)


_TEXT = st.characters(exclude_categories=("Cs",))  # keys are valid Unicode


@settings(max_examples=60, deadline=None)
@given(
    table=st.from_regex(r"[a-z_][a-z0-9_]{0,20}", fullmatch=True),
    store=st.text(_TEXT, max_size=20),
    keys=st.lists(st.text(_TEXT, min_size=1, max_size=30), max_size=20),
)
def test_lock_ids_are_those_of_1_0_0(table: str, store: str, keys: list[str]) -> None:
    """Issue 26: the per-key lock ids are a protocol between processes sharing a table.

    A 1.0.0 process and this one must take the same lock for the same key, or
    their read-then-write is no longer serialized: hashing the common prefix once
    must give exactly the ids of hashing each string whole, sorted, without duplicates.
    """
    expected = sorted({_lock_id_1_0_0(table, store, key) for key in keys})
    assert _lock_ids(table, store, keys) == expected
    assert _lock_ids(table, store, keys + keys) == expected
    for key in keys:
        assert _lock_id(table, store, key) == _lock_id_1_0_0(table, store, key)


@pytest.mark.usefixtures("postgres_schema")
async def test_postgres_pool_releases_without_a_reset_round_trip(tmp_path: Path) -> None:
    """Issue 26: a read or a batch costs no extra round trip when its connection goes back.

    asyncpg's default pool reset sends ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL`` on every release. The backend holds no session state, so it resets
    nothing; a transaction left open is still rolled back by asyncpg itself, which the
    dropped-connection and failing-batch tests in test_postgres.py cover.
    """
    storage = Storage.create("pg", data_dir=tmp_path, backend="postgres", max_size=1)
    await storage.start()
    try:
        backend = storage.backend
        assert isinstance(backend, PostgresBackend)
        sent: list[str] = []
        async with backend._pool.acquire() as conn:  # the pool's only connection
            conn.add_query_logger(lambda record: sent.append(record.query))
        sent.clear()  # what the release above sent
        await asyncio.gather(*(storage.put(f"k{i}", i) for i in range(20)))
        assert [await storage.get(f"k{i}") for i in range(20)] == list(range(20))
        assert await storage.count() == 20
        assert sent, "the logger saw no query: it is not on the connection in use"
        assert not [q for q in sent if "RESET ALL" in q or "unlock_all" in q]
    finally:
        await storage.stop()
