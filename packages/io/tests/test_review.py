"""Hostile review of pepperpy-io (after issue 18 #13): only PepperPyError escapes.

Attacks every whole-file function with paths holding a NUL byte or a lone
surrogate and with non-path objects (raw ValueError, UnicodeEncodeError and
TypeError escaped), text with lone surrogates and unknown encodings (raw
UnicodeEncodeError / LookupError), JSON nested 100,000 deep or with a
5,000-digit integer (raw RecursionError / ValueError), and FileLock with NaN,
str and bool timeouts and poll intervals (a NaN poll interval was accepted).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import pepperpy.io as pio
from pepperpy.core.exceptions import InvalidArgumentError

_BAD_PATHS: list[Any] = ["a\x00b", "\ud800.txt", 3.5, None, b"a\x00b"]


def _calls(path: Any, other: Path) -> list[Callable[[], Awaitable[Any]]]:
    return [
        lambda: pio.read_bytes(path),
        lambda: pio.read_text(path),
        lambda: pio.read_json(path),
        lambda: pio.write_bytes(path, b"x"),
        lambda: pio.write_text(path, "x"),
        lambda: pio.write_json(path, {}),
        lambda: pio.append_bytes(path, b"x"),
        lambda: pio.append_text(path, "x"),
        lambda: pio.stat(path),
        lambda: pio.makedirs(path),
        lambda: pio.remove(path),
        lambda: pio.copy(path, other),
        lambda: pio.copy(other, path),
        lambda: pio.move(path, other),
        lambda: pio.iter_chunks(path).__anext__(),
        lambda: pio.iter_lines(path).__anext__(),
        lambda: pio.walk(path).__anext__(),
        lambda: pio.open_file(path).__aenter__(),
        lambda: pio.atomic_open(path).__aenter__(),
    ]


@pytest.mark.parametrize("path", _BAD_PATHS, ids=repr)
async def test_bad_paths_are_invalid_arguments(tmp_path: Path, path: Any) -> None:
    """Every function taking a path refuses NUL bytes, lone surrogates and non-paths."""
    other = tmp_path / "other.txt"
    other.write_text("x")
    escaped = []
    for index, call in enumerate(_calls(path, other)):
        try:
            await call()
        except InvalidArgumentError:
            continue
        except BaseException as exc:  # counted, then asserted below
            escaped.append((index, type(exc).__name__))
        else:
            escaped.append((index, "no error"))
    assert escaped == []
    assert other.read_text() == "x"


@pytest.mark.parametrize("path", _BAD_PATHS, ids=repr)
def test_sync_atomic_write_and_lock_refuse_bad_paths(path: Any) -> None:
    """atomic_write_bytes (sync) and FileLock take paths too."""
    with pytest.raises(InvalidArgumentError):
        pio.atomic_write_bytes(path, b"x")
    with pytest.raises(InvalidArgumentError):
        pio.FileLock(path)


async def test_text_that_cannot_be_encoded(tmp_path: Path) -> None:
    """A lone surrogate in text, or an unknown encoding, is an InvalidArgumentError."""
    target = tmp_path / "t.txt"
    target.write_text("old")
    for call in (
        lambda: pio.write_text(target, "x\ud800"),
        lambda: pio.append_text(target, "x\ud800"),
        lambda: pio.write_json(target, {"k": "\ud800"}),
        lambda: pio.write_text(target, "x", encoding="no-such-codec"),
        lambda: pio.write_text(target, "\xe9", encoding="ascii", errors="no-such-handler"),
        lambda: pio.read_text(target, encoding="no-such-codec"),
        lambda: pio.iter_lines(target, encoding="no-such-codec").__anext__(),
        lambda: pio.open_file(target, encoding="no-such-codec").__aenter__(),
        lambda: pio.open_file(target, "rw").__aenter__(),
        lambda: pio.atomic_open(target, "w", encoding="no-such-codec").__aenter__(),
    ):
        with pytest.raises(InvalidArgumentError):
            await call()
    assert target.read_text() == "old"  # nothing was written


async def test_hostile_json_documents(tmp_path: Path) -> None:
    """Deep nesting and over-long integers in a JSON file are InvalidArgumentErrors."""
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    digits = tmp_path / "digits.json"
    digits.write_text("1" * 5000)
    for path in (deep, digits):
        with pytest.raises(InvalidArgumentError):
            await pio.read_json(path)


async def test_writing_a_too_deep_value_as_json(tmp_path: Path) -> None:
    """A value nested 100,000 deep is refused (it was a raw RecursionError); nothing is written."""
    value: list[Any] = []
    cursor = value
    for _ in range(100_000):
        cursor.append([])
        cursor = cursor[0]
    target = tmp_path / "deep.json"
    with pytest.raises(InvalidArgumentError):
        await pio.write_json(target, value)
    assert not target.exists()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"timeout": math.nan},
        {"timeout": "1"},
        {"timeout": True},
        {"poll_interval": math.nan},
        {"poll_interval": math.inf},
        {"poll_interval": "0.1"},
        {"poll_interval": 0},
    ],
    ids=repr,
)
def test_file_lock_refuses_bad_numbers(tmp_path: Path, kwargs: dict[str, Any]) -> None:
    """FileLock's timeout and poll interval are real numbers (NaN made the poll loop spin)."""
    with pytest.raises(InvalidArgumentError):
        pio.FileLock(tmp_path / "lock", **kwargs)


