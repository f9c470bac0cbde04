"""Tests for pepperpy.resources._manager."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import pytest

from pepperpy.core import ClosedError, InvalidArgumentError, Lifecycle, StartupError
from pepperpy.resources import CleanupError, ResourceManager, ResourceNotFoundError


class Recorder:
    def __init__(self) -> None:
        self.events: list[str] = []


def make_acm(rec: Recorder, name: str, *, fail_exit: bool = False):  # type: ignore[no-untyped-def]
    @contextlib.asynccontextmanager
    async def cm() -> AsyncIterator[str]:
        rec.events.append(f"enter {name}")
        try:
            yield f"value {name}"
        finally:
            rec.events.append(f"exit {name}")
            if fail_exit:
                raise RuntimeError(f"boom {name}")

    return cm()


def make_cm(rec: Recorder, name: str):  # type: ignore[no-untyped-def]
    @contextlib.contextmanager
    def cm() -> Iterator[str]:
        rec.events.append(f"enter {name}")
        yield f"sync {name}"
        rec.events.append(f"exit {name}")

    return cm()


class Component(Lifecycle):
    def __init__(self, rec: Recorder, name: str) -> None:
        self.rec = rec
        self.name = name

    async def _on_start(self) -> None:
        self.rec.events.append(f"start {self.name}")

    async def _on_stop(self) -> None:
        self.rec.events.append(f"stop {self.name}")


class Closeable:
    def __init__(self, rec: Recorder, name: str) -> None:
        self.rec = rec
        self.name = name

    async def aclose(self) -> None:
        self.rec.events.append(f"aclose {self.name}")


async def test_starts_in_order_and_closes_in_reverse() -> None:
    rec = Recorder()
    manager = ResourceManager()
    manager.register(make_acm(rec, "a"), name="a")
    manager.register(make_cm(rec, "b"), name="b")
    manager.register(Component(rec, "c"), name="c")
    manager.register(Closeable(rec, "d"), name="d")
    manager.callback(rec.events.append, "callback e")
    async with manager:
        assert manager.get("a") == "value a"
        assert manager["b"] == "sync b"
        assert isinstance(manager.get("c"), Component)
        assert manager.get("c").is_running
        assert rec.events == ["enter a", "enter b", "start c"]
    assert rec.events == [
        "enter a",
        "enter b",
        "start c",
        "callback e",
        "aclose d",
        "stop c",
        "exit b",
        "exit a",
    ]


async def test_factories_and_explicit_start_close() -> None:
    rec = Recorder()
    manager = ResourceManager()

    async def factory() -> Closeable:
        rec.events.append("factory")
        return Closeable(rec, "made")

    manager.register_factory(factory, name="made")
    manager.register(
        {"x": 1},
        name="plain",
        start=lambda v: rec.events.append(f"start {v['x']}"),
        close=lambda v: rec.events.append("close plain"),
    )
    await manager.start()
    assert isinstance(manager.get("made"), Closeable)
    await manager.stop()
    assert rec.events == ["factory", "start 1", "close plain", "aclose made"]


async def test_every_cleanup_error_is_collected() -> None:
    rec = Recorder()
    manager = ResourceManager()
    manager.register(make_acm(rec, "a", fail_exit=True), name="a")
    manager.register(make_acm(rec, "b"), name="b")
    manager.register(make_acm(rec, "c", fail_exit=True), name="c")
    await manager.start()
    with pytest.raises(CleanupError) as info:
        await manager.stop()
    assert [name for name, _ in info.value.errors] == ["c", "a"]
    assert rec.events[-3:] == ["exit c", "exit b", "exit a"]
    assert "boom c" in str(info.value)


async def test_original_error_is_preserved_and_cleanup_errors_noted() -> None:
    rec = Recorder()
    manager = ResourceManager()
    manager.register(make_acm(rec, "a", fail_exit=True), name="a")
    with pytest.raises(KeyError) as info:
        async with manager:
            raise KeyError("original")
    notes = getattr(info.value, "__notes__", [])
    assert any("boom a" in note for note in notes)
    assert rec.events == ["enter a", "exit a"]


async def test_failed_start_closes_started_ones() -> None:
    rec = Recorder()
    manager = ResourceManager()
    manager.register(make_acm(rec, "a"), name="a")

    def broken() -> None:
        raise OSError("cannot connect")

    manager.register_factory(broken, name="broken")
    manager.register(make_acm(rec, "c"), name="c")
    with pytest.raises(StartupError) as info:
        await manager.start()
    assert isinstance(info.value.__cause__, OSError)
    assert rec.events == ["enter a", "exit a"]


async def test_cleanup_is_time_boxed() -> None:
    manager = ResourceManager(cleanup_timeout=0.05)
    closed: list[str] = []

    async def slow_close(_: object) -> None:
        await asyncio.sleep(10)

    manager.register(object(), name="slow", close=slow_close)
    manager.register(object(), name="fast", close=lambda _: closed.append("fast"))
    await manager.start()
    with pytest.raises(CleanupError) as info:
        await manager.stop()
    assert [name for name, _ in info.value.errors] == ["slow"]
    assert closed == ["fast"]


async def test_cleanup_is_shielded_from_cancellation() -> None:
    started = asyncio.Event()
    release = asyncio.Event()
    closed: list[str] = []

    async def close_a(_: object) -> None:
        started.set()
        await release.wait()
        closed.append("a")

    manager = ResourceManager()
    manager.register(object(), name="b", close=lambda _: closed.append("b"))
    manager.register(object(), name="a", close=close_a)
    await manager.start()
    stopper = asyncio.ensure_future(manager.stop())
    await started.wait()
    stopper.cancel()
    await asyncio.sleep(0)
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await stopper
    assert closed == ["a", "b"]


async def test_add_to_running_manager_and_errors() -> None:
    rec = Recorder()
    manager = ResourceManager()
    with pytest.raises(ClosedError):
        await manager.add(make_acm(rec, "x"))
    async with manager:
        value = await manager.add(make_acm(rec, "x"), name="x")
        assert value == "value x"
        with pytest.raises(InvalidArgumentError):
            manager.register(object(), name="late")
        with pytest.raises(InvalidArgumentError, match="already registered"):
            await manager.add(object(), name="x")
        with pytest.raises(ResourceNotFoundError):
            manager.get("nope")
        assert "x" in manager
        assert manager.names == ["x"]
    assert rec.events == ["enter x", "exit x"]
    with pytest.raises(ClosedError):
        manager.get("x")


def test_bad_arguments() -> None:
    with pytest.raises(InvalidArgumentError):
        ResourceManager(cleanup_timeout=0)
    manager = ResourceManager()
    with pytest.raises(InvalidArgumentError):
        manager.register(object(), name="")
    with pytest.raises(InvalidArgumentError):
        manager.register(object(), close=42)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        manager.callback(42)  # type: ignore[arg-type]


async def test_restart_reopens_resources() -> None:
    rec = Recorder()
    manager = ResourceManager()
    manager.register(Component(rec, "c"), name="c")
    manager.callback(rec.events.append, "cb")
    await manager.start()
    await manager.stop()
    await manager.start()
    await manager.stop()
    assert rec.events == ["start c", "cb", "stop c"] * 2


async def test_pool_and_factory_made_context_manager() -> None:
    from pepperpy.resources import Pool

    rec = Recorder()
    manager = ResourceManager()
    pool = manager.register(Pool(lambda: Closeable(rec, "item"), min_size=1), name="pool")
    manager.register_factory(lambda: make_acm(rec, "made"), name="made")
    async with manager:
        assert pool.is_running
        assert manager.get("made") == "value made"
        async with pool.acquire() as item:
            assert isinstance(item, Closeable)
    assert not pool.is_running
    assert rec.events == ["enter made", "exit made", "aclose item"]
