"""pepperpy.cache against cachetools, functools.lru_cache, async-lru and aiocache.

Targets (issue 6): sync LRU hit within 1.5x of cachetools; async @cached hit
faster than aiocache and within 1.5x of async-lru. Issue 26: LRU set with half new
keys (evicting) <= 1.0x cachetools; set of a present key <= 1.7x (ours holds a lock).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable

from harness import acompare, compare
from pepperpy.cache import Cache, cached

REQUIRES = ["cachetools", "async-lru", "aiocache"]

N = 10_000


def _filled_lru() -> tuple[Cache[int, int], object]:
    import cachetools

    ours: Cache[int, int] = Cache(N)
    peer = cachetools.LRUCache(maxsize=N)
    for i in range(N):
        ours.set(i, i)
        peer[i] = i
    return ours, peer


def bench_lru_get_hit():
    ours, peer = _filled_lru()

    @functools.lru_cache(maxsize=N)
    def stdlib(key: int) -> int:
        return key

    for i in range(N):
        stdlib(i)
    return compare(
        "cache: LRU 10k get hit",
        {
            "pepperpy Cache.get": lambda: ours.get(4242),
            "cachetools LRUCache[k]": lambda: peer[4242],  # type: ignore[index]
            "functools.lru_cache (C)": lambda: stdlib(4242),
        },
        inner=5000,
    )


def _key_stream() -> Callable[[], int]:
    """Keys drawn uniformly from [0, 2N) (seeded): a 10k cache holds half, so about half
    of the writes are new keys that evict, half overwrite. Each case gets its own
    stream of the same keys (a shared counter would hand each cache every other
    block of keys, all of which stay cached: overwrites only)."""
    import random

    rng = random.Random(26)
    keys = [rng.randrange(2 * N) for _ in range(1 << 16)]
    counter = itertools.count()
    mask = len(keys) - 1
    return lambda: keys[next(counter) & mask]


def bench_lru_set():
    ours, peer = _filled_lru()
    ours_key, peer_key = _key_stream(), _key_stream()

    def ours_set() -> None:
        ours.set(ours_key(), 1)

    def peer_set() -> None:
        peer[peer_key()] = 1  # type: ignore[index]

    return compare(
        "cache: LRU 10k set (half new keys, evicting)",
        {"pepperpy Cache.set": ours_set, "cachetools LRUCache[k]=v": peer_set},
        inner=5000,
    )


def bench_lru_overwrite():
    ours, peer = _filled_lru()
    ours_keys, peer_keys = itertools.count(), itertools.count()

    def ours_set() -> None:
        ours.set(next(ours_keys) % N, 1)

    def peer_set() -> None:
        peer[next(peer_keys) % N] = 1  # type: ignore[index]

    return compare(
        "cache: LRU 10k overwrite (key present)",
        {"pepperpy Cache.set": ours_set, "cachetools LRUCache[k]=v": peer_set},
        inner=5000,
        note="ours holds an RLock per write (thread-safe); cachetools takes none",
    )


def bench_ttl_get_hit():
    import cachetools

    ours: Cache[int, int] = Cache(N, ttl=3600)
    peer = cachetools.TTLCache(maxsize=N, ttl=3600)
    for i in range(N):
        ours.set(i, i)
        peer[i] = i
    return compare(
        "cache: TTL 10k get hit",
        {
            "pepperpy Cache(ttl=).get": lambda: ours.get(4242),
            "cachetools TTLCache[k]": lambda: peer[4242],
        },
        inner=5000,
    )


def bench_cached_sync_hit():
    import cachetools

    @cached(maxsize=N)
    def ours(x: int) -> int:
        return x

    @cachetools.cached(cachetools.LRUCache(maxsize=N))
    def peer(x: int) -> int:
        return x

    @functools.lru_cache(maxsize=N)
    def stdlib(x: int) -> int:
        return x

    for f in (ours, peer, stdlib):
        f(7)
    return compare(
        "cache: sync @cached hit",
        {
            "pepperpy @cached": lambda: ours(7),
            "cachetools @cached": lambda: peer(7),
            "functools.lru_cache (C)": lambda: stdlib(7),
        },
        inner=5000,
    )


async def bench_cached_async_hit():
    import aiocache
    from async_lru import alru_cache

    @cached(maxsize=N)
    async def ours(x: int) -> int:
        return x

    @alru_cache(maxsize=N)
    async def peer_lru(x: int) -> int:
        return x

    @aiocache.cached()
    async def peer_aiocache(x: int) -> int:
        return x

    for f in (ours, peer_lru, peer_aiocache):
        await f(7)
    return await acompare(
        "cache: async @cached hit",
        {
            "pepperpy @cached": lambda: ours(7),
            "async-lru": lambda: peer_lru(7),
            "aiocache": lambda: peer_aiocache(7),
        },
        inner=2000,
    )
