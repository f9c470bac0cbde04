"""One conformance suite for every backend the async cache API runs on.

The same tests run against:

* ``memory``: the in-memory :class:`Cache`, through a thin async adapter;
* ``tiered-memory``: a :class:`TieredCache` over a pepperpy-storage memory store;
* ``tiered-sqlite``: a :class:`TieredCache` over a real SQLite file;
* ``tiered-postgres``: a :class:`TieredCache` over pepperpy-storage's PostgreSQL
  backend (real server; a store of its own in a schema only these tests use);
* ``tiered-redis``: a :class:`TieredCache` over a :class:`RedisTier` (real server);
* ``redis``: :class:`RedisCache` itself;
* ``connect-memory`` / ``connect-redis``: what :func:`connect_cache` builds from
  ``memory://<name>`` and ``redis://...`` URLs (the factory path applications use).

Each backend also has a *peer*: a second handle on the same shared data, as a
second process would have (its own memory front, its own Redis connection), so
"shared" means shared. A hypothesis model test checks that any sequence of
set/delete/invalidate_tag leaves every backend as it leaves a memory Cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pepperpy.cache import Cache, RedisCache, StorageTier, TieredCache, cached, connect_cache
from pepperpy.core import MISSING

BACKENDS = [
    "memory",
    "tiered-memory",
    "tiered-sqlite",
    "tiered-postgres",
    "tiered-redis",
    "redis",
    "connect-memory",
    "connect-redis",
]


@attrs.define
class User:
    name: str
    age: int


class MemoryAdapter:
    """The sync memory :class:`Cache` behind the async API the other backends share."""

    def __init__(self, cache: Cache[Any, Any]) -> None:
        self.cache = cache

    async def get(self, key: Any, default: Any = None) -> Any:
        return self.cache.get(key, default)

    async def set(self, key: Any, value: Any, *, ttl: Any = MISSING, tags: Any = ()) -> None:
        self.cache.set(key, value, ttl=ttl, tags=tags)

    async def delete(self, key: Any) -> bool:
        return self.cache.delete(key)

    async def invalidate_tag(self, *tags: str) -> int:
        return self.cache.invalidate_tag(*tags)

    async def invalidate_prefix(self, prefix: str) -> int:
        return self.cache.invalidate_prefix(prefix)

    async def clear(self) -> int:
        return self.cache.clear()

    async def get_many(self, keys: Iterable[Any]) -> dict[Any, Any]:
        return {k: v for k in keys if (v := self.cache.get(k, MISSING)) is not MISSING}

    async def set_many(self, items: Any, *, ttl: Any = MISSING) -> None:
        for key, value in items.items() if isinstance(items, dict) else items:
            self.cache.set(key, value, ttl=ttl)

    async def delete_many(self, keys: Iterable[Any]) -> int:
        return sum(self.cache.delete(k) for k in keys)


@attrs.define
class Harness:
    """A backend under test: the cache, a peer handle on the same data, and its traits."""

    name: str
    cache: Any
    peer: Any
    #: After ``await sync()``, each handle sees every change made through the other.
    coherent: bool

    async def sync(self) -> None:
        for handle in (self.cache, self.peer):
            if isinstance(handle, TieredCache):
                await handle.sync()


@contextlib.asynccontextmanager
async def open_backend(
    name: str,
    *,
    redis_url: str | None = None,
    postgres_dsn: str | None = None,
    namespace: str = "",
    data_dir: Path | None = None,
    value_type: Any = None,
) -> AsyncIterator[Harness]:
    """Open backend *name*; everything it made is removed on exit."""
    opened: contextlib.AbstractAsyncContextManager[Harness]
    if name == "memory":
        adapter = MemoryAdapter(Cache(None))
        yield Harness(name, adapter, adapter, coherent=True)
        return
    if name.startswith("connect-"):
        opened = _open_connected(name, redis_url, namespace, value_type)
    elif name.startswith("tiered-") and name != "tiered-redis":
        assert data_dir is not None
        opened = _open_storage_tiered(name, postgres_dsn, data_dir, value_type)
    else:
        assert redis_url is not None
        opened = _open_redis(name, redis_url, namespace, value_type)
    async with opened as harness:
        yield harness


@contextlib.asynccontextmanager
async def _open_connected(
    name: str, redis_url: str | None, namespace: str, value_type: Any
) -> AsyncIterator[Harness]:
    """``connect-*``: two caches connect_cache() builds from one URL."""
    options: dict[str, Any] = {"maxsize": None}
    if name == "connect-memory":  # a process-wide tier of its own name
        url = f"memory://conformance-{uuid.uuid4().hex[:12]}"
    else:
        assert redis_url is not None
        url = redis_url
        options.update(namespace=namespace, value_type=value_type)
    handles = [connect_cache(url, **options) for _ in range(2)]
    try:
        yield Harness(name, handles[0], handles[1], coherent=True)
    finally:
        try:
            await handles[0].clear()
        finally:
            for handle in handles:
                await handle.aclose()


@contextlib.asynccontextmanager
async def _open_storage_tiered(
    name: str, postgres_dsn: str | None, data_dir: Path, value_type: Any
) -> AsyncIterator[Harness]:
    """``tiered-memory/sqlite/postgres``: two memory fronts over one pepperpy-storage store."""
    from pepperpy.storage import Storage

    backend = name.removeprefix("tiered-")
    store_name = f"cache-{uuid.uuid4().hex[:8]}"
    options: dict[str, Any] = {}
    if backend == "postgres":  # a store of its own, in a schema only these tests use
        options = {
            "dsn": postgres_dsn,
            "schema": "pepperpy_cache_tests",
            "store": store_name,
            "max_size": 2,
        }
    async with Storage.create(store_name, backend=backend, data_dir=data_dir, **options) as storage:
        tier = StorageTier(storage, value_type=value_type)
        try:
            yield Harness(
                name,
                TieredCache(Cache(None), tier),
                TieredCache(Cache(None), tier),  # a second process: its own memory front
                coherent=False,  # a store announces nothing: fronts keep what they read
            )
        finally:
            await storage.clear()


@contextlib.asynccontextmanager
async def _open_redis(
    name: str, redis_url: str, namespace: str, value_type: Any
) -> AsyncIterator[Harness]:
    """``redis`` (two RedisCaches) or ``tiered-redis`` (two fronts over their tiers)."""
    import redis.asyncio

    clients = [redis.asyncio.Redis.from_url(redis_url) for _ in range(2)]
    caches = [RedisCache(c, namespace=namespace, value_type=value_type) for c in clients]
    try:
        if name == "redis":
            yield Harness(name, caches[0], caches[1], coherent=True)
        else:
            fronts = [TieredCache(Cache(None), cache.tier()) for cache in caches]
            try:
                yield Harness(name, fronts[0], fronts[1], coherent=True)
            finally:
                for front in fronts:
                    await front.aclose()
    finally:
        await caches[0].clear()
        for cache, client in zip(caches, clients, strict=True):
            await cache.aclose()
            await client.aclose()


@pytest.fixture(params=BACKENDS)
async def make(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    """``async with make(value_type=None) as harness`` for the parametrised backend."""
    name = request.param
    redis_url = namespace = postgres_dsn = None
    if "redis" in name:
        redis_url = request.getfixturevalue("redis_url")
        namespace = request.getfixturevalue("redis_namespace")
    if "postgres" in name:
        postgres_dsn = request.getfixturevalue("postgres_dsn")

    def factory(value_type: Any = None) -> contextlib.AbstractAsyncContextManager[Harness]:
        return open_backend(
            name,
            redis_url=redis_url,
            postgres_dsn=postgres_dsn,
            namespace=namespace or "",
            data_dir=tmp_path,
            value_type=value_type,
        )

    return factory


@pytest.fixture
async def backend(make: Any) -> AsyncIterator[Harness]:
    async with make() as harness:
        yield harness


async def _state(handle: Any, keys: Iterable[str]) -> dict[str, Any]:
    return {k: v for k in keys if (v := await handle.get(k, MISSING)) is not MISSING}


# --------------------------------------------------------------------------- basics


async def test_get_set_default_overwrite_delete(backend: Harness) -> None:
    cache, peer = backend.cache, backend.peer
    assert await cache.get("missing") is None
    assert await cache.get("missing", "default") == "default"
    await cache.set("a", {"x": [1, 2.5, "é", None]})
    await cache.set("none", None)
    await cache.set(("tuple", 1), [1, 2])
    assert await cache.get("a") == {"x": [1, 2.5, "é", None]}
    assert await cache.get("none", "default") is None  # None is a value, not a miss
    assert await cache.get(("tuple", 1)) == [1, 2]
    assert await peer.get("a") == {"x": [1, 2.5, "é", None]}  # shared
    await cache.set("a", "new")  # overwrite
    await backend.sync()
    assert await cache.get("a") == "new"
    if backend.coherent:
        assert await peer.get("a") == "new"
    assert await cache.delete("a") is True
    assert await cache.delete("a") is False  # absent: no error
    await backend.sync()
    assert await cache.get("a", "gone") == "gone"
    if backend.coherent:
        assert await peer.get("a", "gone") == "gone"


async def test_keys_of_different_types_never_share_an_entry(backend: Harness) -> None:
    """issue 18 #7: ``1``/``"1"`` and ``("user", 7)``/its repr are separate entries.

    On every backend, and through the peer (which reads the shared tier, not
    this handle's memory). Deleting one leaves the other.
    """
    cache, peer = backend.cache, backend.peer
    keys: list[Any] = [1, "1", ("user", 7), "('user', 7)", None, "None", "\x1ei:1"]
    for key in keys:
        await cache.set(key, f"value of {key!r}")
    await backend.sync()
    for key in keys:
        assert await peer.get(key) == f"value of {key!r}", key
    assert await cache.delete(1) is True
    await backend.sync()
    if backend.coherent:  # a store-backed peer keeps what it read until it expires
        assert await peer.get(1, "gone") == "gone"
    assert await cache.get(1, "gone") == "gone"
    assert await peer.get("1") == "value of '1'"
    assert await cache.get("\x1ei:1") == "value of '\\x1ei:1'"


async def test_ttl_expiry(backend: Harness) -> None:
    cache, peer = backend.cache, backend.peer
    await cache.set("short", 1, ttl=0.2)
    await cache.set("long", 2, ttl="1h")
    await cache.set("forever", 3, ttl=None)
    assert await peer.get("short") == 1  # a peer's memory keeps it no longer than the tier
    await asyncio.sleep(0.4)  # longer than the ttl
    assert await cache.get("short") is None
    assert await peer.get("short") is None
    assert await cache.get("long") == 2
    assert await peer.get("forever") == 3


async def test_tags(backend: Harness) -> None:
    cache, peer = backend.cache, backend.peer
    await cache.set("a", 1, tags=["user:1", "team:x"])
    await cache.set("b", 2, tags=["user:1"])
    await cache.set("c", 3, tags=["user:2"])
    await cache.set("d", 4, tags=["user:1"])
    await cache.set("d", 5)  # rewritten without the tag: invalidation must keep it
    assert await peer.get("b") == 2  # the peer's memory now holds b
    assert await cache.invalidate_tag("user:1") == 2
    await backend.sync()
    assert await _state(cache, "abcd") == {"c": 3, "d": 5}
    if backend.coherent:
        assert await _state(peer, "abcd") == {"c": 3, "d": 5}
    assert await cache.invalidate_tag("user:1") == 0
    assert await cache.invalidate_tag("team:x", "user:2", "nobody") == 1
    assert await _state(cache, "abcd") == {"d": 5}


async def test_tags_reach_the_shared_data(backend: Harness) -> None:
    """Invalidating through one handle removes what the other wrote (another process)."""
    cache, peer = backend.cache, backend.peer
    await peer.set("p", 1, tags=["t"])
    await peer.set("q", 2, tags=["t", "u"])
    await cache.set("r", 3, tags=["u"])
    assert await cache.invalidate_tag("t") == 2
    await backend.sync()
    assert await _state(cache, "pqr") == {"r": 3}
    if backend.coherent:
        assert await _state(peer, "pqr") == {"r": 3}


async def test_prefix_invalidation_and_clear(backend: Harness) -> None:
    cache, peer = backend.cache, backend.peer
    for key in ("user:42:avatar", "user:42:name", "user:7:name", "user*:odd"):
        await cache.set(key, key, tags=["users"] if key.endswith("name") else ())
    assert await peer.get("user:42:name") == "user:42:name"
    assert await cache.invalidate_prefix("user:42:") == 2
    assert await cache.invalidate_prefix("user*") == 1  # a literal prefix, not a pattern
    await backend.sync()
    assert await _state(cache, ["user:42:avatar", "user:42:name", "user:7:name"]) == {
        "user:7:name": "user:7:name"
    }
    if backend.coherent:
        assert await peer.get("user:42:name") is None
    await cache.set("x", 1)
    assert await cache.clear() == 2
    await backend.sync()
    assert await cache.get("user:7:name") is None
    assert await cache.get("x") is None
    if backend.coherent:
        assert await peer.get("x") is None
    assert await cache.invalidate_tag("users") == 0  # the tag index went with clear()


async def test_attrs_values_round_trip(make: Any) -> None:
    async with make(value_type=User) as backend:
        await backend.cache.set("u", User("ann", 30), tags=["users"])
        assert await backend.cache.get("u") == User("ann", 30)
        assert await backend.peer.get("u") == User("ann", 30)  # read back from the tier
        await backend.cache.set("none", None)
        assert await backend.peer.get("none", "d") is None


async def test_bulk_operations(backend: Harness) -> None:
    cache = backend.cache
    await cache.set_many({"m1": 1, "m2": None})
    await cache.set_many([("m3", [3])], ttl=60)
    assert await cache.get_many(["m1", "m2", "m3", "zz"]) == {"m1": 1, "m2": None, "m3": [3]}
    assert await cache.get_many([]) == {}
    assert await cache.delete_many(["m1", "m2", "zz"]) == 2
    assert await cache.delete_many([]) == 0
    assert await backend.peer.get_many(["m1", "m3"]) == {"m3": [3]}


@pytest.mark.parametrize(
    "make", [b for b in BACKENDS if b.startswith(("tiered", "connect"))], indirect=True
)
async def test_cached_functions_share_results(make: Any) -> None:
    """@cached over a TieredCache: one computation for all processes, cleared everywhere."""
    async with make() as backend:
        await _share_results(backend)


async def _share_results(backend: Harness) -> None:
    calls = 0

    async def compute(x: int) -> dict[str, int]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        return {"x": x * 10}

    one = cached(cache=backend.cache)(compute)
    two = cached(cache=backend.peer)(compute)
    assert await one(2) == {"x": 20}
    assert await two(2) == {"x": 20}
    assert calls == 1
    assert await two.ainvalidate(2) is True  # from two's memory and from the tier
    assert await two(2) == {"x": 20}
    assert calls == 2
    assert await one.acache_clear() == 1  # every process's results of this function
    await backend.sync()
    cold = TieredCache(Cache(None), backend.cache.tier)
    assert await cold.get(two.key_for(2), "gone") == "gone"  # the tier's copy is gone
    if backend.coherent:  # and so is the peer's memory copy
        assert await backend.peer.get(two.key_for(2), "gone") == "gone"
        assert await two(2) == {"x": 20}
        assert calls == 3


# --------------------------------------------------------------------------- model test

_keys = st.sampled_from(["a", "b", "c", "d"])
_tags = st.sampled_from(["t1", "t2", "t3"])
_ops = st.lists(
    st.one_of(
        st.tuples(
            st.just("set"), st.booleans(), _keys, st.integers(0, 9), st.lists(_tags, max_size=2)
        ),
        st.tuples(st.just("delete"), st.booleans(), _keys),
        st.tuples(st.just("invalidate"), st.booleans(), _tags),
        st.tuples(st.just("read"), st.booleans(), _keys),
    ),
    max_size=12,
)


@pytest.mark.parametrize("name", BACKENDS)
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=_ops)
def test_behaves_like_the_memory_cache(
    name: str, request: pytest.FixtureRequest, tmp_path: Path, ops: list[tuple[Any, ...]]
) -> None:
    """Any sequence of set/delete/invalidate_tag/read leaves the backend as a memory Cache.

    Coherent backends take each operation through either handle (two
    processes) and must agree with the model through both; the others take
    every write through one handle and are read back through a cold one too.
    """
    redis_url = request.getfixturevalue("redis_url") if "redis" in name else None
    postgres_dsn = request.getfixturevalue("postgres_dsn") if "postgres" in name else None

    async def run() -> None:
        model: Cache[str, int] = Cache(None)
        async with open_backend(
            name,
            redis_url=redis_url,
            postgres_dsn=postgres_dsn,
            namespace=f"test:{uuid.uuid4().hex[:12]}",
            data_dir=tmp_path,
        ) as backend:
            for op in ops:
                handle = backend.peer if op[1] and backend.coherent else backend.cache
                if op[0] == "set":
                    model.set(op[2], op[3], tags=op[4])
                    await handle.set(op[2], op[3], tags=op[4])
                elif op[0] == "delete":
                    assert await handle.delete(op[2]) == model.delete(op[2])
                elif op[0] == "invalidate":
                    assert await handle.invalidate_tag(op[2]) == model.invalidate_tag(op[2])
                else:  # a read fills a memory front: later changes must still reach it
                    assert await handle.get(op[2], MISSING) == model.get(op[2], MISSING)
                await backend.sync()
                expected = {k: model.peek(k) for k in "abcd" if k in model}
                assert await _state(backend.cache, "abcd") == expected
                if backend.coherent:
                    assert await _state(backend.peer, "abcd") == expected
            if isinstance(backend.cache, TieredCache):
                cold = TieredCache(Cache(None), backend.cache.tier)
                expected = {k: model.peek(k) for k in "abcd" if k in model}
                assert await _state(cold, "abcd") == expected
                await cold.aclose()

    asyncio.run(run())
