"""What only Redis has, against a real Redis server.

Shared TTLs, server-side tag sets, outages, and the change announcements that
keep the memory fronts of other connections and processes coherent. The
behaviour every backend shares is in test_conformance.py.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from pepperpy.cache import (
    Cache,
    RedisCache,
    RedisCacheError,
    RedisTier,
    TieredCache,
)
from pepperpy.core import MISSING, ConfigurationError, InvalidArgumentError
from pepperpy.testing import RedisServer


async def _until(predicate: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait until *predicate* holds (bounded; fails the test if it never does)."""
    for _ in range(int(seconds / 0.01)):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached in time")


@pytest.fixture
async def cache(redis_client: Any, redis_namespace: str) -> RedisCache:
    return RedisCache(redis_client, namespace=redis_namespace)


# --------------------------------------------------------------------------- RedisCache


async def test_contains_ping_and_tuple_keys(cache: RedisCache) -> None:
    await cache.set(("tuple", 1), [1])
    assert await cache.contains(("tuple", 1))
    assert not await cache.contains("zz")
    assert await cache.get(("tuple", 1)) == [1]
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
    for bad in (float("nan"), True, "soon"):
        with pytest.raises(InvalidArgumentError):
            await cache.set("bad", 1, ttl=bad)  # type: ignore[arg-type]
    await cache.set("inf", 1, ttl=float("inf"))  # never expires, like a memory Cache
    assert await cache.ttl_of("inf") is None
    await cache.set("text", 1, ttl="2m")
    await cache.set("delta", 1, ttl=timedelta(minutes=2))
    for key in ("text", "delta"):
        left = await cache.ttl_of(key)
        assert left is not None and 100 < left <= 120
    assert await cache.get("bad", "d") == "d"


async def test_scripts_unknown_to_the_server_are_loaded_again(cache: RedisCache) -> None:
    """A restarted or flushed server forgets scripts: the next write loads them again."""
    unknown = "0" * 40
    for script in (cache._set_announced, cache._set_tagged):
        script.sha = unknown
    await cache.set("plain", 1, ttl=60)
    await cache.set("tagged", 2, tags=["t"])
    assert cache._set_announced.sha != unknown and cache._set_tagged.sha != unknown
    assert await cache.get_many(["plain", "tagged"]) == {"plain": 1, "tagged": 2}
    assert await cache.invalidate_tag("t") == 1


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


# --------------------------------------------------------------------------- announcements


async def test_fronts_on_separate_connections_drop_what_another_changed(
    redis_url: str, redis_namespace: str
) -> None:
    async with (
        RedisCache(redis_url, namespace=redis_namespace) as one,
        RedisCache(redis_url, namespace=redis_namespace) as two,
    ):
        a: TieredCache[Any, Any] = TieredCache(Cache(100), one.tier())
        b: TieredCache[Any, Any] = TieredCache(Cache(100), two.tier())
        await a.set("k", 1)
        await a.set("t1", 1, tags=["team"])
        await a.set("p:1", 1)
        await a.set(7, "seven")  # a key that does not encode to itself
        for key in ("k", "t1", "p:1", 7):
            assert await b.get(key) is not None
            assert key in b.memory  # b serves these from memory now
        await a.set("k", 2)  # an overwrite elsewhere: b drops its copy promptly
        await _until(lambda: "k" not in b.memory)
        assert await b.get("k") == 2
        assert b.memory.tags_of("t1") == {"team"}  # read-through kept the tags
        assert await a.invalidate_tag("team") == 1
        await _until(lambda: "t1" not in b.memory)
        await a.delete(7)
        await b.sync()  # deterministic: every earlier change has reached b
        assert 7 not in b.memory
        assert await a.invalidate_prefix("p:") == 1
        await b.sync()
        assert "p:1" not in b.memory
        await b.get("k")
        await one.set("k", 3)  # a plain RedisCache write reaches the fronts too
        await b.sync()
        assert await b.get("k") == 3
        await a.clear()
        await b.sync()
        assert len(b.memory) == 0
        assert b.tier.feed_connected  # type: ignore[attr-defined]
        await a.aclose()
        await b.aclose()


async def test_fronts_sharing_one_tier_in_one_process(cache: RedisCache) -> None:
    tier = cache.tier()
    a: TieredCache[str, int] = TieredCache(Cache(10), tier)
    b: TieredCache[str, int] = TieredCache(Cache(10), tier)
    await a.set("k", 1)
    assert await b.get("k") == 1
    await a.set("k", 2)  # announced locally at once, no round trip needed
    assert "k" not in b.memory
    assert await b.get("k") == 2
    assert await a.get("k") == 2 and "k" in a.memory  # the writer keeps its own value
    assert "k" in b.memory
    await cache.aclose()  # the subscription ends: the fronts can no longer trust memory
    assert not tier.feed_connected
    assert len(a.memory) == 0 and len(b.memory) == 0
    await a.aclose()
    await b.aclose()


