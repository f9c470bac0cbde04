"""Tests for pepperpy.cache._tiers: memory in front of a second tier."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import attrs
import pytest

from pepperpy.cache import (
    BroadcastingCacheTier,
    Cache,
    Invalidation,
    StorageTier,
    TieredCache,
    TierEntry,
    cached,
    encode_key,
)
from pepperpy.core import MISSING, ConfigurationError, ExternalError, InvalidArgumentError


@attrs.define
class User:
    name: str
    age: int


class DictStore:
    """A minimal store with the pepperpy-storage get/put/delete shape, recording calls."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.ttls: dict[str, float | None] = {}
        self.fail = False
        self.reads = 0

    async def get(self, key: str, default: Any = None) -> Any:
        self.reads += 1
        if self.fail:
            raise OSError("store is down")
        return self.data.get(key, default)

    async def put(self, key: str, value: Any, *, ttl: float | None = None) -> None:
        if self.fail:
            raise OSError("store is down")
        self.data[key] = value
        self.ttls[key] = ttl

    async def delete(self, key: str) -> bool:
        return self.data.pop(key, None) is not None


async def test_write_through_and_read_through() -> None:
    """Writes reach the store; a fresh memory tier reads them back and keeps them."""
    store = DictStore()
    tier = StorageTier(store, prefix="t:")
    first: TieredCache[str, Any] = TieredCache(Cache(10, ttl=30), tier)
    await first.set("a", {"x": [1, 2]})
    await first.set("none", None)
    assert {"t:a": {"v": {"x": [1, 2]}}, "t:none": {"v": None}} == store.data
    assert 30 == store.ttls["t:a"]

    second: TieredCache[str, Any] = TieredCache(Cache(10), tier)  # e.g. another process
    assert {"x": [1, 2]} == await second.get("a")
    assert await second.get("none", "default") is None
    reads = store.reads
    assert {"x": [1, 2]} == await second.get("a")  # now from memory
    assert reads == store.reads
    assert 2 == second.tier_hits
    assert "d" == await second.get("missing", "d")
    assert 1 == second.tier_misses

    assert await second.delete("a") is True
    assert "t:a" not in store.data
    assert await first.get("a") == {"x": [1, 2]}  # first's memory still has it


async def test_flags_and_ttl() -> None:
    """write_through=False keeps writes in memory; read_through=False never reads the tier."""
    store = DictStore()
    tiered: TieredCache[str, int] = TieredCache(
        Cache(10), StorageTier(store), write_through=False, read_through=False
    )
    await tiered.set("a", 1, ttl="1m")
    assert {} == store.data
    store.data["cache:b"] = {"v": 2}
    assert await tiered.get("b") is None
    on: TieredCache[str, int] = TieredCache(Cache(10), StorageTier(store))
    await on.set("c", 3, ttl=None)
    assert store.ttls["cache:c"] is None
    await on.set("d", 4, ttl=5)
    assert 5 == store.ttls["cache:d"]


async def test_attrs_values_round_trip() -> None:
    """attrs values are unstructured for the store and structured back with value_type."""
    store = DictStore()
    tier = StorageTier(store, value_type=User)
    await TieredCache(Cache(10), tier).set("u", User("ann", 30))
    assert {"v": {"name": "ann", "age": 30}} == store.data["cache:u"]
    fresh: TieredCache[str, User] = TieredCache(Cache(10), tier)
    assert User("ann", 30) == await fresh.get("u")


async def test_tier_failures() -> None:
    """Read failures are misses (or errors when strict); write failures raise and skip memory."""
    store = DictStore()
    tiered: TieredCache[str, int] = TieredCache(Cache(10), StorageTier(store))
    store.fail = True
    assert await tiered.get("a") is None
    assert 1 == tiered.tier_errors
    with pytest.raises(ExternalError, match="tier write failed"):
        await tiered.set("a", 1)
    assert "a" not in tiered.memory
    strict: TieredCache[str, int] = TieredCache(Cache(10), StorageTier(store), strict=True)
    with pytest.raises(ExternalError, match="tier read failed"):
        await strict.get("a")


async def test_foreign_values_are_ignored() -> None:
    """A value not written by the tier is treated as a miss."""
    store = DictStore()
    store.data["cache:x"] = "raw"
    assert MISSING is await StorageTier(store).get("x")


async def test_cached_with_tiered_cache() -> None:
    """@cached(cache=TieredCache) reads through and writes through for async functions."""
    store = DictStore()
    tier = StorageTier(store)
    calls = 0

    async def compute(x: int) -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        return x * 10

    one = cached(cache=TieredCache(Cache(10), tier))(compute)
    assert 20 == await one(2)
    assert 1 == calls
    two = cached(cache=TieredCache(Cache(10), tier))(compute)  # a new process, same store
    assert 20 == await two(2)
    assert 1 == calls
    assert 20 == await two(2)
    assert await two.ainvalidate(2) is True
    assert {} == store.data
    assert 20 == await two(2)
    assert 2 == calls


