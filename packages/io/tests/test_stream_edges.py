"""Stream behaviours at the edges: ends, limits, misuse (written with the coverage floor, issue 24).

Each test states what a reader or writer relies on; asyncio.StreamReader is the
peer for readuntil()/readexactly()/readline() semantics (IncompleteReadError
carries the partial data, readline() returns the last unterminated line).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from pepperpy.core import InvalidArgumentError
from pepperpy.io import (
    ChunkedReader,
    ChunkedWriter,
    IncompleteReadError,
    Pipe,
    StreamClosedError,
    rechunk,
)


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_pipe_readuntil_refuses_an_empty_separator_and_an_endless_line() -> None:
    pipe = Pipe(max_size=8)
    with pytest.raises(InvalidArgumentError, match="separator"):
        await pipe.readuntil(b"")
    await pipe.write(b"abcdefgh")  # max_size bytes, no separator
    with pytest.raises(InvalidArgumentError) as info:
        await pipe.readuntil(b"\n")
    assert info.value.code == "pepperpy.io.line_too_long"


async def test_pipe_ending_mid_line_gives_the_partial_line() -> None:
    pipe = Pipe()
    await pipe.write(b"one\ntwo")
    await pipe.close()
    assert await pipe.readline() == b"one\n"
    assert await pipe.readline() == b"two"  # the last line lacks its newline
    assert await pipe.readline() == b""
    again = Pipe()
    await again.write(b"tail")
    await again.close()
    with pytest.raises(IncompleteReadError) as info:
        await again.readuntil(b";")
    assert info.value.partial == b"tail" and info.value.expected is None


async def test_a_failing_writer_block_aborts_the_pipe_for_its_reader() -> None:
    """``async with pipe`` around a producer: its error reaches the reader, not a false end."""
    pipe = Pipe()
    with pytest.raises(RuntimeError):
        async with pipe:
            await pipe.write(b"half")
            raise RuntimeError("producer failed")
    assert pipe.closed and len(pipe) == 0  # buffered data is dropped
    with pytest.raises(RuntimeError, match="producer failed"):
        await pipe.read()
    with pytest.raises(StreamClosedError):
        await pipe.write(b"more")


async def test_not_a_byte_source_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="not an async byte source"):
        async for _ in rechunk(object(), 4):  # type: ignore[arg-type]
            pass
    with pytest.raises(InvalidArgumentError, match="not an async byte source"):
        await ChunkedReader(object()).read()  # type: ignore[arg-type]


async def test_chunked_reader_reads_to_the_end_and_reports_short_streams() -> None:
    reader = ChunkedReader(_chunks(b"ab", b"", b"cd", b"ef"))
    assert await reader.read(1) == b"a"
    assert await reader.read() == b"bcdef"  # -1: everything left
    assert await reader.read() == b""
    short = ChunkedReader(_chunks(b"abc"))
    with pytest.raises(IncompleteReadError) as info:
        await short.readexactly(5)
    assert info.value.partial == b"abc" and info.value.expected == 5
    lines = ChunkedReader(_chunks(b"x\ny"))
    assert await lines.readline() == b"x\n"
    assert await lines.readline() == b"y"
    with pytest.raises(InvalidArgumentError, match="separator"):
        await lines.readuntil(b"")


async def test_chunked_reader_aclose_closes_the_source_generator() -> None:
    closed: list[bool] = []

    async def source() -> AsyncIterator[bytes]:
        try:
            yield b"a"
            yield b"b"
        finally:
            closed.append(True)

    reader = ChunkedReader(source())
    assert await reader.read(1) == b"a"
    await reader.aclose()
    assert closed == [True]


class _AsyncSink:
    """A writer with async write() and drain(), as asyncio.StreamWriter has."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.drains = 0

    async def write(self, data: bytes) -> None:
        self.data += data

    async def drain(self) -> None:
        self.drains += 1


async def test_chunked_writer_awaits_an_async_sink_and_drains_after_each_chunk() -> None:
    sink = _AsyncSink()
    async with ChunkedWriter(sink, chunk_size=4) as writer:
        await writer.write(b"abcdefghij")
    assert bytes(sink.data) == b"abcdefghij"
    assert sink.drains == 3  # two full chunks, then the flushed rest
    assert writer.bytes_written == 10


async def test_chunked_writer_does_not_flush_after_a_failure() -> None:
    """An error inside the block leaves the partial chunk unwritten and the writer closed."""
    sink = _AsyncSink()
    with pytest.raises(RuntimeError):
        async with ChunkedWriter(sink, chunk_size=4) as writer:
            await writer.write(b"abcdef")
            raise RuntimeError("stop")
    assert bytes(sink.data) == b"abcd"
    with pytest.raises(StreamClosedError):
        await writer.write(b"x")


def test_chunked_writer_needs_a_sink() -> None:
    with pytest.raises(InvalidArgumentError, match="cannot be written to"):
        ChunkedWriter(42)  # type: ignore[arg-type]
