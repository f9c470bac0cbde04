"""Hostile review of pepperpy-cache after issue 18 #5-7.

Attacks: weighers that return negative, NaN, fractional or non-int weights
(a negative weight let the cache hold far more than ``max_weight``); ``tags=``
given a plain string (it was split into one tag per character, so
``invalidate_tag("user")`` missed the entry); huge integer TTLs (a raw
``OverflowError``); a non-number ``jitter``; a thread invalidating while
another stores its result (the result computed before the invalidation was
stored after it); and a differential test of LRU/LFU eviction order and
weights against cachetools.
"""

from __future__ import annotations

import asyncio
import math
import threading
from typing import Any

import cachetools
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pepperpy.cache import Cache, MemoryTier, TieredCache, cached
from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.core.types import MISSING

# --------------------------------------------------------------------------- weights


@pytest.mark.parametrize("weight", [-1, -(10**9), math.nan, 1.5, True, "3", None], ids=repr)
def test_weigher_results_are_checked(weight: Any) -> None:
    """A weight that is not an int >= 0 is refused, and nothing is stored."""
    cache: Cache[str, int] = Cache(maxsize=None, weigher=lambda k, v: weight, max_weight=10)
    with pytest.raises(InvalidArgumentError):
        cache.set("k", 1)
    assert "k" not in cache
    assert cache.weight == 0


def test_negative_weights_cannot_exceed_max_weight() -> None:
    """The bound holds: the entries' real weights never sum past max_weight."""
    sizes = {"a": 8, "b": 8, "c": -100}
    cache: Cache[str, int] = Cache(maxsize=None, weigher=lambda k, v: sizes[k], max_weight=10)
    cache.set("a", 1)
    try:
        cache.set("c", 1)
    except InvalidArgumentError:
        pass
    cache.set("b", 1)
    assert sum(sizes[k] for k in cache if sizes[k] > 0) <= 10


# --------------------------------------------------------------------------- tags


def test_a_str_as_tags_is_refused_not_split_into_characters() -> None:
    """tags="user" used to store the tags u, s, e, r: invalidate_tag("user") missed it."""
    cache: Cache[str, int] = Cache()
    with pytest.raises(InvalidArgumentError):
        cache.set("k", 1, tags="user")
    with pytest.raises(InvalidArgumentError):
        cache.add("k", 1, tags="user")
    assert "k" not in cache


def test_cached_refuses_a_str_as_tags() -> None:
    """@cached(tags="user") is refused when decorating, not split per call."""
    with pytest.raises(InvalidArgumentError):

        @cached(tags="user")
        def f(x: int) -> int:
            return x


def test_cached_refuses_a_str_returned_by_a_tags_function() -> None:
    """A tags callable returning one str is refused too (and the call's result still returns)."""

    @cached(tags=lambda x: "user")
    def f(x: int) -> int:
        return x

    with pytest.raises(InvalidArgumentError):
        f(1)


async def test_tiered_cache_refuses_a_str_as_tags() -> None:
    """The same rule on TieredCache.set and set_many (the tier never sees split tags)."""
    tiered: TieredCache[str, int] = TieredCache(Cache(), MemoryTier())
    with pytest.raises(InvalidArgumentError):
        await tiered.set("k", 1, tags="user")
    with pytest.raises(InvalidArgumentError):
        await tiered.set_many({"k": 1}, tags="user")
    assert await tiered.get("k") is None


# --------------------------------------------------------------------------- durations


@pytest.mark.parametrize("ttl", [10**400, -(10**400)], ids=["huge", "-huge"])
def test_huge_int_ttl_is_an_invalid_argument(ttl: int) -> None:
    """float(10**400) raises OverflowError; it must come out as InvalidArgumentError."""
    with pytest.raises(InvalidArgumentError):
        Cache(ttl=ttl)
    with pytest.raises(InvalidArgumentError):
        Cache().set("k", 1, ttl=ttl)
    with pytest.raises(InvalidArgumentError):
        cached(ttl=ttl)


def test_infinite_ttl_never_expires() -> None:
    """ttl=math.inf is accepted and means no expiry."""
    cache: Cache[str, int] = Cache(ttl=math.inf)
    cache.set("k", 1)
    assert cache.get("k") == 1


@pytest.mark.parametrize("jitter", ["0.1", None, [0.1], True], ids=repr)
def test_jitter_must_be_a_number(jitter: Any) -> None:
    """A str jitter raised a raw TypeError from the range comparison."""
    with pytest.raises(InvalidArgumentError):
        Cache(jitter=jitter)


# --------------------------------------------------------------------------- threads


def test_invalidate_from_another_thread_while_a_result_is_stored() -> None:
    """A result computed before invalidate() is never stored after it (sync, threads).

    The tags callable runs as the result is being stored; another thread
    invalidates exactly then. The old code checked the epoch, then computed the
    tags, then stored: the stale result survived the invalidation.
    """
    source = {"v": "old"}
    invalidated = threading.Event()

    def tags(x: int) -> tuple[str, ...]:
        if not invalidated.is_set():
            source["v"] = "new"
            worker = threading.Thread(target=lambda: (f.invalidate(1), invalidated.set()))
            worker.start()
            worker.join(30)
            assert invalidated.is_set()
        return ("t",)

    @cached(tags=tags)
    def f(x: int) -> str:
        return source["v"] if invalidated.is_set() else "old"

    assert f(1) == "old"  # computed before the invalidation: returned, not stored
    assert f(1) == "new"


