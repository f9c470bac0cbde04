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
from pepperpy.storage._errors import StorageError, from_os_error, opened_read_only
from pepperpy.storage._model import Record, WriteOp, apply_op, versions_needed

__all__ = ["FilesystemBackend"]

T = TypeVar("T")

_SCHEMA = 2
"""1: one file per key. 2: adds the store-wide ``revision`` to ``pepperpy-storage.json``."""
_META = "pepperpy-storage.json"
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
    def __init__(self, backend: FilesystemBackend, first: int = 1, last: int = 0) -> None:
        self.backend = backend
        self.version = first - 1
        self.last = last

    def next_version(self) -> int:
        # Versions reserved (and recorded in the meta file) before anything was written.
        self.version += 1
        if self.version > self.last:
            raise AssertionError("more versions used than reserved")  # pragma: no cover
        return self.version

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

    Versions come from a revision counter kept in ``pepperpy-storage.json``:
    each write batch reserves the versions it may use there (under the lock,
    synced like the items) before touching any item file, so a version is
    never handed out twice, even after a crash.

    Args:
        directory: Where the files go (created when missing).
        fsync: Sync each write to disk (durability) before returning.
        read_only: Only read (nothing is created, migrated or locked): a store
            on a read-only directory can be read; writes raise
            :class:`StorageError` ``pepperpy.storage.read_only``.
    """

    name: ClassVar[str] = "filesystem"

    def __init__(
        self, directory: str | os.PathLike[str], *, fsync: bool = True, read_only: bool = False
    ) -> None:
        self.directory = Path(directory)
        self.fsync = fsync
        self.read_only = bool(read_only)
        self._meta = self.directory / _META
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

    def _read_meta(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self._meta.read_text("utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("schema_version", 0), int):
                raise ValueError("not a storage meta object")
        except FileNotFoundError:
            return None
        except ValueError as exc:
            raise StorageError(
                f"{str(self._meta)!r} is damaged",
                code="pepperpy.storage.corrupted",
                context={"path": str(self._meta)},
                hint="Restore the directory from a backup, or delete the file to re-create it.",
            ) from exc
        found = int(data.get("schema_version", 0))
        if found > _SCHEMA:
            raise StorageError(
                f"{str(self.directory)!r} uses storage schema {found}; "
                f"this release knows {_SCHEMA}",
                code="pepperpy.storage.schema",
                context={"path": str(self.directory), "found": found, "supported": _SCHEMA},
                hint="Upgrade pepperpy-storage.",
            )
        return data

    def _write_meta(self, revision: int) -> None:
        data = {"schema_version": _SCHEMA, "revision": revision}
        _atomic(self._meta, json.dumps(data).encode(), fsync=self.fsync)

    def _open_sync(self) -> None:
        if self.read_only:
            if not self._items.is_dir():
                raise StorageError(
                    f"cannot open {str(self.directory)!r} read-only: there is no store there",
                    code="pepperpy.storage.unavailable",
                    context={"operation": "open", "path": str(self.directory)},
                    hint="read_only=True opens an existing store; check the name and data_dir.",
                    retryable=False,
                )
            self._read_meta()  # refuses a newer schema; an older one reads the same
            return
        self._items.mkdir(parents=True, exist_ok=True)
        if not os.access(self._items, os.W_OK):
            raise PermissionError(13, "directory is not writable", str(self._items))
        with self._thread_lock:
            self._lock.acquire_sync()
            try:
                meta = self._read_meta()
                if meta is None or "revision" not in meta:
                    # A new store, or one written by 0.1.0 (schema 1, per-key versions):
                    # start the revision above every version it holds.
                    self._write_meta(self._highest_version())
            finally:
                self._lock.release()

    def _highest_version(self) -> int:
        highest = 0
        for name in os.listdir(self._items):
            if not name.startswith("."):
                record = self._read_file(self._items / name)
                if record is not None:
                    highest = max(highest, record.version)
        return highest

    async def open(self) -> None:
        """Create the directory layout and check (or migrate) its schema version."""
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
        """Read the files of *keys* in one thread hop.

        One file is replaced atomically, so a single key needs no lock; several keys
        are read under the directory lock, so a multi-key commit is seen whole or
        not at all (not on a read-only store, where nobody writes).
        """

        def read() -> dict[str, Record]:
            out: dict[str, Record] = {}
            for key in keys:
                record = self._read_file(self._items / _file_name(key))
                if record is not None and record.key == key:
                    out[key] = record
            return out

        def run() -> dict[str, Record]:
            if len(keys) < 2 or self.read_only:
                return read()
            with self._thread_lock:
                self._lock.acquire_sync()
                try:
                    return read()
                finally:
                    self._lock.release()

        return await run_sync(self._guard, "read", run)

    def _reserve(self, count: int) -> tuple[int, int]:
        """Record *count* more versions as used (before any is written); their range."""
        if not count:
            return 1, 0
        meta = self._read_meta()
        if meta is None or not isinstance(meta.get("revision"), int):
            revision = self._highest_version()  # the meta file was lost or edited
        else:
            revision = meta["revision"]
        self._write_meta(revision + count)
        return revision + 1, revision + count

    def _write_sync(self, ops: Sequence[WriteOp], now: float) -> list[Any]:
        results: list[Any] = []
        with self._thread_lock:
            self._lock.acquire_sync()
            try:
                rows = _FileRows(self, *self._reserve(versions_needed(ops)))
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
        if self.read_only:
            raise opened_read_only(str(self.directory))
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
        """Delete the files of expired keys (the revision keeps their versions used)."""
        if self.read_only:
            raise opened_read_only(str(self.directory), "purge expired keys")

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
