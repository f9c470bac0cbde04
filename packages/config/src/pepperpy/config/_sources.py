"""Where values come from: files (with line numbers), .env, environment, secrets dirs."""

from __future__ import annotations

import errno
import os
import re
import stat
import weakref
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal, Union, get_args, get_origin

from pepperpy.core.exceptions import ErrorDetail

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "Layer",
    "SchemaTree",
    "Source",
    "dotenv_values",
    "env_layer",
    "file_layer",
    "mapping_layer",
    "parse_dotenv",
    "read_file",
    "read_text",
    "reason",
    "schema_tree",
    "secrets_layer",
]

Path_ = tuple[str, ...]


class Source:
    """Where one configuration value came from.

    Attributes:
        kind: ``"default"``, ``"file"``, ``"dotenv"``, ``"env"``, ``"secret"``,
            ``"arg"`` (command line), ``"override"`` or ``"schema"`` (the bound
            class's default).
        name: The file path, environment variable or secret file.
        line: The line in the file, where it is known.
        profile: The profile section the value was read from.
        variable: For ``.env`` values, the variable name.
    """

    __slots__ = ("kind", "line", "name", "profile", "variable")

    def __init__(
        self,
        kind: str,
        name: str,
        *,
        line: int | None = None,
        profile: str | None = None,
        variable: str | None = None,
    ) -> None:
        self.kind = kind
        self.name = name
        self.line = line
        self.profile = profile
        self.variable = variable

    def __str__(self) -> str:
        if self.kind == "env":
            return f"env {self.name}"
        if self.kind == "secret":
            return f"secret {self.name}"
        if self.kind == "arg":
            return f"argument {self.name}"
        if self.kind in ("default", "override", "schema"):
            return {"default": "defaults", "override": "overrides", "schema": "schema default"}[
                self.kind
            ]
        where = self.name if self.line is None else f"{self.name}:{self.line}"
        if self.kind == "dotenv" and self.variable:
            where += f" ({self.variable})"
        if self.profile:
            where += f" [{self.profile}]"
        return where

    def __repr__(self) -> str:
        return f"Source({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Source) and str(self) == str(other) and self.kind == other.kind

    def __hash__(self) -> int:
        return hash((self.kind, str(self)))


class Layer:
    """One source's values as a nested dict, with the source of every leaf."""

    __slots__ = ("origins", "secret", "tree")

    def __init__(self) -> None:
        self.tree: dict[str, Any] = {}
        self.origins: dict[Path_, Source] = {}
        self.secret = False

    def set(self, path: Path_, value: Any, source: Source) -> None:
        """Put *value* at *path*, creating tables on the way; the later value wins.

        A value replaced by a table on the way (``a`` then ``a.b``), or a
        table replaced by a value (``a.b`` then ``a``), leaves no origin
        behind, so every origin names a value that is in the tree.
        """
        node = self.tree
        for depth, key in enumerate(path[:-1]):
            child = node.get(key)
            if not isinstance(child, dict):
                self.origins.pop(path[: depth + 1], None)
                child = node[key] = {}
            node = child
        if isinstance(node.get(path[-1]), dict):
            size = len(path)
            for stale in [p for p in self.origins if len(p) > size and p[:size] == path]:
                del self.origins[stale]
        node[path[-1]] = value
        self.origins[path] = source


# --------------------------------------------------------------------------- schema tree

SchemaTree = dict[str, Any]
"""Input key -> nested :data:`SchemaTree` (records) or the field's type (leaves)."""


_TREES: weakref.WeakKeyDictionary[type, SchemaTree] = weakref.WeakKeyDictionary()


def schema_tree(cls: Any) -> SchemaTree:
    """The nested field names of an attrs class (or dataclass), for env resolution.

    Computed once per class (the result must not be mutated).
    """
    try:
        cached = _TREES.get(cls)
    except TypeError:
        cached = None
    if cached is not None:
        return cached
    tree = _schema_tree(cls)
    try:
        _TREES[cls] = tree
    except TypeError:
        pass
    return tree


def _schema_tree(cls: Any) -> SchemaTree:
    import dataclasses
    import typing

    tree: SchemaTree = {}
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # unresolvable annotations: the binding step reports them
        hints = {}
    attributes = getattr(cls, "__attrs_attrs__", None)
    if attributes is not None:  # attrs class, read without importing attrs
        for a in attributes:
            meta = a.metadata.get("pepperpy.validation") or {}
            key = meta.get("alias") or a.name
            tree[key] = _subtree(hints.get(a.name, a.type))
    elif dataclasses.is_dataclass(cls):
        for f in dataclasses.fields(cls):
            tree[f.name] = _subtree(hints.get(f.name, Any))
    return tree


