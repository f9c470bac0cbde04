"""Tests for pepperpy.cache._cache: policies, TTL, weights, invalidation, namespaces, stats."""

from __future__ import annotations

import re
import sys
import threading
from collections import OrderedDict, defaultdict
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pepperpy.cache import (
    Cache,
    CacheFullError,
    EvictionReason,
    NamespacedKey,
    Policy,
    ValueTooLargeError,
)
from pepperpy.core import InvalidArgumentError, ManualClock, PepperPyError


@pytest.fixture(name="clock")
def _clock() -> ManualClock:
    return ManualClock()


class TestBasics:
    def test_get_set_delete(self) -> None:
        """Values come back; missing keys give the default; delete removes."""
        cache: Cache[str, int] = Cache(10)
        cache.set("a", 1)
        cache["b"] = 2
        assert 1 == cache.get("a")
        assert 2 == cache["b"]
        assert cache.get("zzz") is None
        assert "d" == cache.get("zzz", "d")
        assert cache.delete("a") is True
        assert cache.delete("a") is False
        with pytest.raises(KeyError):
            cache["a"]
        with pytest.raises(KeyError):
            del cache["a"]
        assert "b" in cache
        assert 1 == len(cache)

    def test_none_is_a_value(self) -> None:
        """A stored None is a hit, distinguishable with a default."""
        cache: Cache[str, Any] = Cache(10)
        cache.set("n", None)
        assert cache.get("n", "missing") is None
        assert "n" in cache

    def test_add_pop_get_or_set(self) -> None:
        """add() stores only when absent; pop() removes; get_or_set() computes once."""
        cache: Cache[str, int] = Cache(10)
        assert cache.add("k", 1) is True
        assert cache.add("k", 2) is False
        assert 1 == cache["k"]
        assert 1 == cache.pop("k", 0)
        assert 0 == cache.pop("k", 0)
        calls = []
        assert 5 == cache.get_or_set("x", lambda: calls.append(1) or 5)
        assert 5 == cache.get_or_set("x", lambda: calls.append(1) or 6)
        assert [1] == calls

    def test_keys_items_iter(self) -> None:
        """keys(), items() and iteration list live entries."""
        cache: Cache[int, str] = Cache(10)
        for i in range(3):
            cache.set(i, str(i))
        assert [0, 1, 2] == cache.keys()
        assert [(0, "0"), (1, "1"), (2, "2")] == cache.items()
        assert [0, 1, 2] == list(cache)

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"maxsize": 0},
            {"maxsize": -1},
            {"maxsize": True},
            {"policy": "random"},
            {"jitter": 1.5},
            {"ttl": "soon"},
            {"max_weight": 10},
            {"max_weight": "lots", "weigher": lambda k, v: 1},
        ],
    )
    def test_bad_arguments(self, kwargs: dict[str, Any]) -> None:
        """Bad construction arguments raise InvalidArgumentError with a hint or context."""
        with pytest.raises(InvalidArgumentError) as info:
            Cache(**kwargs)
        assert isinstance(info.value, PepperPyError)

    def test_bad_tag(self) -> None:
        """Tags must be strings."""
        cache: Cache[str, int] = Cache(10)
        with pytest.raises(InvalidArgumentError, match="tags must be strings"):
            cache.set("a", 1, tags=[1])  # type: ignore[list-item]

    def test_policy_by_name(self) -> None:
        """Policies can be given by name, case-insensitively."""
        assert Policy.LFU is Cache(3, policy="LFU").policy


