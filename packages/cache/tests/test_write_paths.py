"""Issue 26: the write path chosen at construction keeps every guarantee.

``Cache.set`` makes room for a new key with one ``popitem`` (LRU/FIFO under a count
bound alone) or the general loop (weights, LFU, policy NONE), and overwrites a key
in place unless its tags or weight change. These tests pin what each branch owes.
"""

from __future__ import annotations

from collections import OrderedDict

from hypothesis import given, settings
from hypothesis import strategies as st

from pepperpy.cache import Cache, EvictionReason, Policy
from pepperpy.core import ManualClock


def test_count_bound_evicts_the_least_recently_used_and_reports_it() -> None:
    """Issue 26: the popitem eviction drops the LRU entry, counts it and calls on_evict."""
    seen: list[tuple[str, int, EvictionReason]] = []
    cache: Cache[str, int] = Cache(3, on_evict=lambda k, v, r: seen.append((k, v, r)))
    for key in "abc":
        cache.set(key, ord(key))
    assert 97 == cache.get("a")  # "b" is now the least recently used
    cache.set("c", 0)  # an overwrite is a use too: order b, a, c
    cache.set("d", 100)
    assert [("b", 98, EvictionReason.SIZE)] == seen
    assert ["a", "c", "d"] == cache.keys()
    assert 1 == cache.stats().evictions["size"]
    assert 3 == cache.weight


def test_fifo_evicts_in_insertion_order_whatever_the_reads() -> None:
    """Issue 26: FIFO shares the popitem eviction; reads and overwrites keep the order."""
    cache: Cache[str, int] = Cache(2, policy="fifo")
    cache.set("a", 1)
    cache.set("b", 2)
    cache.get("a")
    cache.set("a", 3)
    cache.set("c", 4)
    assert ["b", "c"] == cache.keys()


def test_expired_entry_is_dropped_before_a_live_one_without_a_default_ttl() -> None:
    """Issue 26: a per-call ttl on a cache without one still expires before the policy runs."""
    clock = ManualClock()
    cache: Cache[str, int] = Cache(2, clock=clock)
    cache.set("live", 1)
    cache.set("short", 2, ttl=5)
    clock.advance_sync(10)
    cache.set("new", 3)
    assert ["live", "new"] == cache.keys()
    stats = cache.stats()
    assert 1 == stats.evictions["expired"]
    assert 0 == stats.evictions["size"]


def test_overwrite_in_place_keeps_the_lfu_count_and_counts_the_use() -> None:
    """Issue 26: the in-place overwrite under LFU counts a use like a read does."""
    cache: Cache[str, int] = Cache(2, policy="lfu")
    cache.set("a", 1)
    cache.set("b", 2)
    cache.set("a", 10)  # a: 2 uses, b: 1
    cache.set("c", 3)  # evicts b, the least frequently used
    assert {"a": 10, "c": 3} == dict(cache.items())


def test_overwrite_that_changes_tags_drops_the_old_ones() -> None:
    """Issue 26: tags decide the overwrite branch; the old tags must not still find the key."""
    cache: Cache[str, int] = Cache(10)
    cache.set("k", 1, tags=("old",))
    cache.set("k", 2, tags=("new",))
    assert 0 == cache.invalidate_tag("old")
    assert 2 == cache.get("k")
    cache.set("k", 3)  # no tags now
    assert 0 == cache.invalidate_tag("new")
    assert frozenset() == cache.tags_of("k")


def test_heavier_overwrite_makes_room_without_evicting_itself() -> None:
    """Issue 26: a weight change takes the general path; the key is never its own victim."""
    cache: Cache[str, str] = Cache(
        None, weigher=lambda k, v: len(v), max_weight=10, policy=Policy.LRU
    )
    cache.set("a", "xxxx")
    cache.set("b", "xxxx")
    cache.set("b", "xxxxxxxx")  # 4 + 8 > 10: "a" goes
    assert ["b"] == cache.keys()
    assert 8 == cache.weight


def test_eviction_reasons_are_usable_as_keys() -> None:
    """Issue 26: EvictionReason hashes by identity; as dict keys and in sets it behaves."""
    counts = dict.fromkeys(EvictionReason, 0)
    counts[EvictionReason.SIZE] += 1
    assert 1 == counts[EvictionReason("size")]
    assert 3 == len(set(EvictionReason) | {EvictionReason.SIZE})


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["get", "set"]), st.integers(0, 7), st.integers(0, 3)),
        max_size=60,
    )
)
def test_lru_matches_an_ordered_dict_model(ops: list[tuple[str, int, int]]) -> None:
    """Issue 26: gets, in-place overwrites and evicting inserts keep exact LRU order."""
    cache: Cache[int, int] = Cache(4)
    model: OrderedDict[int, int] = OrderedDict()
    for op, key, value in ops:
        if op == "get":
            assert model.get(key) == cache.get(key)
            if key in model:
                model.move_to_end(key)
        else:
            cache.set(key, value)
            model[key] = value
            model.move_to_end(key)
            if len(model) > 4:
                model.popitem(last=False)
    assert list(model.items()) == cache.items()
    assert len(model) == cache.weight