def _subtree(tp: Any) -> Any:
    inner = _unwrap_optional(tp)
    if isinstance(inner, type) and (
        hasattr(inner, "__attrs_attrs__") or hasattr(inner, "__dataclass_fields__")
    ):
        return schema_tree(inner)
    return _Leaf(inner)


def secret_paths(tree: SchemaTree, values: Mapping[str, Any], path: Path_ = ()) -> set[Path_]:
    """Paths in *values* whose schema type is ``Secret[...]`` (they are masked everywhere)."""
    found: set[Path_] = set()
    for key, node in tree.items():
        if key not in values:
            continue
        here = (*path, key)
        if isinstance(node, dict):
            value = values[key]
            if isinstance(value, Mapping):
                found |= secret_paths(node, value, here)
        elif isinstance(node, _Leaf) and node.is_secret:
            found.add(here)
    return found


class _Leaf:
    __slots__ = ("type_",)

    @property
    def is_secret(self) -> bool:
        origin = get_origin(self.type_) or self.type_
        return isinstance(origin, type) and getattr(origin, "__pepperpy_redact__", False) is True

    def __init__(self, type_: Any) -> None:
        self.type_ = type_

    @property
    def wants_json(self) -> bool:
        origin = get_origin(self.type_) or self.type_
        return isinstance(origin, type) and issubclass(origin, (list, tuple, set, frozenset, dict))

    @property
    def is_sequence(self) -> bool:
        origin = get_origin(self.type_) or self.type_
        return isinstance(origin, type) and issubclass(origin, (list, tuple, set, frozenset))


def _unwrap_optional(tp: Any) -> Any:
    import types

    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def resolve_path(parts: list[str], tree: SchemaTree | None) -> tuple[Path_, Any]:
    """Map lowercased env segments to schema keys; single ``_`` may separate levels.

    ``["db__host"]`` never reaches here (split on the delimiter first). For
    ``["db_host"]`` with a schema that has a ``db`` section holding ``host``
    and no ``db_host`` field, the result is ``("db", "host")``. An exact field
    name always wins over a split. Without a schema the parts are kept.
    """
    if tree is None:
        return tuple(parts), None
    result: list[str] = []
    node: Any = tree
    for index, part in enumerate(parts):
        if not isinstance(node, dict):
            return tuple(result + parts[index:]), None
        found = _match(part, node)
        if found is None:
            return tuple(result + parts[index:]), None
        keys, node = found
        result.extend(keys)
    return tuple(result), node


def _match(part: str, node: dict[str, Any]) -> tuple[list[str], Any] | None:
    lowered = {k.lower(): k for k in node}
    if part in lowered:
        key = lowered[part]
        return [key], node[key]
    pieces = part.split("_")
    for cut in range(1, len(pieces)):
        head = "_".join(pieces[:cut])
        if head in lowered and isinstance(node[lowered[head]], dict):
            rest = _match("_".join(pieces[cut:]), node[lowered[head]])
            if rest is not None:
                return [lowered[head], *rest[0]], rest[1]
    return None


# --------------------------------------------------------------------------- files

_TOML_HEADER = re.compile(r"^\[\[?\s*(.+?)\s*\]\]?\s*(?:#.*)?$")
_TOML_KEY = re.compile(
    r"""^((?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')"""
    r"""(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*'))*)\s*="""
)
_DOTTED = re.compile(r"""\s*([A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')\s*(?:\.|$)""")


def _split_dotted(text: str) -> Path_:
    parts = []
    for match in _DOTTED.finditer(text):
        part = match.group(1)
        if part[:1] in "\"'":
            part = part[1:-1]
        parts.append(part)
    return tuple(parts)


def toml_lines(text: str) -> dict[Path_, int]:
    """Best-effort line numbers of every key and table header in a TOML document."""
    lines: dict[Path_, int] = {}
    current: Path_ = ()
    in_multiline: str | None = None
    for number, raw in enumerate(text.replace("\r\n", "\n").split("\n"), 1):
        line = raw.strip()
        if in_multiline:
            if line.count(in_multiline) % 2 == 1:
                in_multiline = None
            continue
        if not line or line.startswith("#"):
            continue
        header = _TOML_HEADER.match(line) if line.startswith("[") else None
        if header:
            current = _split_dotted(header.group(1))
            lines.setdefault(current, number)
            continue
        key = _TOML_KEY.match(line)
        if key:
            lines.setdefault(current + _split_dotted(key.group(1)), number)
            rest = line[key.end() :]
            for quote in ('"""', "'''"):
                if rest.count(quote) % 2 == 1:
                    in_multiline = quote
    return lines


