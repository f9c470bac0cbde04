"""Tests for pepperpy.core.types."""

from __future__ import annotations

import asyncio
import time

import pytest

from pepperpy.core.exceptions import ClosedError, InvalidArgumentError, StartupError
from pepperpy.core.types import (
    MISSING,
    AsyncLifecycle,
    Clock,
    Lifecycle,
    LifecycleState,
    ManualClock,
    SystemClock,
    system_clock,
)


class Recorder(Lifecycle):
    def __init__(self, fail: BaseException | None = None) -> None:
        self.events: list[str] = []
        self.fail = fail

    async def _on_start(self) -> None:
        self.events.append("start")
        await asyncio.sleep(0)
        if self.fail is not None:
            raise self.fail

    async def _on_stop(self) -> None:
        self.events.append("stop")

    def use(self) -> str:
        self._ensure_running()
        return "used"


class TestLifecycle:
    async def test_start_stop_are_idempotent_and_visible(self):
        """Repeated or concurrent calls start and stop the component once."""
        comp = Recorder()
        assert comp.state == LifecycleState.NEW
        await asyncio.gather(comp.start(), comp.start(), comp.initialize())
        assert comp.is_running and comp.state == LifecycleState.RUNNING
        await asyncio.gather(comp.stop(), comp.cleanup())
        await comp.stop()
        assert comp.events == ["start", "stop"]
        assert comp.state == LifecycleState.STOPPED

    async def test_async_with(self):
        """async with starts on entry and stops on exit, even on error."""
        comp = Recorder()
        with pytest.raises(KeyError):
            async with comp as entered:
                assert entered is comp and comp.is_running
                raise KeyError
        assert comp.state == LifecycleState.STOPPED

    async def test_failed_start_leaves_it_stopped_and_says_why(self):
        """A failing _on_start cleans up, keeps the cause and raises StartupError."""
        comp = Recorder(fail=OSError("port in use"))
        with pytest.raises(StartupError, match="port in use") as info:
            await comp.start()
        assert isinstance(info.value.__cause__, OSError)
        assert isinstance(comp.last_error, OSError)
        assert comp.state == LifecycleState.STOPPED
        assert comp.events == ["start", "stop"]
        comp.fail = None
        await comp.start()  # can be started again
        assert comp.is_running and comp.last_error is None
        await comp.stop()

    async def test_cancellation_during_start_passes_through(self):
        """Cancellation is not wrapped in StartupError."""
        comp = Recorder(fail=asyncio.CancelledError())
        with pytest.raises(asyncio.CancelledError):
            await comp.start()
        assert comp.state == LifecycleState.STOPPED

    async def test_ensure_running_guards_use(self):
        """Using a component that is not running raises ClosedError with a hint."""
        comp = Recorder()
        with pytest.raises(ClosedError, match="not running") as info:
            comp.use()
        assert "start()" in (info.value.hint or "")
        async with comp:
            assert comp.use() == "used"
        with pytest.raises(ClosedError):
            comp.use()

    async def test_stop_without_start(self):
        """Stopping a new component marks it stopped without calling _on_stop."""
        comp = Recorder()
        await comp.stop()
        assert comp.events == [] and comp.state == LifecycleState.STOPPED

    def test_protocol(self):
        """Lifecycle components satisfy the AsyncLifecycle protocol."""
        assert isinstance(Recorder(), AsyncLifecycle)


class TestClocks:
    async def test_system_clock(self):
        """The system clock reads real time and sleeps."""
        clock = SystemClock()
        assert isinstance(clock, Clock) and isinstance(system_clock, Clock)
        assert abs(clock.time() - time.time()) < 5
        before = clock.monotonic()
        await clock.sleep(0.001)
        assert clock.monotonic() >= before
        assert repr(clock) == "SystemClock()"

    async def test_manual_clock_wakes_sleepers_in_order(self):
        """advance() wakes each sleeper at its deadline, in deadline order."""
        clock = ManualClock(start=1000.0)
        woke: list[tuple[str, float]] = []

        async def sleeper(name: str, seconds: float) -> None:
            await clock.sleep(seconds)
            woke.append((name, clock.monotonic()))

        tasks = [asyncio.create_task(sleeper(n, s)) for n, s in [("b", 20), ("a", 10), ("c", 99)]]
        await asyncio.sleep(0)
        assert clock.sleepers == 3
        await clock.advance(30)
        assert woke == [("a", 10.0), ("b", 20.0)]
        assert clock.time() == 1030.0 and clock.monotonic() == 30.0
        await clock.advance(100)
        assert woke[-1] == ("c", 99.0)
        await asyncio.gather(*tasks)
        assert "ManualClock(" in repr(clock)

    async def test_manual_clock_chained_sleeps_in_one_advance(self):
        """A task that sleeps repeatedly is driven through a whole hour in one call."""
        clock = ManualClock()
        ticks = []

        async def ticker() -> None:
            for _ in range(60):
                await clock.sleep(60)
                ticks.append(clock.monotonic())

        task = asyncio.create_task(ticker())
        await clock.advance(3600)
        await task
        assert len(ticks) == 60 and ticks[-1] == 3600.0

    async def test_zero_sleep_and_backwards(self):
        """sleep(0) yields; moving backwards is refused."""
        clock = ManualClock()
        await clock.sleep(0)
        with pytest.raises(InvalidArgumentError):
            clock.advance_sync(-1)
        with pytest.raises(InvalidArgumentError):
            await clock.advance(-1)


def test_missing_sentinel():
    """MISSING is falsy, unique and reads as MISSING."""
    assert not MISSING
    assert repr(MISSING) == "MISSING"
    assert MISSING is MISSING.__class__.MISSING
