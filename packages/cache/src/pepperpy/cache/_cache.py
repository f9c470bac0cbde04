"""The in-memory :class:`Cache`: policies, TTL, weights, tags, namespaces and stats."""

from __future__ import annotations

import enum
import fnmatch
import functools
import heapq
import importlib
import itertools
import logging
import random
import re
import sys
import threading
import time as _time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar, overload

import attrs

from pepperpy.cache._errors import CacheFullError, ValueTooLargeError
from pepperpy.core.exceptions import InvalidArgumentError, safe_repr
from pepperpy.core.types import MISSING, Clock, MissingType, system_clock

if TYPE_CHECKING:
    from pepperpy.cache._metrics import CacheMetricsCollector

__all__ = [
    "Cache",
    "CacheStats",
    "EvictionReason",
    "Namespace",
    "NamespacedKey",
    "Policy",
]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
D = TypeVar("D")
T = TypeVar("T")

_log = logging.getLogger("pepperpy.cache")

_NS_TAG: Final = "\x00ns:"  # internal tag prefix; user tags never start with NUL


class Policy(enum.Enum):
    """Which entry a full cache drops to make room.

    TTL is not a policy but an orthogonal setting (``ttl=``): expired entries
    are always dropped first, whatever the policy.
    """

    LRU = "lru"
    """Least recently used (reads and writes count as use)."""

    LFU = "lfu"
    """Least frequently used; ties broken by least recent use."""

    FIFO = "fifo"
    """First in, first out: insertion order, reads do not matter."""

    NONE = "none"
    """No eviction: writing a new key to a full cache raises :class:`CacheFullError`."""


class EvictionReason(enum.Enum):
    """Why an entry left the cache."""

    SIZE = "size"
    """Dropped by the policy to respect ``maxsize`` or ``max_weight``."""

    EXPIRED = "expired"
    """Its time to live ran out."""

    INVALIDATED = "invalidated"
    """Removed on purpose: delete, tag, prefix, pattern, namespace or clear."""

    # Members are singletons: hash by identity (C) rather than Enum's Python-level
    # ``hash(self._name_)``; every removal counts its reason in a dict keyed by it.
    __hash__ = object.__hash__


@attrs.frozen
class CacheStats:
    """A consistent snapshot of a cache's counters.

    Attributes:
        name: The cache's name.
        hits: Lookups that found a live entry.
        misses: Lookups that found nothing (or an expired entry).
        evictions: Entries removed, by :class:`EvictionReason` value.
        size: Entries currently stored.
        weight: Total weight currently stored (equals ``size`` without a weigher).
        maxsize: The entry-count bound, or ``None``.
        max_weight: The weight bound, or ``None``.
    """

    name: str
    hits: int
    misses: int
    evictions: Mapping[str, int]
    size: int
    weight: int
    maxsize: int | None
    max_weight: int | None

    @property
    def lookups(self) -> int:
        """``hits + misses``."""
        return self.hits + self.misses

    @property
    def hit_ratio(self) -> float:
        """``hits / lookups`` (``0.0`` before the first lookup)."""
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return the snapshot as a JSON-safe dict (with ``hit_ratio``)."""
        return {
            "name": self.name,
            "hits": self.hits,
            "misses": self.misses,
            "hit_ratio": self.hit_ratio,
            "evictions": dict(self.evictions),
            "size": self.size,
            "weight": self.weight,
            "maxsize": self.maxsize,
            "max_weight": self.max_weight,
        }


@attrs.frozen(cache_hash=True)
class NamespacedKey:
    """The key a :class:`Namespace` stores under: never equal to a user's own key."""

    namespace: str
    version: int
    key: Hashable


# An entry is an immutable tuple (value, expires, tags, weight): the cheapest
# object to build on the write path and to unpack on the read path.
_Entry = tuple[Any, float | None, tuple[str, ...], int]


def _counter_value(counter: itertools.count[int]) -> int:
    """The next value *counter* would return, without consuming it."""
    return int(repr(counter)[6:-1])


