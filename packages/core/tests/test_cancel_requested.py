"""cancel_requested(): the one shared "was this task asked to stop" test (issue 24).

Loops that run user code (pipeline stages, health checks, collect hooks) let
their own cancellation through and treat a CancelledError the user's code raised
as that code's failure; asyncio.timeout tells them apart the same way, with
Task.cancelling() (Python 3.11+).
"""

from __future__ import annotations

import asyncio
import sys

import pytest

from pepperpy.core.utils import cancel_requested


async def test_the_stop_flag_answers_first() -> None:
    """A caller's own stop flag means its task was asked to stop, on every Python."""
    assert cancel_requested(True) is True
    assert cancel_requested(False) is False
    assert cancel_requested() is False  # a task nobody cancelled


async def test_a_cancelled_error_raised_by_user_code_is_not_a_stop_request() -> None:
    """A CancelledError from an awaited future someone else cancelled is the code's own."""
    other = asyncio.get_running_loop().create_future()
    other.cancel()
    with pytest.raises(asyncio.CancelledError):
        await other
    assert cancel_requested() is False


@pytest.mark.skipif(sys.version_info < (3, 11), reason="Task.cancelling() needs Python 3.11")
async def test_a_task_being_cancelled_is_a_stop_request() -> None:
    """On 3.11+ a task that was cancel()ed answers True while it handles the cancel."""
    seen: list[bool] = []
    started = asyncio.Event()

    async def worker() -> None:
        try:
            started.set()
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            seen.append(cancel_requested())
            raise

    task = asyncio.ensure_future(worker())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == [True]


def test_outside_an_event_loop_nobody_asked_to_stop() -> None:
    """Review: called outside a running loop it answered with a raw RuntimeError."""
    assert "asyncio" in sys.modules  # loaded, as in any asyncio program; no loop runs here
    assert cancel_requested() is False
    assert cancel_requested(stopping=True) is True
