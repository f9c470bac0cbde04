"""PepperPy cache: typed in-memory caches, one ``@cached`` for sync and async, tiers.

* :class:`Cache` ``[K, V]``: LRU, LFU, FIFO or no-eviction; per-entry and
  default TTL with jitter; bounded by count or by weight; invalidation by key,
  tag, prefix, pattern or versioned :class:`Namespace`; :class:`CacheStats`.
* :func:`cached`: caches results of sync and async functions and methods, with
  single-flight on by default, optional error caching and stale-while-revalidate.
* :class:`TieredCache`: a memory cache in front of a shared :class:`CacheTier`
  (:class:`StorageTier` adapts any pepperpy-storage store; :class:`RedisTier` Redis).
  Tags and invalidations reach a :class:`TaggedCacheTier`; a
  :class:`BroadcastingCacheTier` (Redis) also drops changed entries from the
  memory fronts of every other process.
* :class:`RedisCache`: an async cache shared through Redis, with server-side
  tag invalidation and change announcements (``pepperpy-cache[redis]``).

Time comes from a :class:`pepperpy.core.Clock`, so tests move TTLs with a
``ManualClock`` instead of sleeping.
"""

from __future__ import annotations

from pepperpy.cache._cache import (
    Cache,
    CacheStats,
    EvictionReason,
    Namespace,
    NamespacedKey,
    Policy,
)
from pepperpy.cache._decorator import BoundCachedFunction, CachedFunction, cached, make_key
from pepperpy.cache._errors import CacheFullError, ValueTooLargeError
from pepperpy.cache._metrics import CacheMetricsCollector
from pepperpy.cache._redis import REDIS_URL_ENV, RedisCache, RedisCacheError, RedisTier
from pepperpy.cache._tiers import (
    BroadcastingCacheTier,
    CacheTier,
    Invalidation,
    StorageTier,
    StoreLike,
    TaggedCacheTier,
    TieredCache,
    TierEntry,
    encode_key,
)
from pepperpy.cache._version import __version__

__all__ = [
    "REDIS_URL_ENV",
    "BoundCachedFunction",
    "BroadcastingCacheTier",
    "Cache",
    "CacheFullError",
    "CacheMetricsCollector",
    "CacheStats",
    "CacheTier",
    "CachedFunction",
    "EvictionReason",
    "Invalidation",
    "Namespace",
    "NamespacedKey",
    "Policy",
    "RedisCache",
    "RedisCacheError",
    "RedisTier",
    "StorageTier",
    "StoreLike",
    "TaggedCacheTier",
    "TierEntry",
    "TieredCache",
    "ValueTooLargeError",
    "__version__",
    "cached",
    "encode_key",
    "make_key",
]
