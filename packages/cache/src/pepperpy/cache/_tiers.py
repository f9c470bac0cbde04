"""Two-tier caching: a memory :class:`Cache` in front of a slower shared tier.

The tier contract comes in three layers, so a third-party tier implements only
what it can:

* :class:`CacheTier`: ``get``/``set``/``delete``. Tags, prefixes and ``clear``
  of a :class:`TieredCache` then reach the tier only for the keys the local
  memory front knows about (best effort).
* :class:`TaggedCacheTier`: adds ``supports_tags = True``, ``get_entry``,
  ``set(..., tags=)``, ``invalidate_tag``, ``invalidate_prefix`` and ``clear``,
  so invalidation is complete and shared by every process using the tier.
* :class:`BroadcastingCacheTier`: adds ``listen``/``unlisten``/``sync`` and
  ``feed_connected``: the tier tells every memory front about changes made
  anywhere (:class:`RedisTier` does, over Redis pub/sub).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any, Generic, Protocol, TypeVar, overload, runtime_checkable

import attrs

from pepperpy.cache._cache import Cache, _tag_tuple
from pepperpy.core.exceptions import (
    ConfigurationError,
    ExternalError,
    InvalidArgumentError,
    safe_repr,
)
from pepperpy.core.types import MISSING, MissingType

__all__ = [
    "BroadcastingCacheTier",
    "CacheTier",
    "Invalidation",
    "StorageTier",
    "StoreLike",
    "TaggedCacheTier",
    "TierEntry",
    "TieredCache",
    "encode_key",
]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
D = TypeVar("D")

_log = logging.getLogger("pepperpy.cache")

# Marks memory entries whose key does not encode to itself, so an invalidation
# naming the encoded key finds them (O(1) through the memory cache's tag index).
# It starts like the memory cache's internal namespace tag, so tags_of hides it.
_KEY_TAG = "\x00ns:\x00key:"


@attrs.frozen
class TierEntry:
    """What :meth:`TaggedCacheTier.get_entry` returns: a live value with its tags and ttl.

    Attributes:
        value: The cached value.
        tags: The tags it was stored with.
        ttl: Seconds left before the tier drops it (``None``: never).
    """

    value: Any
    tags: tuple[str, ...] = ()
    ttl: float | None = None


@attrs.frozen
class Invalidation:
    """A change made to a shared tier, announced to every memory front.

    Attributes:
        keys: Encoded keys that were written or deleted.
        tags: Tags that were invalidated.
        prefix: Encoded-key prefix that was invalidated, if any.
        everything: The whole tier was cleared, or changes may have been
            missed (the announcement channel was lost): drop everything.
    """

    keys: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    prefix: str | None = None
    everything: bool = False


InvalidationListener = Callable[[Invalidation], None]


class CacheTier(Protocol):
    """The second tier of a :class:`TieredCache` (a store shared between processes).

    Keys are strings. :meth:`get` returns :data:`~pepperpy.core.MISSING` when
    there is no live value. These three methods are all a tier needs; see
    :class:`TaggedCacheTier` for tags and invalidation in the tier itself.
    """

    async def get(self, key: str) -> Any:
        """Return the value stored under *key*, or ``MISSING``."""
        ...

    async def set(self, key: str, value: Any, *, ttl: float | None) -> None:
        """Store *value* under *key*, expiring after *ttl* seconds (``None``: never)."""
        ...

    async def delete(self, key: str) -> Any:
        """Remove *key* (no error if it is absent); may return whether it was there."""
        ...


@runtime_checkable
class TaggedCacheTier(Protocol):
    """A :class:`CacheTier` that also keeps tags and invalidates by tag, prefix or all.

    :class:`TieredCache` uses these methods when the tier's ``supports_tags``
    is ``True`` (a tier may decide per instance, as :class:`StorageTier` does
    for stores that cannot scan). Invalidation follows the memory
    :class:`~pepperpy.cache.Cache`: :meth:`invalidate_tag` removes the entries
    whose *current* value carries a tag (an entry rewritten without it
    survives) and returns how many it removed.
    """

    supports_tags: bool

    async def get(self, key: str) -> Any:
        """Return the value stored under *key*, or ``MISSING``."""
        ...

    async def get_entry(self, key: str) -> TierEntry | MissingType:
        """Return the live entry under *key* (value, tags, ttl left), or ``MISSING``."""
        ...

    async def set(
        self, key: str, value: Any, *, ttl: float | None, tags: Sequence[str] = ()
    ) -> None:
        """Store *value* under *key* for *ttl* seconds, with *tags*."""
        ...

    async def delete(self, key: str) -> bool:
        """Remove *key*; return whether it was there."""
        ...

    async def invalidate_tag(self, *tags: str) -> int:
        """Remove every entry carrying any of *tags*; return how many were removed."""
        ...

    async def invalidate_prefix(self, prefix: str) -> int:
        """Remove every entry whose (encoded) key starts with *prefix*."""
        ...

    async def clear(self) -> int:
        """Remove every entry; return how many there were."""
        ...


@runtime_checkable
class BroadcastingCacheTier(TaggedCacheTier, Protocol):
    """A :class:`TaggedCacheTier` that announces every change to every memory front.

    ``feed_connected`` says whether announcements are arriving right now; a
    :class:`TieredCache` keeps values in memory only while it is ``True``.
    """

    feed_connected: bool

    async def listen(self, listener: InvalidationListener) -> None:
        """Call *listener* with each :class:`Invalidation`, from here on.

        Returns once announcements are arriving (or the first attempt to
        connect failed; it is retried in the background).
        """
        ...

    async def unlisten(self, listener: InvalidationListener) -> None:
        """Stop calling *listener*."""
        ...

    async def sync(self) -> None:
        """Return once every change made anywhere before the call was announced here."""
        ...


class StoreLike(Protocol):
    """The part of a pepperpy-storage ``Storage`` that :class:`StorageTier` uses.

    With only these three methods, :class:`StorageTier` keeps values but no
    tags (``supports_tags`` is ``False``); a pepperpy-storage ``Storage`` also
    has the ``scan``/``put_many``/``delete_many``/``transact`` that tags need.
    """

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
_SCAN_PAGE = 200
_INDEX_MARK = "\x1f"  # after the prefix: the tag index, never a valid cache key start
_TAG_METHODS = ("scan", "put_many", "delete_many", "transact")


def _unstructure(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    try:
        serialization = importlib.import_module("pepperpy.serialization")
    except ImportError:  # pragma: no cover - serialization is the 'tier' extra
        return value
    return serialization.unstructure(value)


def _escape_tag(tag: str) -> str:
    """A tag as it appears in a store key (no NUL, no index separator)."""
    return tag.replace("%", "%25").replace("\x00", "%00").replace(_INDEX_MARK, "%1F")


class StorageTier:
    r"""Adapts any pepperpy-storage store as a :class:`TaggedCacheTier`.

    Values are kept in an envelope ``{"v": value, "t": [tags]}`` so ``None``
    round-trips; attrs instances and other rich values are unstructured with
    pepperpy-serialization before writing, and structured back into
    *value_type* when reading (if given).

    **Tags** are indexed in the store itself: a tagged write stores, in one
    atomic ``put_many`` with the entry's ttl, one empty index key
    ``<prefix>\x1f<tag>\x1f<key>`` per tag. :meth:`invalidate_tag` scans only
    that tag's index range (never the whole store) and, in an optimistic
    transaction per page, deletes each entry whose current envelope still
    carries the tag, so an entry rewritten without the tag survives and a
    concurrent rewrite makes the page retry instead of being missed. This
    needs the store's ``scan``, ``put_many``, ``delete_many`` and ``transact``
    (every pepperpy-storage ``Storage`` has them). A bare ``get``/``put``/``delete``
    store gets ``supports_tags = False``: values still round-trip, and a
    :class:`TieredCache` then reaches such a tier only for the keys its own
    memory knows.

    Keys starting with ``\x1f`` are reserved for the index.

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
        self._index = prefix + _INDEX_MARK
        self._type = value_type
        self.supports_tags: bool = all(callable(getattr(store, m, None)) for m in _TAG_METHODS)
        self._rich: Any = store  # the store's optional methods, untyped

    @property
    def prefix(self) -> str:
        """The key prefix in the store."""
        return self._prefix

    def _value(self, raw: Any, key: str) -> Any:
        if raw is _ABSENT or raw is None:
            return MISSING
        if not isinstance(raw, dict) or "v" not in raw:
            _log.warning("ignoring a foreign value under cache key %r", key)
            return MISSING
        value = raw["v"]
        if self._type is not None and value is not None:
            serialization = importlib.import_module("pepperpy.serialization")
            value = serialization.structure(value, self._type)
        return value

    async def get(self, key: str) -> Any:
        """Return the cached value under *key*, or ``MISSING``."""
        name = self._prefix + key
        return self._value(await self._store.get(name, _ABSENT), name)

    async def get_entry(self, key: str) -> TierEntry | MissingType:
        """Return the live entry under *key* with its tags and ttl left, or ``MISSING``."""
        name = self._prefix + key
        get_entry = getattr(self._store, "get_entry", None)
        if get_entry is None:
            raw = await self._store.get(name, _ABSENT)
            value = self._value(raw, name)
            return MISSING if value is MISSING else TierEntry(value, _tags_of(raw), None)
        entry = await get_entry(name)
        if entry is None:
            return MISSING
        value = self._value(entry.value, name)
        if isinstance(value, MissingType):
            return MISSING
        ttl = None
        if entry.expires_at is not None:
            clock = getattr(self._store, "clock", None)
            now = clock.time() if clock is not None else time.time()
            ttl = max(entry.expires_at - now, 0.0)
            if ttl <= 0.0:
                return MISSING
        return TierEntry(value, _tags_of(entry.value), ttl)

    def _check_key(self, key: str) -> None:
        if key.startswith(_INDEX_MARK):
            raise InvalidArgumentError(
                f"cache keys starting with \\x1f are reserved, got {safe_repr(key)}",
                code="pepperpy.cache.reserved_key",
                context={"key": safe_repr(key)},
                hint="StorageTier keeps its tag index under '<prefix>\\x1f'; use another key.",
            )

    async def set(
        self, key: str, value: Any, *, ttl: float | None, tags: Sequence[str] = ()
    ) -> None:
        """Store *value* under *key* for *ttl* seconds, indexing *tags* (if supported)."""
        self._check_key(key)
        name = self._prefix + key
        envelope: dict[str, Any] = {"v": _unstructure(value)}
        tag_list = list(dict.fromkeys(tags)) if tags and self.supports_tags else []
        if not tag_list:
            await self._store.put(name, envelope, ttl=ttl)
            return
        envelope["t"] = tag_list
        items: list[tuple[str, Any]] = [(name, envelope)]
        items.extend((self._tag_key(tag, key), 1) for tag in tag_list)
        await self._rich.put_many(items, ttl=ttl)

    async def delete(self, key: str) -> bool:
        """Remove *key* from the store; return whether it was there."""
        return bool(await self._store.delete(self._prefix + key))

    def _tag_key(self, tag: str, key: str) -> str:
        return f"{self._index}{_escape_tag(tag)}{_INDEX_MARK}{key}"

    def _need_tags(self, operation: str) -> None:
        if not self.supports_tags:
            raise ConfigurationError(
                f"StorageTier.{operation} needs a store that can scan",
                code="pepperpy.cache.tier_cannot_scan",
                context={"store": safe_repr(self._store)},
                hint="Use a pepperpy-storage Storage (it has scan, put_many, delete_many and "
                "transact).",
            )

    async def invalidate_tag(self, *tags: str) -> int:
        """Remove every entry whose current value carries any of *tags*; return how many."""
        self._need_tags("invalidate_tag")
        removed = 0
        for tag in dict.fromkeys(tags):
            start = self._tag_key(tag, "")
            while True:
                page = await self._rich.scan(start, limit=_SCAN_PAGE)
                keys = [name[len(start) :] for name, _ in page.items]
                if not keys:
                    break
                removed += await self._rich.transact(self._drop_page(tag, start, keys))
        return removed

    def _drop_page(self, tag: str, start: str, keys: list[str]) -> Callable[[Any], Awaitable[int]]:
        async def drop(tx: Any) -> int:
            count = 0
            for key in keys:
                await tx.get(start + key)  # read, so a concurrent re-tag conflicts
                raw = await tx.get(self._prefix + key)
                if tag in _tags_of(raw):
                    tx.delete(self._prefix + key)
                    count += 1
                tx.delete(start + key)
            return count

        return drop

    async def invalidate_prefix(self, prefix: str) -> int:
        """Remove every entry whose key starts with *prefix*; return how many."""
        self._need_tags("invalidate_prefix")
        return await self._delete_range(self._prefix + prefix, skip_index=True)

    async def clear(self) -> int:
        """Remove every entry of this tier (and its tag index); return how many entries."""
        self._need_tags("clear")
        removed = await self._delete_range(self._prefix, skip_index=True)
        await self._delete_range(self._index, skip_index=False)
        return removed

    async def _delete_range(self, start: str, *, skip_index: bool) -> int:
        removed = 0
        cursor: str | None = None
        while True:
            page = await self._rich.scan(start, limit=_SCAN_PAGE, cursor=cursor)
            names = [n for n, _ in page.items if not (skip_index and n.startswith(self._index))]
            if names:
                removed += int(await self._rich.delete_many(names))
            if page.cursor is None:
                return removed
            cursor = page.cursor

    def __repr__(self) -> str:
        return f"StorageTier({self._store!r}, prefix={self._prefix!r})"


