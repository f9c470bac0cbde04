"""Issue 26: the delivery loop calls observers inline; every guarantee still holds.

``StateManager._drain`` calls each observer directly (no coroutine per observer),
builds one shared :class:`Change` per path for whole-slice observers, and requeues
the observers after an interrupted one. These tests pin ordering, sharing, error
isolation, cancellation and the awaitable check on ``update``'s result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from typing import Any

from pepperpy.state import Change, ObserverError, StateManager


async def _started() -> StateManager:
    manager = StateManager()
    await manager.start()
    return manager


async def test_whole_slice_observers_share_one_change_others_get_their_own() -> None:
    """Issue 26: whole-slice observers see equal Changes; "*" and path observers their own."""
    state = await _started()
    await state.set("user", {"name": "ann", "city": "rio"})
    seen: list[tuple[str, Change]] = []
    state.subscribe("user", lambda c: seen.append(("a", c)))
    state.subscribe(None, lambda c: seen.append(("all", c)))
    state.subscribe("user", lambda c: seen.append(("b", c)))
    state.subscribe("user.city", lambda c: seen.append(("city", c)))
    await state.set("user", {"name": "bob", "city": "rio"})  # the city did not change
    await state.set("user", {"name": "bob", "city": "oslo"})
    assert ["a", "all", "b", "a", "all", "b", "city"] == [who for who, _ in seen]
    first = [c for _, c in seen[:3]]
    assert first[0] == first[2]
    assert "*" == first[1].path
    assert first[0] == ("user", "user", first[0].old, first[0].new, 2, None)
    assert {"name": "bob", "city": "rio"} == first[1].new
    city = seen[-1][1]
    assert ("user", "user.city", "rio", "oslo", 3, None) == tuple(city)
    assert isinstance(city, Change)
    await state.stop()


async def test_failing_observers_sync_and_async_are_isolated_in_order() -> None:
    """Issue 26: an Exception from a sync or an async observer is reported; the rest run."""
    errors: list[ObserverError] = []
    state = StateManager(on_observer_error=errors.append)
    await state.start()
    calls: list[str] = []

    def sync_boom(change: Change) -> None:
        calls.append("sync_boom")
        raise ValueError("sync")

    async def async_boom(change: Change) -> None:
        calls.append("async_boom")
        await asyncio.sleep(0)
        raise KeyError("async")

    state.subscribe("k", lambda c: calls.append("first"))
    state.subscribe("k", sync_boom)
    state.subscribe("k", async_boom)
    state.subscribe("k", lambda c: calls.append("last"))
    await state.set("k", 1)
    assert ["first", "sync_boom", "async_boom", "last"] == calls
    assert [ValueError, KeyError] == [type(e.error) for e in errors]
    assert 2 == state.observer_failures
    await state.stop()


async def test_cancel_during_an_async_observer_delivers_to_the_ones_after_it() -> None:
    """Issue 26: the observers after the interrupted one still get the change, once each."""
    state = await _started()
    gate = asyncio.Event()
    calls: list[str] = []

    async def slow(change: Change) -> None:
        calls.append(f"slow{change.new}")
        await gate.wait()

    state.subscribe("v", lambda c: calls.append(f"before{c.new}"))
    state.subscribe("v", slow)
    state.subscribe("v", lambda c: calls.append(f"after{c.new}"))
    writer = asyncio.ensure_future(state.set("v", 1))
    await asyncio.sleep(0)
    assert ["before1", "slow1"] == calls
    writer.cancel()
    await asyncio.sleep(0)
    assert writer.cancelled()
    gate.set()
    await state.set("v", 2)
    await state.stop()
    assert ["before1", "slow1", "after1", "before2", "slow2", "after2"] == calls


async def test_changes_written_by_an_observer_follow_the_current_one() -> None:
    """Issue 26: a write inside delivery is delivered after every observer saw the first."""
    state = await _started()
    seen: list[tuple[str, Any]] = []

    async def relay(change: Change) -> None:
        seen.append(("relay", change.new))
        if change.new == 1:
            await state.set("v", 2)

    state.subscribe("v", relay)
    state.subscribe("v", lambda c: seen.append(("tail", c.new)))
    await state.set("v", 1)
    assert [("relay", 1), ("tail", 1), ("relay", 2), ("tail", 2)] == seen
    await state.stop()


class _Later:
    """A custom awaitable (not a coroutine, not a builtin type)."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, None, int]:
        yield from asyncio.sleep(0).__await__()
        return self.value


class _AwaitableInt(int):
    """An int subclass that is awaitable: the plain-type shortcut must not skip it."""

    def __await__(self) -> Generator[Any, None, int]:
        yield from asyncio.sleep(0).__await__()
        return int(self) * 10


async def test_update_awaits_any_awaitable_and_stores_plain_values() -> None:
    """Issue 26: update awaits custom awaitables (an int subclass too), stores plain values."""
    state = await _started()
    await state.set("n", 1)
    assert 5 == await state.update("n", lambda v: _Later(5))
    assert 5 == state.get("n")
    assert 30 == await state.update("n", lambda v: _AwaitableInt(3))
    assert 30 == state.get("n")
    assert {"a": 1} == await state.update("n", lambda v: {"a": 1})
    assert {"a": 1} == state.get("n")
    await state.stop()
