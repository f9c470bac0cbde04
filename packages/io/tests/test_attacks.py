"""Attacks from issue 18 (io: #13) that the old main failed (sweeps: test_concurrency.py).

#13: with two readers, one write woke both; one got the data and the other
got ``b""`` (end of stream) although the pipe was still open. Readers now
re-check after waking, as ``asyncio.StreamReader`` does (its readers loop on
``while not self._buffer and not self._eof: await self._wait_for_data(...)``).
"""

from __future__ import annotations

import asyncio

import pytest

from pepperpy.io import Pipe, StreamClosedError


async def _steps(n: int = 20) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def test_a_second_reader_does_not_see_a_false_end_of_stream() -> None:
    """issue 18 #13: one write, two waiting readers: the other keeps waiting."""
    pipe = Pipe()
    first = asyncio.ensure_future(pipe.read())
    second = asyncio.ensure_future(pipe.read())
    await _steps()
    await pipe.write(b"data")
    await _steps()
    done = [t for t in (first, second) if t.done()]
    assert [t.result() for t in done] == [b"data"]  # one got it, the other still waits
    waiting = second if first.done() else first
    await pipe.write(b"more")
    assert await waiting == b"more"
    await pipe.close()
    assert await pipe.read() == b""


@pytest.mark.parametrize("how", ["read", "readexactly", "readline", "iterate"])
async def test_every_read_form_waits_again_after_losing_the_race(how: str) -> None:
    """issue 18 #13: readexactly, readline and iteration re-check too."""
    pipe = Pipe()

    async def consume() -> bytes:
        if how == "read":
            return await pipe.read()
        if how == "readexactly":
            return await pipe.readexactly(4)
        if how == "readline":
            return await pipe.readline()
        async for chunk in pipe:
            return chunk
        return b""  # pragma: no cover - the end came first

    readers = [asyncio.ensure_future(consume()) for _ in range(3)]
    await _steps()
    await pipe.write(b"one\n")
    await _steps()
    assert sum(t.done() for t in readers) == 1
    await pipe.write(b"two\n")
    await _steps()  # read() takes everything buffered: one write per reader
    await pipe.write(b"tri\n")
    results = sorted(await asyncio.gather(*readers))
    assert results == sorted([b"one\n", b"two\n", b"tri\n"])


async def test_close_and_abort_wake_every_reader() -> None:
    """issue 18 #13: close() ends the stream for every waiting reader; abort() fails them all."""
    pipe = Pipe()
    readers = [asyncio.ensure_future(pipe.read()) for _ in range(3)]
    await _steps()
    await pipe.close()
    assert await asyncio.gather(*readers) == [b"", b"", b""]
    pipe = Pipe()
    readers = [asyncio.ensure_future(pipe.read()) for _ in range(3)]
    await _steps()
    pipe.abort()
    outcomes = await asyncio.gather(*readers, return_exceptions=True)
    assert all(isinstance(o, StreamClosedError) for o in outcomes), outcomes


async def test_writers_waiting_for_room_recheck_after_waking() -> None:
    """issue 18 #13 (the writer side): a woken writer only writes into real free room."""
    pipe = Pipe(max_size=4)
    await pipe.write(b"1234")
    writers = [asyncio.ensure_future(pipe.write(b"ab")) for _ in range(3)]
    await _steps()
    assert not any(w.done() for w in writers)
    received = bytearray()
    while len(received) < 10:
        received += await pipe.read()
        assert len(pipe) <= pipe.max_size
    await asyncio.gather(*writers)
    assert bytes(received) == b"1234ababab"
