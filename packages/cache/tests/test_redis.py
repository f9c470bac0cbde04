"""Tests for pepperpy.cache._redis against a real Redis server.

One conformance suite for the second tiers (a pepperpy-storage store and
Redis), a model test that RedisCache's tag invalidation matches the memory
Cache's, and what only Redis has (shared TTLs, server-side tag sets, outages).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pepperpy.cache import (
    Cache,
    CacheTier,
    RedisCache,
    RedisCacheError,
    RedisTier,
    StorageTier,
    TieredCache,
    cached,
)
from pepperpy.core import MISSING, ConfigurationError, InvalidArgumentError


@attrs.define
class User:
    name: str
    age: int


@pytest.fixture
async def cache(redis_client: Any, redis_namespace: str) -> RedisCache:
    return RedisCache(redis_client, namespace=redis_namespace)


# --------------------------------------------------------------------------- tier conformance


@pytest.fixture(params=["storage", "redis"])
async def tiers(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Any, Any]]:
    """Two handles on one shared second tier (as two processes would have)."""
    if request.param == "storage":
        from pepperpy.storage import Storage

        async with Storage.create("tier", backend="memory") as storage:
            yield StorageTier(storage), StorageTier(storage, value_type=User)
    else:
        import redis.asyncio

        url = request.getfixturevalue("redis_url")
        namespace = request.getfixturevalue("redis_namespace")
        client = redis.asyncio.Redis.from_url(url)
        yield (
            RedisCache(client, namespace=namespace).tier(),
            RedisCache(client, namespace=namespace, value_type=User).tier(),
        )
        await RedisCache(client, namespace=namespace).clear()
        await client.aclose()


async def test_tier_conformance(tiers: tuple[CacheTier, CacheTier]) -> None:
    tier, typed = tiers
    assert await tier.get("missing") is MISSING
    await tier.set("a", {"x": [1, 2.5, "é", None]}, ttl=60)
    await tier.set("none", None, ttl=None)
    await tier.set("list", [1, 2], ttl=None)
    assert await tier.get("a") == {"x": [1, 2.5, "é", None]}
    assert await tier.get("none") is None  # None is a value, not a miss
    await tier.set("list", [3], ttl=None)  # overwrite
    assert await tier.get("list") == [3]
    await tier.delete("a")
    await tier.delete("a")  # absent: no error
    assert await tier.get("a") is MISSING
    await typed.set("u", User("ann", 30), ttl=None)
    assert await tier.get("u") == {"name": "ann", "age": 30}
    assert await typed.get("u") == User("ann", 30)


async def test_tiered_cache_conformance(tiers: tuple[CacheTier, CacheTier]) -> None:
    tier, _ = tiers
    first: TieredCache[str, Any] = TieredCache(Cache(10, ttl=30), tier)
    second: TieredCache[str, Any] = TieredCache(Cache(10), tier)  # another process
    await first.set("k", {"v": 1})
    assert await second.get("k") == {"v": 1}
    assert second.tier_hits == 1
    assert await second.get("k") == {"v": 1}  # memory now
    assert second.tier_hits == 1
    assert await second.delete("k") is True
    third: TieredCache[str, Any] = TieredCache(Cache(10), tier)
    assert await third.get("k", "gone") == "gone"
    assert third.tier_misses == 1


async def test_cached_functions_share_results_through_redis(cache: RedisCache) -> None:
    calls = 0

    async def compute(x: int) -> dict[str, int]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        return {"x": x * 10}

    one = cached(cache=TieredCache(Cache(10), cache.tier()))(compute)
    two = cached(cache=TieredCache(Cache(10), cache.tier()))(compute)
    assert await one(2) == {"x": 20}
    assert await two(2) == {"x": 20}
    assert calls == 1
    assert await two.ainvalidate(2) is True  # from two's memory and from Redis
    assert await two(2) == {"x": 20}
    assert calls == 2


# --------------------------------------------------------------------------- RedisCache


async def test_get_set_delete_many(cache: RedisCache) -> None:
    assert await cache.get("k") is None
    assert await cache.get("k", "d") == "d"
    await cache.set("k", {"a": 1})
    await cache.set(("tuple", 1), [1])
    assert await cache.get("k") == {"a": 1}
    assert await cache.get(("tuple", 1)) == [1]
    assert await cache.contains("k")
    await cache.set_many({"m1": 1, "m2": None})
    assert await cache.get_many(["m1", "m2", "zz", "k"]) == {"m1": 1, "m2": None, "k": {"a": 1}}
    assert await cache.get_many([]) == {}
    assert await cache.delete("k") is True
    assert await cache.delete("k") is False
    assert await cache.delete_many(["m1", "m2", "zz"]) == 2
    assert await cache.delete_many([]) == 0
    assert not await cache.contains("m1")
    assert await cache.ping()


async def test_ttls_are_kept_by_redis(redis_client: Any, redis_namespace: str) -> None:
    cache = RedisCache(redis_client, namespace=redis_namespace, ttl="1h")
    await cache.set("default", 1)
    await cache.set("short", 1, ttl=30)
    await cache.set("forever", 1, ttl=None)
    left = await cache.ttl_of("default")
    assert left is not None and 3500 < left <= 3600
    left = await cache.ttl_of("short")
    assert left is not None and 0 < left <= 30
    assert await cache.ttl_of("forever") is None
    assert await cache.ttl_of("missing") is None
    await cache.set("gone", 1, ttl=0.05)
    for _ in range(200):  # Redis expires it on its own clock
        if not await cache.contains("gone"):
            break
        await asyncio.sleep(0.01)
    assert await cache.get("gone") is None
    with pytest.raises(InvalidArgumentError):
        await cache.set("bad", 1, ttl=-1)


async def test_tag_invalidation_is_server_side(cache: RedisCache, redis_client: Any) -> None:
    await cache.set("a", 1, tags=["user:1", "team:x"])
    await cache.set("b", 2, tags=["user:1"])
    await cache.set("c", 3, tags=["user:2"])
    await cache.set("d", 4, tags=["user:1"])
    await cache.set("d", 5)  # rewritten without the tag: invalidation must keep it
    assert await cache.invalidate_tag("user:1") == 2
    assert await cache.get_many(["a", "b", "c", "d"]) == {"c": 3, "d": 5}
    assert await cache.invalidate_tag("user:1") == 0
    assert not await redis_client.exists(f"{cache.namespace}:t:user:1")
    assert await cache.invalidate_tag("team:x", "user:2") == 1
    with pytest.raises(InvalidArgumentError, match="invalid cache tag"):
        await cache.set("x", 1, tags=["bad\ntag"])
    with pytest.raises(InvalidArgumentError):
        await cache.set("x", 1, tags=[""])


async def test_tag_sets_live_as_long_as_their_longest_entry(
    cache: RedisCache, redis_client: Any
) -> None:
    tagset = f"{cache.namespace}:t:t"
    await cache.set("a", 1, ttl=10, tags=["t"])
    assert 0 < await redis_client.pttl(tagset) <= 10_000
    await cache.set("b", 1, ttl=100, tags=["t"])
    assert 10_000 < await redis_client.pttl(tagset) <= 100_000
    await cache.set("c", 1, ttl=5, tags=["t"])  # a shorter entry never shortens it
    assert 10_000 < await redis_client.pttl(tagset) <= 100_000
    await cache.set("d", 1, ttl=None, tags=["t"])
    assert await redis_client.pttl(tagset) == -1


async def test_invalidating_a_big_tag_works_in_chunks(cache: RedisCache) -> None:
    await asyncio.gather(*(cache.set(f"k{i}", i, tags=["big"]) for i in range(1203)))
    await cache.set("other", 1, tags=["small"])
    assert await cache.invalidate_tag("big") == 1203
    assert await cache.get_many([f"k{i}" for i in range(0, 1203, 100)]) == {}
    assert await cache.get("other") == 1


async def test_caches_on_one_namespace_share_everything(
    redis_url: str, redis_client: Any, redis_namespace: str
) -> None:
    async with (
        RedisCache(redis_url, namespace=redis_namespace) as one,
        RedisCache(redis_url, namespace=redis_namespace) as two,
        RedisCache(redis_url, namespace=redis_namespace + "-other") as other,
    ):
        await one.set("k", "v", tags=["t"])
        await other.set("k", "other")
        assert await two.get("k") == "v"
        assert await two.invalidate_tag("t") == 1
        assert await one.get("k") is None
        assert await other.get("k") == "other"
        await one.set_many([("a", 1), ("b", 2)], ttl=60)
        assert await one.clear() == 2
        assert await other.get("k") == "other"
        await other.clear()


async def test_foreign_and_bad_values(cache: RedisCache, redis_client: Any) -> None:
    await redis_client.set(f"{cache.namespace}:k:raw", b"not ours")
    assert await cache.get("raw", "d") == "d"
    assert await cache.tier().get("raw") is MISSING
    with pytest.raises(InvalidArgumentError, match="cannot cache"):
        await cache.set("nan", float("nan"))
    with pytest.raises(InvalidArgumentError, match="cannot cache"):
        await cache.set("obj", object())
    with pytest.raises(InvalidArgumentError, match="tags"):
        await cache.set("many", 1, tags=[f"tag-{i:05d}" for i in range(1000)])


async def test_unreachable_redis_is_a_clear_retryable_error() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with RedisCache(f"redis://127.0.0.1:{port}/0") as cache:
        with pytest.raises(RedisCacheError) as info:
            await cache.get("k")
        assert info.value.retryable
        assert info.value.context["operation"] == "get"
        tiered: TieredCache[str, int] = TieredCache(Cache(10), cache.tier())
        assert await tiered.get("k", 7) == 7  # a failing tier read is a miss
        assert tiered.tier_errors == 1


def test_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PEPPERPY_REDIS_URL", raising=False)
    with pytest.raises(ConfigurationError, match="needs a client or a URL"):
        RedisCache()
    monkeypatch.setenv("PEPPERPY_REDIS_URL", "redis://127.0.0.1:1/0")
    assert RedisCache().url == "redis://127.0.0.1:1/0"
    with pytest.raises(InvalidArgumentError):
        RedisCache("redis://127.0.0.1:1/0", namespace="")
    assert repr(RedisTier(RedisCache("redis://127.0.0.1:1/0", namespace="n"))) == (
        "RedisTier(RedisCache(namespace='n'))"
    )


# --------------------------------------------------------------------------- model test

_keys = st.sampled_from(["a", "b", "c", "d"])
_tags = st.sampled_from(["t1", "t2", "t3"])
_ops = st.lists(
    st.one_of(
        st.tuples(st.just("set"), _keys, st.integers(0, 9), st.lists(_tags, max_size=2)),
        st.tuples(st.just("delete"), _keys),
        st.tuples(st.just("invalidate"), _tags),
    ),
    max_size=12,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=_ops)
def test_tags_behave_like_the_memory_cache(
    redis_url: str, redis_namespace: str, ops: list[tuple[Any, ...]]
) -> None:
    """Any sequence of set/delete/invalidate_tag leaves Redis as it leaves a memory Cache."""
    import redis.asyncio

    async def run() -> None:
        memory: Cache[str, int] = Cache(None)
        client = redis.asyncio.Redis.from_url(redis_url)
        shared = RedisCache(client, namespace=redis_namespace)
        try:
            await shared.clear()
            for op in ops:
                if op[0] == "set":
                    memory.set(op[1], op[2], tags=op[3])
                    await shared.set(op[1], op[2], tags=op[3])
                elif op[0] == "delete":
                    assert await shared.delete(op[1]) == memory.delete(op[1])
                else:
                    assert await shared.invalidate_tag(op[1]) == memory.invalidate_tag(op[1])
                expected = {k: memory.get(k) for k in "abcd" if k in memory}
                assert await shared.get_many(list("abcd")) == expected
        finally:
            await shared.clear()
            await client.aclose()

    asyncio.run(run())
