"""Tests for profile(), measure() and TaskTimer."""

from __future__ import annotations

import asyncio
import io

import pytest

from pepperpy.core import InvalidArgumentError
from pepperpy.dev import TaskTimer, measure, profile


def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


class TestProfile:
    def test_block_reports_hot_function(self, tmp_path):
        """A profiled block lists the hot function in text, rows and HTML."""
        out = io.StringIO()
        html_path = tmp_path / "p.html"
        with profile(print_to=out, html_path=html_path) as p:
            fib(18)
        assert p.report is not None
        assert "fib" in p.report.text()
        assert "fib" in out.getvalue()
        assert any("fib" in row[0] and row[1] > 100 for row in p.report.rows())
        assert "<table>" in html_path.read_text()

    async def test_decorates_sync_and_async(self):
        """@profile works on functions and coroutine functions."""
        prof = profile()

        @prof
        def sync() -> int:
            return fib(10)

        assert 55 == sync()
        assert "fib" in prof.report.text()

        aprof = profile()

        @aprof
        async def coro() -> int:
            await asyncio.sleep(0)
            return fib(12)

        assert 144 == await coro()
        assert "fib" in aprof.report.text()
        async with profile() as p:
            fib(5)
        assert p.report is not None

    def test_unknown_engine(self):
        """An unknown engine is refused with the valid names."""
        with pytest.raises(InvalidArgumentError, match="unknown profiler"):
            profile("gprof")


class TestMeasure:
    def test_measures_time_and_memory(self):
        """measure() reports wall and CPU time and the block's peak memory."""
        with measure() as m:
            blob = [bytes(1000) for _ in range(2000)]
        assert len(blob) == 2000
        assert m.wall > 0 and m.cpu >= 0
        assert m.peak_bytes >= 2000 * 1000
        assert "Measurement(" in repr(m)

    def test_without_memory(self):
        """memory=False skips tracemalloc."""
        with measure(memory=False) as m:
            pass
        assert 0 == m.peak_bytes


class TestTaskTimer:
    async def test_attributes_running_time_to_tasks(self):
        """A task that computes gets more time than one that only sleeps."""

        async def busy() -> None:
            fib(20)
            await asyncio.sleep(0)

        async def idle() -> None:
            await asyncio.sleep(0.05)

        async with TaskTimer() as timer:
            await asyncio.gather(
                asyncio.create_task(busy(), name="busy"), asyncio.create_task(idle(), name="idle")
            )
        assert timer.busy["busy"] > timer.busy["idle"]
        assert timer.report().splitlines()[0].endswith("busy")

    async def test_restores_previous_factory(self):
        """The loop's task factory is restored after the block."""
        loop = asyncio.get_running_loop()
        before = loop.get_task_factory()
        async with TaskTimer():
            pass
        assert before is loop.get_task_factory()
