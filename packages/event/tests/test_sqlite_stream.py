"""SQLiteStream beyond the conformance suite: processes sharing a file, crashes, restarts."""

from __future__ import annotations

import asyncio
import signal
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest

from pepperpy.core import InvalidArgumentError, ManualClock
from pepperpy.event import SQLiteStream, StreamError, connect_stream

_DOOMED = textwrap.dedent(
    """
    import asyncio, sys
    from pepperpy.event import SQLiteStream

    async def main():
        stream = SQLiteStream(sys.argv[1], "orders", consumer="doomed", batch=10)
        got = await stream.read(block=10)
        await stream.ack(*got[:3])                 # three handled
        print(" ".join(m.id for m in got), flush=True)
        await asyncio.sleep(3600)                  # holding the rest when killed

    asyncio.run(main())
    """
)

_WORKER = textwrap.dedent(
    """
    import asyncio, sys
    from pepperpy.event import SQLiteStream

    async def main():
        stream = SQLiteStream(sys.argv[1], "orders", consumer=sys.argv[2], batch=2,
                              poll_interval=0.01)
        print("ready", flush=True)
        while True:
            for message in await stream.read(block=0.2):
                print(message.id, sys.argv[2], flush=True)
                await stream.ack(message)

    asyncio.run(main())
    """
)


async def _spawn(script: str, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, *args, stdout=asyncio.subprocess.PIPE
    )


async def _line(proc: asyncio.subprocess.Process) -> str:
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    assert line, "the child process exited early"
    return line.decode().strip()


async def test_a_killed_consumers_unacknowledged_events_go_to_another(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    producer = SQLiteStream(path, "orders")
    await producer.ensure_group()
    ids = [await producer.publish("jobs", n) for n in range(6)]
    child = await _spawn(_DOOMED, str(path))
    try:
        assert (await _line(child)).split() == ids  # read all six, acknowledged three
    finally:
        child.send_signal(signal.SIGKILL)
        await child.wait()
    assert child.returncode == -signal.SIGKILL
    clock = ManualClock(start=time.time())
    survivor = SQLiteStream(path, "orders", consumer="survivor", claim_after=30, clock=clock)
    assert await survivor.read(block=0) == []  # the dead consumer's claim is still fresh
    assert await survivor.pending() == 3
    await clock.advance(30)
    got = await survivor.read(block=0)
    assert [(m.id, m.data, m.deliveries) for m in got] == [(ids[n], n, 2) for n in (3, 4, 5)]
    assert await survivor.ack(*got) == 3
    await clock.advance(3600)
    assert await survivor.read(block=0) == []  # acknowledged entries never come back
    assert await survivor.pending() == 0
    await producer.aclose()
    await survivor.aclose()


async def test_processes_sharing_a_file_get_each_event_exactly_once(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    producer = SQLiteStream(path, "orders")
    await producer.ensure_group()
    workers = [await _spawn(_WORKER, str(path), f"worker-{n}") for n in range(3)]
    handled: Counter[str] = Counter()

    async def collect(proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        async for line in proc.stdout:
            entry, _worker = line.decode().split()
            handled[entry] += 1

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
    await producer.aclose()


async def test_entries_groups_and_pending_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "data" / "events.db"  # the directory is created
    clock = ManualClock(start=time.time())
    first = SQLiteStream(path, "orders", consumer="w", clock=clock, claim_after=30)
    await first.ensure_group()
    ids = [await first.publish("jobs", n) for n in range(3)]
    [message, _, _] = await first.read(block=0)
    await first.ack(message)
    await first.aclose()
    again = SQLiteStream(path, "orders", consumer="w", clock=clock, claim_after=30)
    assert [m.id for m in await again.read(block=0)] == ids[1:]  # still pending: own first
    assert await again.pending() == 2
    newer = await again.publish("jobs", 3)
    key = lambda entry: tuple(int(part) for part in entry.split("-"))  # noqa: E731
    assert key(newer) > key(ids[-1])  # ids keep increasing across restarts
    await again.aclose()


async def test_maxlen_keeps_exactly_the_newest(tmp_path: Path) -> None:
    stream = SQLiteStream(tmp_path / "events.db", "orders", maxlen=3)
    ids = [await stream.publish("jobs", n) for n in range(10)]
    assert [m.id for m in await stream.read(block=0)] == ids[-3:]
    await stream.aclose()


async def test_urls_and_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    relative = connect_stream("sqlite:///rel/events.db", "orders")
    absolute = connect_stream(f"sqlite:///{tmp_path}/abs.db", "orders")
    assert isinstance(relative, SQLiteStream) and isinstance(absolute, SQLiteStream)
    assert relative.path == Path("rel/events.db")
    assert absolute.path == tmp_path / "abs.db"
    await relative.publish("jobs", 1)
    assert (tmp_path / "rel" / "events.db").is_file()
    await relative.aclose()
    await absolute.aclose()
    for url in ("sqlite://events.db", "sqlite://", "sqlite:///"):
        with pytest.raises(InvalidArgumentError, match="three slashes"):
            connect_stream(url)
    with pytest.raises(InvalidArgumentError, match="MemoryStream"):
        SQLiteStream(":memory:")
    with pytest.raises(InvalidArgumentError, match="poll_interval"):
        SQLiteStream(tmp_path / "x.db", poll_interval=0)


async def test_an_unusable_file_is_a_retryable_stream_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    stream = SQLiteStream(blocker / "events.db")
    with pytest.raises(StreamError) as info:
        await stream.publish("jobs", 1)
    assert info.value.retryable
    assert str(blocker) in str(info.value)
    await stream.aclose()
