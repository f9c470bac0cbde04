"""Pool at its edges: failing checks, resets and closes (written with the coverage floor, issue 24).

A pool keeps serving when a user-supplied health check, reset or close raises: the
item concerned is dropped (and the failure logged), never handed out again.
asyncpg's and SQLAlchemy's pools are the peers: a connection whose reset fails is
closed rather than reused.
"""

from __future__ import annotations

import itertools

import pytest

from pepperpy.resources import Pool


class Conn:
    ids = itertools.count()

    def __init__(self) -> None:
        self.id = next(self.ids)
        self.closed = False


async def test_a_health_check_that_raises_discards_the_item(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken: set[int] = set()

    def check(conn: Conn) -> bool:
        if conn.id in broken:
            raise ConnectionError("ping failed")
        return True

    async with Pool(Conn, max_size=2, check=check, acquire_timeout=5) as pool:
        first = await pool.acquire()
        broken.add(first.id)  # its connection dies while it is out
        await pool.release(first)  # idle now; the next acquire checks it and the check raises
        again = await pool.acquire()
        assert again is not first
        assert pool.stats().discarded == 1
        await pool.release(again)
    assert "health check raised" in caplog.text


async def test_a_reset_that_raises_drops_the_item_instead_of_reusing_it() -> None:
    def reset(conn: Conn) -> None:
        raise RuntimeError("cannot roll back")

    async with Pool(Conn, max_size=1, reset=reset, acquire_timeout=5) as pool:
        first = await pool.acquire()
        await pool.release(first)
        second = await pool.acquire()
        assert second is not first
        assert pool.stats().discarded == 1
        await pool.release(second)


async def test_items_are_closed_with_the_given_close_even_when_one_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    closed: list[int] = []

    def close(conn: Conn) -> None:
        closed.append(conn.id)
        if len(closed) == 1:
            raise OSError("socket already gone")

    pool: Pool[Conn] = Pool(Conn, min_size=0, max_size=2, close=close, acquire_timeout=5)
    async with pool:
        a = await pool.acquire()
        b = await pool.acquire()
        await pool.release(a, discard=True)  # its close raises: logged, the pool goes on
        await pool.release(b)
        assert pool.stats().size == 1
    assert sorted(closed) == sorted([a.id, b.id])
    assert "closing an item raised" in caplog.text


async def test_repr_reports_the_counts() -> None:
    async with Pool(Conn, max_size=3, name="db") as pool:
        item = await pool.acquire()
        text = repr(pool)
        assert "name='db'" in text and "in_use=1" in text and "max_size=3" in text
        await pool.release(item)
