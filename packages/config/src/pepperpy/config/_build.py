"""One load of a configuration: each source a small object adding its layer and problems.

``_Loader.build`` (in ``_config``) asks each source, lowest priority first, to
:meth:`~LayerSource.apply` itself to a :class:`Run`, which collects the layers,
every problem with where it was found, the paths to watch and the profiles the
files declare. Nothing stops at the first problem: every one is reported at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from pepperpy.config._sources import (
    Layer,
    Profiles,
    SchemaTree,
    args_layer,
    dotenv_values,
    env_layer,
    file_layer,
    mapping_layer,
    read_file,
    reason,
    secrets_layer,
)
from pepperpy.core.exceptions import ErrorDetail

if TYPE_CHECKING:
    from pathlib import Path

    from pepperpy.config._config import ConfigFile
    from pepperpy.serialization import Format

__all__ = [
    "ArgsSource",
    "DotenvSource",
    "EnvNames",
    "EnvSource",
    "FileSource",
    "LayerSource",
    "MappingSource",
    "Run",
    "SecretsSource",
]

_TEXT_FORMATS = ("toml", "json", "yaml")
_SKIP: Any = object()  # a file source's step found a problem (or nothing to load)


class Run:
    """What one load collects, in priority order: layers, problems, watched paths, profiles."""

    __slots__ = ("errors", "layers", "profiles", "sources", "syntax", "watched")

    def __init__(self) -> None:
        self.layers: list[Layer] = []
        self.errors: list[ErrorDetail] = []
        self.sources: list[str | None] = []  # where each error was found
        self.watched: list[Path] = []
        self.profiles: set[str] = set()
        self.syntax: dict[str, Any] = {}  # file/line/column of the first malformed file

    def problem(self, detail: ErrorDetail, where: str | None) -> None:
        """Record one problem and where it was found."""
        self.errors.append(detail)
        self.sources.append(where)

    def check_depth(self) -> None:
        """Keys from env names, argv and secrets may be as deep as decoders allow, no deeper."""
        from pepperpy.serialization import MAX_DEPTH

        for layer in self.layers:
            deep = next((p for p in layer.origins if len(p) > MAX_DEPTH), None)
            if deep is not None:
                message = f"a key is nested more than {MAX_DEPTH} levels deep"
                self.problem(ErrorDetail("", message, code="depth"), str(layer.origins[deep]))

    def check_profile(self, profile: str | None, chosen_by: str) -> None:
        """An unknown profile is a problem, unless other problems already explain it."""
        if not profile or profile == "default" or profile in self.profiles or self.errors:
            return
        known = ", ".join(sorted(self.profiles)) or "none"
        message = f"unknown profile {profile!r} (known profiles: {known})"
        self.problem(ErrorDetail("", message, code="profile", value=repr(profile)), chosen_by)


class LayerSource(Protocol):
    """One source of configuration values."""

    def apply(self, run: Run) -> None:
        """Add this source's layer, problems and watched paths to *run*."""


class EnvNames:
    """How variable names map to keys: ``APP_DB__HOST`` -> ``db.host``."""

    __slots__ = ("delimiter", "exclude", "prefix", "tree")

    def __init__(
        self, prefix: str, delimiter: str, tree: SchemaTree | None, exclude: Sequence[str]
    ) -> None:
        self.prefix = prefix
        self.delimiter = delimiter
        self.tree = tree
        self.exclude = list(exclude)


class MappingSource:
    """``defaults=`` or ``overrides=``: a mapping of dotted keys."""

    __slots__ = ("data", "kind")

    def __init__(self, data: Mapping[str, Any], kind: str) -> None:
        self.data = data
        self.kind = kind

    def apply(self, run: Run) -> None:
        """Add the mapping as one layer."""
        run.layers.append(mapping_layer(self.data, self.kind))