def yaml_lines(text: str) -> dict[Path_, int]:
    """Line numbers of every mapping key in a YAML document (safe composer)."""
    import yaml

    lines: dict[Path_, int] = {}
    try:
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return lines

    def walk(current: Any, path: Path_) -> None:
        if isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                key = str(key_node.value)
                lines.setdefault((*path, key), key_node.start_mark.line + 1)
                walk(value_node, (*path, key))

    walk(node, ())
    return lines


def _leaf_line(path: Path_, lines: Mapping[Path_, int]) -> int | None:
    for end in range(len(path), 0, -1):
        found = lines.get(path[:end])
        if found is not None:
            return found
    return None


def _walk_leaves(tree: Mapping[str, Any], path: Path_ = ()) -> Iterable[tuple[Path_, Any]]:
    for key, value in tree.items():
        here = (*path, str(key))
        if isinstance(value, Mapping) and value:
            yield from _walk_leaves(value, here)
        else:
            yield here, value


Profiles = Union[tuple[str, ...], Literal[False], None]
"""``Config.load(profiles=)``: ``None`` (auto), ``False`` (none) or the declared names."""


def file_layer(
    path: Path,
    data: Mapping[str, Any],
    text: str,
    *,
    fmt: str,
    profile: str | None,
    prefix: Path_ = (),
    profiles: Profiles = None,
    fields: Iterable[str] = (),
) -> tuple[Layer, list[str], list[tuple[ErrorDetail, str]]]:
    """Turn a parsed file into a layer; a ``[default]`` table makes it profile-structured.

    In a profile-structured file every other top-level key must be a profile
    table: a value beside the tables, a table named after a field of the
    schema (*fields*) or a key of ``[default]``, or (with declared
    *profiles*) any table not declared, is reported, never dropped.
    ``profiles=False`` reads ``[default]`` as an ordinary table.

    Returns the layer, the profile names the file defines (empty when it has
    no profiles) and the layout problems, each with its ``file:line``.
    """
    if fmt == "toml":
        lines = toml_lines(text)
    elif fmt == "yaml":
        lines = yaml_lines(text)
    else:
        lines = {}
    if prefix:  # a selected table: look lines up under its full path
        lines = {k[len(prefix) :]: v for k, v in lines.items() if k[: len(prefix)] == prefix}
    layer = Layer()
    name = str(path)
    default = data.get("default")
    if profiles is False or not isinstance(default, Mapping):
        for leaf, value in _walk_leaves(data):
            layer.set(leaf, _copy(value), Source("file", name, line=_leaf_line(leaf, lines)))
        return layer, [], []
    problems = _profile_problems(name, data, lines, profiles, set(fields))
    found = [str(k) for k, v in data.items() if isinstance(v, Mapping)]
    chosen = ["default"] + ([profile] if profile and profile != "default" else [])
    for section in chosen:
        table = data.get(section)
        if not isinstance(table, Mapping):
            continue
        for leaf, value in _walk_leaves(table):
            source = Source("file", name, line=_leaf_line((section, *leaf), lines), profile=section)
            layer.set(leaf, _copy(value), source)
    return layer, found, problems


