"""Async temporary files and directories."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from pepperpy.io._errors import translate_os_error
from pepperpy.io._files import AsyncFile, run_sync

__all__ = ["temp_dir", "temp_file"]

StrPath = str | os.PathLike[str]


def _mkdtemp(prefix: str | None, suffix: str | None, directory: StrPath | None) -> str:
    try:
        return tempfile.mkdtemp(suffix=suffix, prefix=prefix, dir=directory)
    except OSError as exc:
        raise translate_os_error(exc, "create a temporary directory in", directory) from exc


@contextlib.asynccontextmanager
async def temp_dir(
    *, prefix: str | None = "pepperpy-", suffix: str | None = None, dir: StrPath | None = None
) -> AsyncIterator[Path]:
    """Create a temporary directory; remove it (and its content) on exit.

    The removal runs in a worker thread and is shielded from cancellation,
    so a cancelled task does not leave the directory behind.
    """
    path = await run_sync(_mkdtemp, prefix, suffix, dir)
    try:
        yield Path(path)
    finally:
        await asyncio.shield(run_sync(shutil.rmtree, path, True))


def _mkstemp(
    mode: str, prefix: str | None, suffix: str | None, directory: StrPath | None
) -> tuple[AsyncFile, str]:
    try:
        fd, path = tempfile.mkstemp(suffix=suffix, prefix=prefix, dir=directory)
    except OSError as exc:
        raise translate_os_error(exc, "create a temporary file in", directory) from exc
    raw = os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8")
    return AsyncFile(raw, path), path


def _remove_file(file: AsyncFile, path: str) -> None:
    try:
        file.raw.close()
    finally:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


@contextlib.asynccontextmanager
async def temp_file(
    mode: str = "w+b",
    *,
    prefix: str | None = "pepperpy-",
    suffix: str | None = None,
    dir: StrPath | None = None,
    delete: bool = True,
) -> AsyncIterator[AsyncFile]:
    """Create and open a named temporary file as an :class:`AsyncFile`.

    ``file.path`` is its name, usable by other code while it is open. On exit
    the file is closed and (unless ``delete=False``) removed, shielded from
    cancellation.
    """
    file, path = await run_sync(_mkstemp, mode, prefix, suffix, dir)
    try:
        yield file
    finally:
        if delete:
            await asyncio.shield(run_sync(_remove_file, file, path))
        else:
            await asyncio.shield(file.close())
