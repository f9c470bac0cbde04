"""Tests for pepperpy.io._lock."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pepperpy.core import InvalidArgumentError
from pepperpy.io import FileLock, LockTimeoutError

_HOLDER = textwrap.dedent(
    """
    import sys, time
    from pepperpy.io import FileLock

    with FileLock(sys.argv[1]):
        print("LOCKED", flush=True)
        sys.stdin.readline()
    """
)


async def test_two_locks_exclude_each_other(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    first = FileLock(path)
    second = FileLock(path, timeout=0.05, poll_interval=0.01)
    async with first:
        assert first.locked
        with pytest.raises(LockTimeoutError) as info:
            await second.acquire()
        assert info.value.context["path"] == str(path)
    async with second:
        assert second.locked
    assert not second.locked


async def test_waiter_gets_the_lock_after_release(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    order: list[str] = []
    first = FileLock(path)
    await first.acquire()

    async def other() -> None:
        async with FileLock(path, poll_interval=0.01):
            order.append("other")

    task = asyncio.ensure_future(other())
    await asyncio.sleep(0.03)
    order.append("first releases")
    first.release()
    await task
    assert order == ["first releases", "other"]


def test_lock_is_cross_process_and_released_on_death(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        assert proc.stdout.readline().strip() == "LOCKED"
        with pytest.raises(LockTimeoutError) as info:
            FileLock(path, timeout=0.05).acquire_sync()
        assert info.value.context["holder_pid"] == str(proc.pid)
    finally:
        proc.kill()
        proc.wait()
    with FileLock(path, timeout=5) as lock:
        assert lock.locked


async def test_misuse(tmp_path: Path) -> None:
    lock = FileLock(tmp_path / "lock")
    async with lock:
        with pytest.raises(InvalidArgumentError, match="not reentrant"):
            await lock.acquire()
    lock.release()  # no-op
    with pytest.raises(InvalidArgumentError):
        FileLock(tmp_path / "x", timeout=-1)
    with pytest.raises(InvalidArgumentError):
        FileLock(tmp_path / "x", poll_interval=0)


async def test_shared_locks_coexist(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    a = FileLock(path, shared=True, timeout=0)
    b = FileLock(path, shared=True, timeout=0)
    async with a, b:
        with pytest.raises(LockTimeoutError):
            await FileLock(path, timeout=0).acquire()
