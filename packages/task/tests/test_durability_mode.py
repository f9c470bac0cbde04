"""issue 21 #13: the docs say a durable task is "stored on return"; by default that must
hold through an OS crash too, so SQLite fsyncs every commit (PRAGMA synchronous=FULL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.task import DurableQueue


async def _level(queue: DurableQueue) -> int:
    await queue.start()
    try:
        db = queue._db  # the queue's own connection: the PRAGMA is per connection
        assert db is not None
        cursor = await db.execute("PRAGMA synchronous")
        row = await cursor.fetchone()
        assert row is not None
        return int(row[0])
    finally:
        await queue.stop()


async def test_durable_queue_flushes_every_commit_by_default(tmp_path: Path) -> None:
    assert await _level(DurableQueue(tmp_path / "q.db")) == 2  # FULL


async def test_durable_queue_normal_is_an_explicit_choice(tmp_path: Path) -> None:
    assert await _level(DurableQueue(tmp_path / "q.db", synchronous="normal")) == 1
    from_url = DurableQueue.from_url(f"sqlite:///{tmp_path / 'u.db'}", synchronous="normal")
    assert await _level(from_url) == 1


@pytest.mark.parametrize("value", ["off", "FULL", "", 2, None, ["full"]])
def test_durable_queue_refuses_other_levels(tmp_path: Path, value: object) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        DurableQueue(tmp_path / "q.db", synchronous=value)  # type: ignore[arg-type]
    assert info.value.code == "pepperpy.task.sqlite_synchronous"
