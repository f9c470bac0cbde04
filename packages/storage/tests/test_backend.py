"""Tests for pepperpy.storage._backend (discovery and the plug-in contract)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pepperpy.core import ConfigurationError, PluginError
from pepperpy.storage import (
    ENTRY_POINT_GROUP,
    MemoryBackend,
    SQLiteBackend,
    Storage,
    available_backends,
    load_backend,
)


def test_builtins() -> None:
    assert {"sqlite", "memory", "filesystem"} <= set(available_backends())
    assert load_backend("sqlite") is SQLiteBackend
    with pytest.raises(ConfigurationError) as info:
        load_backend("redis-not-installed")
    assert "sqlite" in info.value.context["available"]


async def test_entry_point_backend(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # A real installed distribution registering three backends, one per way to fail or not.
    (tmp_path / "counting_backend_mod.py").write_text(
        "from pepperpy.storage import MemoryBackend\n\n"
        "class CountingBackend(MemoryBackend):\n"
        "    name = 'counting'\n\n"
        "    def __init__(self, **options):\n"
        "        super().__init__()\n"
        "        self.writes = 0\n"
        "        self.options = options\n\n"
        "    async def write(self, ops, now):\n"
        "        self.writes += len(ops)\n"
        "        return await super().write(ops, now)\n"
    )
    info = tmp_path / "counting_backend-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: counting-backend\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\n"
        "counting = counting_backend_mod:CountingBackend\n"
        "broken = no_such_module_xyz:Thing\n"
        "notabackend = pathlib:Path\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert {"counting", "broken", "notabackend"} <= set(available_backends())
    data_dir = tmp_path / "data"
    async with Storage.create("x", data_dir=data_dir, backend="counting", flag=1) as storage:
        await storage.put("k", 1)
        backend: Any = storage.backend
        assert type(backend).__name__ == "CountingBackend"
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