def _profile_problems(
    name: str,
    data: Mapping[str, Any],
    lines: Mapping[Path_, int],
    declared: tuple[str, ...] | None,
    fields: set[str],
) -> list[tuple[ErrorDetail, str]]:
    """Every top-level key of a profile-structured file that is not a profile."""
    problems: list[tuple[ErrorDetail, str]] = []
    default = data["default"]
    off = "pass profiles=False to read [default] as an ordinary table"
    for key, value in data.items():
        key = str(key)
        if key == "default":
            continue
        line = lines.get((key,))
        where = name if line is None else f"{name}:{line}"
        if not isinstance(value, Mapping):
            message = (
                f"top-level key {key!r} is neither in [default] nor a profile table (the file "
                f"has a [default] table, so its top level holds profiles): move it under "
                f"[default], or {off}"
            )
        elif declared is not None:
            if key in declared:
                continue
            message = (
                f"[{key}] is not a declared profile (profiles={list(declared)!r}): add it to "
                f"profiles=, or move it under [default.{key}]"
            )
        elif key in fields or key in default:
            what = "a field of the schema" if key in fields else "a key of [default]"
            message = (
                f"[{key}] is {what}, but beside [default] it would be read as a profile and "
                f"ignored: move it to [default.{key}], name the profiles with profiles=[...], "
                f"or {off}"
            )
        else:
            continue
        problems.append((ErrorDetail("", message, code="profile_layout"), where))
    return problems


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def mapping_layer(data: Mapping[str, Any], kind: str) -> Layer:
    """A layer from a mapping (``defaults=`` / ``overrides=``); dotted keys nest."""
    layer = Layer()
    for key, value in data.items():
        path = tuple(str(key).split("."))
        if isinstance(value, Mapping) and value:
            for leaf, item in _walk_leaves(value):
                layer.set(path + leaf, _copy(item), Source(kind, kind))
        else:
            layer.set(path, _copy(value), Source(kind, kind))
    return layer


# --------------------------------------------------------------------------- .env

_DOTENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def parse_dotenv(
    text: str, *, name: str, environ: Mapping[str, str]
) -> tuple[dict[str, tuple[str, int]], list[ErrorDetail]]:
    """Parse a ``.env`` file: ``KEY=value``, ``export``, quotes, comments, ``${VAR}``.

    Double-quoted and unquoted values expand ``${VAR}`` from earlier lines
    and the environment; single-quoted values are literal. Returns
    ``{key: (value, line)}`` and the syntax errors found (every one).
    """
    values: dict[str, tuple[str, int]] = {}
    errors: list[ErrorDetail] = []
    lines = text.replace("\r\n", "\n").split("\n")
    index = 0
    while index < len(lines):
        number = index + 1
        raw = lines[index]
        index += 1
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _DOTENV_LINE.match(raw)
        if not match:
            errors.append(
                ErrorDetail(
                    "",
                    f"{name}:{number}: expected KEY=value",
                    code="syntax",
                    value=repr(stripped[:40]),
                )
            )
            continue
        key, rest = match.group(1), match.group(2)
        if rest[:1] in ("'", '"'):
            quote = rest[0]
            body = rest[1:]
            while True:
                end = _closing_quote(body, quote)
                if end >= 0 or index >= len(lines):
                    break
                body += "\n" + lines[index]
                index += 1
            if end < 0:
                errors.append(
                    ErrorDetail("", f"{name}:{number}: unterminated {quote} quote", code="syntax")
                )
                continue
            value = body[:end]
            if quote == '"':
                value = _unescape(value)
                value = _expand(value, values, environ)
        else:
            value = rest.split(" #", 1)[0].strip()
            value = _expand(value, values, environ)
        values[key] = (value, number)
    return values, errors


def _closing_quote(body: str, quote: str) -> int:
    escaped = False
    for position, char in enumerate(body):
        if escaped:
            escaped = False
        elif char == "\\" and quote == '"':
            escaped = True
        elif char == quote:
            return position
    return -1


def _unescape(value: str) -> str:
    return value.replace("\\n", "\n").replace("\\t", "\t").replace('\\"', '"').replace("\\\\", "\\")