async def test_cached_counts_one_lookup_per_call_on_a_tiered_cache() -> None:
    """A miss read through to the tier is one miss in the front's stats, not two."""
    tier = StorageTier(DictStore())
    front = TieredCache(Cache(10), tier)

    @cached(cache=front)
    async def compute(x: int) -> int:
        return x * 10

    assert [10, 10, 20] == [await compute(1), await compute(1), await compute(2)]
    other = TieredCache(Cache(10), tier)  # another process: its memory misses, the tier hits
    again = cached(cache=other)(compute.__wrapped__)
    assert 10 == await again(1)
    assert (front.memory.stats().hits, front.memory.stats().misses) == (1, 2)
    assert (other.memory.stats().hits, other.memory.stats().misses) == (0, 1)
    assert (other.tier_hits, other.tier_misses) == (1, 0)


def test_tiered_rejects_sync_and_bad_options() -> None:
    """A TieredCache needs an async function and a real Cache in front."""
    tiered: TieredCache[str, int] = TieredCache(Cache(10), StorageTier(DictStore()))
    with pytest.raises(InvalidArgumentError, match="needs an async function"):
        cached(cache=tiered)(lambda: 1)

    async def f() -> int:
        return 1

    with pytest.raises(InvalidArgumentError):
        cached(cache=tiered, cache_errors=True)(f)
    with pytest.raises(InvalidArgumentError):
        TieredCache({}, StorageTier(DictStore()))  # type: ignore[arg-type]


def test_encode_key() -> None:
    """Default key encoding is stable, readable and names the type (issue 18 #7)."""
    assert "a" == encode_key("a")
    assert "\x1ei:12" == encode_key(12)
    assert "\x1et:('i:1', 's:x')" == encode_key((1, "x"))
    assert "\x1ei:1" == encode_key(True)  # True == 1: one dict key, one tier key


async def test_a_bare_tier_gets_best_effort_invalidation() -> None:
    """A tier with only get/set/delete: invalidations reach it for the keys memory knows."""
    store = DictStore()
    tier = StorageTier(store)
    assert tier.supports_tags is False  # DictStore cannot scan
    tiered: TieredCache[str, int] = TieredCache(Cache(10), tier)
    assert tiered.supports_tags is False
    await tiered.set("a", 1, tags=["t"])
    await tiered.set("b", 2, tags=["t", "u"])
    await tiered.set("user:1", 3)
    await tiered.set("user:2", 4)
    await tiered.set("z", 5)
    assert store.data["cache:a"] == {"v": 1}  # the tags stay in memory only
    assert await tiered.invalidate_tag("t") == 2
    assert "cache:a" not in store.data and "cache:b" not in store.data
    assert await tiered.invalidate_prefix("user:") == 2
    assert set(store.data) == {"cache:z"}
    assert await tiered.clear() == 1
    assert store.data == {}
    with pytest.raises(ConfigurationError, match="needs a store that can scan"):
        await tier.invalidate_tag("t")


async def test_storage_tier_keeps_a_tag_index_in_the_store() -> None:
    from pepperpy.storage import Storage

    async with Storage.create("idx", backend="memory") as storage:
        tier = StorageTier(storage, prefix="c:")
        assert tier.supports_tags
        await tier.set("k", {"x": 1}, ttl=60, tags=["t", "odd\x00\x1f%tag"])
        assert await storage.get("c:k") == {"v": {"x": 1}, "t": ["t", "odd\x00\x1f%tag"]}
        assert sorted(await storage.keys("c:\x1f")) == [
            "c:\x1fodd%00%1F%25tag\x1fk",
            "c:\x1ft\x1fk",
        ]
        entry = await tier.get_entry("k")
        assert entry is not MISSING
        assert entry.value == {"x": 1} and entry.tags == ("t", "odd\x00\x1f%tag")
        assert entry.ttl is not None and 0 < entry.ttl <= 60
        assert await tier.invalidate_tag("odd\x00\x1f%tag") == 1
        assert await storage.keys("c:") == ["c:\x1ft\x1fk"]  # a stale index key: harmless
        assert await tier.invalidate_tag("t") == 0
        assert await storage.keys("c:") == []
        tiered: TieredCache[str, int] = TieredCache(Cache(10), tier)
        with pytest.raises(InvalidArgumentError, match="reserved"):
            await tiered.set("\x1fk", 1)


