"""Issue 18, "close the class": Pipe and FileLock operations cancelled at every await point.

Each sweep lets the event loop run k rounds (k = 0, 1, ... until the
operation finishes by itself), cancels the operation, and checks that no data
was lost or duplicated, nothing is stuck (the write lock, the file lock), and
the pipe still works.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from pepperpy.io import FileLock, Pipe


async def test_reads_cancelled_at_every_await_point_lose_no_data() -> None:
    """A cancelled read takes nothing it does not return; the rest stays, in order."""
    rounds = 0
    while True:
        pipe = Pipe(max_size=4)
        reader = asyncio.ensure_future(pipe.readexactly(6))
        writer = asyncio.ensure_future(pipe.write(b"abcdef"))
        for _ in range(rounds):
            await asyncio.sleep(0)
        finished = reader.done()
        reader.cancel()
        outcome = (await asyncio.gather(reader, return_exceptions=True))[0]
        if finished:
            assert outcome == b"abcdef"
            await writer
            break
        assert isinstance(outcome, asyncio.CancelledError), outcome
        # readexactly may have consumed a first part before it was cancelled (as
        # asyncio.StreamReader.readexactly does); what is left is exactly the rest.
        rest = bytearray()
        while not writer.done() or len(pipe):
            rest += await pipe.read()
        await writer
        assert b"abcdef".endswith(bytes(rest)), (rounds, rest)
        rounds += 1
    assert rounds >= 2


async def test_writes_cancelled_at_every_await_point_leave_a_prefix_and_no_stuck_lock() -> None:
    """A cancelled write has written a prefix of its data; the next write still goes through."""
    rounds = 0
    while True:
        pipe = Pipe(max_size=2)
        writer = asyncio.ensure_future(pipe.write(b"abcdef"))
        received = bytearray()
        for _ in range(rounds):
            await asyncio.sleep(0)
            if len(pipe):
                received += await pipe.read()
        finished = writer.done()
        writer.cancel()
        outcome = (await asyncio.gather(writer, return_exceptions=True))[0]
        received += await pipe.read() if len(pipe) else b""
        assert b"abcdef".startswith(bytes(received)), (rounds, received)
        after = asyncio.ensure_future(pipe.write(b"XY"))  # the write lock is free
        assert await pipe.readexactly(2) == b"XY"
        await after
        if finished:
            assert outcome is None and bytes(received) == b"abcdef"
            break
        assert isinstance(outcome, asyncio.CancelledError), outcome
        rounds += 1
    assert rounds >= 2


async def test_lock_acquire_cancelled_while_waiting_holds_nothing(tmp_path: Path) -> None:
    """FileLock.acquire cancelled while polling leaves the lock unheld and usable."""
    path = tmp_path / "x.lock"
    holder = FileLock(path)
    await holder.acquire()
    for rounds in range(4):
        waiter = FileLock(path, poll_interval=0.001)
        task = asyncio.ensure_future(waiter.acquire())
        for _ in range(rounds):
            await asyncio.sleep(0)
        task.cancel()
        outcome = (await asyncio.gather(task, return_exceptions=True))[0]
        assert isinstance(outcome, asyncio.CancelledError)
        assert not waiter.locked
    holder.release()
    again = FileLock(path)
    await asyncio.wait_for(again.acquire(), 60)
    assert again.locked
    again.release()
