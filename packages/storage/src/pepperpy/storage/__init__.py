"""PepperPy storage: an async key-value and collection store, SQLite by default.

::

    storage = Storage.create("app")                  # ./data/app.sqlite3, no setup needed
    await storage.put("user/1", {"name": "Ada"}, ttl="1d")
    users = storage.collection("users", User)        # typed attrs records

The SQLite backend runs in WAL mode with one writer connection that
group-commits concurrent writes (one transaction per batch, each caller gets
its own result) and reader connections for concurrent reads. Memory and
filesystem backends are built in; others plug in through the
``pepperpy.storage.backends`` entry point group. :data:`ERRORS` lists every
error code the package raises, with its meaning.
"""

from __future__ import annotations

from pepperpy.storage._backend import ENTRY_POINT_GROUP, Backend, available_backends, load_backend
from pepperpy.storage._errors import (
    ERRORS,
    StorageError,
    StorageKeyError,
    StorageValueError,
    VersionConflictError,
)
from pepperpy.storage._filesystem import FilesystemBackend
from pepperpy.storage._memory import MemoryBackend
from pepperpy.storage._model import (
    Check,
    Delete,
    Entry,
    Incr,
    Page,
    Put,
    Record,
    RowAccess,
    Txn,
    WriteOp,
    apply_op,
)
from pepperpy.storage._postgres import PostgresBackend
from pepperpy.storage._sqlite import SCHEMA_VERSION, SQLiteBackend
from pepperpy.storage._storage import (
    DATA_DIR_ENV,
    Collection,
    Storage,
    Transaction,
    default_data_dir,
)
from pepperpy.storage._version import __version__

__all__ = [
    "DATA_DIR_ENV",
    "ENTRY_POINT_GROUP",
    "ERRORS",
    "SCHEMA_VERSION",
    "Backend",
    "Check",
    "Collection",
    "Delete",
    "Entry",
    "FilesystemBackend",
    "Incr",
    "MemoryBackend",
    "Page",
    "PostgresBackend",
    "Put",
    "Record",
    "RowAccess",
    "SQLiteBackend",
    "Storage",
    "StorageError",
    "StorageKeyError",
    "StorageValueError",
    "Transaction",
    "Txn",
    "VersionConflictError",
    "WriteOp",
    "__version__",
    "apply_op",
    "available_backends",
    "default_data_dir",
    "load_backend",
]
