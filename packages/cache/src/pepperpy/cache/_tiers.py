"""Two-tier caching: a memory :class:`Cache` in front of a slower shared tier."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Hashable, Iterable
from datetime import timedelta
from typing import Any, Generic, Protocol, TypeVar, overload

from pepperpy.cache._cache import Cache, _as_duration
from pepperpy.core.exceptions import ExternalError, InvalidArgumentError, safe_repr
from pepperpy.core.types import MISSING, MissingType

__all__ = ["CacheTier", "StorageTier", "StoreLike", "TieredCache", "encode_key"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
D = TypeVar("D")

_log = logging.getLogger("pepperpy.cache")


class CacheTier(Protocol):
    """The second tier of a :class:`TieredCache` (a store shared between processes).

    Keys are strings. :meth:`get` returns :data:`~pepperpy.core.MISSING` when
    there is no live value. Implementations: :class:`StorageTier` (any
    pepperpy-storage store); Redis and others can follow the same three methods.
    """

    async def get(self, key: str) -> Any:
        """Return the value stored under *key*, or ``MISSING``."""
        ...

    async def set(self, key: str, value: Any, *, ttl: float | None) -> None:
        """Store *value* under *key*, expiring after *ttl* seconds (``None``: never)."""
        ...

    async def delete(self, key: str) -> None:
        """Remove *key* (no error if it is absent)."""
        ...


class StoreLike(Protocol):
    """The part of a pepperpy-storage ``Storage`` that :class:`StorageTier` uses."""

    async def get(self, key: str, default: Any = None) -> Any:
        """Return the value under *key* or *default*."""
        ...

    async def put(self, key: str, value: Any, *, ttl: float | None = None) -> Any:
        """Store *value* under *key*."""
        ...

    async def delete(self, key: str) -> Any:
        """Remove *key*."""
        ...


class _Absent:
    """The default :class:`StorageTier` passes to ``store.get`` (never stored)."""

    __slots__ = ()


_ABSENT = _Absent()


def _unstructure(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    try:
        serialization = importlib.import_module("pepperpy.serialization")
    except ImportError:  # pragma: no cover - serialization is the 'tier' extra
        return value
    return serialization.unstructure(value)


class StorageTier:
    """Adapts any pepperpy-storage store (``get``/``put``/``delete``) as a :class:`CacheTier`.

    Values are kept in an envelope ``{"v": value}`` so ``None`` round-trips;
    attrs instances and other rich values are unstructured with
    pepperpy-serialization before writing, and structured back into
    *value_type* when reading (if given).

    Args:
        store: A started pepperpy-storage ``Storage`` (or anything with the same
            async ``get(key, default)``, ``put(key, value, ttl=)``, ``delete(key)``).
        prefix: Prepended to every key, so one store can hold several caches.
        value_type: The type values are structured into on read (``None``:
            return the JSON-like value as stored).
    """

    def __init__(self, store: StoreLike, *, prefix: str = "cache:", value_type: Any = None):
        self._store = store
        self._prefix = prefix
        self._type = value_type

    @property
    def prefix(self) -> str:
        """The key prefix in the store."""
        return self._prefix

    async def get(self, key: str) -> Any:
        """Return the cached value under *key*, or ``MISSING``."""
        raw = await self._store.get(self._prefix + key, _ABSENT)
        if raw is _ABSENT or raw is None:
            return MISSING
        if not isinstance(raw, dict) or "v" not in raw:
            _log.warning("ignoring a foreign value under cache key %r", self._prefix + key)
            return MISSING
        value = raw["v"]
        if self._type is not None and value is not None:
            serialization = importlib.import_module("pepperpy.serialization")
            value = serialization.structure(value, self._type)
        return value

    async def set(self, key: str, value: Any, *, ttl: float | None) -> None:
        """Store *value* under *key* for *ttl* seconds."""
        await self._store.put(self._prefix + key, {"v": _unstructure(value)}, ttl=ttl)

    async def delete(self, key: str) -> None:
        """Remove *key* from the store."""
        await self._store.delete(self._prefix + key)

    def __repr__(self) -> str:
        return f"StorageTier({self._store!r}, prefix={self._prefix!r})"


def encode_key(key: Hashable) -> str:
    """The default key encoder of :class:`TieredCache`: ``str`` keys as-is, others ``repr``."""
    if isinstance(key, str):
        return key
    if isinstance(key, int) and not isinstance(key, bool):
        return str(key)
    return repr(key)


class TieredCache(Generic[K, V]):
    """A memory :class:`Cache` in front of a shared :class:`CacheTier`.

    Reads check memory first; on a miss they read through to the tier and
    keep what they find in memory. Writes go to the tier first and then to
    memory (write-through), so memory never holds a value the tier refused.

    A failing tier read counts as a miss (logged, counted in
    :attr:`tier_errors`) unless ``strict=True``; a failing tier write raises
    :class:`~pepperpy.core.ExternalError`.

    Args:
        memory: The front cache (its ``ttl`` is also the tier's default ttl).
        tier: The second tier.
        read_through: Read the tier on a memory miss.
        write_through: Write the tier on :meth:`set` (else memory only).
        key_encoder: Turns keys into the tier's string keys (default :func:`encode_key`).
        strict: Raise on tier read failures instead of treating them as misses.
    """

    def __init__(
        self,
        memory: Cache[K, V],
        tier: CacheTier,
        *,
        read_through: bool = True,
        write_through: bool = True,
        key_encoder: Callable[[K], str] = encode_key,
        strict: bool = False,
    ) -> None:
        if not isinstance(memory, Cache):
            raise InvalidArgumentError(
                f"memory must be a pepperpy.cache.Cache, got {safe_repr(memory)}",
                code="pepperpy.cache.invalid_tier",
            )
        self.memory = memory
        self.tier = tier
        self.read_through = read_through
        self.write_through = write_through
        self._encode = key_encoder
        self._strict = strict
        self.tier_hits = 0
        self.tier_misses = 0
        self.tier_errors = 0

    @overload
    async def get(self, key: K) -> V | None: ...

    @overload
    async def get(self, key: K, default: D) -> V | D: ...

    async def get(self, key: K, default: object = None) -> object:
        """Return the value for *key* from memory, else from the tier, else *default*."""
        value = self.memory.get(key, MISSING)
        if value is not MISSING:
            return value
        if not self.read_through:
            return default
        try:
            value = await self.tier.get(self._encode(key))
        except Exception as exc:
            self.tier_errors += 1
            if self._strict:
                raise ExternalError(
                    f"cache tier read failed for key {safe_repr(key)}: {exc}",
                    code="pepperpy.cache.tier_read",
                    context={"key": safe_repr(key), "tier": safe_repr(self.tier)},
                    hint="Check the second tier's store; with strict=False a failed read "
                    "is treated as a miss.",
                ) from exc
            _log.warning("cache tier read failed for key %r", key, exc_info=True)
            return default
        if value is MISSING:
            self.tier_misses += 1
            return default
        self.tier_hits += 1
        self.memory.set(key, value)
        return value

    async def set(
        self,
        key: K,
        value: V,
        *,
        ttl: float | str | timedelta | MissingType | None = MISSING,
        tags: Iterable[str] = (),
    ) -> None:
        """Store *value* in the tier (write-through) and then in memory.

        Raises:
            ExternalError: The tier write failed; memory was not changed.
        """
        if ttl is MISSING:
            seconds = self.memory.ttl
        elif ttl is None:
            seconds = None
        else:
            seconds = _as_duration("ttl", ttl)
        if self.write_through:
            try:
                await self.tier.set(self._encode(key), value, ttl=seconds)
            except Exception as exc:
                raise ExternalError(
                    f"cache tier write failed for key {safe_repr(key)}: {exc}",
                    code="pepperpy.cache.tier_write",
                    context={"key": safe_repr(key), "tier": safe_repr(self.tier)},
                    hint="Check the second tier's store; nothing was cached.",
                ) from exc
        self.memory.set(key, value, ttl=seconds, tags=tags)

    async def delete(self, key: K) -> bool:
        """Remove *key* from memory and from the tier; return whether memory had it."""
        found = self.memory.delete(key)
        try:
            await self.tier.delete(self._encode(key))
        except Exception as exc:
            raise ExternalError(
                f"cache tier delete failed for key {safe_repr(key)}: {exc}",
                code="pepperpy.cache.tier_delete",
                context={"key": safe_repr(key)},
                hint="The memory entry was removed; retry to remove the tier's copy.",
            ) from exc
        return found

    def __repr__(self) -> str:
        return f"TieredCache({self.memory!r}, {self.tier!r})"
