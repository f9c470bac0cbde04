"""Streams shared by processes: exactly once per delivery, and a killed consumer loses nothing.

Runs on every backend that crosses processes (SQLite, Redis, PostgreSQL); the child
processes open the stream with ``connect_stream(url)``, like an application would.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import textwrap
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Backend

ACROSS_PROCESSES = pytest.mark.parametrize(
    "backend", ["sqlite", "redis", "postgres"], indirect=True
)

_DOOMED = textwrap.dedent(
    """
    import asyncio, json, sys
    from pepperpy.event import connect_stream

    async def main():
        url, namespace, options = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
        stream = connect_stream(url, "orders", consumer="doomed", namespace=namespace,
                                batch=10, **options)
        got = await stream.read(block=10)
        await stream.ack(*got[:3])                 # three handled
        print(" ".join(m.id for m in got), flush=True)
        await asyncio.sleep(3600)                  # holding the rest when killed

    asyncio.run(main())
    """
)

_WORKER = textwrap.dedent(
    """
    import asyncio, json, sys
    from pepperpy.event import connect_stream

    async def main():
        url, namespace, consumer = sys.argv[1], sys.argv[2], sys.argv[3]
        stream = connect_stream(url, "orders", consumer=consumer, namespace=namespace,
                                batch=2, **json.loads(sys.argv[4]))
        await stream.ensure_group()
        print("ready", flush=True)
        while True:
            for message in await stream.read(block=0.2):
                print(message.id, consumer, flush=True)
                await stream.ack(message)

    asyncio.run(main())
    """
)

# How often the workers look for entries other processes appended.
_POLLING: dict[str, dict[str, Any]] = {
    "sqlite": {"poll_interval": 0.01},
    "postgres": {"poll_interval": 0.05},
    "redis": {},
}


async def _spawn(script: str, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, *args, stdout=asyncio.subprocess.PIPE
    )


async def _line(proc: asyncio.subprocess.Process) -> str:
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    assert line, "the child process exited early"
    return line.decode().strip()


@ACROSS_PROCESSES
async def test_a_killed_consumers_unacknowledged_events_go_to_another(backend: Backend) -> None:
    producer = backend.stream()
    await producer.ensure_group()
    ids = [await producer.publish("jobs", n) for n in range(6)]
    child = await _spawn(_DOOMED, backend.url, backend.namespace, json.dumps({}))
    try:
        assert (await _line(child)).split() == ids  # read all six, acknowledged three
    finally:
        child.send_signal(signal.SIGKILL)
        await child.wait()
    assert child.returncode == -signal.SIGKILL
    survivor = backend.stream(consumer="survivor")
    assert await survivor.read(block=0) == []  # the dead consumer's claim is still fresh
    assert await survivor.pending() == 3
    await backend.idle()
    got = await survivor.read(block=0)
    assert [(m.id, m.data, m.deliveries) for m in got] == [(ids[n], n, 2) for n in (3, 4, 5)]
    assert await survivor.ack(*got) == 3
    await backend.idle()
    assert await survivor.read(block=0) == []  # acknowledged entries never come back
    assert await survivor.pending() == 0


@ACROSS_PROCESSES
async def test_processes_sharing_a_stream_get_each_event_exactly_once(backend: Backend) -> None:
    producer = backend.stream()
    await producer.ensure_group()
    options = json.dumps(_POLLING[backend.name])
    workers = [
        await _spawn(_WORKER, backend.url, backend.namespace, f"worker-{n}", options)
        for n in range(3)
    ]
    handled: Counter[str] = Counter()

    async def collect(proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        async for line in proc.stdout:
            entry, _worker = line.decode().split()
            handled[entry] += 1

    readers: list[asyncio.Future[None]] = []
    try:
        for proc in workers:
            assert await _line(proc) == "ready"
        readers = [asyncio.ensure_future(collect(proc)) for proc in workers]
        ids = []
        for n in range(60):
            ids.append(await producer.publish("jobs", n))
            if n % 10 == 0:
                await asyncio.sleep(0.02)  # let the workers interleave with the producer
        deadline = asyncio.get_running_loop().time() + 30
        while sum(handled.values()) < 60 or await producer.pending():
            assert asyncio.get_running_loop().time() < deadline, handled
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)  # a duplicate delivery would show up now
    finally:
        for proc in workers:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
    await asyncio.gather(*readers)
    assert set(handled) == set(ids)
    assert max(handled.values()) == 1
