"""Tests for VirtualClock and VirtualTimeLoop."""

from __future__ import annotations

import asyncio
import time

import pytest

from pepperpy.core import InvalidArgumentError, OperationTimeoutError, RetryPolicy, timeout
from pepperpy.core.types import Clock
from pepperpy.testing import VirtualClock, VirtualTimeLoop


def test_an_hour_of_retries_and_schedules(virtual_clock):
    """Retries, periodic work and timeouts spanning an hour all run on virtual time."""
    ticks: list[float] = []
    attempts: list[float] = []

    async def every_minute() -> None:
        while True:
            await virtual_clock.sleep(60)
            ticks.append(virtual_clock.monotonic())

    async def flaky() -> str:
        attempts.append(virtual_clock.monotonic())
        if len(attempts) < 6:
            raise ConnectionError
        return "ok"

    async def main() -> str:
        ticker = asyncio.create_task(every_minute())
        policy = RetryPolicy(
            attempts=6, delay=720, max_delay=720, backoff=1, jitter=0, clock=virtual_clock
        )
        result = await policy.acall(flaky)
        with pytest.raises(OperationTimeoutError):
            async with timeout(10):
                await asyncio.sleep(10_000)
        ticker.cancel()
        return result

    real_start = time.perf_counter()
    assert "ok" == virtual_clock.run(main())
    real_elapsed = time.perf_counter() - real_start
    assert [0.0, 720.0, 1440.0, 2160.0, 2880.0, 3600.0] == attempts
    assert 60 == len(ticks)  # one per virtual minute up to 3600 s (+10 s of timeout)
    assert 3610.0 == pytest.approx(virtual_clock.monotonic())
    print(f"an hour of virtual time took {real_elapsed * 1000:.1f} ms of real time")


def test_is_a_core_clock_with_epoch():
    """VirtualClock satisfies the Clock protocol; time() is epoch + virtual time."""
    clock = VirtualClock(epoch=1000.0)
    assert isinstance(clock, Clock)

    async def main() -> None:
        await asyncio.sleep(5)

    clock.run(main)
    assert 1005.0 == clock.time()


def test_manual_advance_without_autojump():
    """With autojump off, time moves only through advance()."""
    clock = VirtualClock(autojump=False)
    woke: list[float] = []

    async def sleeper() -> None:
        await asyncio.sleep(100)
        woke.append(clock.monotonic())

    async def main() -> None:
        task = asyncio.create_task(sleeper())
        await clock.advance(50)
        assert [] == woke
        await clock.advance(60)
        assert [100.0] == woke
        await task

    clock.run(main())
    assert 110.0 == clock.monotonic()


def test_real_io_still_works(virtual_clock):
    """Sockets work on the virtual loop (a real server on 127.0.0.1)."""

    async def main() -> bytes:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(await reader.readline())
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"ping\n")
        line = await reader.readline()
        writer.close()
        server.close()
        await server.wait_closed()
        return line

    assert b"ping\n" == virtual_clock.run(main())


def test_pending_tasks_are_cancelled_when_run_ends():
    """Like asyncio.run, leftover tasks are cancelled and the loop closed."""
    clock = VirtualClock()
    cancelled = []

    async def forever() -> None:
        try:
            await asyncio.sleep(10**9)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def main() -> None:
        leftover = asyncio.create_task(forever())
        await asyncio.sleep(0)
        assert not leftover.done()

    clock.run(main())
    assert [True] == cancelled
    assert clock._loop is not None and clock._loop.is_closed()


def test_bad_use():
    """Backwards jumps and advance() outside run() are refused."""
    loop = VirtualTimeLoop()
    try:
        with pytest.raises(InvalidArgumentError):
            loop.jump(-1)
    finally:
        loop.close()

    async def outside() -> None:
        await VirtualClock().advance(1)

    with pytest.raises(InvalidArgumentError, match=r"inside VirtualClock\.run"):
        asyncio.run(outside())
