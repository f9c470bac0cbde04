"""Tests for pepperpy.io._streams."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pepperpy.core import InvalidArgumentError
from pepperpy.io import (
    ChunkedReader,
    ChunkedWriter,
    IncompleteReadError,
    Pipe,
    StreamClosedError,
    decode_stream,
    iter_text_lines,
    rechunk,
)


async def agen(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        await asyncio.sleep(0)
        yield chunk


async def test_pipe_backpressure_blocks_writer_until_read() -> None:
    pipe = Pipe(max_size=4)
    await pipe.write(b"abcd")
    writer = asyncio.ensure_future(pipe.write(b"ef"))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not writer.done()  # full: the writer waits
    assert len(pipe) == 4
    assert await pipe.read(2) == b"ab"
    await writer
    assert await pipe.read() == b"cdef"


async def test_pipe_large_write_is_fed_in_pieces_and_eof() -> None:
    pipe = Pipe(max_size=3)
    payload = bytes(range(50))

    async def produce() -> None:
        async with pipe:
            await pipe.write(payload)

    producer = asyncio.ensure_future(produce())
    received = b"".join([chunk async for chunk in pipe])
    await producer
    assert received == payload
    assert await pipe.read() == b""
    with pytest.raises(StreamClosedError):
        await pipe.write(b"late")


async def test_pipe_lines_exact_reads_and_abort() -> None:
    pipe = Pipe()
    await pipe.write(b"one\ntwo\nrest")
    await pipe.close()
    assert await pipe.readline() == b"one\n"
    assert await pipe.readexactly(4) == b"two\n"
    with pytest.raises(IncompleteReadError) as info:
        await pipe.readexactly(10)
    assert info.value.partial == b"rest"

    broken = Pipe()
    reader = asyncio.ensure_future(broken.read())
    await asyncio.sleep(0)
    broken.abort(ValueError("producer died"))
    with pytest.raises(ValueError, match="producer died"):
        await reader
    with pytest.raises(InvalidArgumentError):
        await Pipe().write("text")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        Pipe(max_size=0)


async def test_pipe_readuntil_waits_for_more_data() -> None:
    pipe = Pipe()
    reader = asyncio.ensure_future(pipe.readuntil(b"\r\n"))
    await pipe.write(b"abc\r")
    await asyncio.sleep(0)
    assert not reader.done()
    await pipe.write(b"\nxyz")
    assert await reader == b"abc\r\n"


async def test_chunked_reader_over_iterator_and_readable() -> None:
    reader = ChunkedReader(agen(b"he", b"llo\nwor", b"ld"))
    assert await reader.readline() == b"hello\n"
    assert await reader.readexactly(3) == b"wor"
    assert await reader.read() == b"ld"
    assert await reader.read() == b""

    pipe = Pipe()
    await pipe.write(b"0123456789")
    await pipe.close()
    pieces = [c async for c in ChunkedReader(pipe, chunk_size=4)]
    assert pieces == [b"0123", b"4567", b"89"]

    short = ChunkedReader(agen(b"abc"))
    with pytest.raises(IncompleteReadError):
        await short.readuntil(b";")
    with pytest.raises(InvalidArgumentError):
        ChunkedReader(agen(), chunk_size=0)


async def test_chunked_reader_rejects_bad_source_and_long_lines() -> None:
    with pytest.raises(InvalidArgumentError):
        await ChunkedReader(42).read()  # type: ignore[arg-type]
    reader = ChunkedReader(agen(b"x" * 100))
    with pytest.raises(InvalidArgumentError, match="no separator"):
        await reader.readuntil(b"\n", limit=10)


@settings(max_examples=50, deadline=None)
@given(
    data=st.binary(max_size=300),
    cuts=st.lists(st.integers(1, 40), max_size=20),
    size=st.integers(1, 50),
)
def test_rechunk_preserves_bytes(data: bytes, cuts: list[int], size: int) -> None:
    pieces = []
    rest = data
    for cut in cuts:
        pieces.append(rest[:cut])
        rest = rest[cut:]
    pieces.append(rest)

    async def run() -> list[bytes]:
        return [c async for c in rechunk(agen(*pieces), size)]

    out = asyncio.run(run())
    assert b"".join(out) == data
    assert all(len(c) == size for c in out[:-1])


async def test_chunked_writer_batches_writes() -> None:
    sent: list[bytes] = []
    async with ChunkedWriter(sent.append, chunk_size=4) as out:
        for piece in (b"a", b"bc", b"defgh", b"i"):
            await out.write(piece)
        assert sent == [b"abcd", b"efgh"]
    assert sent == [b"abcd", b"efgh", b"i"]
    assert out.bytes_written == 9
    with pytest.raises(StreamClosedError):
        await out.write(b"x")

    pipe = Pipe()
    writer = ChunkedWriter(pipe, chunk_size=2)
    await writer.write(b"xyz")
    await writer.aclose()
    assert await pipe.read() == b"xyz"


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(max_size=60),
    cuts=st.lists(st.integers(1, 7), max_size=30),
    encoding=st.sampled_from(["utf-8", "utf-16", "utf-32", "latin-1"]),
)
def test_decode_stream_handles_split_characters(text: str, cuts: list[int], encoding: str) -> None:
    if encoding == "latin-1":
        text = text.encode("latin-1", "replace").decode("latin-1")
    raw = text.encode(encoding)
    pieces = []
    rest = raw
    for cut in cuts:
        pieces.append(rest[:cut])
        rest = rest[cut:]
    pieces.append(rest)

    async def run() -> str:
        return "".join([t async for t in decode_stream(agen(*pieces), encoding)])

    assert asyncio.run(run()) == text


async def test_decode_errors_and_lines() -> None:
    euro = "€".encode()
    with pytest.raises(InvalidArgumentError, match="not valid utf-8"):
        async for _ in decode_stream(agen(euro[:2])):
            pass
    replaced = [t async for t in decode_stream(agen(euro[:2]), errors="replace")]
    assert "".join(replaced) == "\ufffd"
    with pytest.raises(InvalidArgumentError, match="unknown encoding"):
        async for _ in decode_stream(agen(b"x"), "nope-enc"):
            pass
    lines = [
        line async for line in iter_text_lines(agen(b"a\r", b"\nb", euro[:1], euro[1:] + b"\rc"))
    ]
    assert lines == ["a", "b€", "c"]
