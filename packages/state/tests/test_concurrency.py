"""Issue 18, "close the class": every StateManager write cancelled at every await point.

A store with await points around the durable write (as a network store has)
lets a sweep cancel each operation after k event-loop rounds, for every k.
Afterwards: the manager's memory equals what a restart loads (a change is
either committed and applied, or neither), no slice lock or commit lock is
stuck, and the manager can still write (a cancelled commit never leaves a
record behind that makes its next write look like a second writer's).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from pepperpy.state import MemoryStateStore, StateManager
from pepperpy.state._store import ChangeRecord, StateSnapshot


class NetworkStore(MemoryStateStore):
    """A MemoryStateStore whose writes take a few event-loop rounds, before and after."""

    async def append(self, record: ChangeRecord) -> None:
        for _ in range(2):
            await asyncio.sleep(0)
        await super().append(record)
        for _ in range(2):
            await asyncio.sleep(0)

    async def write_snapshot(self, snapshot: StateSnapshot) -> None:
        for _ in range(2):
            await asyncio.sleep(0)
        await super().write_snapshot(snapshot)
        await asyncio.sleep(0)


def _manager(store: NetworkStore, **options: Any) -> StateManager:
    state = StateManager(store, **options)
    state.register("a", int, default=0)
    state.register("b", int, default=0)
    return state


async def _slow_increment(value: int) -> int:
    await asyncio.sleep(0)
    return value + 1


async def _tx(state: StateManager) -> None:
    async with state.transaction(origin="tx") as tx:
        await tx.update("a", lambda v: v + 1)
        tx.set("b", tx.get("b") + 1)


OPERATIONS: dict[str, Callable[[StateManager], Awaitable[Any]]] = {
    "set": lambda s: s.set("a", s.get("a") + 1),
    "update": lambda s: s.update("a", _slow_increment),
    "compare_and_set": lambda s: s.compare_and_set("a", s.get("a") + 1, s.version("a")),
    "delete": lambda s: s.delete("b"),
    "transaction": _tx,
    "compact": lambda s: s.compact(),
}


@pytest.mark.parametrize("snapshot_every", [1000, 1], ids=["log", "snapshot-each-change"])
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
async def test_cancel_at_every_await_point(operation: str, snapshot_every: int) -> None:
    """issue 18 (close the class): commit-or-nothing, no stuck lock, no false second writer."""
    op = OPERATIONS[operation]
    store = NetworkStore()
    state = _manager(store, snapshot_every=snapshot_every)
    await state.start()
    await state.set("b", 5)
    delivered: list[tuple[str, Any]] = []
    state.subscribe("*", lambda change: delivered.append((change.slice, change.new)))
    base = {"a": state.version("a"), "b": state.version("b")}

    def committed() -> int:
        """Changes committed since subscribing (each bumps its slice's version by one)."""
        total = 0
        for name in ("a", "b"):
            version = state._slices[name].version if name in state._slices else 0
            total += version - base[name]
        return total

    rounds = 0
    while True:
        task = asyncio.ensure_future(op(state))
        for _ in range(rounds):
            await asyncio.sleep(0)
        finished = task.done()
        task.cancel()
        outcome = (await asyncio.gather(task, return_exceptions=True))[0]
        for _ in range(20):  # let a delivery scheduled for a cancelled caller run
            await asyncio.sleep(0)
        assert not state._queue, "a committed change was never delivered to observers"
        assert len(delivered) == committed(), (rounds, delivered)
        if not finished:
            assert isinstance(outcome, (asyncio.CancelledError, type(None), bool, int)), outcome
        # Memory equals what a restart loads.
        seen = {"a": state.get("a", None), "b": state.get("b", None)}
        versions = {n: state.version(n) for n in ("a", "b") if n in state}
        restarted = _manager(store)
        await restarted.start()
        assert {"a": restarted.get("a", None), "b": restarted.get("b", None)} == seen
        assert {n: restarted.version(n) for n in ("a", "b") if n in restarted} == versions
        # Nothing stuck: the manager still writes (and is still the one writer).
        await asyncio.wait_for(state.set("b", 5), 60)
        if finished:
            break
        rounds += 1
    await state.stop()
    assert rounds >= 3
