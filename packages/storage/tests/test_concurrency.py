"""Concurrency on every backend (issue 18, "close the class").

* each versioned operation against a concurrent delete/recreate of its key;
* cancellation at every await point of a ``Storage`` transaction (no stuck lock,
  no half-applied commit);
The hypothesis state machine of versions and transactions against a dict model is
in the conformance suite, ``test_storage.py``. Every test runs on memory, SQLite,
filesystem and PostgreSQL (``backend_name``).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from pepperpy.storage import (
    Backend,
    Record,
    Storage,
    Transaction,
    VersionConflictError,
    WriteOp,
)


def _create(tmp_path: Path, backend_name: str, **kwargs: Any) -> Storage:
    """A fresh store (its own directory, or its own store name in the PostgreSQL table)."""
    name = f"s{uuid.uuid4().hex[:12]}"
    options: dict[str, Any] = {"fsync": False} if backend_name == "filesystem" else {}
    return Storage.create(
        name, data_dir=tmp_path / name, backend=backend_name, purge_interval=None,
        **options, **kwargs,
    )  # fmt: skip


# --------------------------------------------------------------------------- delete/recreate


class _DeleteRecreateRace:
    """Writers doing read-modify-write on key ``k`` while another task deletes and re-creates it.

    ``writes`` collects every successful write as (version, value, version it was
    based on); ``None`` for the re-creations, which are based on nothing.
    """

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.writes: list[tuple[int, dict[str, Any], int | None]] = []

    async def recreator(self) -> None:
        for gen in range(1, 9):
            await self.storage.delete("k")
            await asyncio.sleep(0)
            value = {"gen": gen, "items": []}
            self.writes.append((await self.storage.put("k", value), value, None))
            await asyncio.sleep(0)

    async def put_writer(self, me: int) -> None:
        for _ in range(12):
            entry = await self.storage.get_entry("k")
            await asyncio.sleep(0)
            if entry is None:
                continue
            value = {"gen": entry.value["gen"], "items": [*entry.value["items"], me]}
            try:
                version = await self.storage.put("k", value, version=entry.version)
            except VersionConflictError:
                continue
            self.writes.append((version, value, entry.version))

    async def cas_writer(self, me: int) -> None:
        for _ in range(12):
            entry = await self.storage.get_entry("k")
            await asyncio.sleep(0)
            if entry is None:
                continue
            value = {"gen": entry.value["gen"], "items": [*entry.value["items"], me]}
            if await self.storage.compare_and_set("k", value, version=entry.version):
                after = await self.storage.get_entry("k")
                # Our value is there unless someone wrote after us; either way a newer one.
                assert after is None or after.version > entry.version

    async def tx_writer(self, me: int) -> None:
        for _ in range(12):
            try:
                async with self.storage.transaction() as tx:
                    current = await tx.get("k")
                    await asyncio.sleep(0)
                    if current is None:
                        tx.discard()
                        continue
                    based_on = tx._reads["k"]
                    value = {"gen": current["gen"], "items": [*current["items"], me]}
                    tx.put("k", value)
                    results = await tx.commit()
            except VersionConflictError:
                continue
            assert based_on is not None
            self.writes.append((results[0], value, based_on.version))

    def assert_no_lost_update(self) -> None:
        """Each write sits right after the one it read, in the same generation, extending it."""
        versions = [w[0] for w in self.writes]
        assert len(set(versions)) == len(versions), "a version was handed out twice"
        ordered = sorted(self.writes, key=lambda w: w[0])
        by_version = {w[0]: w for w in ordered}
        for version, value, based_on in ordered:
            if based_on is None:
                continue
            base = by_version.get(based_on)
            if base is None:
                continue  # based on a compare_and_set write (not recorded)
            assert base[1]["gen"] == value["gen"], f"v{version} crossed a delete/recreate"
            assert value["items"][: len(base[1]["items"])] == base[1]["items"]


async def test_versioned_writes_against_a_concurrent_delete_and_recreate(
    tmp_path: Path, backend_name: str
) -> None:
    """issue 18 #1: no write based on an old incarnation of a key lands on a new one.

    Writers do read-modify-write with put(version=), compare_and_set and
    transactions while another task deletes and re-creates the key. Every
    successful write records the version it was based on; sorted by version, each
    must sit right after the write it read, in the same incarnation (generation),
    and extend its items: anything else is a lost update (ABA).
    """
    storage = _create(tmp_path, backend_name)
    race = _DeleteRecreateRace(storage)
    async with storage:
        await storage.put("k", {"gen": 0, "items": []})
        first = await storage.get_entry("k")
        assert first is not None
        race.writes.append((first.version, first.value, None))
        await asyncio.gather(
            race.recreator(),
            *(race.put_writer(i) for i in range(3)),
            race.cas_writer(10),
            *(race.tx_writer(20 + i) for i in range(2)),
        )
    race.assert_no_lost_update()


# --------------------------------------------------------------------------- cancellation


class _Gate(Backend):
    """A backend wrapper that parks the caller at one chosen await point.

    Every call into the backend (``open``, reads, writes) is an await point of a
    ``Storage`` transaction. ``park_at=(n, "before"|"after")`` stops the n-th call
    before or after it reaches the real backend, until the test cancels the
    caller there: deterministic, no timing.
    """

    def __init__(self, inner: Backend, park_at: tuple[int, str] | None) -> None:
        self.inner = inner
        self.park_at = park_at
        self.calls = 0
        self.parked = asyncio.Event()
        self.name = inner.name  # type: ignore[misc]
        self.read_only = inner.read_only

    @property
    def location(self) -> str:
        return self.inner.location

    def stats(self) -> dict[str, Any]:
        return self.inner.stats()

    async def _through(self, call: Callable[[], Awaitable[Any]]) -> Any:
        self.calls += 1
        here = self.park_at is not None and self.park_at[0] == self.calls
        if here and self.park_at is not None and self.park_at[1] == "before":
            self.parked.set()
            await asyncio.Future()  # until cancelled
        result = await call()
        if here:
            self.parked.set()
            await asyncio.Future()
        return result

    async def open(self) -> None:
        await self._through(self.inner.open)

    async def close(self) -> None:
        await self.inner.close()

    async def get_many(self, keys: Sequence[str]) -> dict[str, Record]:
        result: dict[str, Record] = await self._through(lambda: self.inner.get_many(keys))
        return result

    async def write(self, ops: Sequence[WriteOp], now: float) -> list[Any]:
        result: list[Any] = await self._through(lambda: self.inner.write(ops, now))
        return result

    async def write_one(self, op: WriteOp, now: float) -> Any:
        async def one() -> Any:
            return await self.inner.write_one(op, now)

        return await self._through(one)

    async def scan(self, prefix: str, *, after: str | None, limit: int, now: float) -> list[Record]:
        return await self.inner.scan(prefix, after=after, limit=limit, now=now)

    async def count(self, prefix: str, now: float) -> int:
        return await self.inner.count(prefix, now)

    async def purge_expired(self, now: float) -> int:
        return await self.inner.purge_expired(now)


async def _move(tx: Transaction) -> None:
    alice = await tx.get("alice")
    bob = await tx.get("bob")
    tx.put("alice", alice - 30)
    tx.put("bob", bob + 30)


async def _seeded(tmp_path: Path, backend_name: str, park_at: tuple[int, str] | None) -> Storage:
    """A store holding alice=100, bob=100, reopened (not started) through a :class:`_Gate`.

    The store is not started yet, so ``open()`` is an await point of the transaction too.
    """
    seed = _create(tmp_path, backend_name)
    async with seed:
        await seed.put_many({"alice": 100, "bob": 100})
    if backend_name == "memory":
        inner = seed.backend  # the data lives in the backend object
    else:
        options: dict[str, Any] = {"fsync": False} if backend_name == "filesystem" else {}
        inner = type(seed.backend).from_options(
            name=seed.name, data_dir=tmp_path / seed.name, **options
        )
    return Storage(_Gate(inner, park_at), name=seed.name, purge_interval=None)


async def _check_invariants(storage: Storage, moved: bool | None) -> None:
    balances = await storage.get_many(["alice", "bob"])
    assert sum(balances.values()) == 200
    if moved is not None:
        assert balances == ({"alice": 70, "bob": 130} if moved else {"alice": 100, "bob": 100})
    else:
        assert balances in ({"alice": 70, "bob": 130}, {"alice": 100, "bob": 100})
    # No stuck lock or queue: the next transaction on the same keys commits at once.
    await storage.transact(_move, attempts=1)
    after = await storage.get_many(["alice", "bob"])
    assert after["alice"] == balances["alice"] - 30
    assert after["bob"] == balances["bob"] + 30
    assert storage.stats().get("pending", 0) == 0
    assert storage.is_running


async def test_cancel_at_every_await_point_of_a_transaction(
    tmp_path: Path, backend_name: str
) -> None:
    """Issue 18, close the class: cancellation at every await point of a transaction.

    asyncpg's and asyncio's contract: a cancelled caller gets CancelledError; the
    write it had handed over either commits whole or not at all, and nothing
    stays locked or queued.
    """
    counting = await _seeded(tmp_path, backend_name, None)
    async with counting:
        await counting.transact(_move, attempts=1)
    gate = counting.backend
    assert isinstance(gate, _Gate)
    points = gate.calls  # open, get alice, get bob, commit
    assert points >= 4
    for point in range(1, points + 1):
        for phase in ("before", "after"):
            storage = await _seeded(tmp_path, backend_name, (point, phase))
            gate = storage.backend
            assert isinstance(gate, _Gate)
            task = asyncio.ensure_future(storage.transact(_move, attempts=1))
            await gate.parked.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            gate.park_at = None
            committed = point == points and phase == "after"
            await _check_invariants(storage, committed)
            await storage.stop()


@pytest.mark.parametrize("steps", [0, 1, 2, 3, 5, 8, 13, 21])
async def test_cancel_inside_the_backend_during_a_transaction(
    tmp_path: Path, backend_name: str, steps: int
) -> None:
    """Cancellation wherever the backend itself awaits (threads, queues, the pool)."""
    storage = _create(tmp_path, backend_name)
    async with storage:
        await storage.put_many({"alice": 100, "bob": 100})
        for _ in range(3):
            task = asyncio.ensure_future(storage.transact(_move, attempts=1))
            for _ in range(steps):
                await asyncio.sleep(0)
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        # A cancelled commit already handed over may still land (its outcome is unknown
        # to the cancelled caller); it lands whole, and at most three are in flight.
        balances = await storage.get_many(["alice", "bob"])
        assert sum(balances.values()) == 200
        assert (100 - balances["alice"]) % 30 == 0
        await storage.transact(_move, attempts=5)
        final = await storage.get_many(["alice", "bob"])
        assert sum(final.values()) == 200
        assert final["alice"] < balances["alice"]
        assert storage.stats().get("pending", 0) == 0
