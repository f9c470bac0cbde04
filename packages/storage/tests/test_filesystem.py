"""Tests for pepperpy.storage._filesystem."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from pepperpy.storage import FilesystemBackend, Storage, StorageError


def make(tmp_path: Path) -> Storage:
    return Storage.create("fs", data_dir=tmp_path, backend="filesystem", purge_interval=None)


async def test_layout_and_awkward_keys(tmp_path: Path) -> None:
    long_key = "k/" + "é" * 300
    async with make(tmp_path) as storage:
        assert isinstance(storage.backend, FilesystemBackend)
        for key in ("a/b", "..", ".hidden", "~tilde", "sp ace", long_key):
            await storage.put(key, key)
        for key in ("a/b", "..", ".hidden", "~tilde", "sp ace", long_key):
            assert await storage.get(key) == key
        assert await storage.keys("k/") == [long_key]
        assert await storage.count() == 6
    names = sorted(os.listdir(tmp_path / "fs" / "items"))
    assert "a%2Fb" in names
    assert all(len(name) <= 200 for name in names)
    assert not [n for n in names if n.endswith(".tmp")]


async def test_damaged_file_gives_clear_error(tmp_path: Path) -> None:
    async with make(tmp_path) as storage:
        await storage.put("k", 1)
        (tmp_path / "fs" / "items" / "k").write_bytes(b"garbage")
        with pytest.raises(StorageError) as info:
            await storage.get("k")
        assert info.value.code == "pepperpy.storage.corrupted"


async def test_read_only_directory(tmp_path: Path, read_only: Callable[[Path], None]) -> None:
    async with make(tmp_path) as storage:
        await storage.put("kept", 1)
    read_only(tmp_path / "fs" / "items")
    storage = make(tmp_path)
    try:
        with pytest.raises(StorageError) as info:
            await storage.put("new", 2)
        assert info.value.code == "pepperpy.storage.read_only"
    finally:
        await storage.stop()
    assert (tmp_path / "fs" / "items" / "kept").read_bytes().endswith(b"\n1")
