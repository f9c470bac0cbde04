"""Async file operations: one worker-thread hop per whole operation, atomic writes."""

from __future__ import annotations

import asyncio
import codecs
import contextvars
import functools
import json
import os
import secrets
import shutil
import stat as _stat
import sys
import threading
import weakref
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

from pepperpy.core.exceptions import InvalidArgumentError, safe_repr
from pepperpy.io._errors import StreamClosedError, check_path, translate_os_error
from pepperpy.io._streams import split_lines, strip_newline

if TYPE_CHECKING:
    from types import TracebackType

__all__ = [
    "AsyncFile",
    "append_bytes",
    "append_text",
    "atomic_open",
    "atomic_write_bytes",
    "copy",
    "exists",
    "iter_chunks",
    "iter_lines",
    "makedirs",
    "move",
    "open_file",
    "read_bytes",
    "read_json",
    "read_text",
    "remove",
    "run_sync",
    "stat",
    "walk",
    "write_bytes",
    "write_json",
    "write_text",
]

T = TypeVar("T")
StrPath = str | os.PathLike[str]

DEFAULT_CHUNK_SIZE = 64 * 1024


async def run_sync(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run ``fn(*args, **kwargs)`` in the default worker thread pool, with contextvars.

    The building block of this module: each public function does all of its
    blocking work in one call of this (one thread hop).
    """
    loop = asyncio.get_running_loop()
    ctx = contextvars.copy_context()
    call = functools.partial(ctx.run, fn, *args, **kwargs)
    return await loop.run_in_executor(None, call)


class _Coalescer:
    """Groups the small file operations started in one event-loop tick into few thread hops.

    ``gather(*(read_text(p) for p in paths))`` submits one operation per file;
    instead of one executor job each (a future, a queue hand-off and a wake-up
    per file), the operations queued during one loop iteration are split into
    at most ``_CHUNKS`` jobs run by the default executor, each resolving its
    futures with one callback. A lone call still costs exactly one hop.
    """

    _CHUNKS = 4

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.pending: list[tuple[Callable[[], Any], asyncio.Future[Any]]] = []

    def submit(self, fn: Callable[[], T]) -> asyncio.Future[T]:
        fut: asyncio.Future[T] = self.loop.create_future()
        if not self.pending:
            self.loop.call_soon(self.flush)
        self.pending.append((fn, fut))
        return fut

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        count = min(self._CHUNKS, len(pending))
        size = -(-len(pending) // count) if count else 0
        for start in range(0, len(pending), size or 1):
            chunk = pending[start : start + size]
            job = self.loop.run_in_executor(None, self._run_chunk, chunk)
            job.add_done_callback(functools.partial(self._job_done, chunk))

    @staticmethod
    def _run_chunk(
        chunk: list[tuple[Callable[[], Any], asyncio.Future[Any]]],
    ) -> list[tuple[bool, Any]]:
        out: list[tuple[bool, Any]] = []
        for fn, _ in chunk:
            try:
                out.append((True, fn()))
            except BaseException as exc:
                out.append((False, exc))
        return out

    @staticmethod
    def _job_done(
        chunk: list[tuple[Callable[[], Any], asyncio.Future[Any]]],
        job: asyncio.Future[list[tuple[bool, Any]]],
    ) -> None:
        if job.cancelled() or job.exception() is not None:
            error = asyncio.CancelledError() if job.cancelled() else job.exception()
            for _, fut in chunk:
                if not fut.done():
                    fut.set_exception(error)  # type: ignore[arg-type]
            return
        for (_, fut), (ok, value) in zip(chunk, job.result(), strict=True):
            if fut.done():
                continue
            if ok:
                fut.set_result(value)
            else:
                fut.set_exception(value)


_coalescers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Coalescer] = (
    weakref.WeakKeyDictionary()
)


def _file_op(fn: Callable[..., T], /, *args: Any) -> asyncio.Future[T]:
    """Run a short blocking file operation in a worker thread, coalesced with its neighbours."""
    loop = asyncio.get_running_loop()
    coalescer = _coalescers.get(loop)
    if coalescer is None:
        coalescer = _coalescers[loop] = _Coalescer(loop)
    ctx = contextvars.copy_context()
    return coalescer.submit(functools.partial(ctx.run, fn, *args))


def _guard(operation: str, path: StrPath, fn: Callable[[], T]) -> T:
    try:
        return fn()
    except OSError as exc:
        raise translate_os_error(exc, operation, path) from exc


# --------------------------------------------------------------------------- atomic write


def _fsync_dir(directory: str) -> None:
    if sys.platform == "win32":  # pragma: no cover - directories cannot be fsynced there
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: StrPath, data: bytes, *, fsync: bool = True) -> None:
    """Replace *path* with *data* atomically (synchronous; used by the async API).

    The data goes to a temporary file in the same directory, which is flushed,
    fsynced, given the target's permissions (or the umask default for a new
    file) and renamed over the target; then the directory is fsynced so the
    rename itself is durable. A crash at any point leaves either the old file
    or the new one, never a mix.
    """
    target = os.fspath(check_path(path))
    directory = os.path.dirname(os.path.abspath(target))
    tmp = os.path.join(directory, f".{os.path.basename(target)}.{secrets.token_hex(6)}.tmp")
    try:
        mode: int | None = _stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise translate_os_error(exc, "write", target) from exc
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as exc:
        raise translate_os_error(exc, "write", target, temp_file=tmp) from exc
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if fsync:
                os.fsync(fd)
            if mode is not None:
                os.chmod(tmp, mode)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise translate_os_error(exc, "write", target) from exc
        raise
    if fsync:
        try:
            _fsync_dir(directory)
        except OSError as exc:
            raise translate_os_error(exc, "fsync directory of", target) from exc


def _encode(text: str, encoding: str, errors: str, newline: str | None) -> bytes:
    if not isinstance(text, str):
        raise InvalidArgumentError(
            f"write_text needs a str, got {type(text).__name__}",
            context={"type": type(text).__name__},
            hint="Use write_bytes for bytes, or convert the value to str.",
        )
    if newline is not None and newline != "\n":
        text = text.replace("\n", newline)
    try:
        return text.encode(encoding, errors)
    except UnicodeEncodeError as exc:
        raise InvalidArgumentError(
            f"the text cannot be encoded as {encoding}: {exc.reason} at position {exc.start}",
            code="pepperpy.io.encode",
            context={"encoding": encoding, "position": exc.start},
            hint="Pass an encoding that can hold the text (utf-8 cannot hold lone "
            "surrogates), or errors='replace'.",
        ) from None
    except LookupError as exc:
        raise _unknown_codec(encoding, errors, exc) from None


def _unknown_codec(encoding: str, errors: str, exc: LookupError) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"unknown encoding or error handler: {exc}",
        code="pepperpy.io.unknown_encoding",
        context={"encoding": safe_repr(encoding), "errors": safe_repr(errors)},
        hint="Use a codec name such as 'utf-8' and an error handler such as 'strict' or 'replace'.",
    )


def _check_codec(encoding: str, errors: str) -> None:
    try:
        codecs.lookup(encoding)
        codecs.lookup_error(errors)
    except (LookupError, TypeError) as exc:
        raise _unknown_codec(encoding, errors, LookupError(str(exc))) from None


def _check_bytes(data: object) -> bytes:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data) if not isinstance(data, bytes) else data
    raise InvalidArgumentError(
        f"write_bytes needs bytes, got {type(data).__name__}",
        context={"type": type(data).__name__},
        hint="Use write_text for str, or encode the value first.",
    )


# --------------------------------------------------------------------------- whole-file ops


def _read_bytes_sync(path: StrPath) -> bytes:
    with open(path, "rb") as f:
        return f.read()


async def read_bytes(path: StrPath) -> bytes:
    """Return the whole content of *path* (open, read and close in one thread hop).

    Raises:
        PathNotFoundError: The file does not exist.
        FileOperationError: Any other OS failure (permission, is a directory ...).
    """
    check_path(path)
    return await _file_op(_guard, "read", path, functools.partial(_read_bytes_sync, path))


def _read_text_sync(path: StrPath, encoding: str, errors: str) -> str:
    with open(path, encoding=encoding, errors=errors) as f:
        return f.read()


async def read_text(path: StrPath, *, encoding: str = "utf-8", errors: str = "strict") -> str:
    """Return the text of *path*, decoded with *encoding* (universal newlines).

    Raises:
        PathNotFoundError: The file does not exist.
        FileOperationError: Any other OS failure.
        InvalidArgumentError: The content is not valid *encoding*.
    """
    check_path(path)
    _check_codec(encoding, errors)
    try:
        return await _file_op(
            _guard, "read", path, functools.partial(_read_text_sync, path, encoding, errors)
        )
    except UnicodeDecodeError as exc:
        raise InvalidArgumentError(
            f"{os.fspath(path)!r} is not valid {encoding}: {exc.reason} at byte {exc.start}",
            code="pepperpy.io.decode",
            context={"path": os.fspath(path), "encoding": encoding, "position": exc.start},
            hint="Pass the right encoding=..., or errors='replace' to substitute bad bytes.",
        ) from exc


def _write_sync(path: StrPath, data: bytes, atomic: bool, fsync: bool, mkdir: bool) -> None:
    if mkdir:
        parent = os.path.dirname(os.path.abspath(path))
        _guard("create directory", parent, lambda: os.makedirs(parent, exist_ok=True))
    if atomic:
        atomic_write_bytes(path, data, fsync=fsync)
        return

    def plain() -> None:
        with open(path, "wb") as f:
            f.write(data)
            if fsync:
                f.flush()
                os.fsync(f.fileno())

    _guard("write", path, plain)


async def write_bytes(
    path: StrPath,
    data: bytes,
    *,
    atomic: bool = True,
    fsync: bool = True,
    mkdir: bool = False,
) -> None:
    """Write *data* to *path*, atomically by default (see :func:`atomic_write_bytes`).

    Args:
        path: The file to write.
        data: The new content.
        atomic: Write a temporary file and rename it over *path*, so readers
            and crashes see the old or the new content, never a mix.
        fsync: Flush to the disk before returning (durability).
        mkdir: Create missing parent directories.
    """
    check_path(path)
    payload = _check_bytes(data)
    await _file_op(_write_sync, path, payload, atomic, fsync, mkdir)


async def write_text(
    path: StrPath,
    text: str,
    *,
    encoding: str = "utf-8",
    errors: str = "strict",
    newline: str | None = None,
    atomic: bool = True,
    fsync: bool = True,
    mkdir: bool = False,
) -> None:
    """Write *text* to *path* (encoded with *encoding*), atomically by default."""
    check_path(path)
    payload = _encode(text, encoding, errors, newline)
    await _file_op(_write_sync, path, payload, atomic, fsync, mkdir)


def _append_sync(path: StrPath, data: bytes, fsync: bool) -> None:
    def run() -> None:
        with open(path, "ab") as f:
            f.write(data)
            if fsync:
                f.flush()
                os.fsync(f.fileno())

    _guard("append to", path, run)


async def append_bytes(path: StrPath, data: bytes, *, fsync: bool = False) -> None:
    """Append *data* to *path* (created if missing) in one thread hop."""
    check_path(path)
    await _file_op(_append_sync, path, _check_bytes(data), fsync)


async def append_text(
    path: StrPath, text: str, *, encoding: str = "utf-8", fsync: bool = False
) -> None:
    """Append *text* to *path* (created if missing) in one thread hop."""
    check_path(path)
    await _file_op(_append_sync, path, _encode(text, encoding, "strict", None), fsync)


async def read_json(path: StrPath) -> Any:
    """Read and parse the JSON document in *path*.

    Raises:
        InvalidArgumentError: The file is not valid JSON (line and column given).
    """
    data = await read_bytes(path)
    try:
        return json.loads(data)
    except RecursionError:
        raise InvalidArgumentError(
            f"{os.fspath(path)!r} is nested too deeply to parse",
            code="pepperpy.io.bad_json",
            context={"path": os.fspath(path)},
            hint="Flatten the document; JSON nested thousands of levels deep is refused.",
        ) from None
    except json.JSONDecodeError as exc:
        raise InvalidArgumentError(
            f"{os.fspath(path)!r} is not valid JSON: {exc.msg}",
            code="pepperpy.io.bad_json",
            context={"path": os.fspath(path), "line": exc.lineno, "column": exc.colno},
            hint="Fix the JSON syntax at that position.",
        ) from exc
    except UnicodeDecodeError as exc:
        raise InvalidArgumentError(
            f"{os.fspath(path)!r} is not UTF-8 JSON",
            code="pepperpy.io.bad_json",
            context={"path": os.fspath(path), "position": exc.start},
            hint="JSON files must be UTF-8 encoded.",
        ) from exc
    except ValueError as exc:  # e.g. an integer past sys.get_int_max_str_digits()
        raise InvalidArgumentError(
            f"{os.fspath(path)!r} is not valid JSON: {exc}",
            code="pepperpy.io.bad_json",
            context={"path": os.fspath(path)},
            hint="Fix the value at fault (integers are limited to "
            "sys.get_int_max_str_digits() digits).",
        ) from exc


async def write_json(
    path: StrPath,
    value: Any,
    *,
    indent: int | None = 2,
    sort_keys: bool = False,
    atomic: bool = True,
    fsync: bool = True,
    mkdir: bool = False,
) -> None:
    """Serialize *value* as JSON and write it to *path*, atomically by default.

    Raises:
        InvalidArgumentError: *value* is not JSON-serializable (nothing is written).
    """
    check_path(path)
    try:
        text = json.dumps(value, indent=indent, sort_keys=sort_keys, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidArgumentError(
            f"value for {os.fspath(path)!r} is not JSON-serializable: {exc}",
            code="pepperpy.io.not_json",
            context={"path": os.fspath(path)},
            hint="Convert it to dicts, lists, str, numbers, bools and None first.",
        ) from exc
    payload = _encode(text + "\n", "utf-8", "strict", None)
    await _file_op(_write_sync, path, payload, atomic, fsync, mkdir)


# --------------------------------------------------------------------------- iteration


class _Prefetcher:
    """Reads blocks of a file in a worker thread, one block ahead of the consumer.

    The file is closed in the worker thread when the end is reached; if the
    consumer stops early (``break``, ``aclose()``, cancellation), it is closed
    as soon as the read in flight finishes, never while a thread still uses it.
    """

    def __init__(self, path: StrPath, block: Callable[[IO[bytes]], Any]) -> None:
        self.path = path
        self.block = block
        self.file: IO[bytes] | None = None
        self.lock = threading.Lock()

    def _open_and_read(self) -> Any:
        self.file = _guard("open", self.path, lambda: open(self.path, "rb"))  # noqa: SIM115
        return self._read()

    def _read(self) -> Any:
        file = self.file
        if file is None:
            return None
        try:
            result = _guard("read", self.path, lambda: self.block(file))
        except BaseException:
            self._close()
            raise
        if result is None:
            self._close()
        return result

    def _close(self) -> None:
        with self.lock:
            file, self.file = self.file, None
        if file is not None:
            file.close()

    def _close_later(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.file is None:
            return
        try:
            loop.run_in_executor(None, self._close)
        except RuntimeError:  # the loop is shutting down: close here, it is quick
            self._close()

    async def blocks(self) -> AsyncIterator[Any]:
        loop = asyncio.get_running_loop()
        pending = loop.run_in_executor(None, contextvars.copy_context().run, self._open_and_read)
        try:
            while True:
                # shield: a cancelled consumer must not mark the read done while it runs
                result = await asyncio.shield(pending)
                if result is None:
                    return
                # Read the next block while the consumer handles this one.
                pending = loop.run_in_executor(None, self._read)
                yield result
        finally:
            if pending.done():
                if not pending.cancelled():
                    pending.exception()  # retrieved: the error (if any) was raised above
                self._close_later(loop)
            else:
                pending.add_done_callback(lambda fut: self._finished(fut, loop))

    def _finished(self, fut: asyncio.Future[Any], loop: asyncio.AbstractEventLoop) -> None:
        if not fut.cancelled():
            fut.exception()  # nobody awaits it any more; do not warn about it
        self._close_later(loop)


async def iter_chunks(
    path: StrPath, chunk_size: int = DEFAULT_CHUNK_SIZE, *, read_ahead: int = 4
) -> AsyncIterator[bytes]:
    """Yield the bytes of *path* in chunks of *chunk_size* (the last may be shorter).

    Each thread hop reads *read_ahead* chunks, and the next hop runs while the
    caller processes the current ones, so at most ``2 * read_ahead`` chunks
    are held in memory.
    """
    check_path(path)
    _check_positive(chunk_size=chunk_size, read_ahead=read_ahead)

    def block(f: IO[bytes]) -> list[bytes] | None:
        out: list[bytes] = []
        for _ in range(read_ahead):
            data = f.read(chunk_size)
            if not data:
                break
            out.append(data)
        return out or None

    async for chunks in _Prefetcher(path, block).blocks():
        for chunk in chunks:
            yield chunk


async def iter_lines(
    path: StrPath,
    *,
    encoding: str = "utf-8",
    errors: str = "strict",
    keepends: bool = False,
    block_size: int = 256 * 1024,
) -> AsyncIterator[str]:
    """Yield the lines of the text file *path*, decoded incrementally.

    Reading, decoding and splitting happen in the worker thread, *block_size*
    bytes per hop, with one block of read-ahead; a multi-byte character split
    between blocks is decoded correctly.
    """
    check_path(path)
    _check_positive(block_size=block_size)
    _check_codec(encoding, errors)
    decoder = codecs.getincrementaldecoder(encoding)(errors)
    carry = [""]

    def block(f: IO[bytes]) -> list[str] | None:
        data = f.read(block_size)
        final = not data
        text = carry[0] + decoder.decode(data, final=final)
        if final:
            carry[0] = ""
            if not text:
                return None
            tail = split_lines(text)
            return tail if keepends else [strip_newline(line) for line in tail]
        lines = split_lines(text)
        # The last piece may be an unfinished line (or a "\r" whose "\n" follows).
        last = lines.pop() if lines else ""
        if last.endswith("\r") or not last.endswith(("\n", "\r")):
            carry[0] = last
        else:
            lines.append(last)
            carry[0] = ""
        if not keepends:
            lines = [strip_newline(line) for line in lines]
        return lines

    try:
        async for lines in _Prefetcher(path, block).blocks():
            for line in lines:
                yield line
    except UnicodeDecodeError as exc:
        raise InvalidArgumentError(
            f"{os.fspath(path)!r} is not valid {encoding}: {exc.reason}",
            code="pepperpy.io.decode",
            context={"path": os.fspath(path), "encoding": encoding},
            hint="Pass the right encoding=..., or errors='replace'.",
        ) from exc


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if not isinstance(value, int) or value <= 0:
            raise InvalidArgumentError(
                f"{name} must be a positive integer",
                context={name: repr(value)},
                hint=f"Pass {name}=65536 or similar.",
            )


# --------------------------------------------------------------------------- directories


def _scan(directory: str) -> tuple[list[str], list[str]]:
    dirs: list[str] = []
    files: list[str] = []
    with os.scandir(directory) as it:
        for entry in it:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            (dirs if is_dir else files).append(entry.name)
    dirs.sort()
    files.sort()
    return dirs, files


async def walk(
    root: StrPath, *, pattern: str | None = None, include_dirs: bool = False
) -> AsyncIterator[Path]:
    """Yield every file under *root* (depth first, sorted, symlinked dirs not followed).

    One thread hop per directory. *pattern* filters names with
    :meth:`pathlib.PurePath.match` (e.g. ``"*.json"``); *include_dirs* also
    yields the directories.
    """
    stack = [os.fspath(check_path(root, "root"))]
    while stack:
        current = stack.pop()
        dirs, files = await run_sync(_guard, "list", current, functools.partial(_scan, current))
        for name in files + (dirs if include_dirs else []):
            candidate = Path(current, name)
            if pattern is None or candidate.match(pattern):
                yield candidate
        stack.extend(os.path.join(current, d) for d in reversed(dirs))


async def makedirs(path: StrPath, *, exist_ok: bool = True) -> None:
    """Create *path* and its missing parents."""
    check_path(path)
    await run_sync(_guard, "create directory", path, lambda: os.makedirs(path, exist_ok=exist_ok))


async def exists(path: StrPath) -> bool:
    """Whether *path* exists."""
    return await _file_op(os.path.exists, path)


async def stat(path: StrPath) -> os.stat_result:
    """Return :func:`os.stat` of *path*."""
    check_path(path)
    return await _file_op(_guard, "stat", path, lambda: os.stat(path))


def _remove_sync(path: StrPath, missing_ok: bool) -> None:
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    except FileNotFoundError:
        if not missing_ok:
            raise


async def remove(path: StrPath, *, missing_ok: bool = False) -> None:
    """Remove a file, a symlink or a whole directory tree."""
    check_path(path)
    await _file_op(_guard, "remove", path, functools.partial(_remove_sync, path, missing_ok))


def _copy_sync(src: StrPath, dst: StrPath, overwrite: bool) -> None:
    if not overwrite and os.path.lexists(dst):
        raise FileExistsError(17, "target exists", os.fspath(dst))
    if os.path.isdir(src):
        shutil.copytree(src, dst, dirs_exist_ok=overwrite)
    else:
        shutil.copy2(src, dst)


async def copy(src: StrPath, dst: StrPath, *, overwrite: bool = False) -> None:
    """Copy a file (with metadata) or a directory tree to *dst* in one thread hop."""
    check_path(src, "src")
    check_path(dst, "dst")
    await run_sync(_guard, "copy", src, functools.partial(_copy_sync, src, dst, overwrite))


def _move_sync(src: StrPath, dst: StrPath, overwrite: bool) -> None:
    if not overwrite and os.path.lexists(dst):
        raise FileExistsError(17, "target exists", os.fspath(dst))
    shutil.move(os.fspath(src), os.fspath(dst))


async def move(src: StrPath, dst: StrPath, *, overwrite: bool = False) -> None:
    """Move (rename, or copy then delete across devices) *src* to *dst*."""
    check_path(src, "src")
    check_path(dst, "dst")
    await run_sync(_guard, "move", src, functools.partial(_move_sync, src, dst, overwrite))


# --------------------------------------------------------------------------- file objects


class AsyncFile:
    """An open file whose methods run in the worker thread pool (one hop per call).

    Prefer the whole-file functions (:func:`read_text`, :func:`iter_lines` ...)
    which cost one hop per operation; use this when you need ``seek`` or
    incremental writes. Obtain one with :func:`open_file` or
    :func:`~pepperpy.io.temp_file`.
    """

    def __init__(self, raw: IO[Any], path: StrPath) -> None:
        self._raw = raw
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"AsyncFile({str(self.path)!r}, mode={getattr(self._raw, 'mode', '?')!r})"

    @property
    def raw(self) -> IO[Any]:
        """The underlying synchronous file object."""
        return self._raw

    @property
    def closed(self) -> bool:
        """Whether the file is closed."""
        return bool(self._raw.closed)

    async def _call(self, operation: str, fn: Callable[[], T]) -> T:
        if self._raw.closed:
            raise StreamClosedError(
                f"file {str(self.path)!r} is closed",
                context={"path": str(self.path), "operation": operation},
                hint="Open it again with open_file().",
            )
        return await run_sync(_guard, operation, self.path, fn)

    async def read(self, size: int = -1) -> Any:
        """Read up to *size* bytes/characters (all when -1)."""
        return await self._call("read", lambda: self._raw.read(size))

    async def readline(self) -> Any:
        """Read one line."""
        return await self._call("read", self._raw.readline)

    async def write(self, data: Any) -> int:
        """Write *data*; returns the count written."""
        return await self._call("write", lambda: self._raw.write(data))

    async def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Move the file position."""
        return await self._call("seek", lambda: self._raw.seek(offset, whence))

    async def tell(self) -> int:
        """Return the file position."""
        return await self._call("tell", self._raw.tell)

    async def truncate(self, size: int | None = None) -> int:
        """Truncate the file to *size* (the current position by default)."""
        return await self._call("truncate", lambda: self._raw.truncate(size))

    async def flush(self, *, fsync: bool = False) -> None:
        """Flush Python's buffer, and the OS cache to disk when *fsync*."""

        def run() -> None:
            self._raw.flush()
            if fsync:
                os.fsync(self._raw.fileno())

        await self._call("flush", run)

    async def close(self) -> None:
        """Close the file (idempotent)."""
        if not self._raw.closed:
            await run_sync(self._raw.close)

    async def aclose(self) -> None:
        """Alias of :meth:`close`."""
        await self.close()

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._lines()

    async def _lines(self) -> AsyncIterator[Any]:
        while True:
            batch = await self._call("read", lambda: self._raw.readlines(64 * 1024))
            if not batch:
                return
            for line in batch:
                yield line

    async def __aenter__(self) -> AsyncFile:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class _OpenFile:
    """``await open_file(...)`` or ``async with open_file(...) as f``."""

    def __init__(self, path: StrPath, mode: str, kwargs: dict[str, Any]) -> None:
        self._path = path
        self._mode = mode
        self._kwargs = kwargs
        self._file: AsyncFile | None = None

    async def _open(self) -> AsyncFile:
        def opener() -> IO[Any]:
            try:
                return open(self._path, self._mode, **self._kwargs)
            except ValueError as exc:  # a mode open() refuses, such as "rw"
                raise InvalidArgumentError(
                    f"cannot open {os.fspath(self._path)!r} with mode {self._mode!r}: {exc}",
                    code="pepperpy.io.invalid_mode",
                    context={"mode": self._mode},
                    hint="Use a mode such as 'r', 'rb', 'w', 'a' or 'r+b'.",
                ) from None

        raw = await run_sync(_guard, "open", self._path, opener)
        return AsyncFile(raw, self._path)

    def __await__(self) -> Any:
        return self._open().__await__()

    async def __aenter__(self) -> AsyncFile:
        self._file = await self._open()
        return self._file

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._file is not None:
            await self._file.close()


