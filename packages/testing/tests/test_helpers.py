"""Tests for eventually() and run_with_timeout()."""

from __future__ import annotations

import asyncio

import pytest

from pepperpy.testing import VirtualClock, eventually, run_with_timeout


async def test_eventually_waits_for_the_assertion():
    """The assertion is retried until it passes; its value is returned."""
    state = {"n": 0}

    async def bump() -> None:
        for _ in range(3):
            await asyncio.sleep(0.005)
            state["n"] += 1

    task = asyncio.create_task(bump())

    def check() -> int:
        assert state["n"] == 3
        return state["n"]

    assert 3 == await eventually(check, timeout=2)
    await task


async def test_eventually_async_assertion_and_failure_message():
    """Async assertions work; a timeout re-raises with the attempt count."""

    async def never() -> None:
        raise AssertionError("nope")

    with pytest.raises(AssertionError, match=r"still failing after \d+ attempts.*nope"):
        await eventually(never, timeout=0.05)


def test_eventually_on_virtual_time():
    """On a virtual clock, a 10-minute eventually costs nothing."""
    clock = VirtualClock()

    async def main() -> None:
        flag: list[int] = []
        asyncio.get_running_loop().call_later(300, flag.append, 1)

        def check() -> None:
            assert flag

        await eventually(check, timeout="10m", interval=1)

    clock.run(main())
    assert 299 <= clock.monotonic() <= 302


async def test_run_with_timeout_returns_or_names_the_stuck_task():
    """A result comes back; a hang fails listing where pending tasks wait."""

    async def quick() -> int:
        return 7

    assert 7 == await run_with_timeout(quick(), 1)

    async def stuck_forever() -> None:
        await asyncio.Event().wait()

    helper = asyncio.create_task(stuck_forever(), name="the-stuck-one")
    with pytest.raises(AssertionError, match="the-stuck-one"):
        await run_with_timeout(asyncio.sleep(10), 0.02)
    helper.cancel()
    await asyncio.gather(helper, return_exceptions=True)
