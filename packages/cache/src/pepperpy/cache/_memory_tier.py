"""An in-process second tier: what ``connect_cache("memory://")`` puts behind the memory front.

It keeps :class:`~pepperpy.cache.TieredCache` semantics identical to the
shared tiers (tags, invalidation, TTL, announcements to every front), so an
application moves from one process to Redis by changing the URL only.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from typing import Any, ClassVar
from urllib.parse import urlsplit

from pepperpy.cache._cache import Cache
from pepperpy.cache._tiers import Invalidation, InvalidationListener, TierEntry
from pepperpy.core.exceptions import InvalidArgumentError, safe_repr
from pepperpy.core.types import MISSING, Clock, MissingType, system_clock

__all__ = ["MemoryTier"]

_EVERYTHING = Invalidation(everything=True)


class MemoryTier:
    """A :class:`~pepperpy.cache.BroadcastingCacheTier` kept in this process's memory.

    Every :class:`~pepperpy.cache.TieredCache` over the same ``MemoryTier``
    shares its entries, and each change (write, delete, invalidation) drops
    the affected entries from every such front at once, as a Redis tier does
    between processes. ``memory://`` gives a tier of its own;
    ``memory://name`` the process-wide tier of that name (shared by every
    :func:`~pepperpy.cache.connect_cache` call naming it, alive while one of
    them is).

    Values are kept as they are (no serialization); expiry and capacity are
    those of a memory :class:`~pepperpy.cache.Cache`.

    Args:
        maxsize: How many entries the tier keeps (least recently used leave
            first); ``None``: no limit.
        clock: The time source for TTLs (a ``ManualClock`` in tests).
    """

    supports_tags = True
    feed_connected = True  # announcements are function calls: never lost

    _named: ClassVar[weakref.WeakValueDictionary[str, MemoryTier]] = weakref.WeakValueDictionary()
    _named_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, *, maxsize: int | None = 1024, clock: Clock = system_clock) -> None:
        self._data: Cache[str, Any] = Cache(maxsize, clock=clock, name="memory-tier")
        self._listeners: list[Any] = []  # weak references: a dropped front stops listening
        self.name: str | None = None

    @classmethod
    def from_url(
        cls, url: str, *, maxsize: int | None = 1024, clock: Clock = system_clock
    ) -> MemoryTier:
        """The tier ``memory://`` (a new one) or ``memory://name`` (shared by name) selects.

        A named tier is created by the first call naming it (with its
        *maxsize* and *clock*); later calls get the same one.

        Raises:
            InvalidArgumentError: The URL is not ``memory://`` or ``memory://name``.
        """
        parts = urlsplit(url)
        if parts.scheme.lower() != "memory" or parts.path not in ("", "/") or parts.query:
            raise InvalidArgumentError(
                f"{safe_repr(url)} is not a memory cache URL",
                code="pepperpy.cache.cache_url",
                hint="Use memory:// (a tier of its own) or memory://name (shared by name "
                "within this process).",
            )
        name = parts.netloc
        if not name:
            return cls(maxsize=maxsize, clock=clock)
        with cls._named_lock:
            tier = cls._named.get(name)
            if tier is None:
                tier = cls(maxsize=maxsize, clock=clock)
                tier.name = name
                cls._named[name] = tier
            return tier

    # ------------------------------------------------------------------ announcements

    def _announce(self, change: Invalidation) -> None:
        dead = False
        for ref in list(self._listeners):
            listener = ref()
            if listener is None:
                dead = True
            else:
                listener(change)
        if dead:
            self._listeners = [ref for ref in self._listeners if ref() is not None]

    async def listen(self, listener: InvalidationListener) -> None:
        """Call *listener* with every change made through this tier (until it is dropped)."""
        ref: Any
        try:
            ref = weakref.WeakMethod(listener)
        except TypeError:
            ref = lambda: listener  # noqa: E731 - a plain function: keep it alive
        self._listeners.append(ref)

    async def unlisten(self, listener: InvalidationListener) -> None:
        """Stop calling *listener*."""
        self._listeners = [r for r in self._listeners if r() not in (None, listener)]

    async def sync(self) -> None:
        """Return at once: announcements reach every front before the change returns."""

    # ------------------------------------------------------------------ entries

    async def get(self, key: str) -> Any:
        """The value under *key*, or ``MISSING``."""
        return self._data.get(key, MISSING)

    async def get_entry(self, key: str) -> TierEntry | MissingType:
        """The value under *key* with its tags and seconds left, or ``MISSING``."""
        data = self._data
        value = data.get(key, MISSING)
        if value is MISSING:
            return MISSING
        try:
            return TierEntry(value, tuple(sorted(data.tags_of(key))), data.ttl_of(key))
        except KeyError:  # expired between the reads
            return MISSING

    async def set(
        self, key: str, value: Any, *, ttl: float | None, tags: Sequence[str] = ()
    ) -> None:
        """Keep *value* under *key* for *ttl* seconds (``None``: until evicted), with *tags*."""
        self._data.set(key, value, ttl=ttl, tags=tags)
        self._announce(Invalidation(keys=(key,)))

    async def delete(self, key: str) -> bool:
        """Remove *key*; return whether it was there."""
        found = self._data.delete(key)
        self._announce(Invalidation(keys=(key,)))
        return found

    async def invalidate_tag(self, *tags: str) -> int:
        """Remove the entries carrying any of *tags*; return how many."""
        removed = self._data.invalidate_tag(*tags)
        self._announce(Invalidation(tags=tuple(tags)))
        return removed

    async def invalidate_prefix(self, prefix: str) -> int:
        """Remove the entries whose key starts with *prefix*; return how many."""
        removed = self._data.invalidate_prefix(prefix)
        self._announce(Invalidation(prefix=prefix))
        return removed

    async def clear(self) -> int:
        """Remove every entry; return how many."""
        removed = self._data.clear()
        self._announce(_EVERYTHING)
        return removed

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        where = f"memory://{self.name}" if self.name else "memory://"
        return f"MemoryTier({where!r}, entries={len(self._data)})"
