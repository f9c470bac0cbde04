"""Extension points: named factories that installed distributions can add to."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any, Generic, TypeVar

import attrs

from pepperpy.core.exceptions import ConflictError, InvalidArgumentError, PluginError
from pepperpy.plugin._discovery import PluginInfo, discover_entry_points
from pepperpy.plugin._errors import ExtensionNotFoundError

__all__ = ["EntryPointRegistry", "ExtensionInfo", "ExtensionPoint"]

T = TypeVar("T")


@attrs.frozen
class ExtensionInfo:
    """Where an extension comes from; reading it imports nothing.

    Attributes:
        name: The extension's name (``"sqlite"``, ``"redis"`` ...).
        source: ``"builtin"`` (registered in code) or ``"entry point"``.
        value: The import path (``"pkg.mod:factory"``), or the object's repr.
        distribution: The distribution that declares it, for entry points.
        version: That distribution's version.
        loaded: Whether the object has been imported already.
    """

    name: str
    source: str
    value: str
    distribution: str | None = None
    version: str | None = None
    loaded: bool = False


class ExtensionPoint(Generic[T]):
    """A named set of factories (backends, transports ...) that other distributions extend.

    The thin variant of the plugin mechanism for "pick a backend by name":
    built-in entries are registered in code (as objects, or as
    ``"package.module:attr"`` strings imported on first use), and third-party
    distributions add entries through the entry point *group*
    (conventionally ``pepperpy.<area>.backends``)::

        [project.entry-points."pepperpy.storage.backends"]
        dynamo = "storage_dynamo:DynamoBackend"

    Listing (:meth:`names`, :meth:`info`, ``in``) never imports anything;
    :meth:`get` imports one entry the first time it is asked for and caches it.
    A built-in entry wins over an entry point of the same name.

    Args:
        group: The entry point group.
        kind: What the entries are, used in error messages ("storage backend").
        builtins: Entries known in code, name to object or import string.
    """

    def __init__(
        self, group: str, *, kind: str = "extension", builtins: Mapping[str, T | str] = {}
    ) -> None:
        self.group = group
        self.kind = kind
        self._builtins: dict[str, T | str] = {}
        self._loaded: dict[str, T] = {}
        self._lock = threading.Lock()
        for name, value in builtins.items():
            self.register(name, value)

    def register(self, name: str, value: T | str, *, replace: bool = False) -> None:
        """Add a built-in entry: an object, or an import string loaded on first use.

        Raises:
            ConflictError: *name* is already registered in code and *replace* is false.
        """
        if not isinstance(name, str) or not name:
            raise InvalidArgumentError(
                f"{self.kind} name must be a non-empty string, got {name!r}",
                code="pepperpy.plugin.invalid_name",
                hint="Use a short lowercase name such as 'sqlite'.",
            )
        with self._lock:
            if name in self._builtins and not replace:
                raise ConflictError(
                    f"{self.kind} {name!r} is already registered",
                    code="pepperpy.plugin.duplicate_extension",
                    context={"name": name, "group": self.group},
                    hint="Pass replace=True to override it.",
                    retryable=False,
                )
            self._builtins[name] = value
            self._loaded.pop(name, None)

    def _entry_points(self) -> dict[str, PluginInfo]:
        return {info.name: info for info in discover_entry_points(self.group)}

    def names(self) -> list[str]:
        """Every available name, sorted: built-ins and entry points. Imports nothing."""
        return sorted(set(self._builtins) | set(self._entry_points()))

    def __contains__(self, name: object) -> bool:
        return name in self._builtins or name in self._entry_points()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def info(self, name: str) -> ExtensionInfo:
        """Describe where *name* comes from, without importing it."""
        loaded = name in self._loaded
        if name in self._builtins:
            value = self._builtins[name]
            text = value if isinstance(value, str) else repr(value)
            return ExtensionInfo(name, "builtin", text, loaded=loaded or not isinstance(value, str))
        entry = self._entry_points().get(name)
        if entry is None:
            raise self._not_found(name)
        return ExtensionInfo(
            name, "entry point", entry.value, entry.distribution, entry.version, loaded
        )

    def _not_found(self, name: str) -> ExtensionNotFoundError:
        available = self.names()
        return ExtensionNotFoundError(
            f"unknown {self.kind} {name!r}; available: {', '.join(available) or 'none'}",
            context={"name": name, "group": self.group, "available": available},
            hint=f"Use one of the available names, or install a distribution that "
            f"declares {name!r} in the entry point group {self.group!r}.",
        )

    def get(self, name: str) -> T:
        """Return the entry *name*, importing it on first use.

        Raises:
            ExtensionNotFoundError: no such entry; the message lists what exists.
            PluginLoadError: importing it failed; names its distribution.
        """
        try:
            return self._loaded[name]
        except KeyError:
            pass
        obj: Any
        if name in self._builtins:
            value = self._builtins[name]
            if isinstance(value, str):
                info = PluginInfo(name=name, value=value, group=self.group)
                obj = info.load()
            else:
                obj = value
        else:
            entry = self._entry_points().get(name)
            if entry is None:
                raise self._not_found(name)
            obj = entry.load()
        with self._lock:
            self._loaded[name] = obj
        result: T = obj
        return result

    def create(self, name: str, /, *args: Any, **kwargs: Any) -> Any:
        """Call the entry *name* (a factory or class) with the arguments and return the result.

        Raises:
            ExtensionNotFoundError: no such entry.
            PluginLoadError: importing it failed.
            PluginError: it is not callable.
        """
        factory = self.get(name)
        if not callable(factory):
            raise PluginError(
                f"{self.kind} {name!r} is not callable: {factory!r}",
                code="pepperpy.plugin.not_callable",
                context={"name": name, "group": self.group},
                hint="Point the entry point at a class or factory function.",
            )
        return factory(*args, **kwargs)

    def __repr__(self) -> str:
        return f"ExtensionPoint({self.group!r}, kind={self.kind!r})"


EntryPointRegistry = ExtensionPoint
"""Another name for :class:`ExtensionPoint`."""
