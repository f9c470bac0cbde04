"""What only the PostgreSQL durable queue has: configuration, pools, LISTEN/NOTIFY, faults.

Every queue scenario (leases, retries, priorities, a killed worker process, ...)
runs on PostgreSQL in the shared conformance suite, test_durable.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from pepperpy.core import (
    ConfigurationError,
    ExternalError,
    InvalidArgumentError,
    ManualClock,
    StartupError,
)
from pepperpy.task import DurableQueueBase, PostgresQueue, TaskManager

from .conftest import drop_schema


def _asyncpg() -> Any:
    """asyncpg, once the ``postgres_dsn`` fixture checked it is installed (or skipped/failed)."""
    import asyncpg

    return asyncpg


@pytest.fixture
async def schema(postgres_dsn: str) -> AsyncIterator[str]:
    """A schema no other test uses (the queue creates it), dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    yield name
    await drop_schema(postgres_dsn, name)


def test_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PEPPERPY_POSTGRES_DSN", raising=False)
    with pytest.raises(ConfigurationError, match="needs a DSN"):
        PostgresQueue()
    dsn = "postgresql://app:secret@127.0.0.1:1/db"
    for bad in ({"table": "Tasks"}, {"table": "x;drop"}, {"schema": "1abc"}, {"max_size": 0}):
        with pytest.raises(InvalidArgumentError):
            PostgresQueue(dsn, **bad)
    with pytest.raises(InvalidArgumentError, match="DSN string or an asyncpg pool"):
        PostgresQueue(42)
    with pytest.raises(InvalidArgumentError):
        PostgresQueue(dsn, poll_interval=0)
    monkeypatch.setenv("PEPPERPY_POSTGRES_DSN", dsn)
    queue = PostgresQueue(schema="shop", table="jobs")
    assert queue.dsn == dsn
    assert repr(queue) == "<PostgresQueue shop.jobs new>"
    assert isinstance(queue, DurableQueueBase)


async def test_unreachable_server_is_a_retryable_error() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    queue = PostgresQueue(f"postgresql://app:secret@127.0.0.1:{port}/db", connect_timeout=2)
    with pytest.raises(StartupError) as info:
        await queue.start()
    cause = info.value.__cause__
    assert isinstance(cause, ExternalError) and cause.retryable
    assert "secret" not in str(cause)  # the password never reaches an error


async def test_a_shared_pool_is_used_and_left_open(postgres_dsn: str, schema: str) -> None:
    pool = await _asyncpg().create_pool(postgres_dsn, min_size=1, max_size=4)
    try:
        queue = PostgresQueue(pool, schema=schema, table="pooled", poll_interval=0.05)
        queue.register(lambda x: x + 1, name="inc")
        async with TaskManager(durable=queue):
            task_id = await queue.enqueue("inc", 1)
            assert await queue.result(task_id, timeout=30) == 2
        assert await pool.fetchval(f'SELECT count(*) FROM "{schema}"."pooled"') == 1
    finally:
        await pool.close()


async def test_schema_creation_is_idempotent_and_race_free(postgres_dsn: str, schema: str) -> None:
    queues = [PostgresQueue(postgres_dsn, schema=schema, table="same") for _ in range(4)]
    await asyncio.gather(*(q.start() for q in queues))  # all create it at once
    try:
        await queues[0].enqueue("job", 1)
        again = PostgresQueue(postgres_dsn, schema=schema, table="same")
        async with again:
            assert await again.counts() == {"queued": 1}  # the table was kept
    finally:
        await asyncio.gather(*(q.stop() for q in queues))


async def test_enqueue_notifies_a_waiting_worker(postgres_dsn: str, schema: str) -> None:
    # The worker's clock never moves, so its poll timer never fires: only the
    # NOTIFY sent with the INSERT can wake it.
    # The longest table name: its channel still fits PostgreSQL's 63-byte limit.
    table = "notify_" + "q" * 41
    # An hour ahead, so the producer's tasks are due for it even on a loaded machine.
    clock = ManualClock(start=time.time() + 3600)
    worker = PostgresQueue(postgres_dsn, schema=schema, table=table, clock=clock)
    worker.register(lambda: "woken", name="job")
    producer = PostgresQueue(postgres_dsn, schema=schema, table=table, poll_interval=0.05)
    async with producer, TaskManager(durable=worker, clock=clock):
        for _ in range(3):
            task_id = await producer.enqueue("job")
            assert await producer.result(task_id, timeout=30) == "woken"


# --------------------------------------------------------------------------- faults


