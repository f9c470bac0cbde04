"""SQLiteStream beyond the conformance suite: restarts, trimming, paths and URLs.

Processes sharing a file (exactly once, SIGKILLed consumers) are in test_processes.py.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pepperpy.core import InvalidArgumentError, ManualClock
from pepperpy.event import SQLiteStream, StreamError, connect_stream


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
