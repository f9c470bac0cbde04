"""Hostile review of the durable queue's failure bookkeeping (issue 21 #6/#7 neighbours).

A task's error text is stored (SQLite, Redis, PostgreSQL) and shown by ``pepperpy-task
failed``: it leaves the process, so it goes through pepperpy-core's redactor, and an error
whose ``__str__`` raises is still stored as a failure.
"""

from __future__ import annotations

import time

from pepperpy.core import ManualClock
from pepperpy.task import TaskManager

from .conftest import QueueFactory
from .test_durable import wait_done


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str")


async def test_a_stored_failure_is_redacted_and_never_breaks_the_bookkeeping(
    make_queue: QueueFactory,
) -> None:
    """Issue 20 #1 (error texts leave the process): the stored error was
    ``f"{type(exc).__name__}: {exc}"``: the DSN's password went into the database, and an
    error whose __str__ raises escaped the bookkeeping, leaving the task ``running`` until
    its lease ran out."""
    clock = ManualClock(start=time.time())
    queue = make_queue("tasks", poll_interval=0.05, max_attempts=1, clock=clock)

    @queue.register
    async def leaky() -> None:
        raise ConnectionError("cannot reach postgresql://app:hunter2@db/app")

    @queue.register
    async def hostile() -> None:
        raise Unprintable

    async with TaskManager(durable=queue, clock=clock):
        leaky_id = await queue.enqueue("leaky")
        hostile_id = await queue.enqueue("hostile")
        leaked = await wait_done(queue, leaky_id, clock=clock)
        broken = await wait_done(queue, hostile_id, limit=10, clock=clock)
    assert leaked.state == "failed"
    assert leaked.error is not None and "hunter2" not in leaked.error
    assert "ConnectionError" in leaked.error
    assert broken.state == "failed"
    assert broken.error is not None and "Unprintable" in broken.error


async def test_a_raising_retry_on_predicate_fails_the_task_now(make_queue: QueueFactory) -> None:
    """Issue 21 #4/#6 neighbour: the durable worker called ``retry.should_retry(exc)`` inside
    its failure handler; a ``retry_on`` predicate that raised escaped the bookkeeping, so the
    task stayed ``running`` until its lease ran out and was then delivered again. The task
    now fails at once, naming the predicate's error."""
    from pepperpy.core import RetryPolicy

    def picky(exc: BaseException) -> bool:
        raise LookupError("predicate broke")

    clock = ManualClock(start=time.time())
    queue = make_queue(
        "tasks",
        poll_interval=0.05,
        max_attempts=3,
        visibility_timeout=3600,
        retry=RetryPolicy(delay=0.0, jitter=0, retry_on=picky),
        clock=clock,
    )
    runs = 0

    @queue.register
    async def flaky() -> None:
        nonlocal runs
        runs += 1
        raise ConnectionError("down")

    async with TaskManager(durable=queue, clock=clock):
        task_id = await queue.enqueue("flaky")
        record = await wait_done(queue, task_id, limit=20, clock=clock)
    assert record.state == "failed"
    assert runs == 1
    assert record.error is not None and "ConnectionError" in record.error