class TestLRU:
    def test_evicts_least_recently_used(self) -> None:
        """Reading a key protects it from the next eviction."""
        evicted: list[tuple[Any, Any, EvictionReason]] = []
        cache: Cache[str, int] = Cache(3, on_evict=lambda k, v, r: evicted.append((k, v, r)))
        for k in "abc":
            cache.set(k, ord(k))
        cache.get("a")
        cache.set("d", 4)
        assert "b" not in cache
        assert {"a", "c", "d"} == set(cache.keys())
        assert [("b", ord("b"), EvictionReason.SIZE)] == evicted
        assert 1 == cache.stats().evictions["size"]

    def test_overwrite_does_not_evict(self) -> None:
        """Overwriting a key in a full cache evicts nothing."""
        cache: Cache[str, int] = Cache(2)
        cache.set("a", 1)
        cache.set("b", 2)
        cache.set("a", 3)
        assert {"a": 3, "b": 2} == dict(cache.items())
        cache.set("c", 4)  # 'b' is now least recently used
        assert {"a", "c"} == set(cache.keys())

    @settings(max_examples=60, deadline=None)
    @given(
        st.lists(
            st.tuples(st.sampled_from(["get", "set", "del"]), st.integers(0, 12)), max_size=80
        ),
        st.integers(1, 6),
    )
    def test_matches_reference_model(self, ops: list[tuple[str, int]], maxsize: int) -> None:
        """Any sequence of operations behaves like a reference OrderedDict LRU."""
        cache: Cache[int, int] = Cache(maxsize)
        model: OrderedDict[int, int] = OrderedDict()
        for op, key in ops:
            if op == "get":
                expected = model.get(key)
                if key in model:
                    model.move_to_end(key)
                assert expected == cache.get(key)
            elif op == "set":
                if key in model:
                    model.move_to_end(key)
                elif len(model) >= maxsize:
                    model.popitem(last=False)
                model[key] = key * 10
                cache.set(key, key * 10)
            else:
                assert (model.pop(key, None) is not None) == cache.delete(key)
            assert list(model) == cache.keys()


class TestLFU:
    def test_evicts_least_frequently_used(self) -> None:
        """The key used least often goes first; ties go to the least recent."""
        cache: Cache[str, int] = Cache(3, policy=Policy.LFU)
        for k in "abc":
            cache.set(k, 0)
        cache.get("a")
        cache.get("a")
        cache.get("b")
        cache.set("d", 0)  # 'c' has one use
        assert {"a", "b", "d"} == set(cache.keys())
        cache.set("e", 0)  # 'd' has one use and is the least recent of those
        assert {"a", "b", "e"} == set(cache.keys())

    def test_overwrite_counts_as_use(self) -> None:
        """Setting an existing key keeps its frequency and adds one."""
        cache: Cache[str, int] = Cache(2, policy="lfu")
        cache.set("a", 1)
        cache.set("a", 2)
        cache.set("b", 1)
        cache.set("c", 1)  # b (1 use) goes, a (2 uses) stays
        assert {"a", "c"} == set(cache.keys())
        assert 2 == cache["a"]

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.tuples(st.booleans(), st.integers(0, 8)), max_size=80), st.integers(1, 5))
    def test_matches_reference_model(self, ops: list[tuple[bool, int]], maxsize: int) -> None:
        """LFU with least-recent tie-break matches a brute-force reference."""
        cache: Cache[int, int] = Cache(maxsize, policy="lfu")
        freq: dict[int, int] = {}
        last: dict[int, int] = {}
        for tick, (is_get, key) in enumerate(ops):
            if is_get:
                hit = key in freq
                assert (key if hit else None) == cache.get(key)
                if hit:
                    freq[key] += 1
                    last[key] = tick
            else:
                if key in freq:
                    freq[key] += 1
                else:
                    if len(freq) >= maxsize:
                        victim = min(freq, key=lambda k: (freq[k], last[k]))
                        del freq[victim], last[victim]
                    freq[key] = 1
                last[key] = tick
                cache.set(key, key)
            assert set(freq) == set(cache.keys())


class TestFIFOAndNone:
    def test_fifo_ignores_reads(self) -> None:
        """FIFO evicts the oldest insert even if it was just read."""
        cache: Cache[str, int] = Cache(2, policy="fifo")
        cache.set("a", 1)
        cache.set("b", 2)
        cache.get("a")
        cache.set("c", 3)
        assert {"b", "c"} == set(cache.keys())

    def test_no_eviction_raises_when_full(self) -> None:
        """Policy NONE refuses new keys when full but allows overwrites."""
        cache: Cache[str, int] = Cache(2, policy=Policy.NONE)
        cache.set("a", 1)
        cache.set("b", 2)
        with pytest.raises(CacheFullError) as info:
            cache.set("c", 3)
        assert "c" not in cache
        assert info.value.hint
        cache.set("a", 10)
        assert 10 == cache["a"]
        cache.delete("b")
        cache.set("c", 3)
        assert {"a", "c"} == set(cache.keys())


