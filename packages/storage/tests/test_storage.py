"""Tests for pepperpy.storage._storage (behaviour shared by every backend)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from pepperpy.core import (
    ClosedError,
    ConfigurationError,
    ConflictError,
    InvalidArgumentError,
    ManualClock,
    ValidationError,
)
from pepperpy.storage import (
    DATA_DIR_ENV,
    Entry,
    Storage,
    StorageKeyError,
    StorageValueError,
    Transaction,
    VersionConflictError,
)


@attrs.define
class User:
    id: str
    name: str
    tags: list[str] = attrs.Factory(list)


async def test_put_get_delete_and_versions(store: Storage) -> None:
    assert await store.get("missing") is None
    assert await store.get("missing", "dflt") == "dflt"
    assert await store.put("a", {"x": [1, 2.5, None, True, "é"]}) == 1
    assert await store.get("a") == {"x": [1, 2.5, None, True, "é"]}
    assert await store.put("a", "second") == 2
    entry = await store.get_entry("a")
    assert entry == Entry("a", "second", 2, None)
    assert await store.exists("a")
    assert await store.delete("a") is True
    assert await store.delete("a") is False
    assert not await store.exists("a")
    assert await store.get_entry("a") is None


async def test_ttl_expiry_with_manual_clock(store: Storage, clock: ManualClock) -> None:
    await store.put("session", {"u": 1}, ttl=10)
    await store.put("forever", 1)
    await store.put("later", 2, ttl="1h")
    entry = await store.get_entry("session")
    assert entry is not None
    assert entry.expires_at == clock.time() + 10
    clock.advance_sync(11)
    assert await store.get("session") is None
    assert not await store.exists("session")
    assert await store.count() == 2
    assert (await store.scan()).keys() == ["forever", "later"]
    assert await store.purge_expired() == 1
    # An expired key counts as absent for create-only writes.
    await store.put("later", 3, ttl=5)
    clock.advance_sync(6)
    assert await store.compare_and_set("later", 4, version=0)
    with pytest.raises(InvalidArgumentError):
        await store.put("x", 1, ttl=0)
    with pytest.raises(InvalidArgumentError):
        await store.put("x", 1, ttl="soon")


async def test_compare_and_set_and_conditional_writes(store: Storage) -> None:
    assert await store.compare_and_set("k", "v1", version=0)
    assert not await store.compare_and_set("k", "v1b", version=0)
    assert await store.compare_and_set("k", "v2", version=1)
    assert not await store.compare_and_set("k", "v3", version=1)
    assert await store.get("k") == "v2"
    entry = await store.get_entry("k")
    assert entry is not None
    with pytest.raises(VersionConflictError) as info:
        await store.put("k", "v3", version=500)
    assert info.value.context == {"key": "k", "expected": 500, "actual": entry.version}
    assert isinstance(info.value, ConflictError)
    with pytest.raises(VersionConflictError):
        await store.delete("k", version=1)
    assert await store.delete("k", version=entry.version)
    with pytest.raises(InvalidArgumentError):
        await store.put("k", 1, version=-1)


async def test_counters(store: Storage, clock: ManualClock) -> None:
    assert await store.incr("hits") == 1
    assert await store.incr("hits", 10) == 11
    assert await store.decr("hits", 2) == 9
    assert await store.get("hits") == 9
    await store.incr("temp", ttl=5)
    await store.incr("temp")  # keeps the TTL
    clock.advance_sync(6)
    assert await store.get("temp") is None
    assert await store.incr("temp") == 1  # an expired counter restarts
    await store.put("text", "abc")
    with pytest.raises(StorageValueError, match="not an integer"):
        await store.incr("text")
    with pytest.raises(InvalidArgumentError):
        await store.incr("hits", 1.5)  # type: ignore[arg-type]
    results = await asyncio.gather(*(store.incr("race") for _ in range(50)))
    assert sorted(results) == list(range(1, 51))


async def test_many_operations_are_atomic(store: Storage) -> None:
    versions = await store.put_many({"a": 1, "b": 2, "c": 3})
    assert len(set(versions)) == 3 and min(versions) >= 1  # store-wide revisions
    assert await store.get_many(["a", "c", "zz"]) == {"a": 1, "c": 3}
    assert await store.get_many([]) == {}
    with pytest.raises(StorageValueError):
        await store.put_many([("d", 4), ("e", object())])
    assert await store.get("d") is None
    assert await store.delete_many(["a", "b", "zz"]) == 2
    assert await store.keys() == ["c"]


async def test_scan_pagination(store: Storage) -> None:
    keys = [f"user/{i:03d}" for i in range(25)] + ["other", "user"]
    await store.put_many({key: key for key in keys})
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await store.scan("user/", limit=10, cursor=cursor)
        seen.extend(page.keys())
        pages += 1
        cursor = page.cursor
        if cursor is None:
            break
    assert seen == sorted(k for k in keys if k.startswith("user/"))
    assert pages == 3
    assert [k async for k, _ in store.items("user/", batch_size=7)] == seen
    assert await store.count("user/") == 25
    assert await store.count() == 27
    with pytest.raises(InvalidArgumentError):
        await store.scan(limit=0)
    with pytest.raises(InvalidArgumentError):
        await store.scan(cursor=5)  # type: ignore[arg-type]
    assert await store.clear("user/") == 25
    assert await store.keys() == ["other", "user"]


async def test_transactions(store: Storage) -> None:
    await store.put_many({"alice": 100, "bob": 0})
    async with store.transaction() as tx:
        alice = await tx.get("alice")
        bob = await tx.get("bob")
        tx.put("alice", alice - 30)
        tx.put("bob", bob + 30)
        assert await tx.get("alice") == 70  # reads its own writes
    assert await store.get_many(["alice", "bob"]) == {"alice": 70, "bob": 30}

    with pytest.raises(VersionConflictError):
        async with store.transaction() as tx:
            alice = await tx.get("alice")
            await store.put("alice", 0)  # someone else writes first
            tx.put("alice", alice - 10)
            tx.put("bob", 999)
    assert await store.get_many(["alice", "bob"]) == {"alice": 0, "bob": 30}

    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            tx.put("bob", 1)
            raise RuntimeError("abort")
    assert await store.get("bob") == 30

    async with store.transaction() as tx:
        tx.delete("bob")
        tx.incr("counter", 5)
        assert await tx.get("bob", "gone") == "gone"
    assert await store.get("bob") is None
    assert await store.get("counter") == 5


async def test_transact_retries_conflicts(store: Storage) -> None:
    await store.put("n", 0)
    interfered = False

    async def bump(tx):  # type: ignore[no-untyped-def]
        nonlocal interfered
        value = await tx.get("n")
        if not interfered:
            interfered = True
            await store.put("n", 100)
        tx.put("n", value + 1)
        return value

    assert await store.transact(bump) == 100
    assert await store.get("n") == 101


async def test_typed_collections(store: Storage) -> None:
    users = store.collection("users", User)
    assert await users.save(User("ada", "Ada", ["math"])) == "ada"
    await users.put("bob", User("bob", "Bob"))
    ada = await users.get("ada")
    assert ada == User("ada", "Ada", ["math"])
    assert await users.get("nobody") is None
    page = await users.scan(limit=1)
    assert page.items == [("ada", User("ada", "Ada", ["math"]))]
    assert page.cursor is not None
    assert await users.all() == [User("ada", "Ada", ["math"]), User("bob", "Bob")]
    assert await users.count() == 2
    assert await store.get("users/ada") == {"id": "ada", "name": "Ada", "tags": ["math"]}
    entry = await users.get_entry("bob")
    assert entry is not None
    assert await users.compare_and_set("bob", User("bob", "Robert"), version=entry.version)
    assert (await users.get_many(["bob", "x"])) == {"bob": User("bob", "Robert")}
    with pytest.raises(InvalidArgumentError, match="expected a User"):
        await users.put("x", {"id": "x"})  # type: ignore[arg-type]
    await store.put("users/broken", {"id": 1})
    with pytest.raises(ValidationError):
        await users.get("broken")
    assert await users.delete("ada")
    assert await users.clear() == 2


async def test_save_as_pipeline_step(store: Storage) -> None:
    assert await store.save({"id": 7, "name": "x"}) == "records/7"
    assert await store.save(User("u1", "U")) == "user/u1"
    generated = await store.save({"name": "no id"})
    assert generated.startswith("records/")
    assert await store.get(generated) == {"name": "no id"}
    assert await store.save({"a": 1}, key="explicit") == "explicit"


async def test_export_import_round_trip(store: Storage, tmp_path: Path, clock: ManualClock) -> None:
    await store.put_many({"a": {"n": 1}, "b": [1, 2]})
    await store.put("t", "ttl", ttl=100)
    target = tmp_path / "backup.jsonl"
    assert await store.export_jsonl(target) == 3
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert lines[0] == {"key": "a", "value": {"n": 1}, "expires_at": None}
    other = Storage.create("copy", data_dir=tmp_path / "copy", backend="memory", clock=clock)
    async with other:
        assert await other.import_jsonl(target) == 3
        assert await other.get_many(["a", "b", "t"]) == {"a": {"n": 1}, "b": [1, 2], "t": "ttl"}
        entry = await other.get_entry("t")
        assert entry is not None
        assert entry.expires_at == clock.time() + 100
        target.write_text('{"key": "ok", "value": 1}\nnot json\n')
        with pytest.raises(StorageValueError, match="line 2"):
            await other.import_jsonl(target)
        assert await other.get("ok") is None  # nothing written


@pytest.mark.parametrize(
    ("key", "match"),
    [
        ("", "empty"),
        ("x" * 1025, "limit is 1024"),
        (42, "must be a str"),
        (None, "must be a str"),
        ("a\x00b", "NUL"),
        ("bad\ud800", "surrogate"),
    ],
)
async def test_bad_keys(store: Storage, key: object, match: str) -> None:
    with pytest.raises(StorageKeyError, match=match):
        await store.put(key, 1)  # type: ignore[arg-type]
    with pytest.raises(StorageKeyError):
        await store.get(key)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "path"),
    [
        (object(), "/"),
        ({"a": {"b": float("nan")}}, "/a/b"),
        ({"a": [1, {2: "x"}]}, "/a/1"),
        ({"s": {1, object()}}, "/s"),
        ({"a/b": ["\udcff"]}, "/a~1b/0"),
    ],
)
async def test_bad_values_are_refused_before_writing(
    store: Storage, value: object, path: str
) -> None:
    with pytest.raises(StorageValueError) as info:
        await store.put("k", value)
    assert info.value.context["key"] == "k"
    assert info.value.context["path"] == path
    assert await store.get("k") is None


async def test_non_json_values_are_converted_by_serialization(store: Storage) -> None:
    import datetime

    await store.put("k", {"when": datetime.date(2026, 11, 26), "tags": {"a"}, "raw": b"\x00"})
    assert await store.get("k") == {"when": "2026-11-26", "tags": ["a"], "raw": "AA=="}
    await store.put("b", b"\x01\x02")
    assert await store.get("b", type=bytes) == b"\x01\x02"
    await store.put("users", [User("a", "A")])
    assert await store.get("users", type=list[User]) == [User("a", "A")]


async def test_recursive_value_is_refused(store: Storage) -> None:
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(StorageValueError, match="deeper"):
        await store.put("k", loop)


async def test_closed_store_refuses_work(tmp_path: Path, backend_name: str) -> None:
    storage = Storage.create("s", data_dir=tmp_path, backend=backend_name)
    await storage.put("auto", "started")  # starts on first use
    assert storage.is_running
    await storage.stop()
    with pytest.raises(ClosedError):
        await storage.get("auto")
    async with storage:  # can be started again
        assert await storage.get("auto") == "started"


def test_create_validation(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="invalid store name"):
        Storage.create("../escape", data_dir=tmp_path)
    with pytest.raises(ConfigurationError, match="no storage backend named"):
        Storage.create("x", data_dir=tmp_path, backend="nope")
    with pytest.raises(InvalidArgumentError, match="format"):
        Storage.create("x", data_dir=tmp_path, format="nope")
    with pytest.raises(InvalidArgumentError):
        Storage(object())  # type: ignore[arg-type]


async def test_default_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    async with Storage.create("data") as storage:
        await storage.put("k", 1)
    assert (tmp_path / "data" / "data.sqlite3").exists()
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "elsewhere"))
    async with Storage.create() as storage:
        await storage.put("k", 2)
    assert (tmp_path / "elsewhere" / "data.sqlite3").exists()


async def test_background_purge(tmp_path: Path) -> None:
    clock = ManualClock()
    storage = Storage.create("p", data_dir=tmp_path, clock=clock, purge_interval=30)
    async with storage:
        await storage.put("old", 1, ttl=10)
        await storage.put("new", 1)
        await clock.advance(31)
        for _ in range(50):
            if await storage.count() == 1 and not await _raw_has(storage, "old"):
                break
            await asyncio.sleep(0.01)
        assert not await _raw_has(storage, "old")


async def _raw_has(storage: Storage, key: str) -> bool:
    return key in await storage.backend.get_many([key])


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=json_values, key=st.text(min_size=1, max_size=40).filter(lambda k: "\x00" not in k))
def test_any_json_value_round_trips(tmp_path: Path, value: object, key: str) -> None:
    async def run() -> None:
        async with Storage.create("h", data_dir=tmp_path, purge_interval=None) as storage:
            await storage.put(key, value)
            assert await storage.get(key) == value
            assert await storage.keys() == [key] or key in await storage.keys()
            await storage.delete(key)

    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return
    asyncio.run(run())


def test_store_survives_several_event_loops(tmp_path: Path, backend_name: str) -> None:
    storage = Storage.create("loops", data_dir=tmp_path, backend=backend_name)

    async def first() -> None:
        await storage.put("a", 1)
        assert await storage.get("a") == 1

    async def second() -> None:
        await storage.put("b", 2)
        assert await storage.get_many(["a", "b"]) == {"a": 1, "b": 2}
        assert await storage.get("a") == 1
        assert await storage.incr("n") == 1
        await storage.stop()

    asyncio.run(first())
    asyncio.run(second())


async def test_msgpack_format(tmp_path: Path) -> None:
    pytest.importorskip("msgpack")
    async with Storage.create("mp", data_dir=tmp_path, format="msgpack") as storage:
        await storage.put("k", {"a": [1, 2.5, "x", None]})
        assert await storage.get("k") == {"a": [1, 2.5, "x", None]}
        await storage.put("u", User("1", "One"))
        assert await storage.get("u", type=User) == User("1", "One")
        assert await storage.incr("n", 3) == 3
        with pytest.raises(StorageValueError):
            await storage.put("bad", {"x": object()})


_key_chars = st.sampled_from(["a", "b", "/", "é", "\uffff", "\U0010ffff", "0"])


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    keys=st.sets(st.lists(_key_chars, min_size=1, max_size=4).map("".join), max_size=25),
    prefix=st.lists(_key_chars, max_size=2).map("".join),
    limit=st.integers(1, 6),
)
def test_scan_matches_a_sorted_model(
    tmp_path: Path, keys: set[str], prefix: str, limit: int
) -> None:
    expected = sorted(k for k in keys if k.startswith(prefix))

    async def run(backend: str) -> None:
        storage = Storage.create("scan", data_dir=tmp_path / backend, backend=backend)
        async with storage:
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

    for backend in ("memory", "sqlite"):
        asyncio.run(run(backend))


async def test_export_streams_many_pages(tmp_path: Path) -> None:
    async with Storage.create("big", backend="memory") as storage:
        await storage.put_many({f"k{i:05d}": i for i in range(1203)})
        target = tmp_path / "big.jsonl"
        assert await storage.export_jsonl(target) == 1203
        assert await storage.export_jsonl(tmp_path / "part.jsonl", prefix="k011") == 100
    async with Storage.create("copy", backend="memory") as other:
        assert await other.import_jsonl(target) == 1203
        assert await other.get("k01202") == 1202
        assert await other.count() == 1203


async def test_concurrent_transfers_conserve_the_total(store: Storage) -> None:
    import random

    accounts = [f"acct/{i}" for i in range(6)]
    await store.put_many({a: 100 for a in accounts})
    rng = random.Random(7)

    async def transfer(src: str, dst: str, amount: int) -> None:
        async def move(tx):  # type: ignore[no-untyped-def]
            a = await tx.get(src)
            b = await tx.get(dst)
            if a >= amount:
                tx.put(src, a - amount)
                tx.put(dst, b + amount)

        await store.transact(move, attempts=200)

    jobs = []
    for _ in range(40):
        src, dst = rng.sample(accounts, 2)
        jobs.append(transfer(src, dst, rng.randint(1, 60)))
    await asyncio.gather(*jobs)
    balances = await store.get_many(accounts)
    assert sum(balances.values()) == 600
    assert all(v >= 0 for v in balances.values())


# --------------------------------------------------------------------------- issue 18
# The conformance tests below run on every backend (memory, SQLite, filesystem and
# PostgreSQL) through the ``store`` fixture.


async def test_versions_never_repeat_after_delete_and_recreate(store: Storage) -> None:
    """issue 18 #1: put A (v1), delete, put B must not be v1 again (ABA).

    etcd's mod_revision is the model: a store-wide revision, so a version is never
    handed out twice for a key while the store exists.
    """
    first = await store.put("k", "A")
    assert await store.delete("k")
    second = await store.put("k", "B")
    assert second > first
    assert not await store.compare_and_set("k", "stale writer", version=first)
    with pytest.raises(VersionConflictError):
        await store.put("k", "stale writer", version=first)
    with pytest.raises(VersionConflictError):
        await store.delete("k", version=first)
    assert await store.get("k") == "B"
    # The same through a transaction delete, a delete_many and an incr.
    async with store.transaction() as tx:
        tx.delete("k")
    third = await store.put("k", "C")
    assert third > second
    assert not await store.compare_and_set("k", "x", version=second)
    await store.incr("n")
    counter_v1 = (await store.get_entry("n")).version  # type: ignore[union-attr]
    assert await store.delete_many(["n"]) == 1
    await store.incr("n")
    assert (await store.get_entry("n")).version > counter_v1  # type: ignore[union-attr]
    assert await store.get("k") == "C"


async def test_versions_never_repeat_after_purging_expired_rows(
    store: Storage, clock: ManualClock
) -> None:
    """issue 18 #1: purging expired rows must not reset a key's versions."""
    old = await store.put("session", "old", ttl=10)
    clock.advance_sync(11)
    assert await store.purge_expired() == 1
    new = await store.put("session", "new")
    assert new > old
    assert not await store.compare_and_set("session", "stale", version=old)
    assert await store.get("session") == "new"
    # An expired row that is still present (not purged yet) is overwritten with a new version.
    v = await store.put("t", 1, ttl=5)
    clock.advance_sync(6)
    assert await store.compare_and_set("t", 2, version=0)
    assert (await store.get_entry("t")).version > v  # type: ignore[union-attr]


