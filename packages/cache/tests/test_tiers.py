"""Tests for pepperpy.cache._tiers: memory in front of a second tier."""

from __future__ import annotations

import asyncio
from typing import Any

import attrs
import pytest

from pepperpy.cache import Cache, StorageTier, TieredCache, cached, encode_key
from pepperpy.core import MISSING, ExternalError, InvalidArgumentError


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
    """Default key encoding is stable and readable."""
    assert "a" == encode_key("a")
    assert "12" == encode_key(12)
    assert "(1, 'x')" == encode_key((1, "x"))
    assert "True" == encode_key(True)
