"""Tests for pepperpy.task._handle: statuses and error types."""

from __future__ import annotations

import pytest

from pepperpy.core import ConflictError, OperationTimeoutError, PepperPyError
from pepperpy.task import (
    QueueFullError,
    TaskCancelledError,
    TaskError,
    TaskStatus,
    TaskTimeoutError,
)


@pytest.mark.parametrize(
    ("status", "final"),
    [
        (TaskStatus.SCHEDULED, False),
        (TaskStatus.PENDING, False),
        (TaskStatus.RUNNING, False),
        (TaskStatus.RETRYING, False),
        (TaskStatus.SUCCEEDED, True),
        (TaskStatus.FAILED, True),
        (TaskStatus.CANCELLED, True),
    ],
)
def test_final_statuses(status, final):
    assert status.is_final is final
    assert TaskStatus(status.value) is status


def test_error_hierarchy():
    assert issubclass(TaskError, PepperPyError)
    assert issubclass(TaskTimeoutError, OperationTimeoutError)
    assert issubclass(TaskTimeoutError, TimeoutError)
    assert TaskTimeoutError("t").retryable
    assert issubclass(QueueFullError, ConflictError)
    assert TaskCancelledError("c").code == "pepperpy.task.cancelled"


async def test_handle_of_a_finished_task_awaits_at_once():
    from pepperpy.task import TaskManager

    async with TaskManager() as tasks:
        handle = tasks.submit(lambda: 3)
        assert await handle == 3
        assert await handle == 3  # awaiting twice is fine
        assert await handle.result(timeout=1) == 3
        assert handle.exception() is None
        seen = []
        handle.add_done_callback(seen.append)
        await handle.result()
    assert handle.done()
    assert not handle.cancelled()