def open_file(
    path: StrPath,
    mode: str = "r",
    *,
    encoding: str | None = None,
    errors: str | None = None,
    newline: str | None = None,
    buffering: int = -1,
) -> _OpenFile:
    """Open *path* as an :class:`AsyncFile`, usable with ``async with``.

    ``f = await open_file(p)`` works too (then ``await f.close()``).
    """
    check_path(path)
    if not isinstance(mode, str) or not set(mode) <= set("rwaxbt+") or not mode:
        raise InvalidArgumentError(
            f"invalid file mode {safe_repr(mode)}",
            code="pepperpy.io.invalid_mode",
            context={"mode": safe_repr(mode)},
            hint="Use a mode such as 'r', 'rb', 'w', 'a' or 'r+b'.",
        )
    if "b" not in mode and encoding is None:
        encoding = "utf-8"
    if "b" not in mode:
        _check_codec(encoding or "utf-8", errors or "strict")
    kwargs: dict[str, Any] = {"buffering": buffering}
    if "b" not in mode:
        kwargs.update(encoding=encoding, errors=errors, newline=newline)
    return _OpenFile(path, mode, kwargs)


class _AtomicOpen:
    """The context manager returned by :func:`atomic_open`."""

    def __init__(self, path: StrPath, mode: str, encoding: str | None, fsync: bool) -> None:
        if mode not in ("w", "wb", "wt"):
            raise InvalidArgumentError(
                f"atomic_open supports the modes 'w' and 'wb', not {mode!r}",
                context={"mode": mode},
                hint="Use 'wb' for bytes or 'w' for text.",
            )
        self._path = os.fspath(check_path(path))
        self._mode = mode
        self._encoding = encoding or "utf-8"
        if "b" not in mode:
            _check_codec(self._encoding, "strict")
        self._fsync = fsync
        directory = os.path.dirname(os.path.abspath(self._path))
        self._directory = directory
        name = f".{os.path.basename(self._path)}.{secrets.token_hex(6)}.tmp"
        self._tmp = os.path.join(directory, name)
        self._file: AsyncFile | None = None

    def _open(self) -> IO[Any]:
        fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        if "b" in self._mode:
            return os.fdopen(fd, "wb")
        return os.fdopen(fd, "w", encoding=self._encoding)

    async def __aenter__(self) -> AsyncFile:
        raw = await run_sync(_guard, "write", self._path, self._open)
        self._file = AsyncFile(raw, self._path)
        return self._file

    def _commit(self, raw: IO[Any]) -> None:
        try:
            raw.flush()
            if self._fsync:
                os.fsync(raw.fileno())
            raw.close()
            try:
                mode = _stat.S_IMODE(os.stat(self._path).st_mode)
            except FileNotFoundError:
                pass
            else:
                os.chmod(self._tmp, mode)
            os.replace(self._tmp, self._path)
        except BaseException:
            self._discard(raw)
            raise
        if self._fsync:
            _fsync_dir(self._directory)

    def _discard(self, raw: IO[Any]) -> None:
        try:
            raw.close()
        except OSError:
            pass
        try:
            os.unlink(self._tmp)
        except OSError:
            pass

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._file is not None
        raw = self._file.raw
        if exc is None:
            await run_sync(_guard, "write", self._path, functools.partial(self._commit, raw))
        else:
            await asyncio.shield(run_sync(self._discard, raw))


def atomic_open(
    path: StrPath, mode: str = "wb", *, encoding: str | None = None, fsync: bool = True
) -> _AtomicOpen:
    """Stream a new version of *path*; it replaces the old one only on success.

    ::

        async with atomic_open("report.csv", "w") as f:
            for row in rows:
                await f.write(row)

    Writes go to a temporary file in the same directory; a clean exit fsyncs
    and renames it over *path*; an exception (or a crash, or ``kill -9``)
    leaves the old *path* untouched and the temporary file is removed
    (a crash may leave a ``.<name>.<random>.tmp`` file behind).
    """
    return _AtomicOpen(path, mode, encoding, fsync)