def _tags_of(raw: Any) -> tuple[str, ...]:
    if isinstance(raw, dict):
        tags = raw.get("t")
        if isinstance(tags, list):
            return tuple(t for t in tags if isinstance(t, str))
    return ()


_TYPED = "\x1e"  # starts every encoding that is not a plain ``str`` key as it is


def encode_key(key: Hashable) -> str:
    r"""The default key encoder of :class:`TieredCache` and :class:`RedisCache`.

    A ``str`` key is its own encoding (so tier keys stay readable and
    :meth:`TieredCache.invalidate_prefix` applies to them). Any other key is
    encoded with its type: ``""`` followed by a type tag and the value,
    so ``1`` and ``"1"``, or ``("user", 7)`` and ``"('user', 7)"``, never share
    an entry. A ``str`` key that itself starts with ``""`` is escaped the
    same way. Keys that a ``dict`` treats as one key (``1``, ``1.0`` and
    ``True``) share one encoding too, as they share one memory entry.

    Tuples and frozensets are encoded element by element; other types by
    their qualified name and ``repr``, so give such keys an unambiguous ``repr``
    (attrs and dataclass instances have one).

    Raises:
        InvalidArgumentError: The key's ``repr`` holds a memory address (a
            class without a ``__repr__``, a function) or raises: an address
            names another object later, or in another process sharing the
            tier, which would then get this key's value.
    """
    if isinstance(key, str) and not key.startswith(_TYPED):
        return key
    return _TYPED + _typed(key)