_CHILD = """
import asyncio, sys
from pepperpy.cache import Cache, RedisCache, TieredCache

async def main(url, namespace):
    async with RedisCache(url, namespace=namespace) as shared:
        front = TieredCache(Cache(100), shared.tier())
        value = await front.get("k")
        print("ready", value, "k" in front.memory, flush=True)
        for _ in range(2000):
            if "k" not in front.memory:
                break
            await asyncio.sleep(0.005)
        print("dropped" if "k" not in front.memory else "stale", await front.get("k"), flush=True)
        await front.aclose()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def test_a_second_process_drops_what_this_one_changed(
    redis_url: str, redis_namespace: str
) -> None:
    async with RedisCache(redis_url, namespace=redis_namespace) as shared:
        front: TieredCache[str, str] = TieredCache(Cache(100), shared.tier())
        await front.set("k", "v1")
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _CHILD,
            redis_url,
            redis_namespace,
            stdout=asyncio.subprocess.PIPE,
        )
        assert child.stdout is not None
        try:
            line = await asyncio.wait_for(child.stdout.readline(), 60)
            assert line.decode().split() == ["ready", "v1", "True"]
            await front.set("k", "v2")
            line = await asyncio.wait_for(child.stdout.readline(), 60)
            assert line.decode().split() == ["dropped", "v2"]
        finally:
            if child.returncode is None:
                await asyncio.wait_for(child.wait(), 60)
        assert child.returncode == 0
        await front.aclose()
        await shared.clear()


async def test_a_front_that_loses_the_feed_keeps_nothing_until_it_is_back() -> None:
    # A server of our own (never the shared one), restarted empty.
    async with RedisServer(persist=False) as server:
        url = server.url
        async with (
            RedisCache(url, namespace="feed", health_interval=0.5) as one,
            RedisCache(url, namespace="feed", health_interval=0.5) as two,
        ):
            tier = two.tier()
            front: TieredCache[str, int] = TieredCache(Cache(100), tier)
            await one.set("k", 1)
            assert await front.get("k") == 1 and "k" in front.memory
            await server.kill()
            await _until(lambda: not tier.feed_connected)
            assert len(front.memory) == 0  # it cannot hear about changes: it drops everything
            assert await front.get("k", "miss") == "miss"  # Redis is down: a miss
            assert len(front.memory) == 0
            await server.start()  # an empty server: everything it held is gone
            for _ in range(100):  # a pooled connection to the dead server fails once
                try:
                    await one.set("k", 2)
                    break
                except RedisCacheError as exc:
                    if not exc.retryable:
                        raise
                    await asyncio.sleep(0.05)
            await _until(lambda: tier.feed_connected)
            # The announcement of k=2 may still be on its way (the feed can be back
            # before the write): let it arrive, or it drops the value read below.
            for _ in range(100):  # two's pooled connection may fail once too
                try:
                    await front.sync()
                    break
                except RedisCacheError as exc:
                    if not exc.retryable:
                        raise
                    await asyncio.sleep(0.05)
            for _ in range(100):  # its pooled connection may fail once too: a miss
                if await front.get("k") == 2:
                    break
                await asyncio.sleep(0.05)
            assert "k" in front.memory  # kept again now that the feed is back
            await one.set("k", 3)
            await front.sync()
            assert await front.get("k") == 3
            await front.aclose()


async def test_sync_and_feed_without_a_front(cache: RedisCache) -> None:
    """sync() is a no-op while nobody listens; announce=False writes plain commands."""
    await cache.tier().sync()
    quiet = RedisCache(cache.client, namespace=cache.namespace, announce=False)
    await quiet.set("k", 1)
    await quiet.set("t", 1, tags=["x"])
    assert await quiet.delete_many(["k", "t"]) == 2
    with pytest.raises(InvalidArgumentError, match="health_interval"):
        RedisCache(cache.client, health_interval=0)


_OPERATIONS: dict[str, Any] = {
    "get_entry": lambda c: c.get_entry("k"),
    "get_many": lambda c: c.get_many(["a", "b"]),
    "set": lambda c: c.set("k", 1),
    "set_many": lambda c: c.set_many({"a": 1}),
    "delete": lambda c: c.delete("k"),
    "delete_many": lambda c: c.delete_many(["a"]),
    "contains": lambda c: c.contains("k"),
    "ttl_of": lambda c: c.ttl_of("k"),
    "invalidate_tag": lambda c: c.invalidate_tag("t"),
    "invalidate_prefix": lambda c: c.invalidate_prefix("p"),
    "clear": lambda c: c.clear(),
}


async def test_every_operation_on_an_unreachable_redis_names_itself() -> None:
    """Each command fails as a retryable RedisCacheError whose context names the operation.

    So a caller (or its logs) can tell a failed write from a failed read (issue 24).
    """
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with RedisCache(f"redis://127.0.0.1:{port}/0") as cache:
        for operation, call in _OPERATIONS.items():
            with pytest.raises(RedisCacheError) as info:
                await call(cache)
            assert info.value.code == "pepperpy.cache.redis"
            assert info.value.retryable
            assert info.value.context["operation"] == operation
