"""Tests for pepperpy.cache.connect_cache: a URL picks the cache's second tier.

The shared behaviour of what it builds runs in test_conformance.py
(``connect-memory`` and ``connect-redis``); these tests cover the URL, the
environment variable, the options and third-party backends.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pepperpy.cache import (
    CACHE_URL_ENV,
    ENTRY_POINT_GROUP,
    Cache,
    MemoryTier,
    Policy,
    RedisTier,
    TieredCache,
    cache_backends,
    connect_cache,
)
from pepperpy.core import (
    MISSING,
    ConfigurationError,
    InvalidArgumentError,
    ManualClock,
    PluginError,
)


async def test_memory_urls_give_a_private_or_a_named_tier() -> None:
    own, other = connect_cache("memory://"), connect_cache("memory://")
    assert isinstance(own, TieredCache) and isinstance(own.tier, MemoryTier)
    assert own.tier is not other.tier
    await own.set("k", 1)
    assert await other.get("k") is None  # nothing shared between private tiers
    first = connect_cache("memory://orders-test", maxsize=5)
    second = connect_cache("memory://orders-test")
    assert first.tier is second.tier
    await first.set("k", "v", tags=["t"])
    assert await second.get("k") == "v"
    await first.set("k", "w")  # second's memory front hears about it at once
    assert await second.get("k") == "w"
    assert await second.invalidate_tag("t") == 0  # rewritten without the tag
    assert await second.delete("k") is True
    assert await first.get("k") is None


async def test_options_go_to_the_front_and_the_tier(redis_url: str) -> None:
    clock = ManualClock()
    cache = connect_cache("memory://", maxsize=3, ttl=10, policy="lfu", clock=clock, strict=True)
    assert (cache.memory.maxsize, cache.memory.ttl, cache.memory.policy) == (3, 10, Policy.LFU)
    await cache.set("k", 1)
    assert await cache.tier.get("k") == 1
    await clock.advance(11)  # the tier shares the clock: both copies expired
    assert await cache.tier.get("k") is MISSING
    assert await cache.get("k", "gone") == "gone"
    redis = connect_cache(redis_url, namespace="shop:cache", announce=False, maxsize=10)
    assert isinstance(redis.tier, RedisTier)
    assert redis.tier.cache.namespace == "shop:cache" and redis.tier.cache.announce is False
    await redis.aclose()  # no connection was made yet: closing is still fine
    assert isinstance(connect_cache("rediss://127.0.0.1:1/0").tier, RedisTier)
    assert isinstance(connect_cache("unix:///tmp/nowhere.sock").tier, RedisTier)


async def test_closing_the_cache_closes_the_tier_it_made(
    redis_url: str, redis_namespace: str
) -> None:
    async with connect_cache(redis_url, namespace=redis_namespace) as cache:
        await cache.set("k", {"a": 1}, ttl=60)
        assert await cache.get("k") == {"a": 1}
        pool = cache.tier.cache.client.connection_pool  # type: ignore[attr-defined]
        opened = [c for c in pool._available_connections if c.is_connected]
        assert opened  # a pooled connection is open while the cache is
        assert await cache.delete("k") is True
    assert not any(c.is_connected for c in opened)  # closed with the cache, not leaked
    plain = RedisTier.from_url(redis_url, namespace=redis_namespace)
    front = TieredCache(Cache(None), plain)
    await front.set("k", 1)
    await front.aclose()  # a tier the caller made stays open
    assert await plain.get("k") == 1
    await plain.clear()
    await plain.aclose()


def test_the_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CACHE_URL_ENV, raising=False)
    with pytest.raises(ConfigurationError, match="needs a URL"):
        connect_cache()
    monkeypatch.setenv(CACHE_URL_ENV, "memory://from-env")
    assert connect_cache().tier is connect_cache().tier
    monkeypatch.setenv(CACHE_URL_ENV, "redis://127.0.0.1:6379/0")
    assert isinstance(connect_cache().tier, RedisTier)  # no connection until used


@pytest.mark.parametrize("url", ["cache.db", "://x", "memory://a/b", "memory://a?x=1", 42])
def test_malformed_urls_are_refused(url: object) -> None:
    with pytest.raises(InvalidArgumentError):
        connect_cache(url)  # type: ignore[arg-type]


def test_unknown_schemes_and_options_say_what_is_accepted() -> None:
    assert {"memory", "redis", "rediss", "unix"} <= set(cache_backends())
    with pytest.raises(ConfigurationError, match="no cache backend") as info:
        connect_cache("memcached://127.0.0.1:11211")
    assert "memory" in info.value.context["available"]
    with pytest.raises(InvalidArgumentError, match="do not take namespace") as bad:
        connect_cache("memory://", namespace="x")
    assert {"maxsize", "ttl", "strict", "clock"} <= set(bad.value.context["accepted"])
    with pytest.raises(InvalidArgumentError, match="do not take bogus"):
        connect_cache("redis://127.0.0.1:1/0", bogus=1)
    with pytest.raises(InvalidArgumentError, match="policy"):
        connect_cache("memory://", policy="random")
    with pytest.raises(InvalidArgumentError, match="health_interval"):
        connect_cache("redis://127.0.0.1:1/0", health_interval=0)


def _distribution(root: Path, name: str, entry_points: str) -> None:
    info = root / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{entry_points}\n")


async def test_third_party_backends_come_from_entry_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "dict_cache_backend.py").write_text(
        textwrap.dedent(
            """
            from pepperpy.core import MISSING

            class DictTier:
                def __init__(self, url, size):
                    self.url, self.size, self.data = url, size, {}

                @classmethod
                def from_url(cls, url, *, size=0):
                    return cls(url, size)

                async def get(self, key):
                    return self.data.get(key, MISSING)

                async def set(self, key, value, *, ttl):
                    self.data[key] = value

                async def delete(self, key):
                    return self.data.pop(key, MISSING) is not MISSING

            class NoFactory:
                pass

            class NotATier:
                @classmethod
                def from_url(cls, url, **options):
                    return object()
            """
        )
    )
    _distribution(
        tmp_path,
        "dict_cache",
        "dict = dict_cache_backend:DictTier\n"
        "nofactory = dict_cache_backend:NoFactory\n"
        "notatier = dict_cache_backend:NotATier",
    )
    _distribution(tmp_path, "broken_cache", "broken = no_such_module_here:Tier")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert {"dict", "broken", "nofactory", "notatier"} <= set(cache_backends())
    cache = connect_cache("dict://somewhere", size=3, maxsize=2)
    assert type(cache.tier).__name__ == "DictTier"
    assert (cache.tier.url, cache.tier.size) == ("dict://somewhere", 3)  # type: ignore[attr-defined]
    await cache.set("k", [1])
    assert cache.tier.data == {"k": [1]}  # type: ignore[attr-defined]
    assert await cache.delete("k") is True
    with pytest.raises(InvalidArgumentError, match="do not take namespace"):
        connect_cache("dict://x", namespace="n")
    with pytest.raises(PluginError, match="failed to load"):
        connect_cache("broken://x")
    with pytest.raises(PluginError, match="from_url"):
        connect_cache("nofactory://x")
    with pytest.raises(PluginError, match="not a cache tier"):
        connect_cache("notatier://x")