def _typed(key: Any) -> str:
    """An injective encoding of *key* that names its type (see :func:`encode_key`)."""
    if isinstance(key, str):
        return "s:" + key
    if isinstance(key, int):  # bool too: True == 1 is one dict key
        return f"i:{int(key)}"
    if isinstance(key, float):
        return f"i:{int(key)}" if key.is_integer() else f"f:{key!r}"
    if key is None:
        return "n:"
    if isinstance(key, (bytes, bytearray)):
        return "b:" + bytes(key).hex()
    if isinstance(key, tuple):
        return "t:" + repr(tuple(_typed(item) for item in key))
    if isinstance(key, frozenset):
        return "fs:" + repr(sorted(_typed(item) for item in key))
    kind = type(key)
    try:
        text = repr(key)
    except Exception as exc:
        raise _unencodable(key, f"its repr() raised {type(exc).__name__}") from None
    if _ADDRESS.search(text):
        raise _unencodable(key, "its repr() is a memory address")
    return f"o:{kind.__module__}.{kind.__qualname__}:{text}"


# "<Foo object at 0x7f...>", "<function f at 0x...>", "<bound method ... at 0x...>"
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _unencodable(key: Any, why: str) -> InvalidArgumentError:
    """A key a tier cannot name safely: its encoding would not say which object it is.

    An address names whatever object lives there later, or in another process
    sharing the tier, which would then get this key's cached value.
    """
    kind = type(key)
    return InvalidArgumentError(
        f"cannot use a {kind.__module__}.{kind.__qualname__} in a shared cache key: {why}",
        code="pepperpy.cache.unencodable_key",
        context={"type": f"{kind.__module__}.{kind.__qualname__}"},
        hint="Give the class a repr that names its value (attrs and dataclasses have "
        "one), or pass @cached(key=...) / key_encoder=... building the key from "
        "stable values (for a method, leave 'self' out or use its id field).",
    )


