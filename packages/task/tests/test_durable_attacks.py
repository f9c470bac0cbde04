"""Issue 21 #6, #7, #8 (and the operator side of #9): conformance on SQLite, Redis, PostgreSQL.

Every test takes ``make_queue`` (conftest), so it runs against each backend with a
real server for Redis and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from pepperpy.core import ManualClock, NotFoundError, RetryPolicy
from pepperpy.task import DurableQueueBase, DurableTaskError, TaskManager

from .conftest import QueueFactory
from .test_durable import wait_done


async def wait_stored(queue: DurableQueueBase, task_id: str, clock: ManualClock | None = None):
    """Poll (real time) until the task exists and is finished, nudging a manual clock."""
    deadline = time.monotonic() + 60
    while True:
        try:
            task = await queue.get(task_id)
        except NotFoundError:
            task = None
        if task is not None and task.done:
            return task
        assert time.monotonic() < deadline, f"task {task_id} never finished"
        if clock is not None:
            await clock.advance(queue.poll_interval)
        await asyncio.sleep(0.02)


async def wait_for_file(path: Path, proc: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():  # noqa: ASYNC240 - a test polling a marker file
        assert proc.returncode is None, "the worker process exited early"
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        await asyncio.sleep(0.02)


# --------------------------------------------------------------------------- issue 21 #6


async def test_a_cancel_survives_a_failed_attempt(make_queue: QueueFactory) -> None:
    """Issue 21 #6: cancel a running task, then its attempt fails: cancelled, no attempt 2."""
    producer = make_queue("tasks")
    worker = make_queue(
        "tasks",
        poll_interval=30,  # the worker does not see the cancel flag before the failure
        max_attempts=3,
        retry=RetryPolicy(attempts=3, delay=0.0, jitter=0),
    )
    started = asyncio.Event()
    fail_now = asyncio.Event()
    calls = 0

    @worker.register
    async def job() -> None:
        nonlocal calls
        calls += 1
        started.set()
        await fail_now.wait()
        raise RuntimeError("attempt failed")

    async with producer:
        task_id = await producer.enqueue("job")
        async with TaskManager(durable=worker):
            await started.wait()
            assert await producer.cancel(task_id)  # a flag: the task is running
            fail_now.set()
            record = await wait_done(producer, task_id)
            await asyncio.sleep(0)  # the worker is woken by its own failure; nothing runs
        record = await producer.get(task_id)
    assert (record.state, record.attempts) == ("cancelled", 1)
    assert calls == 1


async def test_a_claim_honours_a_cancel_of_an_expired_lease(make_queue: QueueFactory) -> None:
    """Issue 21 #6: the worker died after a cancel request: the next claim cancels it."""
    queue = make_queue("tasks")
    async with queue:
        task_id = await queue.enqueue("job", max_attempts=3)
        now = time.time() + 0.5
        assert len(await queue._claim(5, ["job"], now, now + 1, now + 3600)) == 1
        assert await queue.cancel(task_id)  # running: only a flag
        # The lease ran out (the worker died): no new delivery, the task is cancelled.
        assert await queue._claim(5, ["job"], now + 2, now + 3, now + 3600) == []
        record = await queue.get(task_id)
    assert (record.state, record.attempts) == ("cancelled", 1)


async def test_a_release_honours_a_cancel(make_queue: QueueFactory) -> None:
    """Issue 21 #6: a task given back (shutdown) after a cancel request is cancelled."""
    queue = make_queue("tasks")
    async with queue:
        task_id = await queue.enqueue("job")
        now = time.time()
        (claim,) = await queue._claim(5, ["job"], now, now + 30, now + 3600)
        assert await queue.cancel(task_id)
        assert await queue._release(task_id, now, now + 3600, token=claim.token)
        assert (await queue.get(task_id)).state == "cancelled"
        assert await queue._claim(5, ["job"], now + 1, now + 30, now + 3600) == []


# --------------------------------------------------------------------------- issue 21 #7