async def test_versions_never_repeat_across_a_restart(tmp_path: Path, backend_name: str) -> None:
    """issue 18 #1: the revision survives stop/start (and reopening the same data)."""
    storage = Storage.create("restart", data_dir=tmp_path, backend=backend_name)
    async with storage:
        v1 = await storage.put("k", "A")
        await storage.delete("k")
    async with storage:
        assert await storage.put("k", "B") > v1
        assert not await storage.compare_and_set("k", "stale", version=v1)
    if backend_name != "memory":  # a second handle on the same data (another process)
        async with Storage.create("restart", data_dir=tmp_path, backend=backend_name) as other:
            await other.delete("k")
            v3 = await other.put("k", "C")
        async with storage:
            assert await storage.put("k", "D", version=v3) > v3


async def test_transaction_fails_over_a_delete_and_recreate(store: Storage) -> None:
    """issue 18 #1: a transaction that read v1 must not commit over delete + recreate.

    On main it did: the tx read 100 at v1, another client deleted the key and wrote 5
    (v1 again), the tx wrote 100 - 10 and 90 replaced 5 (a lost update).
    """
    await store.put("n", 100)
    with pytest.raises(VersionConflictError):
        async with store.transaction() as tx:
            value = await tx.get("n")
            await store.delete("n")
            await store.put("n", 5)
            tx.put("n", value - 10)
    assert await store.get("n") == 5
    # Read-only transactions check the same way (a missing key read as absent, too).
    with pytest.raises(VersionConflictError):
        async with store.transaction() as tx:
            assert await tx.get("n") == 5
            assert await tx.get("absent") is None
            await store.delete("n")
            await store.put("n", 5)


