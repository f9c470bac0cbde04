"""Tests for pepperpy.state._store and persistence through StateManager."""

from __future__ import annotations

import enum
import json
from typing import Any

import attrs
import pytest

from pepperpy.core import InvalidArgumentError, StartupError
from pepperpy.state import (
    ChangeRecord,
    MemoryStateStore,
    SliceRecord,
    StateManager,
    StatePersistenceError,
    StateSnapshot,
)


class Level(enum.Enum):
    LOW = "low"
    HIGH = "high"


@attrs.frozen
class Settings:
    theme: str
    level: Level = Level.LOW
    tags: tuple[str, ...] = ()


class FlakyStore(MemoryStateStore):
    """A memory store whose writes can be made to fail."""

    def __init__(self) -> None:
        super().__init__()
        self.fail_append = False
        self.fail_snapshot = False

    async def append(self, record: ChangeRecord) -> None:
        if self.fail_append:
            raise OSError("disk full")
        await super().append(record)

    async def write_snapshot(self, snapshot: StateSnapshot) -> None:
        if self.fail_snapshot:
            raise OSError("disk full")
        await super().write_snapshot(snapshot)


def test_records_round_trip_json() -> None:
    """Records and snapshots convert to JSON-safe dicts and back."""
    record = ChangeRecord(
        3, {"a": SliceRecord(2, {"x": [1]}), "b": SliceRecord(1, None, True)}, "o"
    )
    assert record == ChangeRecord.from_json(record.to_json())
    snap = StateSnapshot(3, {"a": SliceRecord(2, 5)}, 12.5)
    assert snap == StateSnapshot.from_json(snap.to_json())


async def test_restart_restores_typed_and_plain_slices() -> None:
    """A new manager on the same store gets every committed value and version back."""
    store = MemoryStateStore()
    async with StateManager(store) as state:
        settings = state.register("settings", Settings, default=Settings("light"))
        await settings.set(Settings("dark", Level.HIGH, ("a",)))
        await state.set("counter", 1)
        await state.update("counter", lambda v: v + 1)
        await state.set("gone", True)
        await state.delete("gone")
    async with StateManager(store) as state:
        raw = {"theme": "dark", "level": "high", "tags": ["a"]}
        assert {"settings": raw, "counter": 2} == state.snapshot()  # not registered: raw JSON
        settings = state.register("settings", Settings, default=Settings("light"))
        assert Settings("dark", Level.HIGH, ("a",)) == settings.get()
        assert 1 == settings.version
        assert 2 == state.version("counter")
        assert "gone" not in state


async def test_register_before_initialize_restores_type() -> None:
    """Registering before initialize() rebuilds persisted values as the registered type."""
    store = MemoryStateStore()
    async with StateManager(store) as state:
        state.register("settings", Settings)
        await state.set("settings", Settings("dark"))
    state = StateManager(store)
    settings = state.register("settings", Settings, default=Settings("light"))
    await state.initialize()
    assert Settings("dark") == settings.get()
    await state.cleanup()


async def test_failed_write_changes_nothing() -> None:
    """If the store cannot record a change, memory and observers are untouched."""
    store = FlakyStore()
    seen: list[Any] = []
    async with StateManager(store) as state:
        await state.set("a", 1)
        state.subscribe("a", lambda c: seen.append(c.new))
        store.fail_append = True
        with pytest.raises(StatePersistenceError, match="disk full") as info:
            await state.set("a", 2)
        assert info.value.hint
        with pytest.raises(StatePersistenceError):
            async with state.transaction() as tx:
                tx.set("a", 3)
                tx.set("b", 3)
        assert (1, 1) == (state.get("a"), state.version("a"))
        assert "b" not in state
        assert [] == seen
        store.fail_append = False
        await state.set("a", 4)
    async with StateManager(store) as state:
        assert (4, 2) == (state.get("a"), state.version("a"))


async def test_unpersistable_value_is_rejected() -> None:
    """A value that cannot be stored raises before anything changes."""
    async with StateManager(MemoryStateStore()) as state:
        with pytest.raises(InvalidArgumentError, match="cannot be persisted"):
            await state.set("bad", {"when": object()})
        with pytest.raises(InvalidArgumentError, match="not a string"):
            await state.set("bad", {1: "x"})
        with pytest.raises(InvalidArgumentError, match="NaN"):
            await state.set("bad", float("nan"))
        assert "bad" not in state


async def test_snapshots_compact_the_log() -> None:
    """Every snapshot_every changes the log is folded into a snapshot."""
    store = MemoryStateStore()
    async with StateManager(store, snapshot_every=5) as state:
        for i in range(12):
            await state.set("n", i)
        assert 2 == store.record_count
    assert 0 == store.record_count  # stop() snapshots what is left
    async with StateManager(store) as state:
        assert (11, 12) == (state.get("n"), state.version("n"))
        await state.set("n", 99)
        await state.compact()
        assert 0 == store.record_count


async def test_failed_snapshot_loses_nothing() -> None:
    """A failing snapshot is logged; the change log still restores everything."""
    store = FlakyStore()
    store.fail_snapshot = True
    async with StateManager(store, snapshot_every=2) as state:
        for i in range(5):
            await state.set("n", i)
    store.fail_snapshot = False
    async with StateManager(store) as state:
        assert 4 == state.get("n")


async def test_crash_after_snapshot_before_truncation() -> None:
    """Records already folded into a snapshot are skipped if a crash left them behind."""
    store = MemoryStateStore()
    async with StateManager(store) as state:
        await state.set("a", 1)
        await state.set("a", 2)
    leftover = ChangeRecord(1, {"a": SliceRecord(1, 1)})
    # As if deleting it had been interrupted (append() itself refuses a number
    # the snapshot covers: issue 18 #8).
    store._records[1] = json.dumps(leftover.to_json())
    async with StateManager(store) as state:
        assert (2, 2) == (state.get("a"), state.version("a"))


async def test_load_failure_is_a_startup_error() -> None:
    """A store that cannot load makes start() fail with the cause chained."""

    class Broken(MemoryStateStore):
        async def load(self) -> Any:
            raise OSError("unreadable")

    state = StateManager(Broken())
    with pytest.raises(StartupError) as info:
        await state.start()
    assert isinstance(info.value.__cause__, StatePersistenceError)


def test_bad_store_and_options() -> None:
    """Objects that are not stores, and bad options, are rejected up front."""
    with pytest.raises(InvalidArgumentError, match="StateStore"):
        StateManager(object())
    with pytest.raises(InvalidArgumentError):
        StateManager(snapshot_every=0)