async def test_every_worker_write_is_fenced_by_its_claim(make_queue: QueueFactory) -> None:
    """Issue 21 #7: after another claim took the task, the old claim's writes do nothing."""
    queue = make_queue("tasks")
    async with queue:
        task_id = await queue.enqueue("job", max_attempts=5)
        now = time.time() + 0.5
        (old,) = await queue._claim(1, ["job"], now, now + 1, now + 3600)
        (new,) = await queue._claim(1, ["job"], now + 2, now + 3, now + 3600)  # lease expired
        assert old.token != new.token
        later = now + 2.5
        assert not await queue._finish(task_id, "done", later, later + 60, token=old.token)
        assert not await queue._retry_later(task_id, later, "stale", later, later, token=old.token)
        assert not await queue._release(task_id, later, later + 60, token=old.token)
        assert not await queue._finish(task_id, "cancelled", later, later, token=old.token)
        await queue._renew_leases({task_id: old.token}, later + 1000)
        # The old claim renewed nothing: the current lease still runs out at now + 3.
        assert await queue._claim(1, ["job"], now + 2.9, now + 9, now + 3600) == []
        again = await queue._claim(1, ["job"], now + 3.1, now + 9, now + 3600)
        assert [c.attempt for c in again] == [3]
        assert await queue._finish(
            task_id, "done", later, later + 60, token=again[0].token, result='"ok"'
        )
        record = await queue.get(task_id)
    assert (record.state, record.result, record.attempts) == ("done", "ok", 3)


@pytest.mark.parametrize("outcome", ["fail", "succeed"])
async def test_a_worker_paused_past_its_lease_cannot_overwrite(
    make_queue: QueueFactory, tmp_path: Path, outcome: str
) -> None:
    """Issue 21 #7: SIGSTOP worker A past its lease; B stores 'ok-B'; A resumes: no effect."""
    # A polls only at start (it claims the task then) and renews every 2/3 s, so the
    # SIGSTOP practically never lands inside one of its (short) transactions, where a
    # stopped SQLite writer would hold the file's write lock.
    source = make_queue.source("tasks", visibility_timeout=2.0, poll_interval=30.0)
    script = textwrap.dedent(
        f"""
        import asyncio, pathlib
        from pepperpy.task import TaskManager

        queue = {source}
        here = pathlib.Path({str(tmp_path)!r})

        @queue.register
        async def job() -> str:
            (here / "started").write_text("A")
            while not (here / "go").exists():  # SIGSTOPped in here
                await asyncio.sleep(0.02)
            if {outcome!r} == "fail":
                raise RuntimeError("stale failure from A")
            return "ok-A"

        def ended(event):
            if event.kind in ("succeeded", "failed"):  # after A tried to store its outcome
                (here / "ended").write_text(event.kind)

        async def main():
            tasks = TaskManager(durable=queue)
            tasks.add_hook(ended)
            async with tasks:
                await asyncio.sleep(3600)

        asyncio.run(main())
        """
    )
    producer = make_queue("tasks")
    async with producer:
        task_id = await producer.enqueue("job", max_attempts=3)
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", script, env=dict(os.environ))
    try:
        await wait_for_file(tmp_path / "started", proc)
        os.kill(proc.pid, signal.SIGSTOP)  # A holds the lease, then stops renewing it
        worker_b = make_queue("tasks", visibility_timeout=1.0, poll_interval=0.05)
        worker_b.register(lambda: "ok-B", name="job")
        async with TaskManager(durable=worker_b):
            record = await wait_done(worker_b, task_id)
            assert (record.state, record.result, record.attempts) == ("done", "ok-B", 2)
            (tmp_path / "go").write_text("go")
            os.kill(proc.pid, signal.SIGCONT)
            await wait_for_file(tmp_path / "ended", proc)
            record = await worker_b.get(task_id)
        assert (record.state, record.result, record.attempts) == ("done", "ok-B", 2)
    finally:
        if proc.returncode is None:
            os.kill(proc.pid, signal.SIGCONT)
            proc.kill()
        await proc.wait()


# --------------------------------------------------------------------------- issue 21 #8


