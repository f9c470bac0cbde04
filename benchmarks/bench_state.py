"""pepperpy.state: update with 3 observers against a bare dict + list of callbacks (the limit)."""

from __future__ import annotations

import asyncio

from harness import acompare
from pepperpy.state import Change, StateManager

REQUIRES: list[str] = []


async def bench_update_with_observers():
    state = StateManager()
    await state.initialize()
    await state.set("counter", 0)
    sink: list[object] = []

    def observer(change: Change) -> None:
        sink.append(change.new)

    for _ in range(3):
        state.subscribe("counter", observer)

    def incr(value: int) -> int:
        return value + 1

    async def ours() -> None:
        await state.update("counter", incr)

    bare: dict[str, int] = {"counter": 0}
    callbacks = [lambda old, new: sink.append(new) for _ in range(3)]
    lock = asyncio.Lock()

    async def dict_and_callbacks() -> None:
        async with lock:
            old = bare["counter"]
            new = bare["counter"] = old + 1
        for cb in callbacks:
            cb(old, new)

    result = await acompare(
        "state: update + 3 observers",
        {"pepperpy StateManager.update": ours, "dict + lock + callbacks": dict_and_callbacks},
        inner=1000,
        note="the bare dict is the floor, not a peer",
    )
    sink.clear()
    await state.cleanup()
    return result
