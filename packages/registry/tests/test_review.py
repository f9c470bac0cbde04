"""Hostile review of the registry's lifetimes and health checks (issue 22 #1-#3 neighbours).

A cleanup that raises its own ``CancelledError`` (an async generator factory that
cancels its background task, then awaits it) and a health check whose error cannot be
printed are the service's failures: they must not skip the other cleanups or escape.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator

import pytest

from pepperpy.core.exceptions import LifecycleError
from pepperpy.registry import Registry


class First:
    pass


class Second:
    pass


@pytest.mark.skipif(
    sys.version_info < (3, 11),
    reason="Python 3.10 has no Task.cancelling(): a cleanup's own CancelledError cannot be "
    "told apart from a cancellation of aclose() there",
)
async def test_a_cleanup_raising_its_own_cancelled_error_does_not_skip_the_others() -> None:
    """Issue 22 #1 class (every cleanup runs once): the newest service's cleanup re-raised its
    own task's CancelledError; aclose() raised CancelledError (nobody cancelled it) and the
    older service was never closed."""
    closed: list[str] = []

    async def make_first() -> AsyncIterator[First]:
        yield First()
        closed.append("first")

    async def make_second() -> AsyncIterator[Second]:
        pump = asyncio.ensure_future(asyncio.Event().wait())
        yield Second()
        pump.cancel()
        await pump  # the service's own bug: re-raises CancelledError

    registry = Registry()
    registry.register(First, make_first)
    registry.register(Second, make_second)
    await registry.get(First)
    await registry.get(Second)
    with pytest.raises(LifecycleError):
        await registry.aclose()
    assert closed == ["first"]


async def test_aclose_cancelled_from_outside_still_cancels() -> None:
    """The fix above must keep a real cancellation of aclose() a cancellation."""
    gate = asyncio.Event()

    async def make_first() -> AsyncIterator[First]:
        yield First()
        await gate.wait()

    registry = Registry()
    registry.register(First, make_first)
    await registry.get(First)
    closing = asyncio.ensure_future(registry.aclose())
    for _ in range(10):
        await asyncio.sleep(0)
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing


async def test_a_health_check_whose_error_cannot_be_printed_is_reported() -> None:
    """Hostile error: ``str(exc)`` raising inside check_health escaped as a raw RuntimeError
    instead of a failed result."""

    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no str")

    def check(service: First) -> bool:
        raise Unprintable

    registry = Registry()
    registry.register(First, First, health_check=check)
    report = await registry.check_health()
    assert report.ok is False
    assert "Unprintable" in (report["First"].error or "")


@pytest.mark.skipif(
    sys.version_info < (3, 11),
    reason="Python 3.10 has no Task.cancelling() to tell the check's own CancelledError apart",
)
async def test_a_health_check_raising_cancelled_error_is_a_failed_check() -> None:
    """A check that raises CancelledError itself (it awaited something cancelled) is a failed
    check; check_health() used to raise CancelledError to a caller nobody cancelled."""

    async def check(service: First) -> bool:
        raise asyncio.CancelledError

    registry = Registry()
    registry.register(First, First, health_check=check)
    report = await registry.check_health()
    assert report.ok is False
    assert report["First"].error is not None


async def test_a_service_that_hangs_while_being_created_times_out_its_check() -> None:
    """check_health(timeout=) bounded only the check itself: a service whose factory hangs
    (a database that never answers the connect) hung the whole report, and every /health
    request with it."""
    gate = asyncio.Event()

    async def connect() -> First:
        await gate.wait()
        return First()

    registry = Registry()
    registry.register(First, connect, health_check=lambda service: True)
    report = await asyncio.wait_for(registry.check_health(timeout=0.05), 60)  # hang guard
    assert report.ok is False
    assert "TimeoutError" in (report["First"].error or "")
    gate.set()


@pytest.mark.parametrize("timeout", [float("nan"), -1.0, "soon", True])
async def test_check_health_refuses_a_bad_timeout(timeout: object) -> None:
    """Bad input gets an InvalidArgumentError, not a per-check TypeError or a NaN wait."""
    from pepperpy.core.exceptions import InvalidArgumentError

    registry = Registry()
    registry.register(First, First, health_check=lambda service: True)
    with pytest.raises(InvalidArgumentError):
        await registry.check_health(timeout=timeout)  # type: ignore[arg-type]