async def test_durable_cron_runs_once_per_fire_time_across_workers_and_restarts(
    make_queue: QueueFactory,
) -> None:
    """Issue 21 #8: two workers run one schedule: one run per fire time (arq's dedup key)."""
    # 31 s after a whole minute: that fire time is older than the grace period (30 s).
    clock = ManualClock(start=1_800_000_000 + 31)
    runs: list[int] = []

    def worker() -> DurableQueueBase:
        queue = make_queue("tasks", poll_interval=0.05, clock=clock)
        queue.register(lambda: runs.append(1) or len(runs), name="tick")
        queue.cron("* * * * *", "tick", grace=30)
        return queue

    first, second = worker(), worker()
    key = first._crons[0].key
    managers = [TaskManager(durable=first, clock=clock), TaskManager(durable=second, clock=clock)]
    for manager in managers:
        await manager.start()
    try:
        fire = 1_800_000_000
        for _ in range(3):
            fire += 60
            await clock.advance(fire - clock.time())
            await wait_stored(first, f"cron:tick:{key}:{fire}", clock)
        assert len(runs) == 3
        assert (await first.counts()) == {"done": 3}
        # A worker restarts within the grace period of the last fire time: no second run.
        await managers[0].stop()
        third = worker()
        managers[0] = TaskManager(durable=third, clock=clock)
        await managers[0].start()
        for _ in range(20):
            await clock.advance(0.05)
            await asyncio.sleep(0.01)
        assert len(runs) == 3
        assert (await third.counts()) == {"done": 3}
        fire += 60
        await clock.advance(fire - clock.time())
        await wait_stored(third, f"cron:tick:{key}:{fire}", clock)
        assert len(runs) == 4
    finally:
        for manager in managers:
            await manager.stop()


async def test_durable_task_timeouts(make_queue: QueueFactory) -> None:
    """Issue 21 #8: per-function timeouts (arq's job_timeout), async and sync."""
    queue = make_queue("tasks", poll_interval=0.05, retry=RetryPolicy(delay=0.0, jitter=0))
    release = threading.Event()

    @queue.register(timeout=0.2)
    async def hangs() -> None:
        await asyncio.Event().wait()

    @queue.register(timeout=0.2)
    def blocks() -> str:
        release.wait(60)
        return "late"

    async with TaskManager(durable=queue):
        slow = await queue.enqueue("hangs", max_attempts=2)
        stuck = await queue.enqueue("blocks", max_attempts=1)
        with pytest.raises(DurableTaskError, match=r"timed out after 0\.2s"):
            await queue.result(slow, timeout=60)
        with pytest.raises(DurableTaskError, match=r"timed out after 0\.2s"):
            await queue.result(stuck, timeout=60)
        release.set()
        assert (await queue.get(slow)).attempts == 2


# --------------------------------------------------------------------------- issue 21 #9


async def test_list_retry_and_purge_failed_tasks(make_queue: QueueFactory) -> None:
    """Issue 21 #9: the operations behind 'pepperpy-task failed list|retry|purge'."""
    queue = make_queue("tasks", poll_interval=0.05)
    healthy = False

    @queue.register
    def flaky(n: int) -> int:
        if not healthy:
            raise ConnectionError("down")
        return n

    async with TaskManager(durable=queue):
        first = await queue.enqueue("flaky", 1, max_attempts=1)
        second = await queue.enqueue("flaky", 2, max_attempts=1)
        for task_id in (first, second):
            await wait_done(queue, task_id)
        assert [t.id for t in await queue.failed()] == [first, second]
        healthy = True
        assert await queue.retry_failed(first) == 1
        assert await queue.result(first, timeout=60) == 1
        assert (await queue.get(first)).attempts == 1
        assert await queue.retry_failed(first) == 0  # not failed any more
        assert await queue.purge_failed() == 1
        with pytest.raises(NotFoundError):
            await queue.get(second)
        assert await queue.failed() == []


async def test_a_sqlite_file_from_0_1_0_gets_the_fencing_column(tmp_path: Path) -> None:
    """Issue 21 #7: a queue file created before fencing is upgraded on start."""
    import sqlite3

    from pepperpy.task import DurableQueue

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:  # the 0.1.0 layout: no lease_token
        db.executescript(
            """
            CREATE TABLE pepperpy_tasks (
                id TEXT PRIMARY KEY, name TEXT NOT NULL, payload TEXT NOT NULL,
                priority INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL, run_at REAL NOT NULL,
                lease_until REAL, worker TEXT, attempts INTEGER NOT NULL DEFAULT 0,
                max_attempts INTEGER NOT NULL, dedup_key TEXT,
                cancel_requested INTEGER NOT NULL DEFAULT 0, result TEXT, error TEXT,
                created_at REAL NOT NULL, finished_at REAL, expires_at REAL
            );
            INSERT INTO pepperpy_tasks (id, name, payload, state, run_at, max_attempts, created_at)
            VALUES ('old-1', 'double', '{"args": [21], "kwargs": {}}', 'queued', 0, 3, 0);
            """
        )
    db.close()
    queue = DurableQueue(path, poll_interval=0.05)
    queue.register(lambda n: n * 2, name="double")
    async with TaskManager(durable=queue):
        assert await queue.result("old-1", timeout=60) == 42