class AnnouncingTier:
    """A broadcasting tier whose announcements arrive exactly when the test says."""

    supports_tags = True
    feed_connected = True

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.listeners: list[Any] = []
        self.during_io: list[Invalidation] = []

    def announce(self, change: Invalidation) -> None:
        for listener in self.listeners:
            listener(change)

    async def _io(self) -> None:
        while self.during_io:  # someone else's change, announced while we wait for I/O
            self.announce(self.during_io.pop())
        await asyncio.sleep(0)

    async def get(self, key: str) -> Any:
        await self._io()
        return self.data.get(key, MISSING)

    async def get_entry(self, key: str) -> Any:
        await self._io()
        return TierEntry(self.data[key], (), None) if key in self.data else MISSING

    async def set(self, key: str, value: Any, *, ttl: Any, tags: Any = ()) -> None:
        await self._io()
        self.data[key] = value
        self.announce(Invalidation(keys=(key,)))

    async def delete(self, key: str) -> bool:
        self.announce(Invalidation(keys=(key,)))
        return self.data.pop(key, MISSING) is not MISSING

    async def invalidate_tag(self, *tags: str) -> int:
        return 0

    async def invalidate_prefix(self, prefix: str) -> int:
        return 0

    async def clear(self) -> int:
        return 0

    async def listen(self, listener: Any) -> None:
        self.listeners.append(listener)

    async def unlisten(self, listener: Any) -> None:
        self.listeners.remove(listener)

    async def sync(self) -> None:
        await self._io()


async def test_a_read_or_write_racing_with_an_announcement_is_not_kept() -> None:
    tier = AnnouncingTier()
    assert isinstance(tier, BroadcastingCacheTier)
    front: TieredCache[str, int] = TieredCache(Cache(10), tier)
    tier.data["k"] = 1
    tier.during_io.append(Invalidation(keys=("k",)))  # k changes while we read it
    assert await front.get("k") == 1
    assert "k" not in front.memory  # the value read may be stale: not kept
    assert await front.get("k") == 1
    assert "k" in front.memory  # a quiet read is kept
    tier.during_io.append(Invalidation(tags=("x",)))
    await front.set("k", 2)
    assert "k" not in front.memory  # another change raced with the write
    await front.set("k", 3)
    assert front.memory.get("k") == 3  # its own announcement does not drop it
    tier.announce(Invalidation(everything=True))
    assert len(front.memory) == 0
    tier.feed_connected = False
    assert await front.get("k") == 3
    assert "k" not in front.memory  # nothing is kept while the feed is down
    await front.aclose()
    assert tier.listeners == []


async def test_a_third_party_tier_without_a_delete_answer() -> None:
    class Minimal:
        def __init__(self) -> None:
            self.data: dict[str, Any] = {}

        async def get(self, key: str) -> Any:
            return self.data.get(key, MISSING)

        async def set(self, key: str, value: Any, *, ttl: float | None) -> None:
            self.data[key] = value

        async def delete(self, key: str) -> None:
            self.data.pop(key, None)

    tier = Minimal()
    front: TieredCache[str, int] = TieredCache(Cache(10), tier)
    await front.set("k", 1, tags=["t"])
    assert await front.delete("k") is True  # memory's answer
    assert await front.delete("k") is False
    await front.set_many({"a": 1, "b": 2})
    assert await TieredCache(Cache(10), tier).get_many(["a", "b", "c"]) == {"a": 1, "b": 2}
    assert await front.delete_many(["a", "b", "c"]) == 2
    await front.sync()  # nothing to wait for
    await front.aclose()


async def test_a_tag_rewritten_during_invalidation_is_not_missed(tmp_path: Path) -> None:
    """Another process re-tags an entry while invalidate_tag reads it: the page retries."""
    from pepperpy.storage import Storage

    class RacingStore:
        """A real store; the first transaction sees a concurrent write before committing."""

        def __init__(self, storage: Storage) -> None:
            self.storage = storage
            self.race: Any = None

        def __getattr__(self, name: str) -> Any:
            return getattr(self.storage, name)

        async def transact(self, fn: Any, **options: Any) -> Any:
            async def racing(tx: Any) -> Any:
                result = await fn(tx)
                if self.race is not None:
                    race, self.race = self.race, None
                    await race()
                return result

            return await self.storage.transact(racing, **options)

    async with Storage.create("race", data_dir=tmp_path) as storage:
        store = RacingStore(storage)
        tier = StorageTier(store)  # type: ignore[arg-type]
        other = StorageTier(storage)  # the other process
        assert tier.supports_tags
        await tier.set("k", 1, ttl=None, tags=["t"])
        await tier.set("k", 2, ttl=None)  # no longer tagged: invalidation would keep it
        store.race = lambda: other.set("k", 3, ttl=None, tags=["t"])  # ... until this
        assert await tier.invalidate_tag("t") == 1
        assert await other.get("k") is MISSING  # the re-tagged value went too
        assert await storage.keys("cache:") == []
