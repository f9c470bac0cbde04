"""Tests for pepperpy.storage._backend (discovery and the plug-in contract)."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest

from pepperpy.core import ConfigurationError, PluginError
from pepperpy.storage import (
    ENTRY_POINT_GROUP,
    MemoryBackend,
    SQLiteBackend,
    Storage,
    _backend,
    available_backends,
    load_backend,
)


class CountingBackend(MemoryBackend):
    """A third-party backend: counts writes."""

    name = "counting"

    def __init__(self, **options: Any) -> None:
        super().__init__()
        self.writes = 0
        self.options = options

    async def write(self, ops, now):  # type: ignore[no-untyped-def]
        self.writes += len(ops)
        return await super().write(ops, now)


def test_builtins() -> None:
    assert {"sqlite", "memory", "filesystem"} <= set(available_backends())
    assert load_backend("sqlite") is SQLiteBackend
    with pytest.raises(ConfigurationError) as info:
        load_backend("redis-not-installed")
    assert "sqlite" in info.value.context["available"]


async def test_entry_point_backend(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    points = [
        EntryPoint("counting", f"{__name__}:CountingBackend", ENTRY_POINT_GROUP),
        EntryPoint("broken", "no_such_module_xyz:Thing", ENTRY_POINT_GROUP),
        EntryPoint("notabackend", "pathlib:Path", ENTRY_POINT_GROUP),
    ]

    def fake_entry_points(*, group: str) -> list[EntryPoint]:
        return points if group == ENTRY_POINT_GROUP else []

    monkeypatch.setattr(_backend, "entry_points", fake_entry_points)
    assert "counting" in available_backends()
    async with Storage.create("x", data_dir=tmp_path, backend="counting", flag=1) as storage:
        await storage.put("k", 1)
        backend = storage.backend
        assert isinstance(backend, CountingBackend)
        assert backend.writes == 1
        assert backend.options == {"flag": 1}
    with pytest.raises(PluginError, match="failed to load"):
        load_backend("broken")
    with pytest.raises(PluginError, match="not a Backend"):
        load_backend("notabackend")


async def test_backend_instance_and_class(tmp_path: Path) -> None:
    instance = MemoryBackend()
    async with Storage.create("x", backend=instance) as storage:
        await storage.put("k", 1)
    assert "k" in await instance.get_many(["k"])
    async with Storage.create("y", data_dir=tmp_path, backend=SQLiteBackend) as storage:
        await storage.put("k", 1)
    assert (tmp_path / "y.sqlite3").exists()
