"""The durable queue's conformance suite: every scenario runs on SQLite, Redis and PostgreSQL.

``make_queue(name, **options)`` (conftest) builds the queue of one backend; the same
name means the same stored queue, so producers, several workers and restarted
workers meet as separate processes would. Redis and PostgreSQL are real servers.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pepperpy.core import (
    ClosedError,
    ConflictError,
    InvalidArgumentError,
    ManualClock,
    NotFoundError,
)
from pepperpy.task import (
    DurableQueueBase,
    DurableTaskError,
    TaskCancelledError,
    TaskManager,
    connect_queue,
)
from pepperpy.task._base import lost_error

from .conftest import QueueFactory, settle


async def wait_done(
    queue: DurableQueueBase, task_id: str, limit: float = 30.0, clock: ManualClock | None = None
):
    """Poll (real time) until the stored task is finished, nudging a manual clock."""
    deadline = time.monotonic() + limit
    while True:
        task = await queue.get(task_id)
        if task.done:
            return task
        assert time.monotonic() < deadline, f"task {task_id} still {task.state}"
        if clock is not None:
            await clock.advance(queue.poll_interval)
        await asyncio.sleep(0.02)


async def test_enqueue_run_and_result(make_queue: QueueFactory) -> None:
    queue = make_queue("tasks", poll_interval=0.05)

    @queue.register
    async def add(a: int, b: int) -> int:
        return a + b

    @queue.register(name="greet")
    def hello(name: str) -> str:
        return f"hello {name}"

    async with TaskManager(durable=queue) as tasks:
        first = await queue.enqueue("add", 2, 3)
        second = await queue.enqueue("greet", name="ada")
        assert await queue.result(first, timeout=30) == 5
        assert await queue.result(second, timeout=30) == "hello ada"
        assert (await queue.counts()) == {"done": 2}
        record = await queue.get(first)
        assert (record.state, record.attempts, record.name) == ("done", 1, "add")
        assert (record.result, record.error, record.dedup_key) == (5, None, None)
        assert tasks.queue_stats()["durable"].succeeded == 2
    assert not queue.is_running
    with pytest.raises(ClosedError):
        await queue.enqueue("add", 1, 1)


async def test_results_keep_their_json_shape(make_queue: QueueFactory) -> None:
    queue = make_queue("tasks", poll_interval=0.05)
    value = {"list": [1, 2.5, None, True], "text": 'é\n"q"', "nested": {"a": []}}
    queue.register(lambda v: v, name="echo")
    async with TaskManager(durable=queue):
        task_id = await queue.enqueue("echo", value)
        assert await queue.result(task_id, timeout=30) == value
        nothing = await queue.enqueue("echo", None)
        assert await queue.result(nothing, timeout=30) is None


async def test_task_survives_a_restart(make_queue: QueueFactory) -> None:
    producer = make_queue("tasks")
    async with producer:
        task_id = await producer.enqueue("square", 7, priority=5)
    # A new process (here: a new queue object) picks it up.
    worker = make_queue("tasks", poll_interval=0.05)
    worker.register(lambda n: n * n, name="square")
    async with TaskManager(durable=worker):
        assert await worker.result(task_id, timeout=30) == 49


async def test_worker_process_killed_mid_task_is_redelivered(
    make_queue: QueueFactory, tmp_path: Path
) -> None:
    marker = tmp_path / "started"
    source = make_queue.source("tasks", visibility_timeout=1.0, poll_interval=0.05)
    script = textwrap.dedent(
        f"""
        import asyncio, pathlib
        from pepperpy.task import TaskManager

        queue = {source}

        @queue.register
        async def charge(order: int) -> str:
            pathlib.Path({str(marker)!r}).write_text(str(order))
            await asyncio.sleep(3600)  # killed in here

        async def main():
            async with TaskManager(durable=queue):
                await asyncio.sleep(3600)

        asyncio.run(main())
        """
    )
    producer = make_queue("tasks")
    async with producer:
        task_id = await producer.enqueue("charge", 42)
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", script, env=dict(os.environ))
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.returncode is None, "worker exited early"
            assert time.monotonic() < deadline, "worker never started the task"
            await asyncio.sleep(0.05)
    finally:
        proc.kill()  # SIGKILL: no cleanup, the lease stays until it runs out
        await proc.wait()
    queue = make_queue("tasks", visibility_timeout=1.0, poll_interval=0.05)
    async with queue:
        assert (await queue.get(task_id)).state == "running"

    @queue.register
    async def charge(order: int) -> str:
        return f"charged {order}"

    async with TaskManager(durable=queue):
        assert await queue.result(task_id, timeout=60) == "charged 42"
        record = await queue.get(task_id)
    assert record.attempts == 2  # the killed delivery counted


async def test_graceful_shutdown_releases_without_using_an_attempt(
    make_queue: QueueFactory,
) -> None:
    queue = make_queue("tasks", poll_interval=0.05)
    started = asyncio.Event()

    @queue.register
    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    tasks = TaskManager(durable=queue, shutdown_timeout=0)
    await tasks.start()
    task_id = await queue.enqueue("forever")
    await started.wait()
    report = await tasks.shutdown()
    assert report.timed_out
    assert [h.name for h in report.cancelled] == ["durable:forever"]
    async with queue:
        record = await queue.get(task_id)
    assert (record.state, record.attempts) == ("queued", 0)


async def test_shutdown_during_a_claim_gives_the_claimed_tasks_back(
    make_queue: QueueFactory,
) -> None:
    queue = make_queue("tasks", poll_interval=0.05)
    queue.register(lambda: "ran", name="job")
    claimed = asyncio.Event()
    hold = asyncio.Event()
    store_claim = queue._claim

    async def slow_claim(*args: object) -> list[object]:
        got = await store_claim(*args)  # type: ignore[arg-type]
        if got:  # the store handed the task out; the worker has not seen it yet
            claimed.set()
            await hold.wait()
        return got

    queue._claim = slow_claim  # type: ignore[method-assign]
    async with queue:
        task_id = await queue.enqueue("job")
    tasks = TaskManager(durable=queue)
    await tasks.start()
    await claimed.wait()
    stopping = asyncio.ensure_future(tasks.stop())
    await settle()
    hold.set()  # the claim returns after the poller was cancelled
    await stopping
    async with queue:
        record = await queue.get(task_id)
    assert (record.state, record.attempts) == ("queued", 0)  # given back, no attempt used


async def test_failures_retry_then_fail_for_good(make_queue: QueueFactory) -> None:
    clock = ManualClock(start=time.time())
    queue = make_queue("tasks", poll_interval=0.5, max_attempts=2, clock=clock)
    calls = 0
    first_call = asyncio.Event()

    @queue.register
    async def flaky() -> None:
        nonlocal calls
        calls += 1
        first_call.set()
        raise ConnectionError(f"down {calls}")

    async with TaskManager(durable=queue, clock=clock):
        task_id = await queue.enqueue("flaky")
        await first_call.wait()
        record = await queue.get(task_id)
        while record.state != "queued" or record.error is None:
            await asyncio.sleep(0.01)
            record = await queue.get(task_id)
        assert record.error == "ConnectionError: down 1"
        await clock.advance(2)  # past the backoff
        record = await wait_done(queue, task_id, clock=clock)
        assert (record.state, record.attempts, record.error) == (
            "failed",
            2,
            "ConnectionError: down 2",
        )
        with pytest.raises(DurableTaskError, match="down 2"):
            await queue.result(task_id)


async def test_workers_only_claim_registered_names(make_queue: QueueFactory) -> None:
    queue = make_queue("tasks", poll_interval=0.05)
    queue.register(lambda: "mine", name="mine")
    async with TaskManager(durable=queue):
        other = await queue.enqueue("other.service.task")
        mine = await queue.enqueue("mine")
        assert (await wait_done(queue, mine)).result == "mine"
        assert (await queue.get(other)).state == "queued"  # left for its own service
    service = make_queue("tasks", poll_interval=0.05)
    service.register(lambda: "theirs", name="other.service.task")
    async with TaskManager(durable=service):
        assert await service.result(other, timeout=30) == "theirs"


async def test_long_task_keeps_its_lease(make_queue: QueueFactory) -> None:
    clock = ManualClock(start=time.time())
    queue = make_queue("tasks", visibility_timeout=3, poll_interval=0.5, clock=clock)
    release = asyncio.Event()
    runs = 0

    @queue.register
    async def long_job() -> str:
        nonlocal runs
        runs += 1
        await release.wait()
        return "finished"

    async with TaskManager(durable=queue, clock=clock):
        task_id = await queue.enqueue("long_job")
        while runs == 0:  # noqa: ASYNC110 - the worker thread hop is real time
            await asyncio.sleep(0.01)
        for _ in range(12):  # 12 s on the clock: four visibility timeouts
            await clock.advance(1)
            await asyncio.sleep(0.02)  # let the renewal reach the store
        record = await queue.get(task_id)
        assert record.state == "running"
        assert record.attempts == 1
        assert runs == 1  # never redelivered while alive
        release.set()
        record = await wait_done(queue, task_id, clock=clock)
    assert record.result == "finished"


async def test_results_expire(make_queue: QueueFactory) -> None:
    clock = ManualClock(start=time.time())
    queue = make_queue("tasks", result_ttl=60, clock=clock)
    queue.register(lambda: "ok", name="quick")
    async with TaskManager(durable=queue, clock=clock):
        task_id = await queue.enqueue("quick")
        record = await wait_done(queue, task_id)
        assert record.result == "ok"
        assert record.expires_at == pytest.approx(record.finished_at + 60)
        assert await queue.purge_expired() == 0
        await clock.advance(61)
        assert await queue.purge_expired() == 1
        with pytest.raises(NotFoundError):
            await queue.get(task_id)
        assert await queue.counts() == {}


async def test_dedup_ids_delay_and_validation(make_queue: QueueFactory) -> None:
    clock = ManualClock(start=time.time())
    queue = make_queue("tasks", clock=clock)
    async with queue:
        first = await queue.enqueue("job", 1, dedup_key="nightly")
        again = await queue.enqueue("job", 2, dedup_key="nightly")
        assert first == again
        await queue.enqueue("job", task_id="fixed")
        with pytest.raises(ConflictError):
            await queue.enqueue("job", task_id="fixed")
        with pytest.raises(InvalidArgumentError, match="JSON"):
            await queue.enqueue("job", object())
        with pytest.raises(InvalidArgumentError, match="max_attempts"):
            await queue.enqueue("job", max_attempts=0)
        delayed = await queue.enqueue("job", delay=100)
        assert (await queue.get(delayed)).run_at == pytest.approx(clock.time() + 100)
        assert (await queue.counts()) == {"queued": 3}
        # A finished task frees its dedup key.
        assert await queue.cancel(first)
        fresh = await queue.enqueue("job", 3, dedup_key="nightly")
        assert fresh != first
        assert (await queue.get(fresh)).dedup_key == "nightly"
    with pytest.raises(InvalidArgumentError):
        make_queue("tasks", visibility_timeout=0)
    with pytest.raises(InvalidArgumentError):
        make_queue("tasks", max_attempts=0)
    with pytest.raises(InvalidArgumentError):
        make_queue("tasks").register(42)


async def test_concurrent_producers_with_one_dedup_key_store_one_task(
    make_queue: QueueFactory,
) -> None:
    producers = [make_queue("tasks") for _ in range(3)]
    for producer in producers:
        await producer.start()
    try:
        ids = await asyncio.gather(
            *(p.enqueue("job", n, dedup_key="once") for n in range(5) for p in producers)
        )
        assert len(set(ids)) == 1
        assert await producers[0].counts() == {"queued": 1}
    finally:
        for producer in producers:
            await producer.stop()


async def test_delayed_task_waits_for_its_time(make_queue: QueueFactory) -> None:
    clock = ManualClock(start=time.time())
    queue = make_queue("tasks", poll_interval=1, clock=clock)
    queue.register(lambda: "late", name="later")
    async with TaskManager(durable=queue, clock=clock):
        task_id = await queue.enqueue("later", delay=30)
        await settle()
        assert (await queue.get(task_id)).state == "queued"
        await clock.advance(31)
        record = await wait_done(queue, task_id, clock=clock)
    assert record.result == "late"


async def test_cancel_queued_and_running_tasks(make_queue: QueueFactory) -> None:
    queue = make_queue("tasks", poll_interval=0.05)
    started = asyncio.Event()
    ran: list[str] = []

    @queue.register
    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    @queue.register
    def never() -> None:
        ran.append("never")

    async with queue:
        queued = await queue.enqueue("never", delay=0)
        assert await queue.cancel(queued)
    async with TaskManager(durable=queue):
        running = await queue.enqueue("forever")
        await started.wait()
        assert await queue.cancel(running)
        record = await wait_done(queue, running)
        assert record.state == "cancelled"
        assert record.attempts == 1
        with pytest.raises(TaskCancelledError):
            await queue.result(running)
        assert not await queue.cancel(running)  # already final
        assert (await queue.get(queued)).state == "cancelled"
        with pytest.raises(NotFoundError):
            await queue.cancel("no-such-task")
        with pytest.raises(NotFoundError):
            await queue.get("no-such-task")
    assert ran == []


async def test_sync_durable_task_runs_off_the_loop(make_queue: QueueFactory) -> None:
    queue = make_queue("tasks", poll_interval=0.05)
    loop_thread = threading.get_ident()
    queue.register(lambda: threading.get_ident(), name="where")
    async with TaskManager(durable=queue):
        task_id = await queue.enqueue("where")
        assert await queue.result(task_id, timeout=30) != loop_thread


async def test_a_task_lost_on_its_last_attempt_is_failed(make_queue: QueueFactory) -> None:
    producer = make_queue("tasks")
    async with producer:
        task_id = await producer.enqueue("fragile", max_attempts=1)
        now = time.time() + 0.5
        # What a worker that died during the only allowed delivery leaves behind:
        # its claim (through the storage contract), then nothing.
        claims = await producer._claim(1, ["fragile"], now, now + 1.0, now + 3600)
        assert [(c.id, c.attempt, c.max_attempts) for c in claims] == [(task_id, 1, 1)]
        assert (await producer.get(task_id)).state == "running"
    clock = ManualClock(start=now + 2)  # the lease ran out
    worker = make_queue("tasks", poll_interval=0.05, clock=clock)
    ran: list[str] = []
    worker.register(lambda: ran.append("run"), name="fragile")
    async with TaskManager(durable=worker, clock=clock):
        record = await wait_done(worker, task_id, clock=clock)
    assert (record.state, record.attempts, record.error) == ("failed", 1, lost_error(1))
    assert ran == []


async def test_an_expired_lease_is_claimed_again(make_queue: QueueFactory) -> None:
    queue = make_queue("tasks")
    async with queue:
        task_id = await queue.enqueue("job", max_attempts=3)
        now = time.time() + 0.5
        assert len(await queue._claim(5, ["job"], now, now + 10, now + 3600)) == 1
        # Held: nobody else gets it while the lease lasts.
        assert await queue._claim(5, ["job"], now + 5, now + 15, now + 3600) == []
        again = await queue._claim(5, ["job"], now + 11, now + 21, now + 3600)
        assert [(c.id, c.attempt) for c in again] == [(task_id, 2)]
        assert (await queue.get(task_id)).attempts == 2


async def test_priorities_across_functions_then_age(make_queue: QueueFactory) -> None:
    producer = make_queue("tasks")
    async with producer:
        ids = {
            "low-old": await producer.enqueue("a", priority=-1),
            "mid-b": await producer.enqueue("b", priority=0),
            "high": await producer.enqueue("b", priority=5),
            "mid-a": await producer.enqueue("a", priority=0),
        }
    worker = make_queue("tasks", concurrency=1, poll_interval=0.02)
    order: list[str] = []
    worker.register(lambda: order.append("a"), name="a")
    worker.register(lambda: order.append("b"), name="b")
    async with TaskManager(durable=worker):
        for task_id in ids.values():
            await worker.result(task_id, timeout=30)
        finished = [await worker.get(task_id) for task_id in ids.values()]
    assert order == ["b", "b", "a", "a"]  # priority 5, then the priority-0 ones by age
    by_finish = sorted(zip(ids, finished, strict=True), key=lambda p: p[1].finished_at or 0)
    assert [name for name, _ in by_finish] == ["high", "mid-b", "mid-a", "low-old"]


async def test_one_claim_takes_the_best_tasks_in_order(make_queue: QueueFactory) -> None:
    queue = make_queue("tasks")
    async with queue:
        late = await queue.enqueue("x", priority=9, delay=60)  # not due yet
        old = await queue.enqueue("x", priority=1)
        top = await queue.enqueue("y", priority=3)
        new = await queue.enqueue("x", priority=1)
        await queue.enqueue("z", priority=100)  # not ours
        now = time.time() + 1
        claims = await queue._claim(10, ["x", "y"], now, now + 30, now + 3600)
        assert [c.id for c in claims] == [top, old, new]
        assert (await queue.get(late)).state == "queued"


async def test_several_workers_share_the_queue_each_task_once(make_queue: QueueFactory) -> None:
    runs: dict[int, list[str]] = {}
    workers = []
    for label in ("w1", "w2", "w3"):
        worker = make_queue("shared", poll_interval=0.02, concurrency=4)

        def record(n: int, label: str = label) -> int:
            runs.setdefault(n, []).append(label)
            return n

        worker.register(record, name="record")
        workers.append(worker)
    managers = [TaskManager(durable=w) for w in workers]
    for manager in managers:
        await manager.start()
    try:
        ids = [await workers[0].enqueue("record", n) for n in range(60)]
        results = [await workers[1].result(task_id, timeout=60) for task_id in ids]
    finally:
        for manager in managers:
            await manager.stop()
    assert results == list(range(60))
    assert all(len(labels) == 1 for labels in runs.values())
    assert sorted(runs) == list(range(60))


async def test_manager_accepts_every_backend(make_queue: QueueFactory) -> None:
    queue = make_queue("tasks")
    expected = {"sqlite": "DurableQueue", "redis": "RedisQueue", "postgres": "PostgresQueue"}
    assert type(queue).__name__ == expected[make_queue.backend]
    assert isinstance(queue, DurableQueueBase)
    assert TaskManager(durable=queue).durable is queue


async def test_connect_queue_opens_the_same_queue_from_a_url(make_queue: QueueFactory) -> None:
    url, extra = make_queue.connection("tasks")
    producer = connect_queue(url, **extra, max_attempts=2)
    assert type(producer) is type(make_queue("tasks"))
    assert producer.max_attempts == 2
    worker = make_queue("tasks", poll_interval=0.05)
    worker.register(lambda s: s[::-1], name="reverse")
    async with producer, TaskManager(durable=worker):
        task_id = await producer.enqueue("reverse", "abc")
        assert await worker.result(task_id, timeout=30) == "cba"


_examples = itertools.count()


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    tasks=st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.integers(-3, 3),
            st.sampled_from([0.0, 0.0, 1.0, 2.0, 50.0]),
        ),
        min_size=1,
        max_size=12,
    ),
    names=st.sets(st.sampled_from(["a", "b", "c"]), min_size=1),
    limit=st.integers(1, 6),
)
async def test_claims_follow_priority_then_due_time_then_insertion(
    make_queue: QueueFactory,
    tasks: list[tuple[str, int, float]],
    names: set[str],
    limit: int,
) -> None:
    clock = ManualClock(start=1_000_000.0)
    queue = make_queue(f"prop{next(_examples)}", clock=clock)
    async with queue:
        ids = []
        for name, priority, delay in tasks:
            ids.append(await queue.enqueue(name, priority=priority, delay=delay or None))
        now = clock.time() + 10  # the 50 s delays are not due yet
        expected = sorted(
            (
                (-priority, delay, index)
                for index, (name, priority, delay) in enumerate(tasks)
                if name in names and delay <= 10
            ),
        )
        claimed: list[str] = []
        while True:  # several workers' claims in a row take everything once, in order
            batch = await queue._claim(limit, sorted(names), now, now + 30, now + 3600)
            if not batch:
                break
            assert len(batch) <= limit
            claimed.extend(c.id for c in batch)
        assert claimed == [ids[index] for _, _, index in expected]
