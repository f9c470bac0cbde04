"""Tests for pepperpy.io._temp."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pepperpy.io import PathNotFoundError, read_text, temp_dir, temp_file, write_text


async def test_temp_dir_is_removed(tmp_path: Path) -> None:
    async with temp_dir(dir=tmp_path) as folder:
        await write_text(folder / "a.txt", "x")
        assert folder.is_dir()
    assert not folder.exists()


async def test_temp_dir_removed_when_cancelled(tmp_path: Path) -> None:
    seen: list[Path] = []
    entered = asyncio.Event()

    async def body() -> None:
        async with temp_dir(dir=tmp_path) as folder:
            seen.append(folder)
            entered.set()
            await asyncio.sleep(10)

    task = asyncio.ensure_future(body())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not seen[0].exists()


async def test_temp_file_round_trip(tmp_path: Path) -> None:
    async with temp_file("w+", suffix=".txt", dir=tmp_path) as f:
        await f.write("hello")
        await f.flush()
        assert await read_text(f.path) == "hello"
        await f.seek(0)
        assert await f.read() == "hello"
        path = f.path
    assert not path.exists()
    async with temp_file(dir=tmp_path, delete=False) as kept:
        await kept.write(b"bin")
    assert kept.path.read_bytes() == b"bin"


async def test_temp_in_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(PathNotFoundError):
        async with temp_dir(dir=tmp_path / "missing"):
            pass
