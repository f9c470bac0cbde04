"""Open the cache a URL names, so moving it to a server is a setting, not code."""

from __future__ import annotations

import inspect
from typing import Any

from pepperpy.cache._cache import Cache
from pepperpy.cache._tiers import TieredCache
from pepperpy.core.exceptions import InvalidArgumentError, PluginError
from pepperpy.core.utils import Backends

__all__ = ["CACHE_URL_ENV", "ENTRY_POINT_GROUP", "cache_backends", "connect_cache"]

ENTRY_POINT_GROUP = "pepperpy.cache.backends"
"""The entry point group second-tier backends register under (name = URL scheme)."""

CACHE_URL_ENV = "PEPPERPY_CACHE_URL"
"""The environment variable :func:`connect_cache` reads when given no URL."""

_BACKENDS = Backends(
    "cache",
    "cache backend",
    ENTRY_POINT_GROUP,
    {
        "memory": "pepperpy.cache._memory_tier:MemoryTier",
        "redis": "pepperpy.cache._redis:RedisTier",
        "rediss": "pepperpy.cache._redis:RedisTier",
        "unix": "pepperpy.cache._redis:RedisTier",
    },
)

# Options of the memory front (a Cache) and of the TieredCache around it.
_FRONT = frozenset(
    name
    for name, param in inspect.signature(Cache.__init__).parameters.items()
    if name != "self" and param.kind is not param.VAR_KEYWORD
)
_TIERED = frozenset({"read_through", "write_through", "key_encoder", "strict"})


def cache_backends() -> list[str]:
    """URL schemes :func:`connect_cache` accepts: the built-in ones and entry points."""
    return _BACKENDS.names()


def _tier_options(factory: Any) -> tuple[set[str], bool]:
    """The keyword options *factory* (a ``from_url``) takes, and whether it takes any (``**``)."""
    names: set[str] = set()
    anything = False
    for index, param in enumerate(inspect.signature(factory).parameters.values()):
        if param.kind is param.VAR_KEYWORD:
            anything = True
        elif index > 0 and param.kind in (param.KEYWORD_ONLY, param.POSITIONAL_OR_KEYWORD):
            names.add(param.name)  # index 0 is the URL
    return names, anything


def connect_cache(url: str | None = None, **options: Any) -> TieredCache[Any, Any]:
    """Create the cache a URL names: a memory front over the second tier the URL picks.

    The result is always a :class:`~pepperpy.cache.TieredCache`, so the code
    using it stays the same whichever tier is behind it:

    * ``memory://``: a :class:`~pepperpy.cache.MemoryTier` of its own (one
      process); ``memory://name`` the process-wide tier of that name, shared
      by every cache connected to it.
    * ``redis://host:6379/0``, ``rediss://...``, ``unix:///path/redis.sock``:
      a :class:`~pepperpy.cache.RedisTier` over a new
      :class:`~pepperpy.cache.RedisCache` (``pepperpy-cache[redis]``), shared
      by every process on the same namespace.
    * other schemes: the class registered under that name in the
      ``pepperpy.cache.backends`` entry point group; it needs a
      ``from_url(url, **options)`` classmethod returning a
      :class:`~pepperpy.cache.CacheTier`.

    Closing the returned cache (``await cache.aclose()`` or ``async with``)
    closes the tier made for it too.

    Args:
        url: Where the shared tier lives; default ``$PEPPERPY_CACHE_URL``.
        **options: The memory front's options (``maxsize``, ``ttl`` (also the
            tier's default), ``policy``, ``jitter``, ``weigher``,
            ``max_weight``, ``on_evict``, ``clock``, ``name``), the
            :class:`~pepperpy.cache.TieredCache`'s (``read_through``,
            ``write_through``, ``key_encoder``, ``strict``) and the tier's
            (``namespace``, ``value_type``, ``max_connections``,
            ``connect_timeout``, ``announce``, ``health_interval`` for Redis).
            An option both the front and the tier take (``maxsize``,
            ``clock`` for memory) goes to both.

    Raises:
        ConfigurationError: No URL, or no backend for its scheme.
        InvalidArgumentError: A malformed URL, an option neither the front nor
            the tier takes, or a bad option value.
        PluginError: A registered backend failed to load or is not a tier factory.
    """
    url, scheme, cls = _BACKENDS.for_url(
        url, noun="cache", env=CACHE_URL_ENV, examples="memory:// or redis://host:6379/0"
    )
    factory = cls.from_url
    tier_names, tier_takes_any = _tier_options(factory)
    unknown = sorted(set(options) - _FRONT - _TIERED - tier_names)
    if unknown and not tier_takes_any:
        accepted = sorted(_FRONT | _TIERED | tier_names)
        raise InvalidArgumentError(
            f"{scheme}:// caches do not take {', '.join(unknown)}",
            code="pepperpy.cache.cache_options",
            context={"url": url, "unknown": unknown, "accepted": accepted},
            hint="Pass only the options the memory front or this tier accepts "
            "(listed in 'accepted').",
        )
    front_options = {k: v for k, v in options.items() if k in _FRONT}
    tiered_options = {k: v for k, v in options.items() if k in _TIERED}
    tier_options = {
        k: v
        for k, v in options.items()
        if k in tier_names or (tier_takes_any and k not in _FRONT and k not in _TIERED)
    }
    memory: Cache[Any, Any] = Cache(**front_options)  # bad values fail before any connection
    tier = factory(url, **tier_options)
    if not all(callable(getattr(tier, m, None)) for m in ("get", "set", "delete")):
        raise PluginError(
            f"cache backend {scheme!r} returned {type(tier).__name__}, not a cache tier",
            code="pepperpy.cache.backend_load",
            context={"backend": scheme},
            hint="from_url() must return a pepperpy.cache.CacheTier (async get, set, delete).",
        )
    cache: TieredCache[Any, Any] = TieredCache(memory, tier, **tiered_options)
    cache._owns_tier = True
    return cache