class TestTTL:
    def test_default_and_per_entry_ttl(self, clock: ManualClock) -> None:
        """Entries expire after the default or their own ttl; None means never."""
        cache: Cache[str, int] = Cache(10, ttl=10, clock=clock)
        cache.set("default", 1)
        cache.set("short", 2, ttl=2)
        cache.set("forever", 3, ttl=None)
        cache.set("text", 4, ttl="1m")
        clock.advance_sync(2)
        assert cache.get("short") is None
        assert 1 == cache.get("default")
        assert pytest.approx(8) == cache.ttl_of("default")
        clock.advance_sync(8)
        assert cache.get("default") is None
        assert 3 == cache.get("forever")
        assert cache.ttl_of("forever") is None
        assert 4 == cache.get("text")
        assert 2 == cache.stats().evictions["expired"]

    def test_expired_entries_do_not_count_and_are_purged(self, clock: ManualClock) -> None:
        """Expired entries vanish from len() after expire(), and free room for new ones."""
        cache: Cache[int, int] = Cache(3, ttl=5, clock=clock)
        for i in range(3):
            cache.set(i, i)
        clock.advance_sync(5)
        assert [] == cache.keys()
        assert 3 == cache.expire()
        assert 0 == len(cache)
        for i in range(3):
            cache.set(i, i)
        clock.advance_sync(5)
        cache.set(99, 99)  # purges the expired entries instead of evicting by size
        assert 0 == cache.stats().evictions["size"]
        assert [99] == cache.keys()

    def test_overwrite_resets_ttl(self, clock: ManualClock) -> None:
        """Setting a key again gives it a fresh ttl (the old heap item is ignored)."""
        cache: Cache[str, int] = Cache(10, ttl=10, clock=clock)
        cache.set("a", 1)
        clock.advance_sync(6)
        cache.set("a", 2)
        clock.advance_sync(6)
        assert 0 == cache.expire()  # nothing expired
        assert 2 == cache.get("a")

    def test_jitter_shortens_within_bounds(self, clock: ManualClock) -> None:
        """With jitter, each ttl lies in [ttl * (1 - jitter), ttl]."""
        cache: Cache[int, int] = Cache(None, ttl=100, jitter=0.2, clock=clock)
        for i in range(200):
            cache.set(i, i)
        ttls = [cache.ttl_of(i) for i in range(200)]
        assert all(t is not None and 80 <= t <= 100 for t in ttls)
        assert len({round(t or 0, 6) for t in ttls}) > 50  # actually spread

    @settings(max_examples=60, deadline=None)
    @given(
        st.lists(
            st.one_of(
                st.tuples(st.just("set"), st.integers(0, 6), st.sampled_from([None, 1, 3, 10])),
                st.tuples(st.just("get"), st.integers(0, 6), st.none()),
                st.tuples(st.just("tick"), st.integers(1, 4), st.none()),
            ),
            max_size=60,
        ),
        st.integers(1, 4),
    )
    def test_ttl_lru_matches_reference_model(
        self, ops: list[tuple[str, int, int | None]], maxsize: int
    ) -> None:
        """TTL plus LRU behaves like a reference model driven by the same clock."""
        clock = ManualClock()
        cache: Cache[int, int] = Cache(maxsize, clock=clock)
        model: OrderedDict[int, float | None] = OrderedDict()  # key -> expiry, LRU order

        def now() -> float:
            return clock.monotonic()

        def alive(key: int) -> bool:
            exp = model[key]
            return exp is None or exp > now()

        for op, arg, ttl in ops:
            if op == "tick":
                clock.advance_sync(arg)
            elif op == "get":
                hit = arg in model and alive(arg)
                if arg in model and not hit:
                    del model[arg]
                if hit:
                    model.move_to_end(arg)
                assert (arg if hit else None) == cache.get(arg)
            else:
                for key in [k for k in model if not alive(k)]:
                    del model[key]
                if arg in model:
                    model.move_to_end(arg)
                elif len(model) >= maxsize:
                    model.popitem(last=False)
                model[arg] = None if ttl is None else now() + ttl
                cache.set(arg, arg, ttl=ttl)
            assert [k for k in model if alive(k)] == cache.keys()

    def test_heap_stays_bounded_under_overwrites(self, clock: ManualClock) -> None:
        """Overwriting one key many times does not grow TTL bookkeeping without bound."""
        cache: Cache[str, int] = Cache(10, ttl=10, clock=clock)
        for i in range(10_000):
            cache.set("k", i)
        assert len(cache._heap) < 200
        assert 9999 == cache["k"]