async def test_transaction_reads_its_own_writes(store: Storage) -> None:
    """issue 18 #2: every read in a transaction sees its earlier put, delete and incr."""
    await store.put("n", 5)
    async with store.transaction() as tx:
        tx.incr("n", 10)
        assert await tx.get("n") == 15  # was 5 on main
        tx.incr("n", -3)
        assert await tx.get("n") == 12
        tx.delete("n")
        assert await tx.get("n", "gone") == "gone"
        tx.incr("n", 2)  # a deleted counter restarts from 0
        assert await tx.get("n") == 2
        tx.put("n", 40)
        tx.incr("n")
        assert await tx.get("n") == 41
        tx.incr("fresh", 7)
        assert await tx.get("fresh") == 7
        tx.put("user", User("u", "U"))
        assert await tx.get("user", type=User) == User("u", "U")
        assert await tx.get("user") == {"id": "u", "name": "U", "tags": []}
    assert await store.get_many(["n", "fresh"]) == {"n": 41, "fresh": 7}
    # incr on a stored counter read inside the tx: the value seen is the one committed.
    async with store.transaction() as tx:
        tx.incr("n", 1)
        seen = await tx.get("n")
    assert seen == 42
    assert await store.get("n") == 42
    # If the counter moved under the tx after it was read through the incr, commit fails.
    with pytest.raises(VersionConflictError):
        async with store.transaction() as tx:
            tx.incr("n", 1)
            assert await tx.get("n") == 43
            await store.put("n", 0)
    assert await store.get("n") == 0
    # Reading a non-counter after a staged incr is refused like the commit would be.
    await store.put("text", "abc")
    async with store.transaction() as tx:
        tx.incr("text")
        with pytest.raises(StorageValueError, match="not an integer"):
            await tx.get("text")
        tx.discard()


