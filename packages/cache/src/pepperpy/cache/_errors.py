"""Errors raised by :mod:`pepperpy.cache`."""

from __future__ import annotations

from pepperpy.core.exceptions import (
    ConfigurationError,
    ConflictError,
    ErrorCatalogue,
    ErrorCode,
    ExternalError,
    InvalidArgumentError,
    PluginError,
)

__all__ = ["ERRORS", "CacheFullError", "RedisCacheError", "ValueTooLargeError"]


class CacheFullError(ConflictError):
    """A cache with :attr:`~pepperpy.cache.Policy.NONE` (no eviction) is full.

    Nothing was stored. Delete or invalidate entries, raise ``maxsize`` or
    ``max_weight``, or pick an evicting policy.
    """

    code = "pepperpy.cache.full"
    retryable = False


class ValueTooLargeError(InvalidArgumentError):
    """A value weighs more than the whole cache may hold; it was not stored."""

    code = "pepperpy.cache.value_too_large"


class RedisCacheError(ExternalError):
    """Redis could not be reached or failed a command; ``context`` says which."""

    code = "pepperpy.cache.redis"


ERRORS = ErrorCatalogue(
    "pepperpy.cache",
    ErrorCode(
        "pepperpy.cache.full",
        CacheFullError,
        "A cache with the no-eviction policy is full; nothing was stored.",
        "Delete or invalidate entries, raise maxsize or max_weight, or pick an evicting policy.",
    ),
    ErrorCode(
        "pepperpy.cache.value_too_large",
        ValueTooLargeError,
        "A value weighs more than the whole cache may hold; it was not stored.",
        "Raise max_weight, or do not cache values this large.",
    ),
    ErrorCode(
        "pepperpy.cache.redis",
        RedisCacheError,
        "Redis could not be reached or failed a command; context names the operation.",
        "Retry later; check that the Redis server is running and reachable.",
    ),
    ErrorCode(
        "pepperpy.cache.tier_read",
        ExternalError,
        "A strict TieredCache could not read from its second tier.",
        "Check the tier's store; with strict=False a failed read counts as a miss.",
    ),
    ErrorCode(
        "pepperpy.cache.tier_write",
        ExternalError,
        "A TieredCache could not write to its second tier; nothing was cached.",
        "Check the tier's store, then set the value again.",
    ),
    ErrorCode(
        "pepperpy.cache.tier_delete",
        ExternalError,
        "A TieredCache removed the memory entry but could not delete the tier's copy.",
        "Retry the delete once the tier's store works again.",
    ),
    ErrorCode(
        "pepperpy.cache.tier_invalidate",
        ExternalError,
        "A TieredCache dropped memory entries but could not invalidate the tier's copies.",
        "Retry the invalidation once the tier's store works again.",
    ),
    ErrorCode(
        "pepperpy.cache.tier_cannot_scan",
        ConfigurationError,
        "A StorageTier was asked for tags or prefixes over a store that cannot scan.",
        "Use a pepperpy-storage Storage (scan, put_many, delete_many, transact).",
    ),
    ErrorCode(
        "pepperpy.cache.invalid_option",
        InvalidArgumentError,
        "An option of Cache, TieredCache, RedisCache or @cached is wrong or conflicts "
        "with another.",
        "Fix the option the message names (the hint gives an accepted value).",
    ),
    ErrorCode(
        "pepperpy.cache.invalid_tag",
        InvalidArgumentError,
        "Tags are one string instead of a collection, or a tag is not a usable string.",
        "Pass tags as a tuple of non-empty strings without newlines, e.g. tags=('user',).",
    ),
    ErrorCode(
        "pepperpy.cache.too_many_tags",
        InvalidArgumentError,
        "The tags of one Redis entry take more room than an entry header allows.",
        "Use fewer or shorter tags.",
    ),
    ErrorCode(
        "pepperpy.cache.invalid_weight",
        InvalidArgumentError,
        "The weigher returned something other than an int >= 0.",
        "Make the weigher return a whole size, such as len(value).",
    ),
    ErrorCode(
        "pepperpy.cache.invalid_namespace",
        InvalidArgumentError,
        "A namespace name is not a non-empty string.",
        "Pass a non-empty str.",
    ),
    ErrorCode(
        "pepperpy.cache.invalid_prefix",
        InvalidArgumentError,
        "invalidate_prefix() got a prefix that is not a str.",
        "Pass the start of the keys as a str, e.g. 'user:42:'.",
    ),
    ErrorCode(
        "pepperpy.cache.reserved_key",
        InvalidArgumentError,
        "A StorageTier key starts with \\x1f, which the tier reserves for its tag index.",
        "Use keys that do not start with \\x1f.",
    ),
    ErrorCode(
        "pepperpy.cache.unhashable_key",
        InvalidArgumentError,
        "@cached cannot build a key from the call's arguments (one is unhashable).",
        "Pass hashable arguments, or give @cached(key=...) a function building the key.",
    ),
    ErrorCode(
        "pepperpy.cache.unencodable_key",
        InvalidArgumentError,
        "A key for a shared tier holds an object whose repr does not name its value.",
        "Give the class a value repr (attrs, dataclasses), or pass key=/key_encoder=.",
    ),
    ErrorCode(
        "pepperpy.cache.bad_value",
        InvalidArgumentError,
        "A value cannot be stored in Redis (not JSON-like after conversion, or NaN).",
        "Cache JSON-like values or attrs classes; NaN and infinity are refused.",
    ),
    ErrorCode(
        "pepperpy.cache.no_redis_url",
        ConfigurationError,
        "RedisCache got no client or URL and PEPPERPY_REDIS_URL is unset.",
        "Pass a redis:// URL or a redis.asyncio.Redis, or set PEPPERPY_REDIS_URL.",
    ),
    ErrorCode(
        "pepperpy.cache.cache_url",
        InvalidArgumentError,
        "A memory:// cache URL has a path or a query.",
        "Use memory:// or memory://name.",
    ),
    ErrorCode(
        "pepperpy.cache.cache_options",
        InvalidArgumentError,
        "connect_cache() got options neither the memory front nor the tier accepts.",
        "Pass only the options listed in context['accepted'].",
    ),
    ErrorCode(
        "pepperpy.cache.backend_load",
        PluginError,
        "A cache backend's from_url() returned something that is not a cache tier.",
        "Fix or reinstall the package providing the backend; it must return a CacheTier.",
    ),
)
"""The error codes pepperpy-cache raises: code -> class, meaning and what to do."""
