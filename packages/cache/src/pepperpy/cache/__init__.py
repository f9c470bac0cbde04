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
* :func:`connect_cache`: the :class:`TieredCache` a URL names (``memory://``,
  ``redis://``, or a ``pepperpy.cache.backends`` entry point), default
  ``$PEPPERPY_CACHE_URL``: moving to Redis is a setting, not code.
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
from pepperpy.cache._connect import (
    CACHE_URL_ENV,
    ENTRY_POINT_GROUP,
    cache_backends,
    connect_cache,
)
from pepperpy.cache._decorator import BoundCachedFunction, CachedFunction, cached, make_key
from pepperpy.cache._errors import ERRORS, CacheFullError, ValueTooLargeError
from pepperpy.cache._memory_tier import MemoryTier
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
    "CACHE_URL_ENV",
    "ENTRY_POINT_GROUP",
    "ERRORS",
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
    "MemoryTier",
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
    "cache_backends",
    "cached",
    "connect_cache",
    "encode_key",
    "make_key",
]
