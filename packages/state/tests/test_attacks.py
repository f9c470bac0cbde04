"""Attacks from issue 18 (state: #8, #9) that the old main failed.

#8: two StateManagers on one store used to number their log records from
their own counters and overwrite each other. Log records are now created
only if absent (and never below the snapshot), so the second writer gets
:class:`ConcurrentWriterError` and nothing committed is lost; checked in one
process on every store and with two real processes on one SQLite file.

#9: one structuring path, pepperpy-serialization's converter, declared as a
dependency.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.metadata
import json
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

from pepperpy.serialization import structure, unstructure
from pepperpy.state import (
    ConcurrentWriterError,
    MemoryStateStore,
    StateManager,
    StorageStateStore,
)
from pepperpy.state._codec import decode, encode
from pepperpy.storage import Storage

# --------------------------------------------------------------------------- #8


@pytest.fixture(params=["memory", "sqlite"])
async def open_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Callable[[], Any]]:
    """A factory of handles on ONE store: each call is what a new manager would open."""
    if request.param == "memory":
        store = MemoryStateStore()
        yield lambda: store
        return
    async with Storage.create("state", data_dir=tmp_path) as storage:
        yield lambda: StorageStateStore(storage, prefix="app/")


def _manager(store: Any, **options: Any) -> StateManager:
    state = StateManager(store, **options)
    state.register("a", int, default=0)
    state.register("b", int, default=0)
    return state


async def test_second_writer_gets_a_clear_error_and_nothing_is_lost(
    open_store: Callable[[], Any],
) -> None:
    """issue 18 #8: the second StateManager's write fails; the first one's data survives."""
    first, second = _manager(open_store()), _manager(open_store())
    await first.start()
    await second.start()
    await first.set("a", 1)
    with pytest.raises(ConcurrentWriterError) as info:
        await second.set("b", 2)
    assert info.value.code == "pepperpy.state.concurrent_writer"
    assert "another StateManager" in str(info.value)
    assert second.get("b") == 0  # nothing applied in memory either
    await first.set("a", 3)
    await first.stop()
    await second.stop()  # its stop must not fold a stale view over the first's
    restarted = _manager(open_store())
    async with restarted:
        assert (restarted.get("a"), restarted.get("b")) == (3, 0)


async def test_second_writer_is_caught_after_the_first_compacted(
    open_store: Callable[[], Any],
) -> None:
    """issue 18 #8: record numbers freed by a snapshot are not reused by a stale writer."""
    first = _manager(open_store(), snapshot_every=2)
    second = _manager(open_store())
    await first.start()
    await second.start()
    for n in range(1, 5):  # two snapshots: records 1-4 folded and deleted
        await first.set("a", n)
    with pytest.raises(ConcurrentWriterError):
        await second.set("b", 7)
    with pytest.raises(ConcurrentWriterError):  # and it stays refused
        await second.set("b", 8)
    await second.stop()
    await first.stop()
    restarted = _manager(open_store())
    async with restarted:
        assert (restarted.get("a"), restarted.get("b")) == (4, 0)


async def test_a_stale_manager_never_moves_the_snapshot_back(
    open_store: Callable[[], Any],
) -> None:
    """issue 18 #8: a manager started earlier cannot overwrite a newer snapshot on stop."""
    seed = _manager(open_store())
    await seed.start()
    await seed.set("a", 1)  # one record, never folded (as if the process died)
    stale = _manager(open_store())
    first = _manager(open_store(), snapshot_every=1)
    await stale.start()
    await first.start()
    await first.set("a", 2)  # snapshot at 2, record 2 folded and deleted
    await first.set("b", 5)
    await first.stop()
    await stale.stop()  # would write its snapshot at 1 (a=1, b=0) over the newer one
    restarted = _manager(open_store())
    async with restarted:
        assert (restarted.get("a"), restarted.get("b")) == (2, 5)