# --------------------------------------------------------------------------- cachetools

_OPS = st.lists(
    st.tuples(st.sampled_from(["get", "set", "delete"]), st.integers(0, 7), st.integers(1, 4)),
    max_size=60,
)


def _contents(ref: cachetools.Cache[int, int]) -> dict[int, int]:
    # cachetools' items() reads through __getitem__, which marks use: read around it.
    return {k: cachetools.Cache.__getitem__(ref, k) for k in list(ref)}


def _replay(cache: Cache[int, int], ref: cachetools.Cache[int, int], ops: Any) -> None:
    for op, key, value in ops:
        if op == "get":
            assert cache.get(key) == ref.get(key)
        elif op == "set":
            cache.set(key, value)
            ref[key] = value
        else:
            cache.delete(key)
            ref.pop(key, None)
        assert dict(cache.items()) == _contents(ref)


@pytest.mark.parametrize(
    ("policy", "reference"), [("lru", cachetools.LRUCache), ("lfu", cachetools.LFUCache)]
)
@settings(max_examples=200, deadline=None)
@given(ops=_OPS)
def test_eviction_matches_cachetools(policy: str, reference: Any, ops: Any) -> None:
    """LRU and LFU keep exactly the entries cachetools keeps (count bound)."""
    _replay(Cache(maxsize=3, policy=policy), reference(3), ops)


@pytest.mark.parametrize(
    ("policy", "reference"), [("lru", cachetools.LRUCache), ("lfu", cachetools.LFUCache)]
)
@settings(max_examples=200, deadline=None)
@given(ops=_OPS)
def test_weighted_eviction_matches_cachetools(policy: str, reference: Any, ops: Any) -> None:
    """With weights (cachetools' getsizeof), the same entries survive.

    Overwrites are left out: cachetools may evict the key being overwritten
    itself to make room for its new size, which this cache deliberately never does.
    """
    seen: set[int] = set()
    fresh = []
    for op, key, value in ops:
        if op == "set" and key in seen:
            continue
        if op == "set":
            seen.add(key)
        if op == "delete":
            seen.discard(key)
        fresh.append((op, key, value))
    _replay(
        Cache(maxsize=None, policy=policy, weigher=lambda k, v: v, max_weight=8),
        reference(8, getsizeof=lambda v: v),
        fresh,
    )


# --------------------------------------------------------------------------- tier keys


class _Plain:
    """No __repr__ of its own: its default repr is its memory address."""


class _BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("repr fails")


def test_tier_keys_never_hold_a_memory_address() -> None:
    """A key whose repr is a memory address is refused (InvalidArgumentError).

    ``<_Plain object at 0x7f...>`` names whatever object lives at that address:
    after the first is collected, or in another process sharing the Redis
    tier (forked workers reuse addresses), a different object gets the first
    one's cached value, such as another user's result. Functions and bound
    methods print their address too.
    """
    from pepperpy.cache import encode_key

    for key in (_Plain(), ("user", _Plain()), frozenset({_Plain()}), _BadRepr(), lambda: 0):
        with pytest.raises(InvalidArgumentError):
            encode_key(key)
    assert encode_key(("user", 7)) != encode_key("('user', 7)")  # still typed


async def test_cached_method_with_a_tier_needs_a_key_function() -> None:
    """@cached on a method of a class without a value repr, with a tier: a clear error, no leak."""
    tiered: TieredCache[Any, Any] = TieredCache(Cache(), MemoryTier())

    class Service:
        @cached(cache=tiered)
        async def load(self, user: int) -> str:
            return f"data of {user}"

    with pytest.raises(InvalidArgumentError):
        await Service().load(1)


class _GatedTier:
    """A plain CacheTier (no tags, no feed) whose writes wait for a gate, as a network store's."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.gate = asyncio.Event()
        self.writing = asyncio.Event()

    async def get(self, key: str) -> Any:
        return self.data.get(key, MISSING)

    async def set(self, key: str, value: Any, *, ttl: float | None) -> None:
        self.writing.set()
        await self.gate.wait()
        self.data[key] = value

    async def delete(self, key: str) -> Any:
        return self.data.pop(key, None) is not None


async def test_ainvalidate_during_the_tier_write_leaves_no_stale_value() -> None:
    """issue 18 #5, tiered path: ainvalidate() while the result is being written to the tier.

    The write started before the invalidation and lands after it (the tier
    write is slow); neither memory nor the tier may keep the stale result, so
    the next call computes afresh, as async-lru's invalidation does.
    """
    tier = _GatedTier()
    tiered: TieredCache[Any, Any] = TieredCache(Cache(), tier)
    source = {"v": "old"}

    @cached(cache=tiered)
    async def f(x: int) -> str:
        return source["v"]

    first = asyncio.ensure_future(f(1))
    await asyncio.wait_for(tier.writing.wait(), 30)  # "old" computed, its tier write in flight
    source["v"] = "new"
    invalidating = asyncio.ensure_future(f.ainvalidate(1))
    await asyncio.sleep(0)
    tier.gate.set()
    assert await asyncio.wait_for(first, 30) == "old"  # its caller gets it; it is not kept
    await asyncio.wait_for(invalidating, 30)
    assert await asyncio.wait_for(f(1), 30) == "new"