async def test_transaction_reads_its_own_writes_with_ttls(
    store: Storage, clock: ManualClock
) -> None:
    """issue 18 #2: a staged write's TTL counts for the transaction's own reads too."""
    await store.put("n", 5, ttl=100)
    async with store.transaction() as tx:
        tx.put("t", "soon", ttl=5)
        tx.incr("n", 1)  # keeps the stored TTL, as incr does
        assert await tx.get("t") == "soon"
        clock.advance_sync(6)
        assert await tx.get("t", "expired") == "expired"
        assert await tx.get("n") == 6
    assert await store.get("t") is None
    entry = await store.get_entry("n")
    assert entry is not None
    assert entry.value == 6
    assert entry.expires_at == clock.time() - 6 + 100


_SCAN_KEYS = [
    "x",
    "x\ud7ff",
    "x\ud7ffa",
    "x\ud7ff\U0010ffff",
    "x\ue000",
    "x\uffff",
    "x\U0010ffff",
    "x\U0010ffffa",
    "x\U0010ffff\U0010ffff",
    "y",
    "\U0010ffff",
    "\U0010ffff\U0010ffff",
]


@pytest.mark.parametrize(
    "prefix",
    ["x\ud7ff", "x\ud7fe", "x", "x\U0010ffff", "x\U0010ffff\U0010ffff", "\U0010ffff", "x\uffff"],
)
async def test_scan_prefixes_next_to_the_surrogate_range(store: Storage, prefix: str) -> None:
    """issue 18 #3: prefix ends skip U+D800..U+DFFF; prefixes ending in U+10FFFF work."""
    await store.put_many({key: key for key in _SCAN_KEYS})
    expected = sorted(key for key in _SCAN_KEYS if key.startswith(prefix))
    assert (await store.scan(prefix, limit=100)).keys() == expected
    assert await store.count(prefix) == len(expected)
    assert await store.keys(prefix) == expected
    first = await store.scan(prefix, limit=1)
    if len(expected) > 1:
        assert first.cursor == expected[0]
        rest = await store.scan(prefix, limit=100, cursor=first.cursor)
        assert rest.keys() == expected[1:]