class FileSource:
    """One configuration file: read, decode, select its table and profile, then layer it."""

    __slots__ = ("fields", "format", "profile", "profiles", "spec")

    def __init__(
        self,
        spec: ConfigFile,
        *,
        format: str | None,
        profile: str | None,
        profiles: Profiles,
        fields: SchemaTree | None,
    ) -> None:
        self.spec = spec
        self.format = spec.format or format
        self.profile = profile
        self.profiles = profiles
        self.fields = fields

    def apply(self, run: Run) -> None:
        """Add the file's layer and the profiles it declares, or its problems."""
        path = self.spec.path
        run.watched.append(path)
        raw = self._read(run)
        fmt = self._format(run) if raw is not None else None
        if raw is None or fmt is None:
            return
        if fmt.name in _TEXT_FORMATS and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]  # a UTF-8 byte-order mark (Notepad) is not content
        data = self._select(run, self._decode(run, fmt, raw))
        if data is _SKIP:
            return
        if not isinstance(data, Mapping):
            message = f"{path}: the top level must be a table/mapping"
            run.problem(ErrorDetail("", message, code="syntax"), str(path))
            return
        layer, file_profiles, problems = file_layer(
            path,
            data,
            raw.decode("utf-8", "replace"),
            fmt=fmt.name,
            profile=self.profile,
            prefix=self.spec.table,
            profiles=self.profiles,
            fields=self.fields or (),
        )
        for problem, where in problems:
            run.problem(problem, where)
        run.profiles.update(file_profiles)
        run.layers.append(layer)

    def _read(self, run: Run) -> bytes | None:
        path = self.spec.path
        try:
            return read_file(path)
        except FileNotFoundError:
            if not self.spec.optional:
                message = f"configuration file {str(path)!r} does not exist"
                run.problem(ErrorDetail("", message, code="file_missing"), str(path))
        except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
            message = f"cannot read {str(path)!r}: {reason(exc)}"
            run.problem(ErrorDetail("", message, code="file"), str(path))
        return None

    def _format(self, run: Run) -> Format | None:
        from pepperpy.serialization import FormatUnavailableError, format_for_path, get_format

        path = self.spec.path
        try:
            return get_format(self.format) if self.format else format_for_path(str(path))
        except FormatUnavailableError:
            message = (
                f"cannot tell the format of {str(path)!r} from its suffix: pass "
                "format='toml' (or 'json', 'yaml') to Config.load, or "
                "ConfigFile(path, format=...) for this file"
            )
            run.problem(ErrorDetail("", message, code="format"), str(path))
            return None

    def _decode(self, run: Run, fmt: Format, raw: bytes) -> Any:
        from pepperpy.serialization import DecodeError, FormatUnavailableError

        path = self.spec.path
        try:
            data = fmt.decode(raw)
        except DecodeError as exc:
            line, column = exc.context.get("line"), exc.context.get("column")
            where = f"{path}:{line}:{column}" if line is not None else str(path)
            detail = exc.errors[0].message if exc.errors else exc.message
            detail = re.sub(r"^invalid \w+: ", "", detail)
            message = f"malformed {fmt.name.upper()} at {where}: {detail}"
            run.problem(ErrorDetail("", message, code="syntax"), where)
            if "file" not in run.syntax:
                run.syntax.update(file=str(path), line=line, column=column)
            return _SKIP
        except FormatUnavailableError as exc:
            run.problem(ErrorDetail("", f"{path}: {exc.message}", code="format"), exc.hint)
            return _SKIP
        return {} if data is None else data

    def _select(self, run: Run, data: Any) -> Any:
        """The table ``ConfigFile(table=)`` names (a missing one is a problem unless optional)."""
        if data is _SKIP or not self.spec.table or not isinstance(data, Mapping):
            return data
        selected: Any = data
        for part in self.spec.table:
            selected = selected.get(part) if isinstance(selected, Mapping) else None
        if selected is not None:
            return selected
        if not self.spec.optional:
            path = self.spec.path
            message = f"{path} has no table [{'.'.join(self.spec.table)}]"
            run.problem(ErrorDetail("", message, code="table_missing"), str(path))
        return _SKIP


class DotenvSource:
    """One ``.env`` file, read before the others (it may choose the profile)."""

    __slots__ = ("errors", "names", "parsed", "path")

    def __init__(self, path: Path, environ: Mapping[str, str], names: EnvNames | None) -> None:
        self.path = path
        self.parsed, self.errors = dotenv_values(path, environ)
        self.names = names  # None: no env_prefix, so the file only feeds the profile

    @property
    def variables(self) -> dict[str, str]:
        """The file's variables, for the profile and for interpolation."""
        return {k: v for k, (v, _) in self.parsed.items()}

    def apply(self, run: Run) -> None:
        """Add the file's problems and, with an env prefix, its layer."""
        run.watched.append(self.path)
        for problem in self.errors:
            run.problem(problem, str(self.path))
        names = self.names
        if names is not None:
            run.layers.append(
                env_layer(
                    self.variables,
                    prefix=names.prefix,
                    delimiter=names.delimiter,
                    tree=names.tree,
                    kind="dotenv",
                    dotenv_file=str(self.path),
                    dotenv_lines={k: line for k, (_, line) in self.parsed.items()},
                    exclude=names.exclude,
                )
            )


class EnvSource:
    """The environment variables under the prefix."""

    __slots__ = ("environ", "names")

    def __init__(self, environ: Mapping[str, str], names: EnvNames) -> None:
        self.environ = environ
        self.names = names

    def apply(self, run: Run) -> None:
        """Add the environment's layer."""
        names = self.names
        run.layers.append(
            env_layer(
                self.environ,
                prefix=names.prefix,
                delimiter=names.delimiter,
                tree=names.tree,
                exclude=names.exclude,
            )
        )


class SecretsSource:
    """Secrets directories: one file per key."""

    __slots__ = ("delimiter", "directories", "prefix", "tree")

    def __init__(
        self, directories: Sequence[Path], prefix: str, delimiter: str, tree: SchemaTree | None
    ) -> None:
        self.directories = directories
        self.prefix = prefix
        self.delimiter = delimiter
        self.tree = tree

    def apply(self, run: Run) -> None:
        """Add the secrets' layer and problems; watch the directories."""
        run.watched.extend(self.directories)
        layer, problems = secrets_layer(
            self.directories, prefix=self.prefix, delimiter=self.delimiter, tree=self.tree
        )
        for problem, where in problems:
            run.problem(problem, where)
        run.layers.append(layer)


class ArgsSource:
    """Command-line options (``--db.port=5432``)."""

    __slots__ = ("argv", "tree")

    def __init__(self, argv: Sequence[str], tree: SchemaTree | None) -> None:
        self.argv = argv
        self.tree = tree

    def apply(self, run: Run) -> None:
        """Add the options' layer and problems."""
        layer, errors = args_layer(self.argv, tree=self.tree)
        for problem in errors:
            run.problem(problem, "command line")
        run.layers.append(layer)