class _LFU:
    """O(1) LFU bookkeeping: frequency buckets, each ordered by recency."""

    __slots__ = ("buckets", "freq", "min")

    def __init__(self) -> None:
        self.freq: dict[Any, int] = {}
        self.buckets: dict[int, dict[Any, None]] = {}
        self.min = 0

    def add(self, key: Any, count: int = 1) -> None:
        self.freq[key] = count
        bucket = self.buckets.get(count)
        if bucket is None:
            bucket = self.buckets[count] = {}
        bucket[key] = None
        if not self.min or count < self.min:
            self.min = count

    def touch(self, key: Any) -> None:
        f = self.freq.get(key)
        if f is None:  # removed meanwhile by another thread
            return
        bucket = self.buckets[f]
        del bucket[key]
        if not bucket:
            del self.buckets[f]
            if self.min == f:
                self.min = f + 1
        self.freq[key] = f + 1
        nxt = self.buckets.get(f + 1)
        if nxt is None:
            nxt = self.buckets[f + 1] = {}
        nxt[key] = None

    def remove(self, key: Any) -> None:
        f = self.freq.pop(key)
        bucket = self.buckets[f]
        del bucket[key]
        if not bucket:
            del self.buckets[f]
            if self.min == f:
                self.min = min(self.buckets) if self.buckets else 0

    def victim(self) -> Any:
        return next(iter(self.buckets[self.min]))

    def clear(self) -> None:
        self.freq.clear()
        self.buckets.clear()
        self.min = 0


def _settled(read: Callable[[], T]) -> T:
    """Run ``read()``, an iteration over the live entries under the lock, until it settles.

    Readers move a hit to the end without the lock (LRU); that changes no key,
    but an iteration it interrupts (another thread may run between ``iter()``
    and ``next()``, or when a collection runs finalizers) raises
    ``RuntimeError: OrderedDict mutated during iteration``. Reading again is
    then correct: writers hold the lock, so only the order can have changed.
    """
    while True:
        try:
            return read()
        except RuntimeError:
            continue


def _noop(key: Any) -> None:
    return None


def _as_duration(name: str, value: float | str | timedelta) -> float:
    from pepperpy.core.utils import parse_duration

    try:
        return parse_duration(value)  # refuses a duration too large for a float too
    except InvalidArgumentError as exc:
        raise exc.with_context(argument=name) from None


def _tag_tuple(tags: Iterable[str]) -> tuple[str, ...]:
    """*tags* as a tuple of str, refusing a lone string (it would be split into characters)."""
    if isinstance(tags, (str, bytes)):
        raise InvalidArgumentError(
            f"tags must be a collection of strings, not one string: {safe_repr(tags)}",
            code="pepperpy.cache.invalid_tag",
            context={"tags": safe_repr(tags)},
            hint=f"Pass tags=({tags!r},) for a single tag.",
        )
    result = tuple(tags)
    for tag in result:
        if not isinstance(tag, str):
            raise InvalidArgumentError(
                f"tags must be strings, got {safe_repr(tag)}",
                code="pepperpy.cache.invalid_tag",
                context={"tag": safe_repr(tag)},
            )
    return result


def _check_weight(key: object, weight: object) -> int:
    """A weigher's result: an int >= 0 (a negative or NaN weight defeats ``max_weight``)."""
    if isinstance(weight, bool) or not isinstance(weight, int) or weight < 0:
        raise InvalidArgumentError(
            f"the weigher returned {safe_repr(weight)} for key {safe_repr(key)}; "
            "a weight is an int >= 0",
            code="pepperpy.cache.invalid_weight",
            context={"key": safe_repr(key), "weight": safe_repr(weight)},
            hint="Return a whole size such as len(value) from the weigher.",
        )
    return weight