@pytest.mark.parametrize("prefix", ["\ud800", "x\udfff", "a\ud800b", "\x00", "a\x00"])
async def test_scan_with_an_impossible_prefix_is_a_key_error(store: Storage, prefix: str) -> None:
    """issue 18 #3: a prefix no key can have raises StorageKeyError, never UnicodeEncodeError."""
    await store.put("a", 1)
    with pytest.raises(StorageKeyError):
        await store.scan(prefix)
    with pytest.raises(StorageKeyError):
        await store.count(prefix)
    with pytest.raises(StorageKeyError):
        await store.clear(prefix)
    with pytest.raises(StorageKeyError):
        await store.scan("a", cursor=prefix)
    assert await store.keys() == ["a"]


@example(prefix="x\ud7ff")
@example(prefix="\U0010ffff")
@example(prefix="x\ud800")
@example(prefix="\x00")
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    prefix=st.text(
        st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF)
        | st.sampled_from(["x", "\ud7ff", "\ud800", "\udfff", "\ue000", "\U0010ffff"]),
        max_size=3,
    )
)
def test_scan_any_prefix_works_or_raises_a_key_error(
    backend_name: str, tmp_path: Path, prefix: str
) -> None:
    """issue 18 #3: for any prefix, scan equals a sorted model or raises StorageKeyError."""
    valid = "\x00" not in prefix and not any(0xD800 <= ord(c) <= 0xDFFF for c in prefix)

    async def run() -> None:
        options = {"fsync": False} if backend_name == "filesystem" else {}
        async with Storage.create(
            "anyprefix", data_dir=tmp_path, backend=backend_name, purge_interval=None, **options
        ) as storage:
            if await storage.count() == 0:
                await storage.put_many({key: key for key in _SCAN_KEYS})
            if not valid:
                with pytest.raises(StorageKeyError):
                    await storage.scan(prefix)
                return
            expected = sorted(key for key in _SCAN_KEYS if key.startswith(prefix))
            assert (await storage.scan(prefix, limit=100)).keys() == expected
            assert await storage.count(prefix) == len(expected)

    asyncio.run(run())


