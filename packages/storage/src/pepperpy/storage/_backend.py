"""The backend contract and backend discovery through entry points."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from pepperpy.core.exceptions import PluginError
from pepperpy.core.utils import Backends
from pepperpy.storage._model import Record, WriteOp

__all__ = ["ENTRY_POINT_GROUP", "Backend", "available_backends", "load_backend"]

ENTRY_POINT_GROUP = "pepperpy.storage.backends"
"""The entry point group third-party backends register under."""

_BACKENDS = Backends(
    "storage",
    "storage backend",
    ENTRY_POINT_GROUP,
    {
        "sqlite": "pepperpy.storage._sqlite:SQLiteBackend",
        "memory": "pepperpy.storage._memory:MemoryBackend",
        "filesystem": "pepperpy.storage._filesystem:FilesystemBackend",
        "postgres": "pepperpy.storage._postgres:PostgresBackend",
    },
)


class Backend(abc.ABC):
    """What a storage backend implements; :class:`~pepperpy.storage.Storage` does the rest.

    A backend stores :class:`~pepperpy.storage.Record` rows (serialized
    values with a version and an optional expiry). Writes arrive as
    :data:`~pepperpy.storage.WriteOp` values and must be applied with
    :func:`~pepperpy.storage.apply_op` so that every backend has the same
    semantics; the backend decides how to batch them and makes each operation
    atomic. Each result is either the operation's return value or the
    exception it raised (one failed operation never fails the others).
    Versions come from the row access's ``next_version()``: one revision
    counter per store that never goes back (not even after a delete, a purge
    or a restart), so a key's version never repeats.

    Register a third-party backend under the ``pepperpy.storage.backends``
    entry point group::

        [project.entry-points."pepperpy.storage.backends"]
        redis = "mypkg.redis_backend:RedisBackend"

    then ``Storage.create("cache", backend="redis", url=...)`` finds it.
    """

    name: ClassVar[str] = "custom"

    read_only: bool = False
    """Opened for reading only: ``Storage`` refuses writes with ``pepperpy.storage.read_only``."""

    @classmethod
    def from_options(cls, *, name: str, data_dir: Path, **options: Any) -> Backend:
        """Build the backend for the store *name* under *data_dir* (used by ``Storage.create``)."""
        return cls(**options)

    @property
    def location(self) -> str:
        """A human-readable description of where the data lives (for errors and repr)."""
        return self.name

    def stats(self) -> dict[str, Any]:
        """Backend counters for monitoring (empty by default)."""
        return {}

    @abc.abstractmethod
    async def open(self) -> None:
        """Acquire connections/files; create or migrate the schema."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Flush and release everything; must tolerate a partial :meth:`open`."""

    @abc.abstractmethod
    async def get_many(self, keys: Sequence[str]) -> dict[str, Record]:
        """Return the rows for *keys* that exist (expired ones included; the caller filters)."""

    @abc.abstractmethod
    async def write(self, ops: Sequence[WriteOp], now: float) -> list[Any]:
        """Apply *ops* in order; return one result or exception instance per operation."""

    async def write_one(self, op: WriteOp, now: float) -> Any:
        """Apply one operation; return its result or the exception it raised (not raised)."""
        return (await self.write([op], now))[0]

    @abc.abstractmethod
    async def scan(self, prefix: str, *, after: str | None, limit: int, now: float) -> list[Record]:
        """Return up to *limit* live rows under *prefix* with keys after *after*, sorted."""

    @abc.abstractmethod
    async def count(self, prefix: str, now: float) -> int:
        """Count the live rows whose key starts with *prefix*."""

    @abc.abstractmethod
    async def purge_expired(self, now: float) -> int:
        """Delete rows that expired before *now*; return how many."""


def load_backend(name: str) -> type[Backend]:
    """Return the backend class registered as *name* (built-in or entry point).

    Raises:
        ConfigurationError: No backend has that name.
        PluginError: The backend's package failed to import.
    """
    cls = _BACKENDS.load(name, hint="Use sqlite, memory, filesystem or postgres.")
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise PluginError(
            f"storage backend {name!r} is not a Backend subclass",
            context={"backend": name, "object": repr(cls)},
            hint="The entry point must name a subclass of pepperpy.storage.Backend.",
        )
    return cls


def available_backends() -> list[str]:
    """Names of every backend: the built-in ones and those found through entry points."""
    return _BACKENDS.names()