def _positive_int(name: str, value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgumentError(
            f"{name} must be a positive int or None, got {safe_repr(value)}",
            code="pepperpy.cache.invalid_option",
            context={name: safe_repr(value)},
            hint=f"Pass {name}=None for no bound, or an int >= 1.",
        )
    return value


class Cache(Generic[K, V]):
    """A thread-safe, typed in-memory cache.

    Args:
        maxsize: The most entries kept (``None``: unbounded by count).
        policy: What to drop when full: a :class:`Policy` or its name
            (``"lru"``, ``"lfu"``, ``"fifo"``, ``"none"``).
        ttl: Default time to live of each entry (seconds, ``"5m"``, a
            ``timedelta``); ``None`` means entries never expire unless
            :meth:`set` gives one.
        jitter: Spread expirations: an entry lives a random duration in
            ``[ttl * (1 - jitter), ttl]``. A fraction in ``[0, 1)``.
        weigher: ``weigher(key, value) -> int`` gives an entry's weight (for
            example its size in bytes); used with ``max_weight``.
        max_weight: The most total weight kept (an int or ``"64MiB"``).
        on_evict: Called as ``on_evict(key, value, reason)`` whenever an entry
            leaves the cache other than by being overwritten. Errors it raises
            are logged and ignored.
        clock: Where time comes from (a :class:`~pepperpy.core.ManualClock` in tests).
        name: Shown in stats and metrics.

    ``get``/``set`` are O(1) for every policy (TTL bookkeeping adds an
    O(log n) heap push on ``set`` only). All methods may be called from any
    thread; the lock is re-entrant, so ``on_evict`` and weighers may use the cache.
    """

    def __init__(
        self,
        maxsize: int | None = 1024,
        *,
        policy: Policy | str = Policy.LRU,
        ttl: float | str | timedelta | None = None,
        jitter: float = 0.0,
        weigher: Callable[[K, V], int] | None = None,
        max_weight: int | str | None = None,
        on_evict: Callable[[K, V, EvictionReason], object] | None = None,
        clock: Clock = system_clock,
        name: str = "cache",
    ) -> None:
        try:
            self._policy = Policy(policy.lower() if isinstance(policy, str) else policy)
        except ValueError:
            raise InvalidArgumentError(
                f"unknown cache policy {safe_repr(policy)}",
                code="pepperpy.cache.invalid_option",
                context={"policy": safe_repr(policy)},
                hint="Use one of: " + ", ".join(p.value for p in Policy) + ".",
            ) from None
        self._maxsize = _positive_int("maxsize", maxsize)
        if max_weight is not None and not isinstance(max_weight, int):
            from pepperpy.core.utils import parse_size

            max_weight = parse_size(max_weight)
        self._max_weight = _positive_int("max_weight", max_weight)
        if self._max_weight is not None and weigher is None:
            raise InvalidArgumentError(
                "max_weight needs a weigher",
                code="pepperpy.cache.invalid_option",
                hint="Pass weigher=lambda key, value: <size> (e.g. len(value)).",
            )
        self._ttl = None if ttl is None else _as_duration("ttl", ttl)
        if (
            isinstance(jitter, bool)
            or not isinstance(jitter, (int, float))
            or not 0.0 <= jitter < 1.0
        ):
            raise InvalidArgumentError(
                f"jitter must be in [0, 1), got {safe_repr(jitter)}",
                code="pepperpy.cache.invalid_option",
                context={"jitter": safe_repr(jitter)},
                hint="jitter=0.1 lets entries expire up to 10% early, spreading reloads.",
            )
        self._jitter = float(jitter)
        self._weigher = weigher
        self._on_evict = on_evict
        self._clock = clock
        self._now: Callable[[], float] = (
            _time.monotonic if clock is system_clock else clock.monotonic
        )
        self.name = name
        self._lock = threading.RLock()
        self._data: OrderedDict[K, _Entry] = OrderedDict()
        self._lfu = _LFU() if self._policy is Policy.LFU else None
        self._touch: Callable[[K], None]
        if self._policy is Policy.LRU:
            self._touch = self._data.move_to_end
        elif self._lfu is not None:
            self._touch = self._lfu_touch
        else:
            self._touch = _noop
        # set() makes room (self._room) when len(data) reaches this: the count bound alone,
        # every insert under a weight bound, never when unbounded.
        self._room_at = (
            0
            if self._max_weight is not None
            else (self._maxsize if self._maxsize is not None else sys.maxsize)
        )
        self._room: Callable[[K, int], None] = (
            self._evict_oldest
            if self._max_weight is None and self._policy in (Policy.LRU, Policy.FIFO)
            else self._make_room
        )
        self._heap: list[tuple[float, int, K]] = []
        self._seq = itertools.count()
        self._tags: dict[str, set[K]] = {}
        self._weight = 0
        self._hits = itertools.count()
        self._misses = itertools.count()
        self._evictions: dict[EvictionReason, int] = dict.fromkeys(EvictionReason, 0)
        self._ns_versions: dict[str, int] = {}
        self._rand = random.Random()

    # ------------------------------------------------------------------ properties

    @property
    def policy(self) -> Policy:
        """The eviction :class:`Policy`."""
        return self._policy

    @property
    def maxsize(self) -> int | None:
        """The entry-count bound (``None``: unbounded)."""
        return self._maxsize

    @property
    def max_weight(self) -> int | None:
        """The total-weight bound (``None``: unbounded)."""
        return self._max_weight

    @property
    def ttl(self) -> float | None:
        """The default time to live in seconds (``None``: no expiry)."""
        return self._ttl

    @property
    def clock(self) -> Clock:
        """The clock TTLs are measured with."""
        return self._clock

    @property
    def weight(self) -> int:
        """The total weight currently stored."""
        return self._weight

    # ------------------------------------------------------------------ reads

    @overload
    def get(self, key: K) -> V | None: ...

    @overload
    def get(self, key: K, default: D) -> V | D: ...

    def get(self, key: K, default: object = None) -> object:
        """Return the live value for *key*, or *default*; counts a hit or a miss."""
        # Lock-free hit path: each step is one atomic operation on a builtin
        # (writers hold the lock; their iterations go through _settled).
        entry = self._data.get(key)
        if entry is not None:
            expires = entry[1]
            if expires is None or expires > self._now():
                try:
                    self._touch(key)
                except KeyError:  # removed by another thread after our read
                    pass
                next(self._hits)
                return entry[0]
            self._expire_key(key)
        next(self._misses)
        return default

    def _expire_key(self, key: K) -> None:
        lock = self._lock
        lock.acquire()
        try:
            entry = self._data.get(key)
            if entry is not None and entry[1] is not None and entry[1] <= self._now():
                self._remove(key, entry, EvictionReason.EXPIRED)
        finally:
            lock.release()

    def _lfu_touch(self, key: K) -> None:
        lock = self._lock
        lock.acquire()
        try:
            self._lfu.touch(key)  # type: ignore[union-attr]
        finally:
            lock.release()

    def __getitem__(self, key: K) -> V:
        value = self.get(key, MISSING)
        if value is MISSING:
            raise KeyError(key)
        return value

    @overload
    def peek(self, key: K) -> V | None: ...

    @overload
    def peek(self, key: K, default: D) -> V | D: ...

    def peek(self, key: K, default: object = None) -> object:
        """Return the live value for *key* without counting a lookup or marking use."""
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                return default
            if entry[1] is not None and entry[1] <= self._now():
                self._remove(key, entry, EvictionReason.EXPIRED)
                return default
            return entry[0]

    def __contains__(self, key: object) -> bool:
        return self.peek(key, MISSING) is not MISSING  # type: ignore[arg-type]

    def ttl_of(self, key: K) -> float | None:
        """Seconds until *key* expires; ``None`` if it never does.

        Raises:
            KeyError: *key* is not in the cache.
        """
        with self._lock:
            if self.peek(key, MISSING) is MISSING:
                raise KeyError(key)
            expires = self._data[key][1]
            return None if expires is None else expires - self._now()

    def tags_of(self, key: K) -> frozenset[str]:
        """The tags *key* was stored with.

        Raises:
            KeyError: *key* is not in the cache.
        """
        with self._lock:
            if self.peek(key, MISSING) is MISSING:
                raise KeyError(key)
            return frozenset(t for t in self._data[key][2] if not t.startswith(_NS_TAG))

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[K]:
        with self._lock:
            return iter(list(self.keys()))

    def keys(self) -> list[K]:
        """The keys of the live entries (a snapshot, oldest use first for LRU)."""
        with self._lock:
            now = self._now()
            entries = _settled(lambda: list(self._data.items()))
            return [k for k, e in entries if e[1] is None or e[1] > now]

    def items(self) -> list[tuple[K, V]]:
        """``(key, value)`` pairs of the live entries (a snapshot)."""
        with self._lock:
            now = self._now()
            entries = _settled(lambda: list(self._data.items()))
            return [(k, e[0]) for k, e in entries if e[1] is None or e[1] > now]

    # ------------------------------------------------------------------ writes

    def set(
        self,
        key: K,
        value: V,
        *,
        ttl: float | str | timedelta | MissingType | None = MISSING,
        tags: Iterable[str] = (),
    ) -> None:
        """Store *value* under *key*, replacing any previous entry.

        Args:
            key: Any hashable.
            value: Any value.
            ttl: This entry's time to live; defaults to the cache's ``ttl``;
                ``None`` stores it without expiry.
            tags: Names to invalidate it by with :meth:`invalidate_tag`.

        Raises:
            ValueTooLargeError: The value alone weighs more than ``max_weight``.
            CacheFullError: The policy is :attr:`Policy.NONE` and the cache is full.
        """
        # Each optional feature costs a test here and a call only when it is in use
        # (a ttl, tags, a weigher, a heap of expiries, a full cache).
        seconds = self._ttl if ttl is MISSING else self._seconds(ttl)
        tags = _tag_tuple(tags) if tags else ()
        weight = 1 if self._weigher is None else self._weigh(key, value)
        lock = self._lock
        lock.acquire()
        try:
            expires = None if seconds is None else self._expires(seconds)
            heap = self._heap
            if heap and heap[0][0] <= self._now():
                self._purge_expired(self._now())
            data = self._data
            old = data.get(key)
            entry: _Entry = (value, expires, tags, weight)
            if old is None:
                if len(data) >= self._room_at:
                    self._room(key, weight)
                data[key] = entry
                if self._lfu is not None:
                    self._lfu.add(key)
                self._weight += weight
            elif old[2] or old[3] != weight:
                self._overwrite(key, old, entry)
            else:  # same weight, no tags to drop: replace in place, count the use
                data[key] = entry
                self._touch(key)
            if expires is not None or tags:
                self._index(key, expires, tags)
        finally:
            lock.release()

    def _seconds(self, ttl: float | str | timedelta | MissingType | None) -> float | None:
        """An entry's time to live in seconds: the cache's default when *ttl* is MISSING."""
        if ttl is MISSING:
            return self._ttl
        if ttl is None:
            return None
        return _as_duration("ttl", ttl)

    def _expires(self, seconds: float) -> float:
        """When an entry stored now with *seconds* to live expires (with jitter)."""
        if self._jitter:
            seconds *= 1.0 - self._rand.random() * self._jitter
        return self._now() + seconds

    def _weigh(self, key: K, value: V) -> int:
        """The weight of *value* (1 without a weigher); refuses one over ``max_weight``."""
        weigher = self._weigher
        if weigher is None:
            return 1
        weight = _check_weight(key, weigher(key, value))
        if self._max_weight is not None and weight > self._max_weight:
            raise ValueTooLargeError(
                f"value for key {safe_repr(key)} weighs {weight}, more than "
                f"max_weight={self._max_weight}",
                context={"key": safe_repr(key), "weight": weight},
                hint="Raise max_weight or store a smaller value.",
            )
        return weight

    def _overwrite(self, key: K, old: _Entry, entry: _Entry) -> None:
        """Replace *key*'s entry whose tags or weight change, keeping its place and use count.

        Then count this use. A heavier value under ``max_weight`` makes room first.
        """
        if old[2]:
            self._untag(key, old[2])
        weight = entry[3]
        self._weight += weight - old[3]
        if self._max_weight is None or self._weight <= self._max_weight:
            self._data[key] = entry
            self._touch(key)
            return
        # Take the key out so making room never evicts the key itself.
        self._weight -= weight
        del self._data[key]
        lfu = self._lfu
        count = 1
        if lfu is not None:
            count = lfu.freq[key] + 1
            lfu.remove(key)
        self._make_room(key, weight)
        self._weight += weight
        self._data[key] = entry
        if lfu is not None:
            lfu.add(key, count)

    def _index(self, key: K, expires: float | None, tags: tuple[str, ...]) -> None:
        """Record *key*'s expiry in the heap and its *tags* in the tag index (lock held)."""
        if expires is not None:
            heap = self._heap
            heapq.heappush(heap, (expires, next(self._seq), key))
            if len(heap) > 2 * len(self._data) + 64:
                self._compact_heap()
        if tags:
            index = self._tags
            for tag in tags:
                keys = index.get(tag)
                if keys is None:
                    keys = index[tag] = set()
                keys.add(key)

    def __setitem__(self, key: K, value: V) -> None:
        self.set(key, value)

    def add(
        self,
        key: K,
        value: V,
        *,
        ttl: float | str | timedelta | MissingType | None = MISSING,
        tags: Iterable[str] = (),
    ) -> bool:
        """Store *value* only if *key* has no live entry; return whether it was stored."""
        with self._lock:
            if self.peek(key, MISSING) is not MISSING:
                return False
            self.set(key, value, ttl=ttl, tags=tags)
            return True

    def get_or_set(
        self,
        key: K,
        factory: Callable[[], V],
        *,
        ttl: float | str | timedelta | MissingType | None = MISSING,
        tags: Iterable[str] = (),
    ) -> V:
        """Return the value for *key*, computing and storing ``factory()`` on a miss.

        The factory runs under the cache lock, so concurrent threads asking for
        the same missing key compute it once. Keep it quick; use
        :func:`~pepperpy.cache.cached` for slow or async work.
        """
        with self._lock:
            value = self.get(key, MISSING)
            if value is not MISSING:
                return value
            value = factory()
            self.set(key, value, ttl=ttl, tags=tags)
            return value

    # ------------------------------------------------------------------ removal

    def delete(self, key: K) -> bool:
        """Remove *key*; return whether a live entry was removed."""
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                return False
            if entry[1] is not None and entry[1] <= self._now():
                self._remove(key, entry, EvictionReason.EXPIRED)
                return False
            self._remove(key, entry, EvictionReason.INVALIDATED)
            return True

    def __delitem__(self, key: K) -> None:
        if not self.delete(key):
            raise KeyError(key)

    def pop(self, key: K, default: D) -> V | D:
        """Remove *key* and return its value, or *default* if there was none."""
        with self._lock:
            value = self.peek(key, MISSING)
            if value is MISSING:
                return default
            self.delete(key)
            return value

    def invalidate_tag(self, *tags: str) -> int:
        """Remove every entry carrying any of *tags*; return how many were removed."""
        with self._lock:
            keys: set[K] = set()
            for tag in tags:
                keys.update(self._tags.get(tag, ()))
            return self._remove_many(keys)

    def invalidate_prefix(self, prefix: str) -> int:
        """Remove every entry whose key is a ``str`` starting with *prefix*."""
        with self._lock:
            every = _settled(lambda: list(self._data))
            keys = [k for k in every if isinstance(k, str) and k.startswith(prefix)]
            return self._remove_many(keys)

    def invalidate_pattern(self, pattern: str | re.Pattern[str]) -> int:
        """Remove every ``str`` key matching *pattern*; return how many were removed.

        A string is a shell glob (``"user:*:profile"``, case-sensitive); a
        compiled :class:`re.Pattern` must match the whole key.
        """
        if isinstance(pattern, re.Pattern):
            match: Callable[[str], object] = pattern.fullmatch
        else:
            glob = str(pattern)
            match = functools.partial(fnmatch.fnmatchcase, pat=glob)
        with self._lock:
            keys = [
                k for k in _settled(lambda: list(self._data)) if isinstance(k, str) and match(k)
            ]
            return self._remove_many(keys)

    def invalidate_where(self, predicate: Callable[[K], bool]) -> int:
        """Remove every entry whose key satisfies *predicate*."""
        with self._lock:
            keys = [k for k in _settled(lambda: list(self._data)) if predicate(k)]
            return self._remove_many(keys)

    def clear(self) -> int:
        """Remove every entry (counted as invalidated); return how many there were."""
        with self._lock:
            return self._remove_many(_settled(lambda: list(self._data)))

    def expire(self) -> int:
        """Drop every expired entry now; return how many were dropped.

        Expired entries are otherwise dropped lazily, when read or when a write
        needs room, so calling this is never required for correctness.
        """
        with self._lock:
            before = self._evictions[EvictionReason.EXPIRED]
            self._purge_expired(self._now())
            return self._evictions[EvictionReason.EXPIRED] - before

    # ------------------------------------------------------------------ namespaces

    def namespace(self, name: str) -> Namespace[Hashable, V]:
        """Return a versioned view of this cache for one group of keys.

        :meth:`Namespace.invalidate` drops the whole group at once by bumping
        its version.
        """
        if not isinstance(name, str) or not name:
            raise InvalidArgumentError(
                f"a namespace name must be a non-empty str, got {safe_repr(name)}",
                code="pepperpy.cache.invalid_namespace",
            )
        return Namespace(self, name)

    def _ns_version(self, name: str) -> int:
        return self._ns_versions.get(name, 0)

    def _ns_bump(self, name: str) -> int:
        with self._lock:
            old = self._ns_versions.get(name, 0)
            self._ns_versions[name] = old + 1
            self._remove_many(set(self._tags.get(f"{_NS_TAG}{name}:{old}", ())))
            return old + 1

    # ------------------------------------------------------------------ stats

    def stats(self) -> CacheStats:
        """Return a :class:`CacheStats` snapshot."""
        with self._lock:
            return CacheStats(
                name=self.name,
                hits=_counter_value(self._hits),
                misses=_counter_value(self._misses),
                evictions={reason.value: n for reason, n in self._evictions.items()},
                size=len(self._data),
                weight=self._weight,
                maxsize=self._maxsize,
                max_weight=self._max_weight,
            )

    def reset_stats(self) -> None:
        """Set the hit, miss and eviction counters back to zero."""
        with self._lock:
            self._hits = itertools.count()
            self._misses = itertools.count()
            for reason in self._evictions:
                self._evictions[reason] = 0

    def metrics_collector(self, prefix: str = "pepperpy_cache") -> CacheMetricsCollector:
        """Return a Prometheus collector for this cache's stats.

        Register it with ``prometheus_client.REGISTRY.register(...)`` (or a
        pepperpy-telemetry registry); ``prometheus-client`` is imported only
        when metrics are collected.
        """
        from pepperpy.cache._metrics import CacheMetricsCollector

        return CacheMetricsCollector([self], prefix=prefix)

    def export_metrics(
        self, target: Any = None, *, prefix: str = "pepperpy_cache"
    ) -> CacheMetricsCollector:
        """Publish this cache's stats as Prometheus metrics; return the collector.

        Args:
            target: A pepperpy-telemetry ``Metrics`` (its ``registry`` is used), a
                ``prometheus_client`` registry, or ``None`` for
                ``pepperpy.telemetry.Metrics.default()`` (the ``telemetry`` extra,
                imported only here).
            prefix: The metric name prefix.

        Caches exported to the same registry with the same prefix share one
        collector, so their series sit side by side under the ``cache`` label.
        """
        from pepperpy.cache._metrics import register_cache

        registry = getattr(target, "registry", target)
        if registry is None:
            telemetry = importlib.import_module("pepperpy.telemetry")
            registry = telemetry.Metrics.default().registry
        return register_cache(registry, self, prefix)

    # ------------------------------------------------------------------ internals

    def _untag(self, key: K, tags: tuple[str, ...]) -> None:
        for tag in tags:
            keys = self._tags.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._tags[tag]

    def _remove(self, key: K, entry: _Entry, reason: EvictionReason) -> None:
        del self._data[key]
        self._removed(key, entry, reason)

    def _removed(self, key: K, entry: _Entry, reason: EvictionReason) -> None:
        """Account for *key*'s *entry*, already taken out of the data (lock held)."""
        self._weight -= entry[3]
        if entry[2]:
            self._untag(key, entry[2])
        if self._lfu is not None:
            self._lfu.remove(key)
        self._evictions[reason] += 1
        if self._on_evict is not None:
            try:
                self._on_evict(key, entry[0], reason)
            except Exception:
                _log.exception("on_evict callback of cache %r failed", self.name)

    def _remove_many(self, keys: Iterable[K]) -> int:
        count = 0
        now = self._now()
        for key in keys:
            entry = self._data.get(key)
            if entry is None:
                continue
            if entry[1] is not None and entry[1] <= now:
                self._remove(key, entry, EvictionReason.EXPIRED)
            else:
                self._remove(key, entry, EvictionReason.INVALIDATED)
                count += 1
        return count

    def _purge_expired(self, now: float) -> None:
        heap = self._heap
        data = self._data
        while heap and heap[0][0] <= now:
            key = heapq.heappop(heap)[2]
            entry = data.get(key)
            # A stale heap item (the key was overwritten) is skipped unless the
            # current entry has expired too, in which case dropping it is right.
            if entry is not None and entry[1] is not None and entry[1] <= now:
                self._remove(key, entry, EvictionReason.EXPIRED)

    def _compact_heap(self) -> None:
        seq = self._seq
        entries = _settled(lambda: list(self._data.items()))
        self._heap = [(e[1], next(seq), k) for k, e in entries if e[1] is not None]
        heapq.heapify(self._heap)

    def _make_room(self, key: K, weight: int) -> None:
        maxsize = self._maxsize
        max_weight = self._max_weight
        data = self._data
        while (maxsize is not None and len(data) >= maxsize) or (
            max_weight is not None and self._weight + weight > max_weight
        ):
            if not data:  # pragma: no cover - weight checked before
                break
            if self._policy is Policy.NONE:
                raise CacheFullError(
                    f"cache {self.name!r} is full and its policy is 'none'",
                    context={
                        "cache": self.name,
                        "key": safe_repr(key),
                        "size": len(data),
                        "weight": self._weight,
                    },
                    hint="Delete or invalidate entries, raise maxsize/max_weight, or use an "
                    "evicting policy such as 'lru'.",
                )
            if self._lfu is not None:
                victim = self._lfu.victim()
                self._removed(victim, data.pop(victim), EvictionReason.SIZE)
            else:
                self._evict_oldest(key, weight)

    def _evict_oldest(self, key: K, weight: int) -> None:
        """Drop the oldest entry (LRU: least recently used; FIFO: first stored).

        Under a count bound alone one such eviction makes room (``set`` calls this
        directly then). popitem is one atomic step, so a reader's lock-free
        move_to_end cannot interrupt it.
        """
        victim, entry = self._data.popitem(last=False)
        self._removed(victim, entry, EvictionReason.SIZE)

    def __repr__(self) -> str:
        return (
            f"Cache(name={self.name!r}, policy={self._policy.value!r}, size={len(self._data)}, "
            f"maxsize={self._maxsize}, ttl={self._ttl})"
        )


class Namespace(Generic[K, V]):
    """A versioned group of keys inside a :class:`Cache`.

    Keys are stored as :class:`NamespacedKey` values, so they never collide
    with the parent's own keys or another namespace's. :meth:`invalidate`
    bumps the version: every entry of the old version becomes unreachable at
    once and is removed.

    Create one with :meth:`Cache.namespace`.
    """

    __slots__ = ("_cache", "_name")

    def __init__(self, cache: Cache[Any, V], name: str) -> None:
        self._cache = cache
        self._name = name

    @property
    def name(self) -> str:
        """The namespace's name."""
        return self._name

    @property
    def version(self) -> int:
        """The current version (starts at 0, +1 per :meth:`invalidate`)."""
        return self._cache._ns_version(self._name)

    def key(self, key: K) -> NamespacedKey:
        """The key *key* is stored under in the parent cache right now."""
        return NamespacedKey(self._name, self._cache._ns_version(self._name), key)

    @overload
    def get(self, key: K) -> V | None: ...

    @overload
    def get(self, key: K, default: D) -> V | D: ...

    def get(self, key: K, default: object = None) -> object:
        """Return the value for *key* in the current version, or *default*."""
        return self._cache.get(self.key(key), default)

    def set(
        self,
        key: K,
        value: V,
        *,
        ttl: float | str | timedelta | MissingType | None = MISSING,
        tags: Iterable[str] = (),
    ) -> None:
        """Store *value* under *key* in the current version (see :meth:`Cache.set`)."""
        with self._cache._lock:
            version = self._cache._ns_version(self._name)
            self._cache.set(
                NamespacedKey(self._name, version, key),
                value,
                ttl=ttl,
                tags=(*tags, f"{_NS_TAG}{self._name}:{version}"),
            )

    def delete(self, key: K) -> bool:
        """Remove *key* from the current version."""
        return self._cache.delete(self.key(key))

    def __contains__(self, key: object) -> bool:
        return self.key(key) in self._cache  # type: ignore[arg-type]

    def invalidate(self) -> int:
        """Drop every entry of this namespace by moving to a new version; return it."""
        return self._cache._ns_bump(self._name)

    def __repr__(self) -> str:
        return f"Namespace({self._name!r}, version={self.version})"