class TestWeight:
    def test_max_weight_evicts(self) -> None:
        """A weigher bounds total weight; big values push out old ones."""
        cache: Cache[str, bytes] = Cache(None, weigher=lambda k, v: len(v), max_weight="10B")
        cache.set("a", b"xxxx")
        cache.set("b", b"xxxx")
        assert 8 == cache.weight
        cache.set("c", b"xxxx")
        assert {"b", "c"} == set(cache.keys())
        assert 8 == cache.stats().weight
        cache.set("b", b"x" * 10)  # an overwrite that needs the whole budget
        assert ["b"] == cache.keys()
        assert 10 == cache.weight

    def test_value_too_large(self) -> None:
        """A value heavier than the whole cache is refused with a clear error."""
        cache: Cache[str, bytes] = Cache(None, weigher=lambda k, v: len(v), max_weight=4)
        with pytest.raises(ValueTooLargeError, match="weighs 5"):
            cache.set("a", b"12345")
        assert 0 == len(cache)

    def test_lfu_with_weight_overwrite(self) -> None:
        """LFU bookkeeping survives an overwrite that has to make room."""
        cache: Cache[str, bytes] = Cache(
            None, policy="lfu", weigher=lambda k, v: len(v), max_weight=6
        )
        cache.set("a", b"123")
        cache.set("b", b"123")
        cache.set("a", b"12345")
        assert ["a"] == cache.keys()
        cache.set("c", b"1")
        assert {"a", "c"} == set(cache.keys())


class TestInvalidation:
    def test_by_tag(self) -> None:
        """invalidate_tag removes exactly the tagged entries; tags_of reports them."""
        cache: Cache[str, int] = Cache(10)
        cache.set("u1", 1, tags=["users", "eu"])
        cache.set("u2", 2, tags=["users"])
        cache.set("p1", 3, tags=["products"])
        assert frozenset({"users", "eu"}) == cache.tags_of("u1")
        assert 2 == cache.invalidate_tag("users")
        assert ["p1"] == cache.keys()
        assert 0 == cache.invalidate_tag("users")
        assert 2 == cache.stats().evictions["invalidated"]

    def test_overwrite_replaces_tags(self) -> None:
        """Tags belong to the entry: overwriting without tags removes them."""
        cache: Cache[str, int] = Cache(10)
        cache.set("a", 1, tags=["t"])
        cache.set("a", 2)
        assert 0 == cache.invalidate_tag("t")
        assert 2 == cache["a"]

    def test_by_prefix_pattern_predicate(self) -> None:
        """Prefix, glob, regex and predicate invalidation match only str keys as told."""
        cache: Cache[Any, int] = Cache(20)
        for key in ["user:1", "user:2:profile", "user:3:profile", "item:1", 7, ("user:", 1)]:
            cache.set(key, 0)
        assert 2 == cache.invalidate_pattern("user:*:profile")
        assert 1 == cache.invalidate_pattern(re.compile(r"item:\d+"))
        assert 1 == cache.invalidate_prefix("user:")
        assert 1 == cache.invalidate_where(lambda k: k == 7)
        assert [("user:", 1)] == cache.keys()
        assert 1 == cache.clear()
        assert 0 == len(cache)

    def test_namespaces_are_versioned(self) -> None:
        """A namespace's invalidate() drops its whole group and nothing else."""
        cache: Cache[Any, str] = Cache(100)
        users = cache.namespace("users")
        posts = cache.namespace("posts")
        users.set(1, "ann")
        users.set(2, "bob", tags=["vip"])
        posts.set(1, "hello")
        cache.set(1, "plain")
        assert "ann" == users.get(1)
        assert 1 in users
        assert NamespacedKey("users", 0, 1) == users.key(1)
        assert 1 == users.invalidate()
        assert 1 == users.version
        assert users.get(1) is None
        assert 2 not in users
        assert "hello" == posts.get(1)
        assert "plain" == cache.get(1)
        assert 2 == len(cache)  # old-version entries were removed, not just hidden
        users.set(1, "ann2")
        assert "ann2" == users.get(1)
        assert users.delete(1) is True
        with pytest.raises(InvalidArgumentError):
            cache.namespace("")


class TestStats:
    def test_counts_and_ratio(self, clock: ManualClock) -> None:
        """Hits, misses, evictions by reason, size and the hit ratio add up."""
        cache: Cache[str, int] = Cache(2, ttl=10, clock=clock, name="demo")
        assert 0.0 == cache.stats().hit_ratio
        cache.set("a", 1)
        cache.get("a")
        cache.get("a")
        cache.get("nope")
        cache.set("b", 2)
        cache.set("c", 3)  # evicts 'a' by size
        clock.advance_sync(10)
        cache.get("b")  # expired: a miss
        stats = cache.stats()
        assert (2, 2, 4) == (stats.hits, stats.misses, stats.lookups)
        assert 0.5 == stats.hit_ratio
        assert {"size": 1, "expired": 1, "invalidated": 0} == dict(stats.evictions)
        assert "demo" == stats.to_dict()["name"]
        assert 0.5 == stats.to_dict()["hit_ratio"]
        cache.reset_stats()
        assert (0, 0) == (cache.stats().hits, cache.stats().misses)

    def test_on_evict_errors_are_isolated(self, caplog: pytest.LogCaptureFixture) -> None:
        """A failing on_evict callback is logged and does not break the cache."""

        def boom(key: Any, value: Any, reason: EvictionReason) -> None:
            raise RuntimeError("boom")

        cache: Cache[str, int] = Cache(1, on_evict=boom)
        cache.set("a", 1)
        cache.set("b", 2)
        assert ["b"] == cache.keys()
        assert "on_evict callback" in caplog.text


