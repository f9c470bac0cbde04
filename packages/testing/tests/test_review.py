"""Hostile review of the virtual-time marker (issue 20 #14).

pytest users put a mark on a class or a whole module (``pytestmark = ...``) as often as
on a function; a virtual-time mark that is silently ignored there runs the test on real
time, where ``await asyncio.sleep(3600)`` takes an hour.
"""

from __future__ import annotations

import pytest


def test_the_marker_on_a_class_or_module_puts_the_tests_on_virtual_time(
    pytester: pytest.Pytester,
) -> None:
    """Issue 20 #14: only a mark on the function itself was honoured."""
    pytester.makepyfile(
        test_module_mark="""
        import asyncio

        import pytest

        pytestmark = pytest.mark.pepperpy_virtual_time


        async def test_module_level():
            loop = asyncio.get_running_loop()
            assert type(loop).__name__ == "VirtualTimeLoop"
            await asyncio.sleep(3600)
        """,
        test_class_mark="""
        import asyncio

        import pytest


        @pytest.mark.pepperpy_virtual_time
        class TestOnVirtualTime:
            async def test_in_a_class(self):
                loop = asyncio.get_running_loop()
                assert type(loop).__name__ == "VirtualTimeLoop"
                await asyncio.sleep(3600)
        """,
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:asyncio")
    result.assert_outcomes(passed=2)


def test_autojump_false_holds_with_the_fixture(pytester: pytest.Pytester) -> None:
    """Issue 20 #14: ``pepperpy_virtual_time(autojump=False)`` was ignored when the test also
    asked for ``virtual_clock`` (the fixture's clock jumps)."""
    pytester.makepyfile(
        """
        import asyncio

        import pytest


        @pytest.mark.pepperpy_virtual_time(autojump=False)
        async def test_manual(virtual_clock):
            loop = asyncio.get_running_loop()
            assert loop.autojump is False
            sleeper = asyncio.ensure_future(asyncio.sleep(60))
            await virtual_clock.advance(60)
            await sleeper
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:asyncio")
    result.assert_outcomes(passed=1)


# -- async helpers: cancellation and hostile intervals ----------------------------------------


async def test_run_with_timeout_cancelled_from_outside_cancels_its_task() -> None:
    """Cancellation at every await point: a test (or fixture) cancelled while
    run_with_timeout waited left the awaited work running on the loop, leaking into the
    next test."""
    import asyncio

    from pepperpy.testing import run_with_timeout

    started = asyncio.Event()
    finished = asyncio.Event()

    async def work() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            finished.set()

    waiter = asyncio.ensure_future(run_with_timeout(work(), 60))
    await started.wait()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert finished.is_set()


@pytest.mark.parametrize("interval", [float("nan"), -1.0, "soon"], ids=["nan", "negative", "str"])
async def test_eventually_refuses_a_hostile_interval(interval: object) -> None:
    """``eventually(interval=nan)`` put a NaN deadline into the loop's timer heap; a str
    interval raised a raw TypeError from asyncio.sleep."""
    from pepperpy.core.exceptions import InvalidArgumentError
    from pepperpy.testing import eventually

    with pytest.raises(InvalidArgumentError):
        await eventually(lambda: None, 1, interval=interval)  # type: ignore[arg-type]
