"""Finding plugins: entry points (cached, lazy), module paths and directories."""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata as metadata
import importlib.util
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs

from pepperpy.core import safe_str
from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.plugin._errors import PluginLoadError

__all__ = [
    "PluginInfo",
    "clear_entry_point_cache",
    "discover_entry_points",
    "import_path",
    "iter_directory",
]

_CACHE: dict[str, tuple[PluginInfo, ...]] = {}
_CACHE_LOCK = threading.Lock()


@attrs.frozen
class PluginInfo:
    """An entry point advertised by an installed distribution; nothing is imported yet.

    Attributes:
        name: The entry point name (the plugin's name).
        value: What the entry point refers to, ``"package.module:object"``.
        group: The entry point group it was found in.
        distribution: The name of the distribution that declares it, if known.
        version: That distribution's version, if known.
    """

    name: str
    value: str
    group: str
    distribution: str | None = None
    version: str | None = None
    _entry_point: metadata.EntryPoint | None = attrs.field(
        default=None, eq=False, repr=False, alias="entry_point"
    )

    @property
    def module(self) -> str:
        """The module the entry point lives in (imported only by :meth:`load`)."""
        return self.value.partition(":")[0].strip()

    def load(self) -> Any:
        """Import the entry point and return the object it names.

        Raises:
            PluginLoadError: the import failed; the cause is chained and the
                error names the plugin and its distribution.
        """
        try:
            if self._entry_point is not None:
                return self._entry_point.load()
            module_name, _, attr = self.value.partition(":")
            obj: Any = importlib.import_module(module_name.strip())
            for part in filter(None, attr.strip().split(".")):
                obj = getattr(obj, part)
            return obj
        except (Exception, SystemExit) as exc:  # sys.exit() at import must not end the host
            raise PluginLoadError(
                f"plugin {self.name!r} from distribution {self.distribution or '?'!r} "
                f"failed to load: {type(exc).__name__}: {safe_str(exc, 500)}",
                context={
                    "plugin": self.name,
                    "distribution": self.distribution,
                    "entry_point": self.value,
                    "group": self.group,
                },
                hint="Fix or uninstall that distribution; the error above is its import error.",
            ) from exc


def _info(entry_point: metadata.EntryPoint, group: str) -> PluginInfo:
    dist = getattr(entry_point, "dist", None)
    name = version = None
    if dist is not None:
        try:
            name = dist.metadata["Name"] or getattr(dist, "name", None)
            version = dist.version
        except Exception:  # broken metadata must not break discovery of the others
            name = getattr(dist, "name", None)
    return PluginInfo(
        name=entry_point.name,
        value=entry_point.value,
        group=group,
        distribution=name,
        version=version,
        entry_point=entry_point,
    )


def discover_entry_points(group: str, *, refresh: bool = False) -> tuple[PluginInfo, ...]:
    """Return the entry points of *group*, sorted by name, without importing them.

    The scan of installed distributions runs once per group and is cached for
    the life of the process (scanning is the slow part on large
    environments); pass ``refresh=True`` or call
    :func:`clear_entry_point_cache` after installing something at run time.
    When two distributions declare the same name, the first one on
    :data:`sys.path` wins.
    """
    if not isinstance(group, str) or not group:
        raise InvalidArgumentError(
            f"entry point group must be a non-empty string, got {group!r}",
            code="pepperpy.plugin.invalid_group",
            hint="Use a dotted group name such as 'myapp.plugins'.",
        )
    if not refresh:
        cached = _CACHE.get(group)
        if cached is not None:
            return cached
    found: dict[str, PluginInfo] = {}
    for entry_point in metadata.entry_points(group=group):
        found.setdefault(entry_point.name, _info(entry_point, group))
    infos = tuple(sorted(found.values(), key=lambda info: info.name))
    with _CACHE_LOCK:
        _CACHE[group] = infos
    return infos


def clear_entry_point_cache(group: str | None = None) -> None:
    """Forget the cached scan of *group* (or of every group)."""
    with _CACHE_LOCK:
        if group is None:
            _CACHE.clear()
        else:
            _CACHE.pop(group, None)


def _module_name_for(path: Path) -> str:
    stem = path.stem if path.is_file() else path.name
    safe = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in stem)
    digest = hashlib.sha1(str(path).encode(), usedforsecurity=False).hexdigest()[:8]
    return f"_pepperpy_plugin_{safe}_{digest}"


def _is_module_name(target: str | Path) -> bool:
    return (
        isinstance(target, str)
        and not target.endswith(".py")
        and "/" not in target
        and "\\" not in target
        and not Path(target).exists()
    )


def import_path(target: str | Path) -> ModuleType:
    """Import a plugin module from a file, a package directory or a dotted module name.

    **This runs the code it imports.** Only point it at code you trust.

    Raises:
        PluginLoadError: the file does not exist or its import failed.
    """
    if _is_module_name(target):
        assert isinstance(target, str)
        try:
            return importlib.import_module(target)
        except (Exception, SystemExit) as exc:  # sys.exit() at import must not end the host
            raise PluginLoadError(
                f"plugin module {target!r} failed to import: "
                f"{type(exc).__name__}: {safe_str(exc, 500)}",
                context={"plugin": target, "module": target},
                hint="Check the module name and that it is importable from sys.path.",
            ) from exc
    path = Path(target).resolve()
    if path.is_dir():
        init = path / "__init__.py"
        if not init.is_file():
            raise PluginLoadError(
                f"{str(path)!r} is a directory without __init__.py",
                context={"plugin": path.name, "path": str(path)},
                hint="Use load_directory() for a folder of plugins, or add __init__.py.",
            )
        file, search = init, [str(path)]
    elif path.is_file():
        file, search = path, None
    else:
        raise PluginLoadError(
            f"plugin path {str(path)!r} does not exist",
            context={"plugin": path.stem, "path": str(path)},
            hint="Pass an existing .py file, package directory or importable module name.",
        )
    name = _module_name_for(path)
    spec = importlib.util.spec_from_file_location(name, file, submodule_search_locations=search)
    if spec is None or spec.loader is None:  # pragma: no cover - only for exotic suffixes
        raise PluginLoadError(
            f"cannot import {str(path)!r}",
            context={"plugin": path.stem, "path": str(path)},
            hint="Plugin files must be Python source files ending in .py.",
        )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:  # sys.exit() at import must not end the host
        sys.modules.pop(name, None)
        raise PluginLoadError(
            f"plugin file {str(path)!r} failed to import: "
            f"{type(exc).__name__}: {safe_str(exc, 500)}",
            context={"plugin": path.stem, "path": str(path)},
            hint="Fix the error in that file; nothing from it was registered.",
        ) from exc
    return module


def iter_directory(directory: str | Path) -> Iterator[Path]:
    """Yield the plugin candidates of *directory*, sorted by name.

    Candidates are ``*.py`` files and package directories (with ``__init__.py``)
    whose names do not start with ``_`` or ``.``.
    """
    root = Path(directory)
    if not root.is_dir():
        raise PluginLoadError(
            f"plugin directory {str(root)!r} does not exist",
            context={"path": str(root)},
            hint="Create it or pass the folder that holds the plugin files.",
        )
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if entry.name.startswith(("_", ".")):
            continue
        if (entry.is_file() and entry.suffix == ".py") or (
            entry.is_dir() and (entry / "__init__.py").is_file()
        ):
            yield entry