# --------------------------------------------------------------------------- stateful model

_KEYS = st.sampled_from(["a", "b", "c"])
_VALUES = st.one_of(st.integers(-5, 5), st.text(max_size=3), st.none())


_MISSING = object()


class _TxScript:
    """One transaction of the state machine: runs *ops*, checking each read against *view*.

    ``read`` holds the keys whose stored value the transaction depends on,
    ``written`` what it staged (``_MISSING`` for a delete); with *interfere*,
    another writer changes the first read key before the commit and
    ``interfered`` records (key, version).
    """

    def __init__(
        self,
        storage: Storage,
        ops: list[tuple[str, str, Any]],
        interfere: str | None,
        view: dict[str, Any],
    ) -> None:
        self.storage = storage
        self.ops = ops
        self.interfere = interfere
        self.view = view
        self.read: set[str] = set()
        self.written: dict[str, Any] = {}
        self.interfered: tuple[str, int] | None = None
        self.committed = False

    async def run(self) -> None:
        async with self.storage.transaction() as tx:
            for kind, key, value in self.ops:
                if not await self._step(tx, kind, key, value):
                    return
            await self._interfere()
            self.committed = True  # (the commit runs when the block exits)

    async def _step(self, tx: Transaction, kind: str, key: str, value: Any) -> bool:
        """Run one op; ``False`` when the transaction was discarded."""
        if kind == "get":
            if key not in self.written:
                self.read.add(key)
            assert await tx.get(key, _MISSING) == self.view.get(key, _MISSING)
        elif kind == "put":
            tx.put(key, value)
            self.view[key] = self.written[key] = value
        elif kind == "delete":
            tx.delete(key)
            self.view.pop(key, None)
            self.written[key] = _MISSING
        else:
            return await self._incr(tx, key)
        return True

    async def _incr(self, tx: Transaction, key: str) -> bool:
        current = self.view.get(key, 0)
        if isinstance(current, bool) or not isinstance(current, int):
            tx.discard()
            return False
        tx.incr(key, 1)
        if key not in self.written:
            self.read.add(key)  # the staged incr's value depends on it
            assert await tx.get(key) == current + 1
        self.view[key] = self.written[key] = current + 1
        return True

    async def _interfere(self) -> None:
        if self.interfere and self.read:
            victim = sorted(self.read)[0]
            if self.interfere == "delete_recreate":
                await self.storage.delete(victim)
            self.interfered = (victim, await self.storage.put(victim, "other"))