def _expand(value: str, values: Mapping[str, tuple[str, int]], environ: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        var = match.group(1) or match.group(2)
        if var in values:
            return values[var][0]
        return environ.get(var, match.group(0))

    return _VAR.sub(replace, value)


def read_file(path: Path) -> bytes:
    """The bytes of the regular file *path*; an ``OSError`` for anything else.

    Opened without blocking and checked before reading: a FIFO (or a device)
    where a file is expected would otherwise block the load forever (opening
    a FIFO waits for a writer) or never end (``/dev/zero``).
    """
    nonblock = getattr(os, "O_NONBLOCK", 0)  # POSIX; Windows has no FIFOs in paths
    fd = os.open(path, os.O_RDONLY | nonblock | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        if nonblock:
            os.set_blocking(fd, True)
        with os.fdopen(fd, "rb") as file:
            fd = -1  # closed by the file object
            return file.read()
    finally:
        if fd >= 0:
            os.close(fd)


def read_text(path: Path, what: str) -> tuple[str | None, ErrorDetail | None]:
    """The UTF-8 text of *path* (a leading BOM dropped), or why it cannot be read.

    A missing file gives ``(None, None)``. The problem never quotes the
    file's bytes (secrets are read here too).
    """
    try:
        raw = read_file(path)
    except FileNotFoundError:
        return None, None
    except (OSError, ValueError) as exc:
        return None, ErrorDetail(
            "", f"cannot read {what} {str(path)!r}: {reason(exc)}", code="file"
        )
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return None, ErrorDetail(
            "",
            f"{what} {str(path)!r} is not UTF-8 text (invalid byte at offset {exc.start})",
            code="encoding",
        )


def reason(exc: BaseException) -> str:
    """Why a path could not be read, in a few words (never the file's content)."""
    if isinstance(exc, IsADirectoryError):
        return "it is a directory"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def dotenv_values(
    path: Path, environ: Mapping[str, str]
) -> tuple[dict[str, tuple[str, int]], list[ErrorDetail]]:
    """Read and parse a ``.env`` file (missing file -> nothing).

    A file that is not readable UTF-8 text (a directory, no permission,
    other bytes) is one problem naming it.
    """
    text, problem = read_text(path, ".env file")
    if problem is not None:
        return {}, [problem]
    if text is None:
        return {}, []
    return parse_dotenv(text, name=str(path), environ=environ)


# --------------------------------------------------------------------------- environment


def env_layer(
    variables: Mapping[str, str],
    *,
    prefix: str,
    delimiter: str,
    tree: SchemaTree | None,
    kind: str = "env",
    dotenv_file: str | None = None,
    dotenv_lines: Mapping[str, int] | None = None,
    exclude: Iterable[str] = (),
) -> Layer:
    """Environment variables ``{PREFIX}{A}{delim}{B}`` -> key ``a.b``.

    Names are case-insensitive. With a schema, segments are matched to field
    names, single underscores may separate levels when no field has the
    whole name (``APP_DB_HOST`` -> ``db.host``), and values for list/dict
    fields are parsed as JSON (or comma-separated for lists).
    """
    layer = Layer()
    upper_prefix = prefix.upper()
    entries: list[tuple[Path_, str, Any]] = []
    skipped = {e.upper() for e in exclude}
    for name, raw in variables.items():
        if not name.upper().startswith(upper_prefix) or name.upper() in skipped:
            continue
        value: Any = raw
        rest = _strip_prefix(name, prefix, delimiter)
        if not rest:
            continue
        parts = [p.lower() for p in (rest.split(delimiter) if delimiter else [rest]) if p]
        if not parts:
            continue
        path, leaf = resolve_path(parts, tree)
        if isinstance(leaf, _Leaf):
            value = _parse_env_value(raw, leaf)
        entries.append((path, name, value))
    # Shorter paths first, so APP_DB__HOST refines (not loses to) APP_DB.
    for path, name, value in sorted(entries, key=lambda e: (len(e[0]), e[1])):
        if kind == "dotenv":
            line = (dotenv_lines or {}).get(name)
            source = Source("dotenv", dotenv_file or ".env", line=line, variable=name)
        else:
            source = Source(kind, name)
        layer.set(path, value, source)
    return layer


def _strip_prefix(name: str, prefix: str, delimiter: str) -> str:
    """``APP_DB__HOST`` and ``APP__DB__HOST`` both give ``DB__HOST`` for prefix ``APP_``."""
    if prefix.endswith("_") and delimiter and name[len(prefix) - 1 :].startswith(delimiter):
        return name[len(prefix) - 1 + len(delimiter) :]
    return name[len(prefix) :]


def _parse_env_value(value: str, leaf: _Leaf) -> Any:
    if not leaf.wants_json:
        return value
    text = value.strip()
    if text[:1] in ("[", "{"):
        from pepperpy.serialization import DecodeError, get_format

        try:  # the serialization decoder: depth-limited, every failure a DecodeError
            return get_format("json").decode(text)
        except DecodeError:
            return value  # binding reports the string as the wrong type
    if leaf.is_sequence:
        return [item.strip() for item in text.split(",") if item.strip()] if text else []
    return value


# --------------------------------------------------------------------------- secrets


def secrets_layer(
    directories: Iterable[Path], *, prefix: str, delimiter: str, tree: SchemaTree | None
) -> tuple[Layer, list[tuple[ErrorDetail, str]]]:
    """Docker/Kubernetes style secrets: one file per key (``db__password``), later dirs win.

    A missing directory is skipped; one that is not a directory or cannot be
    listed, and an entry that is not a readable UTF-8 regular file, are
    problems naming the path (dot-files and subdirectories are skipped, as
    Kubernetes' ``..data`` links need). Values are taken verbatim, less a
    trailing newline and a leading BOM.
    """
    layer = Layer()
    layer.secret = True
    problems: list[tuple[ErrorDetail, str]] = []
    for directory in directories:
        for entry in _secret_files(directory, problems):
            _add_secret(layer, entry, problems, prefix=prefix, delimiter=delimiter, tree=tree)
    return layer, problems


def _secret_problem(problems: list[tuple[ErrorDetail, str]], message: str, where: Path) -> None:
    problems.append((ErrorDetail("", message, code="file"), str(where)))


def _secret_files(directory: Path, problems: list[tuple[ErrorDetail, str]]) -> Iterator[Path]:
    """The regular files of one secrets directory, in name order (none when it is missing).

    A generator, so each problem is reported in entry order with those the
    caller finds reading the files it yields.
    """
    try:
        info = directory.stat()
    except FileNotFoundError:
        return
    except (OSError, ValueError) as exc:
        message = f"cannot read secrets_dir {str(directory)!r}: {reason(exc)}"
        _secret_problem(problems, message, directory)
        return
    if not stat.S_ISDIR(info.st_mode):
        _secret_problem(problems, f"secrets_dir {str(directory)!r} is not a directory", directory)
        return
    try:
        entries = sorted(directory.iterdir())
    except OSError as exc:
        message = f"cannot list secrets_dir {str(directory)!r}: {reason(exc)}"
        _secret_problem(problems, message, directory)
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            mode = entry.stat().st_mode
        except (OSError, ValueError) as exc:
            _secret_problem(problems, f"cannot read secret {str(entry)!r}: {reason(exc)}", entry)
            continue
        if stat.S_ISDIR(mode):
            continue
        if not stat.S_ISREG(mode):
            _secret_problem(problems, f"secret {str(entry)!r} is not a regular file", entry)
            continue
        yield entry


def _add_secret(
    layer: Layer,
    entry: Path,
    problems: list[tuple[ErrorDetail, str]],
    *,
    prefix: str,
    delimiter: str,
    tree: SchemaTree | None,
) -> None:
    """Set the key one secret file names (``db__password``) to its text."""
    name = entry.name
    if prefix and name.upper().startswith(prefix.upper()):
        name = _strip_prefix(name, prefix, delimiter)
    parts = [p.lower() for p in (name.split(delimiter) if delimiter else [name]) if p]
    if not parts:
        return
    path, _ = resolve_path(parts, tree)
    text, trouble = read_text(entry, "secret")
    if trouble is not None:
        problems.append((trouble, str(entry)))
        return
    if text is None:  # removed while listing
        return
    layer.set(path, text.rstrip("\r\n"), Source("secret", str(entry)))


def args_layer(argv: Iterable[str], *, tree: SchemaTree | None) -> tuple[Layer, list[ErrorDetail]]:
    """Command-line options ``--db.port=5432``, ``--db.port 5432``, ``--debug`` (= true).

    Dots separate levels; with a schema, ``-`` in a name may stand for ``_``
    (``--db.pool-size``). ``--`` ends the options; any other argument is an error.
    """
    layer = Layer()
    errors: list[ErrorDetail] = []
    items = list(argv)
    index = 0
    while index < len(items):
        token = items[index]
        index += 1
        if token == "--":
            break
        if not token.startswith("--") or len(token) == 2:
            errors.append(
                ErrorDetail(
                    "",
                    f"unexpected command-line argument {token!r}",
                    code="argument",
                    value=repr(token),
                )
            )
            continue
        name, sep, value = token[2:].partition("=")
        if not sep:
            if index < len(items) and not items[index].startswith("--"):
                value = items[index]
                index += 1
            else:
                value = "true"
        parts = [p for p in name.split(".") if p]
        if not parts:
            errors.append(ErrorDetail("", f"empty option name in {token!r}", code="argument"))
            continue
        if tree is not None:
            resolved, leaf = resolve_path([p.replace("-", "_").lower() for p in parts], tree)
            path = resolved
        else:
            path, leaf = tuple(parts), None
        parsed: Any = _parse_env_value(value, leaf) if isinstance(leaf, _Leaf) else value
        layer.set(path, parsed, Source("arg", f"--{name}"))
    return layer, errors


def environ_snapshot(env: Mapping[str, str] | None) -> dict[str, str]:
    """A copy of *env* (``os.environ`` by default)."""
    return dict(os.environ if env is None else env)