def _tier_error(
    exc: Exception, operation: str, what: str, hint: str, *, code: str, **context: Any
) -> ExternalError:
    """The error for a failed tier call: *code* names the *operation* that failed."""
    error = ExternalError(
        f"cache tier {operation} failed for {what}: {exc}",
        code=code,
        context=context,
        hint=hint,
    )
    error.__cause__ = exc
    return error


class TieredCache(Generic[K, V]):
    """A memory :class:`Cache` in front of a shared :class:`CacheTier`.

    Reads check memory first; on a miss they read through to the tier and
    keep what they find in memory (with its tags, and never longer than the
    tier keeps it). Writes go to the tier first and then to memory
    (write-through), so memory never holds a value the tier refused.

    With a :class:`TaggedCacheTier`, tags are stored in the tier and
    :meth:`invalidate_tag`, :meth:`invalidate_prefix` and :meth:`clear` reach
    it (and every process sharing it). With a plain :class:`CacheTier` they
    reach the tier only for the keys this memory front knows.

    With a :class:`BroadcastingCacheTier` (:class:`RedisTier`), every write,
    delete and invalidation made by any process drops the affected entries
    from every other front, within about one network round trip; memory is
    only used while the announcements arrive (a front that loses them drops
    everything and keeps nothing until they are back). :meth:`sync` waits
    until every earlier change has reached this front.

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
                code="pepperpy.cache.invalid_option",
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
        self._tagged: Any = tier if getattr(tier, "supports_tags", False) is True else None
        self._feed: Any = self._tagged if isinstance(tier, BroadcastingCacheTier) else None
        self._listening = False
        self._epoch = 0  # bumped by every announcement: a racing read is not kept
        self._owns_tier = False  # made by connect_cache: aclose() closes the tier too

    # ------------------------------------------------------------------ feed

    @property
    def supports_tags(self) -> bool:
        """Whether tags and invalidations reach the tier (a :class:`TaggedCacheTier`)."""
        return self._tagged is not None

    async def _start_feed(self) -> None:
        if not self._listening:
            self._listening = True
            await self._feed.listen(self._on_invalidation)

    def _memory_ok(self) -> bool:
        """Whether memory may keep values now (always, unless a feed is down)."""
        return self._feed is None or bool(self._feed.feed_connected)

    def _on_invalidation(self, change: Invalidation) -> None:
        self._epoch += 1
        memory = self.memory
        if change.everything:
            memory.clear()
            return
        for name in change.keys:
            memory.delete(name)  # type: ignore[arg-type]  # str keys encode to themselves
        tags = [*change.tags, *(_KEY_TAG + name for name in change.keys)]
        if tags:
            memory.invalidate_tag(*tags)
        if change.prefix is not None:
            prefix, encode = change.prefix, self._encode
            memory.invalidate_where(lambda key: encode(key).startswith(prefix))

    async def sync(self) -> None:
        """Wait until every change made before this call (by any process) reached this front.

        A no-op for tiers that do not announce changes.
        """
        if self._feed is not None:
            await self._start_feed()
            await self._feed.sync()

    async def aclose(self) -> None:
        """Stop listening for announcements.

        The tier stays open, unless :func:`~pepperpy.cache.connect_cache` made
        it for this cache: then it is closed too (its connections released).
        """
        if self._feed is not None and self._listening:
            self._listening = False
            await self._feed.unlisten(self._on_invalidation)
        if self._owns_tier:
            self._owns_tier = False
            close = getattr(self.tier, "aclose", None)
            if close is not None:
                await close()

    async def __aenter__(self) -> TieredCache[K, V]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ reads

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
        return await self._read_through(key, default)

    async def _read_through(self, key: K, default: object) -> object:
        """Read *key* from the tier (memory already missed) and keep it in memory."""
        if self._feed is not None and not self._listening:
            await self._start_feed()
        epoch = self._epoch
        name = self._encode(key)
        tags: tuple[str, ...] = ()
        ttl: float | MissingType | None = MISSING
        try:
            if self._tagged is not None:
                entry = await self._tagged.get_entry(name)
                if entry is MISSING:
                    value = MISSING
                else:
                    value, tags, ttl = entry.value, entry.tags, entry.ttl
            else:
                value = await self.tier.get(name)
        except Exception as exc:
            self.tier_errors += 1
            if self._strict:
                raise _tier_error(
                    exc,
                    "read",
                    f"key {safe_repr(key)}",
                    "Check the second tier's store; with strict=False a failed read is "
                    "treated as a miss.",
                    key=safe_repr(key),
                    tier=safe_repr(self.tier),
                    code="pepperpy.cache.tier_read",
                ) from exc
            _log.warning("cache tier read failed for key %r", key, exc_info=True)
            return default
        if value is MISSING:
            self.tier_misses += 1
            return default
        self.tier_hits += 1
        if epoch == self._epoch and self._memory_ok():
            if ttl is MISSING or ttl is None:
                ttl = self.memory.ttl
            elif self.memory.ttl is not None:
                ttl = min(ttl, self.memory.ttl)
            self._remember(key, name, value, ttl, tags)
        return value

    def _remember(
        self, key: K, name: str, value: Any, ttl: float | None, tags: Iterable[str]
    ) -> None:
        if not isinstance(key, str) or name != key:
            tags = (*tags, _KEY_TAG + name)
        self.memory.set(key, value, ttl=ttl, tags=tags)

    async def contains(self, key: K) -> bool:
        """Whether *key* has a value in memory or in the tier."""
        return await self.get(key, MISSING) is not MISSING

    # ------------------------------------------------------------------ writes

    async def set(
        self,
        key: K,
        value: V,
        *,
        ttl: float | str | timedelta | MissingType | None = MISSING,
        tags: Iterable[str] = (),
    ) -> None:
        """Store *value* (with *tags*) in the tier (write-through) and then in memory.

        Raises:
            ExternalError: The tier write failed; memory no longer holds *key*.
        """
        seconds = self.memory._seconds(ttl)  # the memory cache's ttl is the default
        tag_list = _tag_tuple(tags) if tags else ()
        name = self._encode(key)
        if self._feed is not None and not self._listening:
            await self._start_feed()
        epoch = self._epoch
        if self.write_through:
            try:
                if self._tagged is not None:
                    await self._tagged.set(name, value, ttl=seconds, tags=tag_list)
                else:
                    await self.tier.set(name, value, ttl=seconds)
            except Exception as exc:
                self.memory.delete(key)
                if isinstance(exc, InvalidArgumentError):
                    raise
                raise _tier_error(
                    exc,
                    "write",
                    f"key {safe_repr(key)}",
                    "Check the second tier's store; nothing was cached.",
                    key=safe_repr(key),
                    tier=safe_repr(self.tier),
                    code="pepperpy.cache.tier_write",
                ) from exc
            except BaseException:  # cancelled mid-write: the tier may hold either value
                self.memory.delete(key)
                raise
            if self._feed is not None:
                epoch += 1  # the tier announced this write to its local fronts, this one too
        if self._epoch == epoch and self._memory_ok():
            self._remember(key, name, value, seconds, tag_list)
        else:  # another change raced with this write: the tier has the last word
            self.memory.delete(key)

    async def delete(self, key: K) -> bool:
        """Remove *key* from memory and from the tier; return whether it was cached.

        With a :class:`TaggedCacheTier` the tier's answer counts (another process
        may have written the key); else whether memory had it.
        """
        found = self.memory.delete(key)
        try:
            in_tier = await self.tier.delete(self._encode(key))
        except Exception as exc:
            raise _tier_error(
                exc,
                "delete",
                f"key {safe_repr(key)}",
                "The memory entry was removed; retry to remove the tier's copy.",
                key=safe_repr(key),
                code="pepperpy.cache.tier_delete",
            ) from exc
        self.memory.delete(key)  # a read racing with the delete may have put it back
        if self._tagged is not None and isinstance(in_tier, bool):
            return in_tier
        return found

    async def get_many(self, keys: Iterable[K]) -> dict[K, V]:
        """The values of *keys* that are cached (memory first, then the tier, concurrently)."""
        wanted = list(dict.fromkeys(keys))
        values = await asyncio.gather(*(self.get(key, MISSING) for key in wanted))
        return {k: v for k, v in zip(wanted, values, strict=True) if v is not MISSING}

    async def set_many(
        self,
        items: Mapping[K, V] | Iterable[tuple[K, V]],
        *,
        ttl: float | str | timedelta | MissingType | None = MISSING,
        tags: Iterable[str] = (),
    ) -> None:
        """Store several values (each as :meth:`set`; not atomic across keys)."""
        pairs = list(items.items() if isinstance(items, Mapping) else items)
        tag_list = _tag_tuple(tags)
        await asyncio.gather(*(self.set(k, v, ttl=ttl, tags=tag_list) for k, v in pairs))

    async def delete_many(self, keys: Iterable[K]) -> int:
        """Remove several keys; return how many were cached (see :meth:`delete`)."""
        found = await asyncio.gather(*(self.delete(key) for key in dict.fromkeys(keys)))
        return sum(found)

    # ------------------------------------------------------------------ invalidation

    async def _invalidate_tier(self, what: str, call: Awaitable[int]) -> int:
        try:
            return int(await call)
        except Exception as exc:
            raise _tier_error(
                exc,
                "invalidate",
                what,
                "The memory entries were removed; retry to remove the tier's copies.",
                tier=safe_repr(self.tier),
                code="pepperpy.cache.tier_invalidate",
            ) from exc

    async def _delete_known(self, keys: Iterable[K]) -> None:
        for key in keys:
            await self.tier.delete(self._encode(key))

    async def invalidate_tag(self, *tags: str) -> int:
        """Remove every entry carrying any of *tags*, here and in the tier.

        Returns how many the tier removed (with a :class:`TaggedCacheTier`),
        else how many this memory front removed; for a plain :class:`CacheTier`
        only the keys this front knows are deleted from the tier.
        """
        if self._tagged is None:
            index = self.memory._tags
            known = {key for tag in tags for key in index.get(tag, ())}
            removed = self.memory.invalidate_tag(*tags)
            await self._invalidate_tier(f"tags {tags!r}", self._count(known))
            return removed
        self.memory.invalidate_tag(*tags)
        return await self._invalidate_tier(f"tags {tags!r}", self._tagged.invalidate_tag(*tags))

    async def _count(self, keys: Iterable[K]) -> int:
        keys = list(keys)
        await self._delete_known(keys)
        return len(keys)

    async def invalidate_prefix(self, prefix: str) -> int:
        """Remove every entry whose ``str`` key starts with *prefix*, here and in the tier.

        In the tier the prefix applies to the encoded keys (``str`` keys are
        their own encoding). Returns the tier's count (see :meth:`invalidate_tag`).
        """
        if self._tagged is None:
            known = [k for k in self.memory.keys() if isinstance(k, str) and k.startswith(prefix)]  # noqa: SIM118
            removed = self.memory.invalidate_prefix(prefix)
            await self._invalidate_tier(f"prefix {prefix!r}", self._count(known))
            return removed
        self.memory.invalidate_prefix(prefix)
        return await self._invalidate_tier(
            f"prefix {prefix!r}", self._tagged.invalidate_prefix(prefix)
        )

    async def clear(self) -> int:
        """Remove every entry, here and in the tier; return the tier's count.

        With a plain :class:`CacheTier` only the keys this front knows leave the tier.
        """
        if self._tagged is None:
            known = self.memory.keys()
            removed = self.memory.clear()
            await self._invalidate_tier("everything", self._count(known))
            return removed
        self.memory.clear()
        return await self._invalidate_tier("everything", self._tagged.clear())

    def __repr__(self) -> str:
        return f"TieredCache({self.memory!r}, {self.tier!r})"
