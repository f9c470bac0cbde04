"""Read package data files (``importlib.resources``) with validation and caching."""

from __future__ import annotations

import asyncio
import importlib
import importlib.resources
import json
import threading
from types import ModuleType
from typing import Any

from pepperpy.core.exceptions import InvalidArgumentError, SecurityError
from pepperpy.resources._errors import ResourceNotFoundError

__all__ = ["ResourceLoader", "read_binary", "read_text"]


def _check_name(name: str) -> list[str]:
    if not isinstance(name, str) or not name:
        raise InvalidArgumentError(
            "a resource name must be a non-empty string",
            context={"name": repr(name)},
            hint="Pass a relative path inside the package, such as 'templates/mail.txt'.",
        )
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise SecurityError(
            f"resource name {name!r} is absolute",
            code="pepperpy.resources.unsafe_name",
            context={"name": name},
            hint="Resource names are relative to the package; drop the leading '/'.",
        )
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise SecurityError(
            f"resource name {name!r} leaves the package",
            code="pepperpy.resources.unsafe_name",
            context={"name": name},
            hint="Remove '..' segments; only files inside the package can be loaded.",
        )
    return parts


class ResourceLoader:
    """Load data files shipped inside a Python package, caching what was read.

    ::

        loader = ResourceLoader("myapp.templates")
        text = loader.read_text("mail/welcome.txt")    # cached after the first read
        config = loader.read_json("defaults.json")

    Names are ``/``-separated paths relative to the package; absolute paths
    and ``..`` are refused with :class:`~pepperpy.core.exceptions.SecurityError`.
    The cache is thread-safe and can be turned off (``cache=False``) or
    emptied with :meth:`clear_cache`. The ``a``-prefixed methods read in a
    worker thread for use in async code.

    Args:
        package: A package name or module.
        cache: Keep the bytes of every file read.
    """

    def __init__(self, package: str | ModuleType, *, cache: bool = True) -> None:
        if isinstance(package, ModuleType):
            self.package = package.__name__
        elif isinstance(package, str) and package:
            self.package = package
        else:
            raise InvalidArgumentError(
                "package must be a package name or module",
                context={"package": repr(package)},
                hint="Pass e.g. 'myapp.data' or the imported module.",
            )
        self.cache = cache
        self._cache: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ResourceLoader({self.package!r}, cached={len(self._cache)})"

    def _root(self) -> Any:
        try:
            return importlib.resources.files(self.package)
        except ModuleNotFoundError as exc:
            raise ResourceNotFoundError(
                f"package {self.package!r} cannot be imported",
                context={"package": self.package},
                hint="Check the package name and that it is installed.",
            ) from exc

    def _traverse(self, name: str) -> Any:
        node = self._root()
        for part in _check_name(name):
            node = node.joinpath(part)
        return node

    def exists(self, name: str) -> bool:
        """Whether *name* is a file in the package."""
        return bool(self._traverse(name).is_file())

    def list(self, directory: str = "") -> list[str]:
        """Sorted names of the entries in *directory* (the package root by default)."""
        node = self._traverse(directory) if directory else self._root()
        if not node.is_dir():
            raise ResourceNotFoundError(
                f"{directory!r} is not a directory of package {self.package!r}",
                context={"package": self.package, "name": directory},
                hint="Pass a directory inside the package.",
            )
        return sorted(child.name for child in node.iterdir() if child.name != "__pycache__")

    def read_bytes(self, name: str) -> bytes:
        """Return the content of *name* (from the cache when possible).

        Raises:
            ResourceNotFoundError: There is no such file in the package.
        """
        if self.cache:
            with self._lock:
                hit = self._cache.get(name)
            if hit is not None:
                return hit
        node = self._traverse(name)
        try:
            data: bytes = node.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise ResourceNotFoundError(
                f"package {self.package!r} has no data file {name!r}",
                context={"package": self.package, "name": name},
                hint="Check the name, and that the file is included in the package's wheel.",
            ) from exc
        if self.cache:
            with self._lock:
                self._cache[name] = data
        return data

    def read_text(self, name: str, *, encoding: str = "utf-8") -> str:
        """Return *name* decoded with *encoding*."""
        return self.read_bytes(name).decode(encoding)

    def read_json(self, name: str) -> Any:
        """Return *name* parsed as JSON.

        Raises:
            InvalidArgumentError: The file is not valid JSON (the position is given).
        """
        try:
            return json.loads(self.read_bytes(name))
        except json.JSONDecodeError as exc:
            raise InvalidArgumentError(
                f"data file {name!r} is not valid JSON: {exc.msg}",
                code="pepperpy.resources.bad_json",
                context={
                    "package": self.package,
                    "name": name,
                    "line": exc.lineno,
                    "column": exc.colno,
                },
                hint="Fix the file's JSON syntax.",
            ) from exc

    async def aread_bytes(self, name: str) -> bytes:
        """Async :meth:`read_bytes`: cache hits return at once, misses read in a thread."""
        if self.cache:
            with self._lock:
                hit = self._cache.get(name)
            if hit is not None:
                return hit
        return await asyncio.to_thread(self.read_bytes, name)

    async def aread_text(self, name: str, *, encoding: str = "utf-8") -> str:
        """Async :meth:`read_text`."""
        return (await self.aread_bytes(name)).decode(encoding)

    def clear_cache(self) -> None:
        """Forget every cached file."""
        with self._lock:
            self._cache.clear()


_loaders: dict[str, ResourceLoader] = {}
_loaders_lock = threading.Lock()


def _loader(package: str | ModuleType) -> ResourceLoader:
    key = package.__name__ if isinstance(package, ModuleType) else package
    with _loaders_lock:
        loader = _loaders.get(key)
        if loader is None:
            loader = _loaders[key] = ResourceLoader(package)
        return loader


def read_text(package: str | ModuleType, name: str, *, encoding: str = "utf-8") -> str:
    """Return the text of data file *name* in *package*, cached process-wide."""
    return _loader(package).read_text(name, encoding=encoding)


def read_binary(package: str | ModuleType, name: str) -> bytes:
    """Return the bytes of data file *name* in *package*, cached process-wide."""
    return _loader(package).read_bytes(name)
