"""The error-code catalogue (issue 24): real failures carry codes that ERRORS documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from pepperpy.core import (
    ConflictError,
    ErrorCatalogue,
    InvalidArgumentError,
    NotFoundError,
    PepperPyError,
)
from pepperpy.task import (
    ERRORS,
    DurableQueue,
    QueueFullError,
    TaskManager,
    TaskTimeoutError,
)


def _documented(error: PepperPyError) -> None:
    """A caught error's code is catalogued, under a class the error is an instance of."""
    assert error.code in ERRORS
    entry = ERRORS[error.code]
    assert isinstance(error, entry.error)
    assert entry.meaning and entry.action


def test_errors_is_the_package_catalogue() -> None:
    assert isinstance(ERRORS, ErrorCatalogue)
    assert ERRORS.package == "pepperpy.task"
    assert all(code.startswith("pepperpy.task") for code in ERRORS)
    # One code, one class: a task that ran too long is not a bad timeout= argument.
    assert ERRORS["pepperpy.task.timeout"].error is TaskTimeoutError
    assert ERRORS["pepperpy.task.invalid_timeout"].error is InvalidArgumentError


async def test_a_full_queue_and_a_reused_id_are_documented(tasks: TaskManager) -> None:
    tasks.add_queue("small", concurrency=1, max_pending=1)

    async def work() -> None:
        pass

    tasks.submit(work, queue="small", task_id="job-1")  # takes the slot
    tasks.submit(work, queue="small")  # waits
    with pytest.raises(QueueFullError) as full:
        tasks.submit(work, queue="small")
    assert full.value.code == "pepperpy.task.queue_full"
    _documented(full.value)
    with pytest.raises(ConflictError) as reused:
        tasks.submit(work, task_id="job-1")
    assert reused.value.code == "pepperpy.task.duplicate_id"
    _documented(reused.value)
    with pytest.raises(NotFoundError) as missing:
        tasks.get("no-such-task")
    assert missing.value.code == "pepperpy.task.not_found"
    _documented(missing.value)


async def test_bad_arguments_keep_one_code_per_argument(tasks: TaskManager) -> None:
    """The codes once written as f-strings keep their spelling; each is catalogued."""

    async def work() -> None:
        pass

    with pytest.raises(InvalidArgumentError) as delay:
        tasks.submit(work, delay=-1)
    assert delay.value.code == "pepperpy.task.delay"
    _documented(delay.value)
    with pytest.raises(InvalidArgumentError) as pending:
        tasks.add_queue("q", 1, max_pending=-1)
    assert pending.value.code == "pepperpy.task.max_pending"
    _documented(pending.value)
    with pytest.raises(InvalidArgumentError) as timeout:
        tasks.submit(work, timeout=0)
    assert timeout.value.code == "pepperpy.task.invalid_timeout"
    _documented(timeout.value)


def test_durable_queue_options_are_documented(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError) as ttl:
        DurableQueue(tmp_path / "tasks.db", result_ttl=0)
    assert ttl.value.code == "pepperpy.task.result_ttl"
    _documented(ttl.value)
    with pytest.raises(InvalidArgumentError) as poll:
        DurableQueue(tmp_path / "tasks.db", poll_interval=-1)
    assert poll.value.code == "pepperpy.task.poll_interval"
    _documented(poll.value)