# --------------------------------------------------------------------------- Pipe


async def test_cancelled_readexactly_loses_no_bytes() -> None:
    """Pipe.readexactly cancelled after taking part of its bytes used to drop them.

    asyncio.StreamReader.readexactly consumes nothing until it has *n* bytes,
    so a cancelled call (a timeout around it) loses nothing; the Pipe now puts
    what it took back in front of the buffer.
    """
    import asyncio

    pipe = pio.Pipe(max_size=16)
    await pipe.write(b"ab")
    reader = asyncio.ensure_future(pipe.readexactly(4))
    for _ in range(1000):  # until the reader took b"ab" and waits for more (a state)
        if not len(pipe):
            break
        await asyncio.sleep(0)
    assert not len(pipe) and not reader.done()
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    await pipe.write(b"cd")
    await pipe.close()
    assert await pipe.read() == b"abcd"


async def test_abort_error_traceback_does_not_grow_per_read() -> None:
    """issue 18 #6's class in io: the abort error raised to every read kept every raise's frames."""
    import asyncio
    import traceback

    pipe = pio.Pipe()
    pipe.abort()
    depths = []
    for _ in range(200):
        try:
            await asyncio.wait_for(pipe.read(), 30)
        except pio.StreamClosedError as exc:
            depths.append(len(traceback.extract_tb(exc.__traceback__)))
    assert len(depths) == 200
    assert depths[-1] <= depths[0] + 2


@pytest.mark.parametrize("n", [1.5, "3", None, True], ids=repr)
async def test_pipe_read_sizes_are_ints(n: Any) -> None:
    """read(n) with a non-int raised a raw TypeError from the slice."""
    pipe = pio.Pipe()
    await pipe.write(b"abc")
    with pytest.raises(InvalidArgumentError):
        await pipe.read(n)
    with pytest.raises(InvalidArgumentError):
        await pipe.readexactly(n)
    assert await pipe.read() == b"abc"


async def test_cancelled_chunked_reader_read_is_not_a_false_end_of_stream() -> None:
    """A ChunkedReader read cancelled while its source waited used to end the stream.

    The reader pulled from an async generator wrapped around the source; the
    cancellation closed that generator, so every later read returned ``b""``
    although the source (here a Pipe) still had data coming: silent truncation.
    """
    import asyncio

    pipe = pio.Pipe()
    reader = pio.ChunkedReader(pipe)
    waiting = asyncio.ensure_future(reader.read(3))
    for _ in range(1000):  # until it waits inside the pipe (a state)
        if pipe._read_waiters:
            break
        await asyncio.sleep(0)
    assert pipe._read_waiters and not waiting.done()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await pipe.write(b"abc")
    await pipe.close()
    assert await reader.read() == b"abc"


@pytest.mark.parametrize("part", ["\ud800", "ok/\udfff/x", "a\x00b"], ids=repr)
def test_safe_join_refuses_unencodable_parts(tmp_path: Path, part: str) -> None:
    """safe_join is for untrusted input: a lone surrogate raised a raw UnicodeEncodeError.

    It is refused like a NUL byte (PathTraversalError: reject the request);
    is_within answers False for such a path instead of raising.
    """
    with pytest.raises(pio.PathTraversalError):
        pio.safe_join(tmp_path, part)
    assert pio.is_within(str(tmp_path) + "/" + part, tmp_path) is False
