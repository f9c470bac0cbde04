"""Errors raised by :mod:`pepperpy.cache`."""

from __future__ import annotations

from pepperpy.core.exceptions import ConflictError, InvalidArgumentError

__all__ = ["CacheFullError", "ValueTooLargeError"]


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
