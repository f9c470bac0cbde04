"""Issue 21 #9: the ``pepperpy-task`` console script, installed, run in a subprocess.

``pepperpy-task worker MODULE --url URL`` runs a module's registered durable
functions (arq's ``arq module.WorkerSettings``), stops gracefully on SIGTERM and
SIGINT (running tasks are given back without using an attempt), and
``pepperpy-task failed list|retry|purge`` manages failed tasks. On every backend.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pepperpy.core import NotFoundError
from pepperpy.task import connect_queue

from .conftest import QueueFactory
from .test_durable import wait_done

MODULE = """
import asyncio, json, os, pathlib
from pepperpy.task import connect_queue

# The URL comes from the command's --url ($PEPPERPY_TASK_QUEUE_URL).
queue = connect_queue(poll_interval=0.05, **json.loads(os.environ["SHOP_QUEUE_OPTIONS"]))

@queue.register
def add(a: int, b: int) -> int:
    return a + b

@queue.register
def boom() -> None:
    raise ValueError("boom")

@queue.register
async def slow(marker: str) -> str:
    pathlib.Path(marker).write_text("started")
    await asyncio.sleep(3600)  # stopped in here
    return "never"
"""


def script() -> str:
    """The installed console script, next to this interpreter."""
    found = shutil.which("pepperpy-task", path=str(Path(sys.executable).parent))
    assert found, "pepperpy-task is not installed next to the interpreter"
    return found


async def run_cli(*args: str, cwd: Path, env: dict[str, str]) -> str:
    proc = await asyncio.create_subprocess_exec(
        script(),
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def wait_for_file(path: Path, proc: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():  # noqa: ASYNC240 - a test polling a marker file
        assert proc.returncode is None, "the worker exited early"
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        await asyncio.sleep(0.05)


async def stop_worker(proc: asyncio.subprocess.Process, sig: signal.Signals) -> str:
    proc.send_signal(sig)
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    return err.decode()


async def test_worker_command_runs_stops_and_manages_failures(
    make_queue: QueueFactory, tmp_path: Path
) -> None:
    """Issue 21 #9: the worker command end to end, then failed list/retry/purge."""
    url, options = make_queue.connection("tasks")
    (tmp_path / "shop_tasks.py").write_text(textwrap.dedent(MODULE))
    env = {**os.environ, "SHOP_QUEUE_OPTIONS": json.dumps(options)}
    env.pop("PEPPERPY_TASK_QUEUE_URL", None)
    cli_options = [f"-o{key}={value}" for key, value in options.items()]
    marker = tmp_path / "slow-started"
    producer = connect_queue(url, **options)
    async with producer:
        added = await producer.enqueue("add", 2, 3)
        failing = await producer.enqueue("boom", max_attempts=1)
        slow = await producer.enqueue("slow", str(marker))

        worker = ["worker", "shop_tasks", "--url", url, "--concurrency", "3"]
        proc = await asyncio.create_subprocess_exec(
            script(),
            *worker,
            "--shutdown-timeout",
            "0",
            cwd=tmp_path,
            env=env,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            assert await producer.result(added, timeout=60) == 5
            assert (await wait_done(producer, failing)).state == "failed"
            await wait_for_file(marker, proc)
            log = await stop_worker(proc, signal.SIGTERM)  # graceful: slow is given back
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        assert "given back" in log
        record = await producer.get(slow)
        assert (record.state, record.attempts) == ("queued", 0)

        listed = await run_cli("failed", "list", "--url", url, *cli_options, cwd=tmp_path, env=env)
        assert failing in listed and "ValueError: boom" in listed
        as_json = await run_cli(
            "failed", "list", "--json", "--url", url, *cli_options, cwd=tmp_path, env=env
        )
        assert [row["id"] for row in json.loads(as_json)] == [failing]
        retried = await run_cli(
            "failed", "retry", failing, "--url", url, *cli_options, cwd=tmp_path, env=env
        )
        assert retried.strip() == "1"
        assert (await producer.get(failing)).state == "queued"

        # A second worker, stopped with SIGINT, runs boom (it fails again) and slow.
        marker.unlink()
        proc = await asyncio.create_subprocess_exec(
            script(),
            *worker,
            "--shutdown-timeout",
            "0",
            cwd=tmp_path,
            env=env,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            assert (await wait_done(producer, failing)).state == "failed"
            await wait_for_file(marker, proc)
            await stop_worker(proc, signal.SIGINT)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        assert (await producer.get(slow)).state == "queued"

        purged = await run_cli("failed", "purge", "--url", url, *cli_options, cwd=tmp_path, env=env)
        assert purged.strip() == "1"
        with pytest.raises(NotFoundError):
            await producer.get(failing)


async def test_worker_command_refuses_a_module_without_a_queue(tmp_path: Path) -> None:
    """Issue 21 #9: a clear error, exit code 2, not a traceback."""
    (tmp_path / "empty_module.py").write_text("x = 1\n")
    proc = await asyncio.create_subprocess_exec(
        script(),
        "worker",
        "empty_module",
        "--url",
        f"sqlite:///{tmp_path}/t.db",
        cwd=tmp_path,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    assert proc.returncode == 2
    assert "holds 0 durable queues" in err.decode()
    assert "Traceback" not in err.decode()
