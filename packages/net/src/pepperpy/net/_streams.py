"""Streaming helpers: file chunks read off the event loop, progress, atomic file sinks."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from pathlib import Path
from typing import IO, Any

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.net._models import Body, Progress, ProgressCallback

__all__ = ["FileSink", "coerce_content", "file_chunks", "with_progress"]

CHUNK = 64 * 1024


async def file_chunks(
    path: str | os.PathLike[str], chunk_size: int = CHUNK
) -> AsyncIterator[bytes]:
    """Yield a file's bytes in chunks; every read runs in a worker thread."""
    handle: IO[bytes] = await asyncio.to_thread(open, path, "rb")
    try:
        while True:
            chunk = await asyncio.to_thread(handle.read, chunk_size)
            if not chunk:
                return
            yield chunk
    finally:
        await asyncio.to_thread(handle.close)


async def _from_sync(chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield bytes(chunk)


async def with_progress(
    source: AsyncIterable[bytes], total: int | None, callback: ProgressCallback
) -> AsyncIterator[bytes]:
    """Pass *source* through, calling *callback* after each chunk is handed on."""
    from pepperpy.core.utils import call_maybe_async

    done = 0
    async for chunk in source:
        yield chunk
        done += len(chunk)
        await call_maybe_async(callback, Progress(done, total))


def coerce_content(content: Any) -> tuple[Body, int | None]:
    """Turn what the caller passed as a body into bytes or an async iterable, plus its length."""
    if content is None:
        return None, None
    if isinstance(content, (bytes, bytearray, memoryview)):
        data = bytes(content)
        return data, len(data)
    if isinstance(content, str):
        data = content.encode()
        return data, len(data)
    if isinstance(content, Path):
        try:
            size = content.stat().st_size
        except OSError as exc:
            raise InvalidArgumentError(
                f"cannot upload {str(content)!r}: {exc.strerror}",
                code="pepperpy.net.invalid_body",
                context={"path": str(content)},
            ) from exc
        return file_chunks(content), size
    if isinstance(content, AsyncIterable):
        return content, None
    if isinstance(content, Iterable) and not isinstance(content, (dict, set)):
        return _from_sync(content), None
    raise InvalidArgumentError(
        f"cannot send a {type(content).__name__} as a request body",
        code="pepperpy.net.invalid_body",
        hint="Pass bytes, str, a pathlib.Path, or an (async) iterable of bytes; use json= "
        "for objects.",
    )


class FileSink:
    """Writes a download to a temporary file beside *path*, renamed into place on success.

    A failed or cancelled download leaves no partial file behind.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._handle: IO[bytes] | None = None
        self._tmp: str | None = None

    async def open(self) -> None:
        """Create the temporary file."""

        def _open() -> tuple[IO[bytes], str]:
            fd, name = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
            return os.fdopen(fd, "wb"), name

        self._handle, self._tmp = await asyncio.to_thread(_open)

    async def write(self, chunk: bytes) -> None:
        """Append *chunk* (in a worker thread)."""
        assert self._handle is not None
        await asyncio.to_thread(self._handle.write, chunk)

    async def commit(self) -> None:
        """Flush, close and atomically move the file into place."""
        handle, tmp = self._handle, self._tmp
        assert handle is not None
        assert tmp is not None

        def _commit() -> None:
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
            os.replace(tmp, self.path)

        await asyncio.to_thread(_commit)
        self._handle = self._tmp = None

    def discard(self) -> None:
        """Close and delete the temporary file (sync: safe in cleanup paths)."""
        handle, tmp = self._handle, self._tmp
        self._handle = self._tmp = None
        if handle is not None:
            handle.close()
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