class _Meddler:
    """A key whose hashing reads another key once: a lock-free LRU touch in the middle
    of an iteration, as another thread's ``get`` can make."""

    def __init__(self, cache: Cache[object, int], other: object) -> None:
        self.cache, self.other, self.armed = cache, other, False

    def __hash__(self) -> int:
        if self.armed:
            self.armed = False
            self.cache.get(self.other)
        return 1

    def __eq__(self, other: object) -> bool:
        return self is other


class TestThreads:
    def test_a_reader_reordering_entries_mid_iteration_is_harmless(self) -> None:
        """Iterations under the lock survive a lock-free reader moving a hit to the end."""
        cache: Cache[object, int] = Cache(10)
        meddler = _Meddler(cache, "a")
        for key in ("a", meddler, "b", "c"):
            cache.set(key, 1)
        for call in (
            cache.keys,
            cache.items,
            lambda: cache.invalidate_prefix("zz"),
            lambda: cache.invalidate_where(lambda key: False),
        ):
            meddler.armed = True
            call()
            assert not meddler.armed  # the reader did run mid-iteration
        assert set(cache.keys()) == {"a", meddler, "b", "c"}
        assert cache.keys()[-1] == "a"  # moved by the reader

    @pytest.mark.parametrize("policy", ["lru", "lfu", "fifo"])
    def test_concurrent_use_keeps_invariants(self, policy: str) -> None:
        """Many threads reading, writing and invalidating never corrupt the cache."""
        cache: Cache[int, int] = Cache(50, ttl=60, policy=policy)
        errors: list[BaseException] = []
        per_thread: dict[int, int] = defaultdict(int)

        def work(seed: int) -> None:
            try:
                for i in range(3000):
                    key = (i * 7 + seed) % 120
                    if i % 5 == 0:
                        cache.set(key, i, tags=["t"] if i % 2 else ())
                    elif i % 97 == 0:
                        cache.invalidate_tag("t")
                    elif i % 89 == 0:
                        cache.keys()
                    else:
                        cache.get(key)
                        per_thread[seed] += 1
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)  # switch threads as often as possible
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            sys.setswitchinterval(interval)
        assert [] == errors
        assert len(cache) <= 50
        stats = cache.stats()
        assert sum(per_thread.values()) == stats.lookups
        assert stats.size == len(cache._data)
        assert sum(len(keys) for keys in cache._tags.values()) <= stats.size
        if cache._lfu is not None:
            assert set(cache._lfu.freq) == set(cache._data)
            assert sum(len(b) for b in cache._lfu.buckets.values()) == len(cache._data)


def test_reads_of_an_expired_entry_see_nothing_and_evict_it() -> None:
    """peek, `in`, ttl_of, tags_of and delete treat an expired entry as absent (issue 24).

    Each also drops it, reporting EvictionReason.EXPIRED to on_evict once.
    """
    clock = ManualClock()
    for read in (
        lambda c: c.peek("k", "gone") == "gone",
        lambda c: "k" not in c,
        lambda c: _raises_key_error(lambda: c.ttl_of("k")),
        lambda c: _raises_key_error(lambda: c.tags_of("k")),
        lambda c: c.delete("k") is False,
    ):
        evicted: list[EvictionReason] = []
        cache: Cache[str, int] = Cache(10, clock=clock, on_evict=_recorder(evicted))
        cache.set("k", 1, ttl=5, tags=("t",))
        clock.advance_sync(5)
        assert read(cache)
        assert evicted == [EvictionReason.EXPIRED]
        assert len(cache) == 0


def _recorder(reasons: list[EvictionReason]) -> Any:
    return lambda key, value, reason: reasons.append(reason)


def _raises_key_error(call: Any) -> bool:
    try:
        call()
    except KeyError:
        return True
    return False
