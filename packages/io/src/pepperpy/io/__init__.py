"""PepperPy io: async files, atomic writes, streams, temp files, locks and safe paths.

Every whole-file function (:func:`read_text`, :func:`write_bytes`,
:func:`read_json`, :func:`copy` ...) does its open, I/O and close in **one**
worker-thread hop, so it costs one context switch instead of one per call.
Writes are atomic and durable by default (temp file, fsync, rename, directory
fsync). Streams (:class:`Pipe`, :class:`ChunkedReader`, :class:`ChunkedWriter`,
:func:`decode_stream`) work over any async byte source. :class:`FileLock` is a
cross-process advisory lock with timeouts; :func:`safe_join` keeps
user-supplied paths inside a root directory.
"""

from __future__ import annotations

from pepperpy.io._errors import (
    ERRORS,
    FileOperationError,
    IncompleteReadError,
    LockTimeoutError,
    PathNotFoundError,
    PathTraversalError,
    StreamClosedError,
)
from pepperpy.io._files import (
    AsyncFile,
    append_bytes,
    append_text,
    atomic_open,
    atomic_write_bytes,
    copy,
    exists,
    iter_chunks,
    iter_lines,
    makedirs,
    move,
    open_file,
    read_bytes,
    read_json,
    read_text,
    remove,
    run_sync,
    stat,
    walk,
    write_bytes,
    write_json,
    write_text,
)
from pepperpy.io._lock import FileLock
from pepperpy.io._paths import is_within, safe_join
from pepperpy.io._streams import (
    AsyncByteSource,
    AsyncReadable,
    AsyncWritable,
    ChunkedReader,
    ChunkedWriter,
    Pipe,
    decode_stream,
    iter_text_lines,
    rechunk,
)
from pepperpy.io._temp import temp_dir, temp_file
from pepperpy.io._version import __version__

__all__ = [
    "ERRORS",
    "AsyncByteSource",
    "AsyncFile",
    "AsyncReadable",
    "AsyncWritable",
    "ChunkedReader",
    "ChunkedWriter",
    "FileLock",
    "FileOperationError",
    "IncompleteReadError",
    "LockTimeoutError",
    "PathNotFoundError",
    "PathTraversalError",
    "Pipe",
    "StreamClosedError",
    "__version__",
    "append_bytes",
    "append_text",
    "atomic_open",
    "atomic_write_bytes",
    "copy",
    "decode_stream",
    "exists",
    "is_within",
    "iter_chunks",
    "iter_lines",
    "iter_text_lines",
    "makedirs",
    "move",
    "open_file",
    "read_bytes",
    "read_json",
    "read_text",
    "rechunk",
    "remove",
    "run_sync",
    "safe_join",
    "stat",
    "temp_dir",
    "temp_file",
    "walk",
    "write_bytes",
    "write_json",
    "write_text",
]