async def _waiting_backends(admin: Any, limit: float = 20.0) -> list[tuple[int, str]]:
    """The queue's connections blocked on a lock the test holds."""
    deadline = time.monotonic() + limit
    while True:
        # Inside a transaction pg_stat_activity is a snapshot taken at its first read.
        await admin.execute("SELECT pg_stat_clear_snapshot()")
        rows = await admin.fetch(
            "SELECT pid, query FROM pg_stat_activity WHERE application_name = 'pepperpy-task' "
            "AND wait_event_type = 'Lock' AND datname = current_database()"
        )
        if rows:
            return [(int(r["pid"]), str(r["query"])) for r in rows]
        assert time.monotonic() < deadline, "the worker never blocked"
        await asyncio.sleep(0.02)


async def test_connection_cut_while_storing_a_result_changes_nothing(
    postgres_dsn: str, schema: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="pepperpy.task")
    queue = PostgresQueue(
        postgres_dsn, schema=schema, table="faults", visibility_timeout=1.0, poll_interval=0.05
    )
    release = asyncio.Event()
    runs = 0

    @queue.register
    async def job() -> str:
        nonlocal runs
        runs += 1
        if runs == 1:
            await release.wait()
        return f"run {runs}"

    table = f'"{schema}"."faults"'
    admin = await _asyncpg().connect(postgres_dsn)
    try:
        async with TaskManager(durable=queue):
            task_id = await queue.enqueue("job")
            while runs == 0:  # noqa: ASYNC110 - the worker runs it on its own
                await asyncio.sleep(0.01)
            lock = admin.transaction()
            await lock.start()
            await admin.execute(f"SELECT 1 FROM {table} WHERE id = $1 FOR UPDATE", task_id)
            release.set()  # the worker's UPDATE storing "run 1" now waits on our row lock
            blocked = await _waiting_backends(admin)
            assert any("result = $3" in query for _, query in blocked)
            for pid, _ in blocked:
                assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
            row = await admin.fetchrow(
                f"SELECT state, result, attempts FROM {table} WHERE id = $1", task_id
            )
            await lock.rollback()
            assert tuple(row) == ("running", None, 1)  # the cut UPDATE left nothing behind
            # The worker recovers: the lease runs out and the task is delivered again.
            assert await queue.result(task_id, timeout=30) == "run 2"
            assert (await queue.get(task_id)).attempts == 2
    finally:
        await admin.close()
    assert any("could not be stored" in r.getMessage() for r in caplog.records)


async def test_connection_cut_during_a_claim_changes_nothing(
    postgres_dsn: str, schema: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="pepperpy.task")
    queue = PostgresQueue(postgres_dsn, schema=schema, table="claims", poll_interval=0.05)
    queue.register(lambda n: n * 2, name="double")
    table = f'"{schema}"."claims"'
    admin = await _asyncpg().connect(postgres_dsn)
    try:
        async with queue:
            ids = [await queue.enqueue("double", n) for n in range(3)]
            lock = admin.transaction()
            await lock.start()
            await admin.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")  # reads only
            async with TaskManager(durable=queue):
                blocked = await _waiting_backends(admin)  # the claim transaction waits
                for pid, _ in blocked:
                    assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
                rows = await admin.fetch(f"SELECT state, attempts, worker FROM {table}")
                await lock.rollback()
                assert sorted(tuple(r) for r in rows) == [("queued", 0, None)] * 3
                results = [await queue.result(task_id, timeout=30) for task_id in ids]
                assert results == [0, 2, 4]  # the worker polled again and got them
                assert [(await queue.get(t)).attempts for t in ids] == [1, 1, 1]
    finally:
        await admin.close()
    assert any("durable queue poll failed" in r.getMessage() for r in caplog.records)


async def test_a_table_from_0_1_0_gets_the_fencing_column(postgres_dsn: str, schema: str) -> None:
    """Issue 21 #7: a queue table created before fencing is upgraded on start."""
    conn = await _asyncpg().connect(postgres_dsn)
    try:
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        await conn.execute(
            f'CREATE TABLE "{schema}".old_q (seq bigserial NOT NULL, id text PRIMARY KEY, '
            "name text NOT NULL, payload text NOT NULL, priority integer NOT NULL DEFAULT 0, "
            "state text NOT NULL, run_at double precision NOT NULL, "
            "lease_until double precision, worker text, attempts integer NOT NULL DEFAULT 0, "
            "max_attempts integer NOT NULL, dedup_key text, "
            "cancel_requested boolean NOT NULL DEFAULT false, result text, error text, "
            "created_at double precision NOT NULL, finished_at double precision, "
            "expires_at double precision)"
        )
        await conn.execute(
            f'INSERT INTO "{schema}".old_q (id, name, payload, state, run_at, max_attempts, '
            "created_at) VALUES ('old-1', 'double', '{\"args\": [21], \"kwargs\": {}}', "
            "'queued', 0, 3, 0)"
        )
    finally:
        await conn.close()
    queue = PostgresQueue(postgres_dsn, schema=schema, table="old_q", poll_interval=0.05)
    queue.register(lambda n: n * 2, name="double")
    async with TaskManager(durable=queue):
        assert await queue.result("old-1", timeout=60) == 42
