"""Failures a caller handles: each is a PepperPy error naming what went wrong (issue 24).

Written while raising the coverage floor: every test states what a user relies on
when an operation fails, not only that the line runs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pepperpy.core import InvalidArgumentError, LifecycleState
from pepperpy.io import (
    FileLock,
    FileOperationError,
    LockTimeoutError,
    PathNotFoundError,
    copy,
    iter_chunks,
    iter_lines,
    move,
    read_json,
    temp_dir,
    temp_file,
    write_bytes,
    write_text,
)


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


async def test_an_atomic_write_onto_a_directory_fails_and_leaves_no_temp_file(
    tmp_path: Path,
) -> None:
    """The rename onto a directory fails: EISDIR with its hint, and the temp file is gone."""
    target = tmp_path / "sub"
    target.mkdir()
    with pytest.raises(FileOperationError) as info:
        await write_bytes(target, b"data")
    assert info.value.context["errno"] == "EISDIR"
    assert info.value.context["operation"] == "write"
    assert "directory" in (info.value.hint or "")
    assert isinstance(info.value.__cause__, OSError)
    assert _names(tmp_path) == ["sub"]  # no stray .tmp file
    assert _names(target) == []


async def test_read_json_refuses_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    """JSON is UTF-8: other bytes are bad_json, and the context gives their offset."""
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"a": "\xff"}')
    with pytest.raises(InvalidArgumentError) as info:
        await read_json(path)
    assert info.value.code == "pepperpy.io.bad_json"
    assert info.value.context["position"] == 7
    assert isinstance(info.value.__cause__, UnicodeDecodeError)


async def test_iter_lines_reports_bytes_invalid_in_the_encoding(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"ok\n\xff\xfe\n")
    with pytest.raises(InvalidArgumentError) as info:
        async for _ in iter_lines(path):
            pass
    assert info.value.code == "pepperpy.io.decode"
    assert info.value.context["encoding"] == "utf-8"
    replaced = [line async for line in iter_lines(path, errors="replace")]
    assert replaced == ["ok", "\ufffd\ufffd"]


@pytest.mark.parametrize("sizes", [{"chunk_size": 0}, {"read_ahead": -1}])
async def test_iter_chunks_refuses_sizes_that_are_not_positive(
    tmp_path: Path, sizes: dict[str, int]
) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"abc")
    with pytest.raises(InvalidArgumentError) as info:
        async for _ in iter_chunks(path, **sizes):
            pass
    (name,) = sizes
    assert name in info.value.context


async def test_write_text_refuses_bytes_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    with pytest.raises(InvalidArgumentError, match="write_text needs a str"):
        await write_text(path, b"raw")  # type: ignore[arg-type]
    assert not path.exists()


async def test_copy_and_move_keep_an_existing_target_unless_told(tmp_path: Path) -> None:
    """Without overwrite=True an existing target is an EEXIST error and stays as it was."""
    src, dst = tmp_path / "src.txt", tmp_path / "dst.txt"
    src.write_text("new")
    dst.write_text("old")
    for operation in (copy, move):
        with pytest.raises(FileOperationError) as info:
            await operation(src, dst)
        assert info.value.context["errno"] == "EEXIST"
        assert dst.read_text() == "old" and src.read_text() == "new"
    await move(src, dst, overwrite=True)
    assert dst.read_text() == "new" and not src.exists()


async def test_a_per_call_timeout_overrides_the_locks_default(tmp_path: Path) -> None:
    """acquire(timeout=0) gives up at once, even on a lock built to wait forever."""
    path = tmp_path / "lock"
    holder = FileLock(path)
    waiter = FileLock(path, timeout=None)
    async with holder:
        with pytest.raises(LockTimeoutError) as info:
            await waiter.acquire(timeout=0)
        assert info.value.context["timeout"] == 0
        assert info.value.context["holder_pid"] == str(os.getpid())
        assert not waiter.locked
    await waiter.acquire(timeout=0)
    waiter.release()


@pytest.mark.parametrize("timeout", [-1, float("nan"), "soon"])
async def test_a_per_call_timeout_must_be_seconds(tmp_path: Path, timeout: object) -> None:
    lock = FileLock(tmp_path / "lock")
    with pytest.raises(InvalidArgumentError) as info:
        await lock.acquire(timeout=timeout)  # type: ignore[arg-type]
    assert info.value.code == "pepperpy.io.invalid_argument"
    assert not lock.locked


async def test_a_held_lock_reports_its_state(tmp_path: Path) -> None:
    """A FileLock is a lifecycle: RUNNING while held, STOPPED otherwise (repr says so)."""
    lock = FileLock(tmp_path / "lock")
    assert lock.state is LifecycleState.STOPPED and "locked=False" in repr(lock)
    async with lock:
        assert lock.state is LifecycleState.RUNNING and "locked=True" in repr(lock)
    assert lock.state is LifecycleState.STOPPED


async def test_a_lock_or_temp_file_in_a_missing_directory_is_not_found(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such"
    with pytest.raises(PathNotFoundError) as lock_info:
        await FileLock(missing / "lock").acquire()
    assert lock_info.value.context["operation"] == "open lock file"
    with pytest.raises(PathNotFoundError) as file_info:
        async with temp_file(dir=missing):
            pass
    assert file_info.value.context["operation"] == "create a temporary file in"
    with pytest.raises(PathNotFoundError):
        async with temp_dir(dir=missing):
            pass