class _StorageModel(RuleBasedStateMachine):
    """Versions and transactions of a real store against a dict model.

    The model holds ``key -> (value, version, expires_at)``. Checked after every
    step: each value and version is the model's; each new version is greater than
    every version seen before in the store (so none ever repeats, across deletes,
    purges and transactions); a compare-and-set with any version ever seen for the
    key succeeds exactly when it is the current one.
    """

    backend_name = "memory"
    directory = Path(".")

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = ManualClock()
        self.storage = _fresh(self.directory, self.backend_name, clock=self.clock)
        self.model: dict[str, tuple[Any, int, float | None]] = {}
        self.seen: dict[str, set[int]] = {}
        self.highest = 0

    def run(self, coro: Awaitable[Any]) -> Any:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        try:
            self.run(self.storage.stop())
        finally:
            self.loop.close()

    def _live(self, key: str) -> tuple[Any, int, float | None] | None:
        item = self.model.get(key)
        if item is None or (item[2] is not None and item[2] <= self.clock.time()):
            return None
        return item

    def _new_version(self, key: str, version: int) -> None:
        assert version > self.highest, f"version {version} not above {self.highest}"
        self.highest = version
        self.seen.setdefault(key, set()).add(version)

    def _record(self, key: str, value: Any, expires_at: float | None) -> None:
        entry = self.run(self.storage.get_entry(key))
        assert entry is not None
        assert entry.value == value
        self._new_version(key, entry.version)
        self.model[key] = (value, entry.version, expires_at)

    @initialize()
    def start(self) -> None:
        self.run(self.storage.start())

    @rule(key=_KEYS, value=_VALUES, ttl=st.sampled_from([None, 5]))
    def put(self, key: str, value: Any, ttl: int | None) -> None:
        version = self.run(self.storage.put(key, value, ttl=ttl))
        self._new_version(key, version)
        expires = None if ttl is None else self.clock.time() + ttl
        self.model[key] = (value, version, expires)

    @rule(key=_KEYS)
    def delete(self, key: str) -> None:
        existed = self.run(self.storage.delete(key))
        assert existed == (self._live(key) is not None)
        self.model.pop(key, None)

    @rule(key=_KEYS, amount=st.integers(-3, 3))
    def incr(self, key: str, amount: int) -> None:
        live = self._live(key)
        current = 0 if live is None else live[0]
        if isinstance(current, bool) or not isinstance(current, int):
            with pytest.raises(StorageValueError):
                self.run(self.storage.incr(key, amount))
            return
        assert self.run(self.storage.incr(key, amount)) == current + amount
        self._record(key, current + amount, None if live is None else live[2])

    @precondition(lambda self: any(self.seen.values()))
    @rule(data=st.data(), value=_VALUES)
    def compare_and_set_any_version(self, data: st.DataObject, value: Any) -> None:
        key = data.draw(st.sampled_from(sorted(k for k, v in self.seen.items() if v)))
        version = data.draw(st.sampled_from([0, *sorted(self.seen[key])]))
        live = self._live(key)
        current = 0 if live is None else live[1]
        done = self.run(self.storage.compare_and_set(key, value, version=version))
        assert done == (version == current), (key, version, current)
        if done:
            self._record(key, value, None)

    @rule(
        ops=st.lists(
            st.tuples(st.sampled_from(["get", "put", "delete", "incr"]), _KEYS, _VALUES),
            min_size=1,
            max_size=6,
        ),
        interfere=st.sampled_from([None, "put", "delete_recreate"]),
    )
    def transaction(self, ops: list[tuple[str, str, Any]], interfere: str | None) -> None:
        view: dict[str, Any] = {
            key: item[0] for key in ("a", "b", "c") if (item := self._live(key)) is not None
        }
        script = _TxScript(self.storage, ops, interfere, view)
        before = {key: self._live(key) for key in ("a", "b", "c")}
        try:
            self.run(script.run())
        except VersionConflictError:
            assert script.interfered is not None, "a conflict without interference"
            victim, version = script.interfered
            self._new_version(victim, version)
            self.model[victim] = ("other", version, None)
            return
        assert script.interfered is None, "committed over a concurrent write"
        if script.committed:
            self._record_commit(ops, script.written, before)

    def _record_commit(
        self,
        ops: list[tuple[str, str, Any]],
        written: dict[str, Any],
        before: dict[str, tuple[Any, int, float | None] | None],
    ) -> None:
        """Check what a committed transaction wrote and take it into the model."""
        overwritten = {key for kind, key, _ in ops if kind in ("put", "delete")}
        entries = []
        for key, value in written.items():
            if value is _MISSING:
                self.model.pop(key, None)
                continue
            entry = self.run(self.storage.get_entry(key))
            assert entry is not None
            assert entry.value == value
            old = before[key]
            ttl = old[2] if old is not None and key not in overwritten else None
            entries.append((entry.version, key, value, ttl))
        for version, key, value, ttl in sorted(entries):  # in the order the commit wrote
            self._new_version(key, version)
            self.model[key] = (value, version, ttl)

    @rule(seconds=st.sampled_from([1, 6]))
    def advance_and_purge(self, seconds: int) -> None:
        self.clock.advance_sync(seconds)
        if seconds > 1:
            self.run(self.storage.purge_expired())
            for key in [k for k in self.model if self._live(k) is None]:
                del self.model[key]

    @invariant()
    def matches_the_model(self) -> None:
        for key in ("a", "b", "c"):
            entry = self.run(self.storage.get_entry(key))
            live = self._live(key)
            if live is None:
                assert entry is None, (key, entry)
            else:
                assert entry is not None, key
                assert (entry.value, entry.version) == (live[0], live[1]), (key, entry, live)


def test_versions_and_transactions_match_a_dict_model(tmp_path: Path, backend_name: str) -> None:
    """issue 18 #1 and #2 on every backend: a hypothesis state machine against a dict."""

    class Machine(_StorageModel):
        pass

    Machine.backend_name = backend_name
    Machine.directory = tmp_path
    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=12,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )


def _fresh(tmp_path: Path, backend_name: str, **kwargs: Any) -> Storage:
    """A fresh store (its own directory, or its own store name in the PostgreSQL table)."""
    name = f"s{uuid.uuid4().hex[:12]}"
    options: dict[str, Any] = {"fsync": False} if backend_name == "filesystem" else {}
    return Storage.create(
        name, data_dir=tmp_path / name, backend=backend_name, purge_interval=None,
        **options, **kwargs,
    )  # fmt: skip
