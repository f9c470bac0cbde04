"""Async byte streams: a bounded pipe, chunked reading/writing, incremental decoding."""

from __future__ import annotations

import asyncio
import codecs
import inspect
import re
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.io._errors import IncompleteReadError, StreamClosedError

if TYPE_CHECKING:
    from types import TracebackType

__all__ = [
    "AsyncByteSource",
    "AsyncReadable",
    "AsyncWritable",
    "ChunkedReader",
    "ChunkedWriter",
    "Pipe",
    "decode_stream",
    "iter_text_lines",
    "rechunk",
]

DEFAULT_LIMIT = 64 * 1024

_NEWLINE = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    r"""Split *text* after each ``\n``, ``\r\n`` or ``\r`` (universal newlines), keeping them.

    Unlike :meth:`str.splitlines`, form feeds and Unicode separators are not
    line breaks, matching how Python reads text files.
    """
    out: list[str] = []
    pos = 0
    for match in _NEWLINE.finditer(text):
        out.append(text[pos : match.end()])
        pos = match.end()
    if pos < len(text):
        out.append(text[pos:])
    return out


def strip_newline(line: str) -> str:
    r"""Remove one trailing ``\n``, ``\r\n`` or ``\r``."""
    if line.endswith("\r\n"):
        return line[:-2]
    if line.endswith(("\n", "\r")):
        return line[:-1]
    return line


@runtime_checkable
class AsyncReadable(Protocol):
    """Anything with ``async read(n) -> bytes`` (``b""`` at the end)."""

    async def read(self, n: int = -1, /) -> bytes:
        """Read up to *n* bytes."""
        ...


@runtime_checkable
class AsyncWritable(Protocol):
    """Anything with ``write(data)`` (sync or async)."""

    def write(self, data: bytes, /) -> Any:
        """Write *data*."""
        ...


AsyncByteSource = AsyncReadable | AsyncIterable[bytes]
"""A source of bytes: an :class:`AsyncReadable` or an async iterable of bytes."""