async def test_concurrent_managers_never_both_commit_one_record(
    open_store: Callable[[], Any],
) -> None:
    """issue 18 #8: racing writers: every write reported done is there after a restart."""
    managers = [_manager(open_store()) for _ in range(3)]
    for state in managers:
        await state.start()
    done: list[tuple[str, int]] = []

    async def writer(state: StateManager, name: str) -> None:
        for n in range(1, 6):
            try:
                await state.set(name, n)
            except ConcurrentWriterError:
                return
            done.append((name, n))

    await asyncio.gather(*(writer(s, n) for s, n in zip(managers, ["a", "b", "a"], strict=True)))
    for state in managers:
        await state.stop()
    restarted = _manager(open_store())
    async with restarted:
        last: dict[str, int] = {}
        for name, n in done:
            last[name] = n
        assert done, "no writer got through"
        for name, n in last.items():
            assert restarted.get(name) == n, (name, done)


CHILD = textwrap.dedent(
    """
    import asyncio, json, sys
    from pepperpy.state import StateManager, StorageStateStore
    from pepperpy.storage import Storage

    async def main(data, name):
        async with Storage.create("state", data_dir=data) as storage:
            state = StateManager(StorageStateStore(storage, prefix="app/"))
            state.register("a", int, default=0)
            state.register("b", int, default=0)
            async with state:
                print("started", flush=True)
                for line in sys.stdin:
                    if line.strip() == "stop":
                        break
                    value = int(line)
                    try:
                        await state.set(name, value)
                        print(json.dumps({"ok": value}), flush=True)
                    except Exception as exc:
                        print(json.dumps({"error": getattr(exc, "code", repr(exc))}), flush=True)

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


class Child:
    """A StateManager in its own interpreter, driven one line at a time."""

    def __init__(self, tmp_path: Path, name: str) -> None:
        script = tmp_path / "child.py"
        script.write_text(CHILD, encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, str(script), str(tmp_path / "data"), name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.readline() == "started"

    def readline(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, f"the child died (exit code {self.proc.wait()})"
        return line.strip()

    def set(self, value: int) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{value}\n")
        self.proc.stdin.flush()
        return dict(json.loads(self.readline()))

    def stop(self) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.write("stop\n")
        self.proc.stdin.close()
        return self.proc.wait(timeout=120)


def test_two_processes_on_one_store_lose_nothing(tmp_path: Path) -> None:
    """issue 18 #8 with two real processes on one SQLite file (the reported failure)."""
    first = Child(tmp_path, "a")
    second = Child(tmp_path, "b")  # started before the first one wrote anything
    try:
        assert first.set(1) == {"ok": 1}
        assert second.set(2) == {"error": "pepperpy.state.concurrent_writer"}
        assert first.set(3) == {"ok": 3}
    finally:
        assert first.stop() == 0
        assert second.stop() == 0
    third = Child(tmp_path, "b")  # a restart sees everything that was acknowledged
    try:
        assert third.set(9) == {"ok": 9}
    finally:
        assert third.stop() == 0

    async def restored() -> tuple[int, int]:
        async with Storage.create("state", data_dir=tmp_path / "data") as storage:
            state = _manager(StorageStateStore(storage, prefix="app/"))
            async with state:
                return state.get("a"), state.get("b")

    assert asyncio.run(restored()) == (3, 9)


# --------------------------------------------------------------------------- #9


def test_serialization_is_a_declared_dependency() -> None:
    """issue 18 #9: pepperpy-state declares the structuring library it uses, unconditionally."""
    requires = importlib.metadata.requires("pepperpy-state") or []
    plain = [r for r in requires if "extra ==" not in r]
    assert any(r.startswith("pepperpy-serialization") for r in plain), requires


@attrs.frozen
class Event:
    name: str
    at: dt.datetime
    tags: frozenset[str] = frozenset()


def test_one_structuring_path_through_the_converter() -> None:
    """issue 18 #9: encode/decode are pepperpy-serialization's (un)structuring, nothing else.

    A datetime field is one the old fallback structurer could not handle.
    """
    value = Event(
        "launch", dt.datetime(2026, 12, 4, 21, 0, tzinfo=dt.timezone.utc), frozenset({"x"})
    )
    data = encode(value)
    json.dumps(data)  # JSON-like
    assert data == json.loads(json.dumps(unstructure(value)))
    assert decode(data, Event) == value == structure(data, Event)
