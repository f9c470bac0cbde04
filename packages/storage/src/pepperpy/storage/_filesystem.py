"""The filesystem backend: one file per key, atomic writes, a cross-process lock."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote, unquote

from pepperpy.core.exceptions import PepperPyError
from pepperpy.io import FileLock, atomic_write_bytes, run_sync
from pepperpy.storage._backend import Backend
from pepperpy.storage._errors import StorageError, from_os_error
from pepperpy.storage._model import Record, WriteOp, apply_op

__all__ = ["FilesystemBackend"]

T = TypeVar("T")

_SCHEMA = 1
_MAX_NAME = 200


def _atomic(path: Path, data: bytes, *, fsync: bool) -> None:
    try:
        atomic_write_bytes(path, data, fsync=fsync)
    except PepperPyError as exc:
        cause = exc.__cause__
        if isinstance(cause, OSError):
            raise from_os_error(cause, "write", str(path)) from cause
        raise


def _file_name(key: str) -> str:
    encoded = quote(key, safe="")
    if len(encoded) <= _MAX_NAME and not encoded.startswith((".", "~")):
        return encoded
    return "~" + hashlib.sha256(key.encode("utf-8")).hexdigest()


class _FileRows:
    def __init__(self, backend: FilesystemBackend) -> None:
        self.backend = backend

    def read(self, key: str) -> Record | None:
        return self.backend._read_file(self.backend._items / _file_name(key))

    def write(self, record: Record) -> None:
        header = json.dumps(
            {"key": record.key, "version": record.version, "expires_at": record.expires_at},
            ensure_ascii=False,
        ).encode("utf-8")
        target = self.backend._items / _file_name(record.key)
        _atomic(target, header + b"\n" + record.value, fsync=self.backend.fsync)

    def remove(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.backend._items / _file_name(key))


class FilesystemBackend(Backend):
    """Stores each key in its own file under a directory; easy to inspect and back up.

    Every file is written atomically (temp file, fsync, rename), so a crash
    never leaves a torn value. Writes take a cross-process
    :class:`~pepperpy.io.FileLock`, so several processes can share the
    directory. A multi-key transaction is isolated but, unlike SQLite, not
    crash-atomic: a crash in the middle can leave some of its keys written.
    Scans list the directory, so this backend suits thousands of keys, not
    millions; use SQLite for that.

    Args:
        directory: Where the files go (created when missing).
        fsync: Sync each write to disk (durability) before returning.
    """

    name: ClassVar[str] = "filesystem"

    def __init__(self, directory: str | os.PathLike[str], *, fsync: bool = True) -> None:
        self.directory = Path(directory)
        self.fsync = fsync
        self._items = self.directory / "items"
        self._lock = FileLock(self.directory / ".lock", timeout=30)
        self._thread_lock = threading.Lock()

    @classmethod
    def from_options(cls, *, name: str, data_dir: Path, **options: Any) -> FilesystemBackend:
        """Use the directory ``<data_dir>/<name>/``."""
        return cls(Path(data_dir) / name, **options)

    @property
    def location(self) -> str:
        """The store's directory."""
        return str(self.directory)

    def __repr__(self) -> str:
        return f"FilesystemBackend({str(self.directory)!r})"

    def _guard(self, operation: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except OSError as exc:
            raise from_os_error(exc, operation, str(self.directory)) from exc

    def _open_sync(self) -> None:
        self._items.mkdir(parents=True, exist_ok=True)
        meta = self.directory / "pepperpy-storage.json"
        try:
            found = json.loads(meta.read_text("utf-8")).get("schema_version", 0)
        except FileNotFoundError:
            _atomic(meta, json.dumps({"schema_version": _SCHEMA}).encode(), fsync=True)
            return
        except ValueError as exc:
            raise StorageError(
                f"{str(meta)!r} is damaged",
                code="pepperpy.storage.corrupted",
                context={"path": str(meta)},
                hint="Restore the directory from a backup, or delete the file to re-create it.",
            ) from exc
        if found > _SCHEMA:
            raise StorageError(
                f"{str(self.directory)!r} uses storage schema {found}; "
                f"this release knows {_SCHEMA}",
                code="pepperpy.storage.schema",
                context={"path": str(self.directory), "found": found, "supported": _SCHEMA},
                hint="Upgrade pepperpy-storage.",
            )
        if not os.access(self._items, os.W_OK):
            raise PermissionError(13, "directory is not writable", str(self._items))

    async def open(self) -> None:
        """Create the directory layout and check its schema version."""
        await run_sync(self._guard, "open", self._open_sync)

    async def close(self) -> None:
        """Nothing is held open between operations."""

    def _read_file(self, path: Path) -> Record | None:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return None
        header, _, value = data.partition(b"\n")
        try:
            meta = json.loads(header)
            return Record(meta["key"], value, int(meta["version"]), meta["expires_at"])
        except (ValueError, KeyError, TypeError) as exc:
            raise StorageError(
                f"file {str(path)!r} of the store is damaged",
                code="pepperpy.storage.corrupted",
                context={"path": str(path)},
                hint="Delete the file (its key is lost) or restore it from a backup.",
            ) from exc

    async def get_many(self, keys: Sequence[str]) -> dict[str, Record]:
        """Read the files of *keys* in one thread hop."""

        def run() -> dict[str, Record]:
            out: dict[str, Record] = {}
            for key in keys:
                record = self._read_file(self._items / _file_name(key))
                if record is not None and record.key == key:
                    out[key] = record
            return out

        return await run_sync(self._guard, "read", run)

    def _write_sync(self, ops: Sequence[WriteOp], now: float) -> list[Any]:
        rows = _FileRows(self)
        results: list[Any] = []
        with self._thread_lock:
            self._lock.acquire_sync()
            try:
                for op in ops:
                    try:
                        results.append(apply_op(op, rows, now))
                    except PepperPyError as exc:
                        results.append(exc)
                    except OSError as exc:
                        results.append(from_os_error(exc, "write to", str(self.directory)))
            finally:
                self._lock.release()
        return results

    async def write(self, ops: Sequence[WriteOp], now: float) -> list[Any]:
        """Apply the operations under the directory lock, in one thread hop."""
        return await run_sync(self._guard, "write to", lambda: self._write_sync(ops, now))

    def _all_records(self, prefix: str, now: float) -> list[Record]:
        out: list[Record] = []
        for name in os.listdir(self._items):
            if name.startswith("."):
                continue  # a temporary file of an atomic write
            if not name.startswith("~"):
                key = unquote(name)
                if not key.startswith(prefix):
                    continue
            record = self._read_file(self._items / name)
            if record is not None and record.key.startswith(prefix) and record.alive(now):
                out.append(record)
        out.sort(key=lambda r: r.key)
        return out

    async def scan(self, prefix: str, *, after: str | None, limit: int, now: float) -> list[Record]:
        """List the directory, filter and sort (one thread hop)."""

        def run() -> list[Record]:
            records = self._all_records(prefix, now)
            if after is not None:
                records = [r for r in records if r.key > after]
            return records[:limit]

        return await run_sync(self._guard, "scan", run)

    async def count(self, prefix: str, now: float) -> int:
        """Count live keys with *prefix*."""
        return await run_sync(self._guard, "count", lambda: len(self._all_records(prefix, now)))

    async def purge_expired(self, now: float) -> int:
        """Delete the files of expired keys."""

        def run() -> int:
            removed = 0
            with self._thread_lock:
                self._lock.acquire_sync()
                try:
                    for name in os.listdir(self._items):
                        if name.startswith("."):
                            continue
                        record = self._read_file(self._items / name)
                        if record is not None and not record.alive(now):
                            os.unlink(self._items / name)
                            removed += 1
                finally:
                    self._lock.release()
            return removed

        return await run_sync(self._guard, "purge", run)