def _positive(name: str, value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise InvalidArgumentError(
            f"{name} must be a positive integer",
            context={name: repr(value)},
            hint=f"Pass {name}=65536 or similar.",
        )
    return value


def _count(name: str, value: object, *, negative: bool = False) -> int:
    """A byte count argument: an int (``-1`` allowed where *negative*), never a bool."""
    if isinstance(value, bool) or not isinstance(value, int) or (value < 0 and not negative):
        raise InvalidArgumentError(
            f"{name} must be an int{'' if negative else ' >= 0'}, got {value!r:.80}",
            context={name: repr(value)[:80]},
            hint="Pass a number of bytes.",
        )
    return value


class Pipe:
    """A bounded in-memory byte pipe: writers wait while it is full (backpressure).

    ::

        pipe = Pipe(max_size=64 * 1024)
        await pipe.write(b"data")     # waits while 64 KiB are unread
        await pipe.close()            # readers see end-of-stream after the data
        async for chunk in pipe: ...

    One producer and one consumer is the typical use; several of each are
    safe (each write is appended whole-or-in-order, each read takes what is
    there; a reader woken by a write that another reader consumed first keeps
    waiting, so ``b""`` always means the end). A write larger than *max_size*
    is fed in as space frees up.
    :meth:`abort` makes readers raise an error instead of seeing a clean end.

    Args:
        max_size: The most unread bytes held before writers wait.
    """

    def __init__(self, max_size: int = DEFAULT_LIMIT) -> None:
        self.max_size = _positive("max_size", max_size)
        self._buffer = bytearray()
        self._closed = False
        self._error: BaseException | None = None
        # Readers wait for a change (a write, close or abort) and then re-check
        # their condition: one write may wake several readers but feed only one.
        self._read_waiters: list[asyncio.Future[None]] = []
        self._writable = asyncio.Event()
        self._writable.set()
        self._write_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return (
            f"Pipe(buffered={len(self._buffer)}, max_size={self.max_size}, closed={self._closed})"
        )

    def __len__(self) -> int:
        return len(self._buffer)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` or :meth:`abort` was called."""
        return self._closed

    def _changed(self) -> None:
        """Data arrived or the pipe closed: wake every waiting reader to re-check."""
        waiters, self._read_waiters = self._read_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._update()

    async def _wait_for_change(self) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._read_waiters.append(waiter)
        try:
            await waiter
        finally:
            if waiter in self._read_waiters:  # cancelled: not woken
                self._read_waiters.remove(waiter)

    def _update(self) -> None:
        if len(self._buffer) < self.max_size or self._closed:
            self._writable.set()
        else:
            self._writable.clear()

    async def write(self, data: bytes) -> None:
        """Append *data*, waiting for the reader whenever the pipe is full.

        Raises:
            StreamClosedError: The pipe was closed.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidArgumentError(
                f"Pipe.write needs bytes, got {type(data).__name__}",
                context={"type": type(data).__name__},
                hint="Encode text first (text.encode()).",
            )
        view = memoryview(data)
        async with self._write_lock:
            while view:
                self._check_writable()
                while len(self._buffer) >= self.max_size and not self._closed:
                    await self._writable.wait()  # re-checked after every wake-up
                self._check_writable()
                room = self.max_size - len(self._buffer)
                piece, view = view[:room], view[room:]
                self._buffer += piece
                self._changed()

    def _check_writable(self) -> None:
        if self._closed:
            raise StreamClosedError(
                "cannot write to a closed pipe",
                context={"buffered": len(self._buffer)},
                hint="Stop writing after close(); the reader has been told the stream ended.",
            )

    async def close(self) -> None:
        """Mark the end of the stream; readers get the remaining data, then ``b""``."""
        self._closed = True
        self._changed()

    def abort(self, error: BaseException | None = None) -> None:
        """Close the pipe so pending and future reads raise *error*, dropping buffered data."""
        self._error = error or StreamClosedError(
            "the pipe was aborted by its writer",
            hint="The producer failed; see the chained error if any.",
        )
        self._buffer.clear()
        self._closed = True
        self._changed()

    async def _wait_readable(self) -> None:
        """Wait until there is data or the stream ended (re-checked after every wake-up)."""
        while not self._buffer and not self._closed:
            await self._wait_for_change()
        if self._error is not None:
            raise self._error.with_traceback(None)  # one raise's frames, not every raise's

    async def read(self, n: int = -1) -> bytes:
        """Return up to *n* bytes (all buffered bytes when -1) once some are available.

        Returns ``b""`` only at the end of the stream.
        """
        _count("n", n, negative=True)
        await self._wait_readable()
        if n < 0 or n >= len(self._buffer):
            data = bytes(self._buffer)
            self._buffer.clear()
        else:
            data = bytes(self._buffer[:n])
            del self._buffer[:n]
        self._update()
        return data

    async def readexactly(self, n: int) -> bytes:
        """Return exactly *n* bytes.

        Raises:
            IncompleteReadError: The stream ended first (``.partial`` has what was read).
        """
        _count("n", n)
        parts = bytearray()
        try:
            while len(parts) < n:
                chunk = await self.read(n - len(parts))
                if not chunk:
                    raise IncompleteReadError(bytes(parts), n)
                parts += chunk
        except IncompleteReadError:
            raise
        except BaseException:  # cancelled half-way: put back what was taken, lose nothing
            if parts and self._error is None:
                self._buffer[:0] = parts
                self._changed()
            raise
        return bytes(parts)

    async def readuntil(self, separator: bytes = b"\n", *, limit: int | None = None) -> bytes:
        """Return the bytes up to and including *separator*.

        Raises:
            IncompleteReadError: The stream ended before the separator.
            InvalidArgumentError: More than *limit* bytes (default ``max_size``)
                arrived without a separator.
        """
        if not separator:
            raise InvalidArgumentError("separator must not be empty", hint="Pass b'\\n'.")
        limit = limit or self.max_size
        while True:
            index = self._buffer.find(separator)
            if index >= 0:
                end = index + len(separator)
                data = bytes(self._buffer[:end])
                del self._buffer[:end]
                self._update()
                return data
            if len(self._buffer) > limit or len(self._buffer) >= self.max_size:
                raise InvalidArgumentError(
                    f"no separator within {len(self._buffer)} bytes",
                    code="pepperpy.io.line_too_long",
                    context={"limit": limit, "separator": repr(separator)},
                    hint="Raise the pipe's max_size, or read with read().",
                )
            if self._closed:
                await self._wait_readable()
                raise IncompleteReadError(await self.read(), None)
            await self._wait_for_change()  # more data (or the end) before searching again
            if self._error is not None:
                raise self._error.with_traceback(None)  # one raise's frames, not every raise's

    async def readline(self) -> bytes:
        r"""Return one line including ``\n``; the last line may lack it; ``b""`` at the end."""
        try:
            return await self.readuntil(b"\n")
        except IncompleteReadError as exc:
            return exc.partial

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        while chunk := await self.read():
            yield chunk

    async def __aenter__(self) -> Pipe:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None and not isinstance(exc, asyncio.CancelledError):
            self.abort(exc)
        else:
            await self.close()


async def _source_chunks(source: AsyncByteSource, size: int) -> AsyncIterator[bytes]:
    if isinstance(source, AsyncReadable):
        while chunk := await source.read(size):
            yield chunk
    elif isinstance(source, AsyncIterable):
        async for chunk in source:
            if chunk:
                yield bytes(chunk)
    else:
        raise InvalidArgumentError(
            f"{type(source).__name__} is not an async byte source",
            context={"type": type(source).__name__},
            hint="Pass an object with 'async read(n)' or an async iterable of bytes.",
        )


class ChunkedReader:
    """Buffered reads over any async byte source (``async read(n)`` or an async iterable).

    Gives stream semantics to sources that only produce arbitrary chunks (an
    HTTP body iterator, a :class:`Pipe`, a socket reader)::

        reader = ChunkedReader(response.content.iter_any())
        header = await reader.readexactly(4)
        async for chunk in reader.iter_chunks(65536): ...

    Args:
        source: Where the bytes come from.
        chunk_size: How much to ask the source for at a time.
    """

    def __init__(self, source: AsyncByteSource, *, chunk_size: int = DEFAULT_LIMIT) -> None:
        self.chunk_size = _positive("chunk_size", chunk_size)
        # The source is called directly, never through a wrapping async
        # generator: a read cancelled while waiting would close such a wrapper
        # and every later read would see a false end of stream (lost data).
        self._source = source
        self._iter: AsyncIterator[Any] | None = (
            source.__aiter__()
            if not isinstance(source, AsyncReadable) and isinstance(source, AsyncIterable)
            else None
        )
        self._buffer = bytearray()
        self._eof = False

    async def _next_chunk(self) -> bytes:
        """The source's next non-empty chunk, or ``b""`` at its end."""
        if self._iter is not None:
            while True:
                try:
                    chunk = await self._iter.__anext__()
                except StopAsyncIteration:
                    return b""
                if chunk:
                    return bytes(chunk)
        if isinstance(self._source, AsyncReadable):
            return bytes(await self._source.read(self.chunk_size))
        raise InvalidArgumentError(
            f"{type(self._source).__name__} is not an async byte source",
            context={"type": type(self._source).__name__},
            hint="Pass an object with 'async read(n)' or an async iterable of bytes.",
        )

    async def _fill(self) -> bool:
        if self._eof:
            return False
        chunk = await self._next_chunk()
        if not chunk:
            self._eof = True
            return False
        self._buffer += chunk
        return True

    async def read(self, n: int = -1) -> bytes:
        """Return up to *n* bytes (everything until the end when -1); ``b""`` at the end."""
        if n < 0:
            while await self._fill():
                pass
            data = bytes(self._buffer)
            self._buffer.clear()
            return data
        if not self._buffer:
            await self._fill()
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        return data

    async def readexactly(self, n: int) -> bytes:
        """Return exactly *n* bytes or raise :class:`IncompleteReadError`."""
        while len(self._buffer) < n:
            if not await self._fill():
                partial = bytes(self._buffer)
                self._buffer.clear()
                raise IncompleteReadError(partial, n)
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        return data

    async def readuntil(self, separator: bytes = b"\n", *, limit: int = 1024 * 1024) -> bytes:
        """Return the bytes up to and including *separator*.

        Raises:
            IncompleteReadError: The source ended first.
            InvalidArgumentError: *limit* bytes arrived without the separator.
        """
        if not separator:
            raise InvalidArgumentError("separator must not be empty", hint="Pass b'\\n'.")
        start = 0
        while True:
            index = self._buffer.find(separator, start)
            if index >= 0:
                end = index + len(separator)
                data = bytes(self._buffer[:end])
                del self._buffer[:end]
                return data
            if len(self._buffer) > limit:
                raise InvalidArgumentError(
                    f"no separator within {limit} bytes",
                    code="pepperpy.io.line_too_long",
                    context={"limit": limit, "separator": repr(separator)},
                    hint="Raise limit=, or read with read()/iter_chunks().",
                )
            start = max(0, len(self._buffer) - len(separator) + 1)
            if not await self._fill():
                partial = bytes(self._buffer)
                self._buffer.clear()
                raise IncompleteReadError(partial, None)

    async def readline(self) -> bytes:
        r"""Return one line including ``\n``; the last may lack it; ``b""`` at the end."""
        try:
            return await self.readuntil(b"\n")
        except IncompleteReadError as exc:
            return exc.partial

    async def iter_chunks(self, size: int | None = None) -> AsyncIterator[bytes]:
        """Yield chunks of exactly *size* bytes (default ``chunk_size``); the last may be short."""
        size = _positive("size", size or self.chunk_size)
        while True:
            while len(self._buffer) < size and await self._fill():
                pass
            if not self._buffer:
                return
            data = bytes(self._buffer[:size])
            del self._buffer[:size]
            yield data

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.iter_chunks()

    async def aclose(self) -> None:
        """Close the underlying source iterator."""
        aclose = getattr(self._iter, "aclose", None)
        if aclose is not None:
            await aclose()


def rechunk(source: AsyncByteSource, size: int) -> AsyncIterator[bytes]:
    """Re-cut *source* into chunks of exactly *size* bytes (the last may be shorter)."""
    return ChunkedReader(source, chunk_size=size).iter_chunks(size)


class ChunkedWriter:
    """Collect small writes and pass them to *sink* in chunks of *chunk_size* bytes.

    *sink* is a sync or async ``write(data)`` callable or an object with a
    ``write`` method (an :class:`~pepperpy.io.AsyncFile`, a :class:`Pipe`, an
    ``asyncio.StreamWriter`` whose ``drain()`` is awaited after each chunk).

    ::

        async with ChunkedWriter(pipe, chunk_size=16384) as out:
            for row in rows:
                await out.write(row)      # flushed to the pipe 16 KiB at a time
    """

    def __init__(
        self,
        sink: AsyncWritable | Callable[[bytes], Any],
        *,
        chunk_size: int = DEFAULT_LIMIT,
    ) -> None:
        self.chunk_size = _positive("chunk_size", chunk_size)
        if callable(sink) and not hasattr(sink, "write"):
            self._write: Callable[[bytes], Any] = sink
            self._drain: Callable[[], Any] | None = None
        elif hasattr(sink, "write"):
            self._write = sink.write
            self._drain = getattr(sink, "drain", None)
        else:
            raise InvalidArgumentError(
                f"{type(sink).__name__} cannot be written to",
                context={"type": type(sink).__name__},
                hint="Pass an object with write(data) or a write function.",
            )
        self._buffer = bytearray()
        self._closed = False
        self.bytes_written = 0

    async def _emit(self, data: bytes) -> None:
        result = self._write(data)
        if inspect.isawaitable(result):
            await result
        if self._drain is not None:
            drained = self._drain()
            if inspect.isawaitable(drained):
                await drained
        self.bytes_written += len(data)

    async def write(self, data: bytes) -> None:
        """Buffer *data*; full chunks are passed on immediately."""
        if self._closed:
            raise StreamClosedError("cannot write to a closed ChunkedWriter", hint="Stop writing.")
        self._buffer += data
        while len(self._buffer) >= self.chunk_size:
            chunk = bytes(self._buffer[: self.chunk_size])
            del self._buffer[: self.chunk_size]
            await self._emit(chunk)

    async def flush(self) -> None:
        """Pass on whatever is buffered, even if shorter than a chunk."""
        if self._buffer:
            chunk = bytes(self._buffer)
            self._buffer.clear()
            await self._emit(chunk)

    async def aclose(self) -> None:
        """Flush and refuse further writes (the sink itself is not closed)."""
        if not self._closed:
            await self.flush()
            self._closed = True

    async def __aenter__(self) -> ChunkedWriter:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            await self.aclose()
        else:
            self._closed = True


async def decode_stream(
    source: AsyncByteSource | AsyncIterable[bytes],
    encoding: str = "utf-8",
    *,
    errors: str = "strict",
) -> AsyncIterator[str]:
    """Decode an async byte stream into text chunks, even when a character is split.

    A multi-byte character cut between two chunks is held back until its end
    arrives; the stream ending in the middle of one raises (or is replaced
    with ``errors="replace"``).

    Raises:
        InvalidArgumentError: The bytes are not valid *encoding*.
    """
    try:
        decoder = codecs.getincrementaldecoder(encoding)(errors)
    except LookupError as exc:
        raise InvalidArgumentError(
            f"unknown encoding {encoding!r}", context={"encoding": encoding}, hint="Use 'utf-8'."
        ) from exc
    position = 0
    try:
        async for chunk in _source_chunks(source, DEFAULT_LIMIT):
            text = decoder.decode(chunk)
            position += len(chunk)
            if text:
                yield text
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail
    except UnicodeDecodeError as exc:
        raise InvalidArgumentError(
            f"stream is not valid {encoding}: {exc.reason}",
            code="pepperpy.io.decode",
            context={"encoding": encoding, "near_byte": position},
            hint="Pass the right encoding, or errors='replace' to substitute bad bytes.",
        ) from exc


async def iter_text_lines(
    source: AsyncByteSource | AsyncIterable[bytes],
    encoding: str = "utf-8",
    *,
    errors: str = "strict",
    keepends: bool = False,
) -> AsyncIterator[str]:
    r"""Yield the text lines of an async byte stream (``\n``, ``\r\n`` or ``\r`` endings)."""
    pending = ""
    async for text in decode_stream(source, encoding, errors=errors):
        pending += text
        lines = split_lines(pending)
        pending = ""
        if lines and (lines[-1].endswith("\r") or not lines[-1].endswith(("\n", "\r"))):
            pending = lines.pop()
        for line in lines:
            yield line if keepends else strip_newline(line)
    if pending:
        yield pending if keepends else strip_newline(pending)
