"""``Config``: layered loading, typed binding, provenance and atomic reload."""

from __future__ import annotations

import datetime as _dt
import functools
import json
import logging
import os
import re
import threading
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, cast, overload

from pepperpy.config._build import (
    ArgsSource,
    DotenvSource,
    EnvNames,
    EnvSource,
    FileSource,
    LayerSource,
    MappingSource,
    Run,
    SecretsSource,
)
from pepperpy.config._errors import ConfigError
from pepperpy.config._secret import MASK, Secret
from pepperpy.config._sources import (
    Layer,
    Profiles,
    SchemaTree,
    Source,
    read_file,
    schema_tree,
    secret_paths,
)
from pepperpy.core.exceptions import ErrorDetail, InvalidArgumentError, NotFoundError, safe_repr

if TYPE_CHECKING:
    import asyncio
    from pathlib import Path

__all__ = ["Config", "ConfigFile", "Explanation", "optional"]

T = TypeVar("T")
K = TypeVar("K")

Path_ = tuple[str, ...]
ChangeCallback = Callable[["Config[Any]", frozenset[str]], Any]

_ABSENT: Any = object()


class ConfigFile:
    """A configuration file with options: may it be absent, which table, which format.

    Args:
        path: The file (``.toml``, ``.json``, ``.yaml``/``.yml``).
        optional: The file may be absent (then it is skipped).
        table: Read only this dotted table, e.g. ``"tool.myapp"`` in
            ``pyproject.toml``; a missing table is an error unless *optional*.
        format: Read the file as this format (``"toml"``, ``"json"``,
            ``"yaml"``) whatever its suffix; it wins over ``Config.load(format=)``.

    Raises:
        InvalidArgumentError: *path* is not a path, or *format* names no known format.
    """

    __slots__ = ("format", "optional", "path", "table")

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        optional: bool = False,
        table: str | None = None,
        format: str | None = None,
    ) -> None:
        self.path = _paths(path, "a config file", several=False)[0]
        self.optional = optional
        self.table = tuple(table.split(".")) if table else ()
        self.format = _check_format(format)

    def __repr__(self) -> str:
        table = f", table={'.'.join(self.table)!r}" if self.table else ""
        fmt = f", format={self.format!r}" if self.format else ""
        return f"ConfigFile({str(self.path)!r}, optional={self.optional}{table}{fmt})"


def optional(
    path: str | os.PathLike[str], *, table: str | None = None, format: str | None = None
) -> ConfigFile:
    """Mark a configuration file as one that may be absent.

    Example: ``Config.load("config.toml", optional("local.toml"))``.
    """
    return ConfigFile(path, optional=True, table=table, format=format)


def _check_format(name: object) -> str | None:
    """*name* if it is a registered serialization format (``None`` passes)."""
    from pepperpy.serialization import FormatUnavailableError, available_formats, get_format

    if name is None:
        return None
    known = ", ".join(repr(f) for f in available_formats())
    if not isinstance(name, str):
        raise InvalidArgumentError(
            f"format must be a format name, got {type(name).__name__}",
            hint=f"Use one of {known}.",
        )
    try:
        get_format(name)
    except FormatUnavailableError:
        raise InvalidArgumentError(
            f"unknown configuration file format {name!r}",
            context={"format": name},
            hint=f"Use one of {known}.",
        ) from None
    return name


def _check_profiles(value: object) -> Profiles:
    """``Config.load(profiles=)``: ``None``, ``False`` or a list of profile names."""
    if value is None or value is False:
        return value
    if not isinstance(value, (str, bytes, bool)) and isinstance(value, (list, tuple)):
        names = tuple(value)
        if all(isinstance(n, str) and n and "." not in n for n in names):
            return names
    raise InvalidArgumentError(
        f"profiles must be None, False or a list of profile names, got {safe_repr(value)}",
        hint="Pass profiles=['production', 'staging'] to name the profiles, profiles=False for "
        "none, or leave it out (a file with a [default] table holds profiles).",
    )


def _paths(value: object, name: str, *, several: bool = True) -> list[Path]:
    """One path (or, when *several*, a sequence of paths) as ``Path`` objects."""
    from pathlib import Path

    one = not several or isinstance(value, (str, os.PathLike))
    items: Any = [value] if one else value
    try:
        if isinstance(items, (bytes, Mapping)):
            raise TypeError(name)
        return [Path(p) for p in items]
    except TypeError:
        shape = "a path or a list of paths" if several else "a path (str or os.PathLike)"
        raise InvalidArgumentError(
            f"{name} must be {shape}, got {safe_repr(value)}",
            hint="Pass paths as str or pathlib.Path.",
        ) from None


def _check_argv(argv: object) -> list[str] | None:
    """``Config.load(argv=)``: ``None`` or a list of string arguments (copied)."""
    if argv is None:
        return None
    if isinstance(argv, (list, tuple)) and all(isinstance(a, str) for a in argv):
        return list(argv)
    raise InvalidArgumentError(
        "argv must be a list of string arguments",
        hint="Pass sys.argv[1:] or a list such as ['--db.port=5432'].",
    )


def _check_env(env: object) -> None:
    """``Config.load(env=)``: ``None`` or a mapping of str to str."""
    if env is not None and (
        not isinstance(env, Mapping)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())
    ):
        raise InvalidArgumentError(
            "env must be a mapping of str to str, like os.environ",
            hint="Pass env={'APP_DB__HOST': 'x'} or leave it out to read os.environ.",
        )


def _check_layer_mapping(name: str, mapping: object) -> None:
    """``defaults=`` / ``overrides=``: ``None`` or a mapping no deeper than decoders allow."""
    if mapping is not None and (not isinstance(mapping, Mapping) or _too_deep(mapping)):
        from pepperpy.serialization import MAX_DEPTH

        raise InvalidArgumentError(
            f"{name} must be a mapping nested at most {MAX_DEPTH} levels deep",
            hint=f"Pass {name}={{'db.port': 5432}}.",
        )


def _config_file(item: object) -> ConfigFile:
    """One of ``Config.load``'s files: a path, or a :class:`ConfigFile` as given."""
    if isinstance(item, ConfigFile):
        return item
    if isinstance(item, (str, os.PathLike)):
        return ConfigFile(item)
    raise InvalidArgumentError(
        f"a config file must be a path, got {type(item).__name__}",
        hint="Pass paths (str or Path), or optional('local.toml').",
    )


def _dotenv_paths(dotenv: object) -> list[Path]:
    """``dotenv=``: ``True`` is ``.env``; ``None``/``False`` none; else path(s)."""
    from pathlib import Path

    if dotenv is True:
        return [Path(".env")]
    if dotenv is None or dotenv is False:
        return []
    return _paths(dotenv, "dotenv")


def _too_deep(value: Any) -> bool:
    """Whether *value* nests mappings/lists deeper than MAX_DEPTH (without recursing).

    A container met again is walked again only when met deeper than before,
    so shared parts cost no more than their size, and a container holding
    itself counts as too deep.
    """
    from pepperpy.serialization import MAX_DEPTH

    stack: list[tuple[Any, int]] = [(value, 1)]
    deepest: dict[int, int] = {}
    while stack:
        node, depth = stack.pop()
        if isinstance(node, Mapping):
            children: Any = node.values()
        elif isinstance(node, (list, tuple)):
            children = node
        else:
            continue
        if depth > MAX_DEPTH:
            return True
        if deepest.get(id(node), 0) >= depth:
            continue
        deepest[id(node)] = depth
        stack.extend((child, depth + 1) for child in children)
    return False


class Explanation:
    """Where a key's value came from, and what it overrode.

    Attributes:
        key: The dotted key.
        value: The value (:data:`MASK` for secrets).
        source: The winning :class:`Source`.
        overridden: Earlier sources whose value was replaced, oldest first.
        secret: Whether the value is secret.
    """

    __slots__ = ("key", "overridden", "secret", "source", "value")

    def __init__(
        self, key: str, value: Any, source: Source, overridden: Sequence[Source], secret: bool
    ) -> None:
        self.key = key
        self.value = value
        self.source = source
        self.overridden = list(overridden)
        self.secret = secret

    def __str__(self) -> str:
        shown = MASK if self.secret else safe_repr(self.value)
        text = f"{self.key} = {shown} from {self.source}"
        if self.overridden:
            text += " (overrides " + ", ".join(str(s) for s in reversed(self.overridden)) + ")"
        return text

    def __repr__(self) -> str:
        return f"Explanation({str(self)!r})"


class _State:
    """One immutable snapshot of a loaded configuration (swapped atomically on reload)."""

    __slots__ = ("history", "profile", "profiles", "secrets", "settings", "tree", "watched")

    def __init__(
        self,
        tree: dict[str, Any],
        history: dict[Path_, list[Source]],
        secrets: frozenset[Path_],
        settings: Any,
        profile: str | None,
        profiles: list[str],
        watched: list[Path],
    ) -> None:
        self.tree = tree
        self.history = history
        self.secrets = secrets
        self.settings = settings
        self.profile = profile
        self.profiles = profiles
        self.watched = watched


class _Loader:
    """Everything ``Config.load`` was given, so the same load can run again (reload)."""

    def __init__(
        self,
        files: Sequence[str | os.PathLike[str] | ConfigFile],
        *,
        schema: Any,
        env_prefix: str | None,
        env_nested_delimiter: str,
        env: Mapping[str, str] | None,
        dotenv: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | bool | None,
        profile: str | None,
        profile_var: str | None,
        secrets_dir: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None,
        defaults: Mapping[str, Any] | None,
        overrides: Mapping[str, Any] | None,
        interpolate: bool,
        argv: Sequence[str] | None = None,
        profiles: Sequence[str] | Literal[False] | None = None,
        format: str | None = None,
    ) -> None:
        self.argv = _check_argv(argv)
        _check_env(env)
        self.profiles = _check_profiles(profiles)
        if self.profiles is False and profile:
            raise InvalidArgumentError(
                f"profile={profile!r} was given with profiles=False",
                hint="Drop profiles=False, or the profile.",
            )
        self.format = _check_format(format)
        _check_layer_mapping("defaults", defaults)
        _check_layer_mapping("overrides", overrides)
        self.files = [_config_file(item) for item in files]
        if env_prefix is not None and env_prefix and not env_prefix.endswith("_"):
            env_prefix += "_"
        if not env_nested_delimiter and env_prefix is not None:
            raise InvalidArgumentError(
                "env_nested_delimiter must not be empty",
                hint="Use the default '__' (APP_DB__HOST -> db.host).",
            )
        self.schema = schema
        self.env_prefix = env_prefix
        self.delimiter = env_nested_delimiter
        self.env = env
        self.dotenv = _dotenv_paths(dotenv)
        self.profile = profile
        if profile_var is None:
            profile_var = f"{env_prefix}PROFILE" if env_prefix else "PEPPERPY_PROFILE"
        self.profile_var = profile_var
        self._profile_names = [profile_var]
        if env_prefix and profile_var.upper() == f"{env_prefix}PROFILE".upper():
            self._profile_names.append(f"{env_prefix[:-1]}{env_nested_delimiter}PROFILE")
        self.secrets: list[Path] = [] if secrets_dir is None else _paths(secrets_dir, "secrets_dir")
        self.defaults = dict(defaults or {})
        self.overrides = dict(overrides or {})
        self.interpolate = interpolate
        self._schema_tree: SchemaTree | None = schema_tree(schema) if schema is not None else None
        self._validator: Any = None

    # ------------------------------------------------------------------ build

    def build(self) -> _State:
        """Load every source, lowest priority first, merge them, interpolate, bind."""
        environ = dict(os.environ if self.env is None else self.env)
        names = self._env_names()
        # The .env files are read first: they may choose the profile, which
        # selects the file tables below (their layers still go above the files).
        dotenvs = [DotenvSource(path, environ, names) for path in self.dotenv]
        profile, chosen_by = self._choose_profile(environ, dotenvs)
        run = Run()
        for source in self._sources(environ, names, dotenvs, profile):
            source.apply(run)
        if isinstance(self.profiles, tuple):
            run.profiles.update(("default", *self.profiles))
        run.check_depth()
        run.check_profile(profile, chosen_by)

        tree: dict[str, Any] = {}
        history: dict[Path_, list[Source]] = {}
        secrets: set[Path_] = set()
        for layer in run.layers:
            _merge(tree, history, secrets, layer)
        if self._schema_tree is not None:
            secrets.update(secret_paths(self._schema_tree, tree))

        if self.interpolate and not run.errors:
            lookup = {k: v for dotenv in dotenvs for k, v in dotenv.variables.items()}
            _Interpolator(tree, history, {**lookup, **environ}, run).walk(tree, ())

        if run.errors:
            raise ConfigError(
                errors=run.errors,
                sources=run.sources,
                context={"files": [str(f.path) for f in self.files], **run.syntax},
                hint="Fix every problem listed; nothing was loaded.",
            )

        settings = None
        if self.schema is not None:
            settings = self.bind(self.schema, tree, history, frozenset(secrets))
        return _State(
            tree, history, frozenset(secrets), settings, profile, sorted(run.profiles), run.watched
        )

    def _env_names(self) -> EnvNames | None:
        """How env and .env names map to keys; ``None`` without ``env_prefix``."""
        if self.env_prefix is None:
            return None
        return EnvNames(self.env_prefix, self.delimiter, self._schema_tree, self._profile_names)

    def _choose_profile(
        self, environ: Mapping[str, str], dotenvs: Sequence[DotenvSource]
    ) -> tuple[str | None, str]:
        """The profile and what chose it: ``profile=``, then the environment, then .env files."""
        if self.profile:
            return self.profile, "profile="
        profile = _first(environ, self._profile_names)
        if profile:
            return profile, f"env {self.profile_var}"
        variables = {k: v for dotenv in dotenvs for k, v in dotenv.variables.items()}
        files = ", ".join(str(dotenv.path) for dotenv in dotenvs if dotenv.parsed)
        return _first(variables, self._profile_names), f"{files} ({self.profile_var})"

    def _sources(
        self,
        environ: Mapping[str, str],
        names: EnvNames | None,
        dotenvs: Sequence[DotenvSource],
        profile: str | None,
    ) -> Iterator[LayerSource]:
        """The sources in priority order, lowest first."""
        if self.defaults:
            yield MappingSource(self.defaults, "default")
        for spec in self.files:
            yield FileSource(
                spec,
                format=self.format,
                profile=profile,
                profiles=self.profiles,
                fields=self._schema_tree,
            )
        yield from dotenvs
        if names is not None:
            yield EnvSource(environ, names)
        if self.secrets:
            prefix = self.env_prefix or ""
            yield SecretsSource(self.secrets, prefix, self.delimiter, self._schema_tree)
        if self.argv:
            yield ArgsSource(self.argv, self._schema_tree)
        if self.overrides:
            yield MappingSource(self.overrides, "override")

    # ------------------------------------------------------------------ binding

    def bind(
        self,
        schema: Any,
        tree: dict[str, Any],
        history: Mapping[Path_, list[Source]],
        secrets: frozenset[Path_],
    ) -> Any:
        from pepperpy.validation import Schema, ValidationError

        if schema is self.schema and self._validator is not None:
            validator = self._validator
        else:
            validator = Schema.from_class(schema, coerce=True, extra="ignore")
            if schema is self.schema:
                self._validator = validator
        try:
            return validator.validate(tree)
        except ValidationError as error:
            details: list[ErrorDetail] = []
            sources: list[str | None] = []
            for detail in error.errors:
                path = _pointer_path(detail.path)
                origin = _origin(history, path)
                value = detail.value
                if path in secrets or any(path[:n] in secrets for n in range(1, len(path))):
                    value = "<redacted>"
                details.append(
                    ErrorDetail(
                        detail.path,
                        detail.message,
                        code=detail.code,
                        expected=detail.expected,
                        value=value,
                    )
                )
                if origin is not None:
                    sources.append(str(origin))
                elif detail.code == "missing":
                    sources.append(self._where_to_set(path))
                else:
                    sources.append(None)
            raise ConfigError(
                f"{len(details)} invalid or missing configuration key"
                f"{'s' if len(details) != 1 else ''} for {schema.__name__}",
                errors=details,
                sources=sources,
                context={"schema": schema.__name__},
                hint="Fix every key listed, at the source shown.",
            ) from None

    def _where_to_set(self, path: Path_) -> str:
        key = ".".join(path)
        if self.env_prefix is not None:
            env_name = self.env_prefix + self.delimiter.join(p.upper() for p in path)
            return f"missing: set {key} in a file or env {env_name}"
        return f"missing: set {key} in a file"


def _first(variables: Mapping[str, str], names: Sequence[str]) -> str | None:
    for name in names:
        value = variables.get(name)
        if value:
            return value
    return None


def _pointer_path(pointer: str) -> Path_:
    if not pointer:
        return ()
    return tuple(p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/"))


def _origin(history: Mapping[Path_, list[Source]], path: Path_) -> Source | None:
    for end in range(len(path), 0, -1):
        found = history.get(path[:end])
        if found:
            return found[-1]
    return None


def _merge(
    tree: dict[str, Any], history: dict[Path_, list[Source]], secrets: set[Path_], layer: Layer
) -> None:
    for path, source in layer.origins.items():
        node = tree
        for depth, key in enumerate(path[:-1]):
            child = node.get(key)
            if not isinstance(child, dict):
                if child is not None or key in node:
                    _forget(history, secrets, path[: depth + 1])
                child = node[key] = {}
            node = child
        value = _get(layer.tree, path)
        leaf = path[-1]
        if isinstance(node.get(leaf), dict):
            _forget(history, secrets, path)
        node[leaf] = value
        history.setdefault(path, []).append(source)
        if layer.secret:
            secrets.add(path)
        else:
            secrets.discard(path)


def _forget(history: dict[Path_, list[Source]], secrets: set[Path_], prefix: Path_) -> None:
    for key in [k for k in history if k[: len(prefix)] == prefix]:
        del history[key]
    for key in [k for k in secrets if k[: len(prefix)] == prefix]:
        secrets.discard(key)


def _get(tree: Mapping[str, Any], path: Path_) -> Any:
    node: Any = tree
    for key in path:
        node = node[key]
    return node


_REF = re.compile(r"\$\$\{|\$\{([^}:]+?)(?:(:?-)([^}]*))?\}")


_KEEP: Any = object()  # a reference left as written: circular, or not writable as text


def _spell(value: Any) -> str:
    """A non-string scalar as a configuration file spells it, never as Python does.

    ``true``/``false``/``null`` as TOML, JSON and YAML write them (``str()`` gives
    ``True``/``None``); dates and times in RFC 3339 with the ``T`` (TOML's
    spelling; ``str()`` puts a space). Numbers keep ``str()``, which writes floats
    as TOML does (``1e+100``, ``nan``, ``inf``, ``-inf``). Raises what ``str()``
    raises, e.g. ``ValueError`` for an int past Python's digit limit.
    """
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, (_dt.date, _dt.time)):  # datetime is a date
        return value.isoformat()
    return str(value)


class _Interpolator:
    """Expand ``${VAR}``, ``${VAR:-default}``, ``${a.b}`` (another key) in file values.

    Only strings whose value came from a configuration file are templates;
    values from the environment, ``.env`` files (which expand by their own
    rules when parsed), secrets, arguments, defaults and overrides are kept
    verbatim, also when a file's ``${other.key}`` refers to them. Every
    unresolved or circular reference is a problem added to the run.
    """

    __slots__ = ("environ", "history", "resolving", "run", "tree")

    def __init__(
        self,
        tree: dict[str, Any],
        history: Mapping[Path_, list[Source]],
        environ: Mapping[str, str],
        run: Run,
    ) -> None:
        self.tree = tree
        self.history = history
        self.environ = environ
        self.run = run
        self.resolving: set[Path_] = set()

    def walk(self, node: Any, path: Path_) -> Any:
        """Expand every file-sourced string under *node* (dicts in place); return *node*."""
        if isinstance(node, dict):
            for key, item in node.items():
                node[key] = self.walk(item, (*path, key))
            return node
        if isinstance(node, list):
            return [self.walk(item, (*path, str(i))) for i, item in enumerate(node)]
        if isinstance(node, str) and self._from_file(path):
            return self.expand(node, path)
        return node

    def expand(self, text: str, path: Path_) -> str:
        """*text* (the value at *path*) with its references replaced."""
        if "$" not in text:
            return text
        return _REF.sub(functools.partial(self._replace, path=path), text)

    def _from_file(self, path: Path_) -> bool:
        origin = _origin(self.history, path)
        return origin is not None and origin.kind == "file"

    def _replace(self, match: re.Match[str], path: Path_) -> str:
        if match.group(0) == "$${":
            return "${"
        name = match.group(1).strip()
        op, default = match.group(2), match.group(3)
        value: Any = _ABSENT
        if "." in name or name in self.tree:
            value = self._key(name, path)
            if value is _KEEP:
                return match.group(0)
        if value is _ABSENT:
            value = self._variable(name, op)
        if value is not _ABSENT:
            return str(value)
        if op is not None:
            return default or ""
        self._problem(path, f"${{{name}}} is not set (no such environment variable or key)")
        return match.group(0)

    def _key(self, name: str, path: Path_) -> Any:
        """The value of the key *name* as text, expanded when it is a file's template."""
        ref = tuple(name.split("."))
        try:
            target = _get(self.tree, ref)
        except (KeyError, TypeError):
            return _ABSENT
        if isinstance(target, (dict, list)):
            return _ABSENT
        if not isinstance(target, str):
            try:
                return _spell(target)
            except Exception as exc:  # str() of a value from defaults= raised
                self._problem(path, f"${{{name}}} cannot be written as text ({type(exc).__name__})")
                return _KEEP
        if not self._from_file(ref):
            return target
        if ref in self.resolving:
            self._problem(path, f"circular reference through ${{{name}}}")
            return _KEEP
        self.resolving.add(ref)
        try:
            return self.expand(target, ref)
        finally:
            self.resolving.discard(ref)

    def _variable(self, name: str, op: str | None) -> Any:
        """The environment (or .env) variable *name*; ``:-`` treats an empty one as unset."""
        value = self.environ.get(name)
        if value is None or (op == ":-" and value == ""):
            return _ABSENT
        return value

    def _problem(self, path: Path_, message: str) -> None:
        detail = ErrorDetail(_pointer(path), message, code="interpolation")
        self.run.problem(detail, _str_origin(self.history, path))


def _str_origin(history: Mapping[Path_, list[Source]], path: Path_) -> str | None:
    origin = _origin(history, path)
    return None if origin is None else str(origin)


def _pointer(path: Path_) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in path)


def _flatten(tree: Mapping[str, Any], path: Path_ = ()) -> dict[Path_, Any]:
    flat: dict[Path_, Any] = {}
    for key, value in tree.items():
        here = (*path, key)
        if isinstance(value, Mapping) and value:
            flat.update(_flatten(value, here))
        else:
            flat[here] = value
    return flat


def _split_key(key: str) -> Path_:
    if not isinstance(key, str):
        raise InvalidArgumentError(
            f"config keys are dotted strings, got {type(key).__name__}",
            hint='Use config.get("db.host").',
        )
    return tuple(key.split(".")) if key else ()


def _mask_secrets(value: Any, path: Path_, secrets: frozenset[Path_]) -> Any:
    if path in secrets:
        return Secret(value)
    if isinstance(value, dict):
        return {k: _mask_secrets(v, (*path, k), secrets) for k, v in value.items()}
    if isinstance(value, list):
        return list(value)
    return value


# --------------------------------------------------------------------------- Config


class Config(Generic[T]):
    """A loaded configuration: layered values, typed settings, provenance, reload.

    Build it with :meth:`load`. Sources, from lowest to highest priority:

    1. ``defaults=`` (a mapping),
    2. each file in the order given (``.toml``, ``.json``, ``.yaml``/``.yml``,
       or ``format=``); a file with a ``[default]`` table is
       profile-structured: ``[default]`` then the active profile's table
       apply, and any other top-level key that is not a profile is an error
       (see ``profiles=``),
    3. ``.env`` files (``dotenv=``), variables with the prefix only,
    4. environment variables ``{env_prefix}{A}__{B}`` -> ``a.b``,
    5. secrets directories (``secrets_dir=``, one file per key; values are secret),
    6. command-line options (``argv=``, ``--db.port=5432``),
    7. ``overrides=`` (a mapping).

    Then ``${VAR}``, ``${VAR:-default}`` and ``${other.key}`` are expanded in
    string values read from files (``$${`` is a literal ``${``); values from
    every other source are verbatim. With ``schema=`` (an attrs
    class) the result is validated and bound (strings from the environment
    are coerced: ``"8080"`` -> ``8080``); every missing or invalid key is
    reported at once, with its source.

    Reading is plain sync: ``config.get("db.host")``, ``config["db.port"]``,
    ``config.settings`` (the bound instance), ``config.explain("db.host")``.
    """

    def __init__(self, loader: _Loader, state: _State) -> None:
        self._loader = loader
        self._state = state
        self._callbacks: list[ChangeCallback] = []
        self._reload_lock = threading.Lock()

    # ------------------------------------------------------------------ loading

    @overload
    @classmethod
    def load(
        cls,
        *files: str | os.PathLike[str] | ConfigFile,
        schema: type[K],
        env_prefix: str | None = ...,
        env_nested_delimiter: str = ...,
        env: Mapping[str, str] | None = ...,
        dotenv: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | bool | None = ...,
        profile: str | None = ...,
        profile_var: str | None = ...,
        secrets_dir: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = ...,
        defaults: Mapping[str, Any] | None = ...,
        overrides: Mapping[str, Any] | None = ...,
        interpolate: bool = ...,
        argv: Sequence[str] | None = ...,
        profiles: Sequence[str] | Literal[False] | None = ...,
        format: str | None = ...,
    ) -> Config[K]: ...

    @overload
    @classmethod
    def load(
        cls,
        *files: str | os.PathLike[str] | ConfigFile,
        schema: None = ...,
        env_prefix: str | None = ...,
        env_nested_delimiter: str = ...,
        env: Mapping[str, str] | None = ...,
        dotenv: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | bool | None = ...,
        profile: str | None = ...,
        profile_var: str | None = ...,
        secrets_dir: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = ...,
        defaults: Mapping[str, Any] | None = ...,
        overrides: Mapping[str, Any] | None = ...,
        interpolate: bool = ...,
        argv: Sequence[str] | None = ...,
        profiles: Sequence[str] | Literal[False] | None = ...,
        format: str | None = ...,
    ) -> Config[Any]: ...

    @classmethod
    def load(
        cls,
        *files: str | os.PathLike[str] | ConfigFile,
        schema: Any = None,
        env_prefix: str | None = None,
        env_nested_delimiter: str = "__",
        env: Mapping[str, str] | None = None,
        dotenv: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | bool | None = None,
        profile: str | None = None,
        profile_var: str | None = None,
        secrets_dir: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
        defaults: Mapping[str, Any] | None = None,
        overrides: Mapping[str, Any] | None = None,
        interpolate: bool = True,
        argv: Sequence[str] | None = None,
        profiles: Sequence[str] | Literal[False] | None = None,
        format: str | None = None,
    ) -> Config[Any]:
        """Load and merge every source; validate against *schema* when given.

        Args:
            *files: Configuration files, lowest priority first; wrap a path in
                :func:`optional` when it may be absent.
            schema: An attrs class (or dataclass) to validate and bind to.
            env_prefix: Read environment variables starting with it (``"APP"``
                or ``"APP_"``); ``None`` reads none.
            env_nested_delimiter: Separates levels in variable names
                (``APP_DB__HOST`` -> ``db.host``).
            env: The environment to read (``os.environ`` by default).
            dotenv: A ``.env`` path, several, or ``True`` for ``./.env``.
            profile: The profile to apply; defaults to the ``profile_var``
                environment variable.
            profiles: How files hold profiles. ``None`` (the default): a
                file whose top level has a ``[default]`` table is
                profile-structured, and every other top-level key must be a
                profile table (a value there, or a table named after a schema
                field or a key of ``[default]``, is an error, never dropped).
                A list of names (``["production", "staging"]``, like
                dynaconf's ``environments=``): the same, and only those
                tables may appear beside ``[default]``. ``False``: no
                profiles; ``[default]`` is an ordinary table.
            profile_var: The variable choosing the profile (default
                ``{env_prefix}PROFILE``, or ``PEPPERPY_PROFILE``).
            secrets_dir: Directories with one file per secret key.
            defaults: Lowest-priority values (dotted keys allowed).
            overrides: Highest-priority values (dotted keys allowed).
            interpolate: Expand ``${...}`` references in values read from
                files (never in environment, ``.env``, secret, argument,
                default or override values: those are verbatim).
            argv: Command-line options (``sys.argv[1:]``): ``--db.port=5432``,
                ``--db.port 5432``, ``--debug``; above secrets, below overrides.
            format: Read every file as this format (``"toml"``, ``"json"``,
                ``"yaml"``) instead of going by its suffix;
                ``ConfigFile(path, format=...)`` sets it for one file.

        Raises:
            InvalidArgumentError: an argument of the wrong shape (an unknown
                *format*, *profiles* not a list of names, a *profile* with
                ``profiles=False``, *env* not a str-to-str mapping).
            ConfigError: every problem at once: missing or malformed files
                (with file, line and column), unreadable or non-UTF-8
                ``.env`` and secret files, keys that are not profiles in a
                profile-structured file, unknown profile, unresolved
                ``${...}``, and every missing or invalid key for *schema*.
        """
        loader = _Loader(
            files,
            schema=schema,
            env_prefix=env_prefix,
            env_nested_delimiter=env_nested_delimiter,
            env=env,
            dotenv=dotenv,
            profile=profile,
            profile_var=profile_var,
            secrets_dir=secrets_dir,
            defaults=defaults,
            overrides=overrides,
            interpolate=interpolate,
            argv=argv,
            profiles=profiles,
            format=format,
        )
        return cls(loader, loader.build())

    @classmethod
    async def aload(
        cls, *files: str | os.PathLike[str] | ConfigFile, **options: Any
    ) -> Config[Any]:
        """:meth:`load` in a worker thread, so file reads never block the event loop."""
        import asyncio

        return await asyncio.to_thread(lambda: cls.load(*files, **options))

    # ------------------------------------------------------------------ reading

    @property
    def settings(self) -> T:
        """The instance of the ``schema=`` class, validated.

        Raises:
            InvalidArgumentError: the config was loaded without a schema.
        """
        settings = self._state.settings
        if settings is None:
            raise InvalidArgumentError(
                "this config was loaded without schema=",
                hint="Pass schema=YourSettings to Config.load, or call config.bind(YourSettings).",
            )
        return cast(T, settings)

    @property
    def profile(self) -> str | None:
        """The active profile, if any."""
        return self._state.profile

    @property
    def profiles(self) -> list[str]:
        """The profiles the files define, plus those named by ``profiles=``."""
        return list(self._state.profiles)

    def get(self, key: str, default: Any = None) -> Any:
        """The value at dotted *key* (``"db.host"``), or *default*.

        Secret values come back as :class:`Secret`; tables as dicts (copies).
        """
        state = self._state
        path = _split_key(key)
        if state.settings is not None and path:
            typed = _attr_path(state.settings, path)
            if typed is not _ABSENT:
                return typed
        try:
            value = _get(state.tree, path)
        except (KeyError, TypeError):
            return default
        return _mask_secrets(value, path, state.secrets) if state.secrets else _copy_out(value)

    def __getitem__(self, key: str) -> Any:
        value = self.get(key, _ABSENT)
        if value is _ABSENT:
            raise NotFoundError(
                f"no configuration key {key!r}",
                context={"key": key},
                hint=self._suggest(key),
            )
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key, _ABSENT) is not _ABSENT

    def keys(self) -> list[str]:
        """Every leaf key, dotted, in order."""
        return [".".join(path) for path in _flatten(self._state.tree)]

    def as_dict(self, *, reveal: bool = False) -> dict[str, Any]:
        """The merged values as a nested dict (secrets wrapped unless *reveal*)."""
        state = self._state
        if reveal or not state.secrets:
            return cast(dict[str, Any], _copy_out(state.tree))
        return cast(dict[str, Any], _mask_secrets(state.tree, (), state.secrets))

    def dumps(self, format: str = "toml", *, reveal: bool = False) -> str:
        """The effective configuration as text (``toml``, ``json``, ``yaml``).

        With a bound schema this is the validated settings, defaults
        included; secrets are masked unless *reveal* (which dumps the merged
        raw values instead).
        """
        from pepperpy import serialization

        state = self._state
        if reveal:
            data: Any = self.as_dict(reveal=True)
        elif state.settings is not None:
            data = serialization.unstructure(state.settings)
        else:
            data = self.as_dict()
        return serialization.dumps(data, format=format).decode("utf-8")

    def section(self, key: str) -> dict[str, Any]:
        """The table at dotted *key* as a new dict (changing it changes nothing here).

        Without a schema this is the merged table as loaded. With a bound
        schema it holds the typed values instead: each field of the schema
        class with its validated value (coerced, schema defaults included),
        nested tables as dicts, plus any key the sources set that the class
        does not declare; so ``section("db")["port"] == get("db.port")``
        either way. Secret values stay wrapped in :class:`Secret`. For the
        bound object itself use ``get("db")`` or :attr:`settings`.

        Raises:
            NotFoundError: no such key, or it holds a single value, not a table.
        """
        state = self._state
        path = _split_key(key)
        try:
            raw = _get(state.tree, path)
        except (KeyError, TypeError):
            raw = _ABSENT
        else:
            raw = _mask_secrets(raw, path, state.secrets) if state.secrets else _copy_out(raw)
        typed = _attr_path(state.settings, path) if state.settings is not None else _ABSENT
        if raw is _ABSENT and typed is _ABSENT:
            raise NotFoundError(
                f"no configuration key {key!r}", context={"key": key}, hint=self._suggest(key)
            )
        table = _table(raw, typed)
        if table is None:
            raise NotFoundError(
                f"configuration key {key!r} is a value, not a table",
                context={"key": key},
                hint="Use config.get() for single values.",
            )
        return table

    def explain(self, key: str) -> Explanation:
        """Where *key*'s value came from (file and line, env var, secret, default).

        Raises:
            NotFoundError: the key is not set by any source or schema default.
        """
        state = self._state
        path = _split_key(key)
        history = state.history.get(path)
        secret = path in state.secrets
        typed = _attr_path(state.settings, path) if state.settings is not None else _ABSENT
        if history:
            value = _get(state.tree, path) if typed is _ABSENT else typed
            return Explanation(key, value, history[-1], history[:-1], secret)
        if typed is not _ABSENT:
            return Explanation(
                key, typed, Source("schema", "schema"), [], isinstance(typed, Secret)
            )
        raise NotFoundError(
            f"no configuration key {key!r}", context={"key": key}, hint=self._suggest(key)
        )

    def bind(self, schema: type[K]) -> K:
        """Validate the values against *schema* (an attrs class) and return an instance.

        Raises:
            ConfigError: every missing or invalid key, with its source.
        """
        state = self._state
        if schema is self._loader.schema and state.settings is not None:
            return cast(K, state.settings)
        return cast(K, self._loader.bind(schema, state.tree, state.history, state.secrets))

    def _suggest(self, key: str) -> str:
        import difflib

        close = difflib.get_close_matches(key, self.keys(), n=3)
        if close:
            return "Did you mean " + ", ".join(repr(c) for c in close) + "?"
        return "Check the key, or set it in a file or the environment."

    # ------------------------------------------------------------------ reload

    def on_change(self, callback: ChangeCallback) -> ChangeCallback:
        """Call ``callback(config, changed_keys)`` after each successful reload (decorator too).

        It runs once per reload that changed at least one key, whether the
        reload came from :meth:`reload` or from a watcher; it may be sync or
        ``async def``.
        """
        self._callbacks.append(callback)
        return callback

    def reload(self) -> frozenset[str]:
        """Load every source again; swap the new values in only if all is valid.

        After a swap that changed keys, the :meth:`on_change` callbacks run,
        in order, before this returns. An ``async`` callback runs to
        completion here too, unless this thread is running an event loop:
        then it is scheduled on that loop as a task (a sync call cannot wait
        for it; a watcher awaits its callbacks). An exception from a sync
        callback propagates once every other callback has run (the new values
        are already in place; the first error is raised, the others logged).

        Returns:
            The dotted keys whose values changed (empty when nothing did).

        Raises:
            ConfigError: the new configuration is invalid; the current one is
                kept and no callback runs.
        """
        import inspect

        changed, callbacks = self._reload_sync()
        errors: list[Exception] = []
        for callback in callbacks:
            try:
                result = callback(self, changed)
            except Exception as exc:  # the others still hear of the change
                errors.append(exc)
                continue
            if inspect.isawaitable(result):
                _finish(result)
        _raise_first(errors)
        return changed

    def _reload_sync(self) -> tuple[frozenset[str], list[ChangeCallback]]:
        with self._reload_lock:
            new_state = self._loader.build()
            old = _flatten(self._state.tree)
            new = _flatten(new_state.tree)
            changed = frozenset(
                ".".join(p)
                for p in set(old) | set(new)
                if old.get(p, _ABSENT) != new.get(p, _ABSENT)
            )
            self._state = new_state  # one assignment: readers see old or new, never a mix
        return changed, list(self._callbacks) if changed else []

    def watch(
        self,
        interval: float = 1.0,
        *,
        clock: Any = None,
        on_error: Callable[[BaseException], Any] | None = None,
    ) -> Any:
        """A :class:`ConfigWatcher` that reloads when a source file changes.

        Use it as ``async with config.watch(interval=2):``; see
        :class:`ConfigWatcher`.
        """
        from pepperpy.config._watch import ConfigWatcher
        from pepperpy.core.types import system_clock

        return ConfigWatcher(
            self, interval=interval, clock=clock or system_clock, on_error=on_error
        )

    def _signature(self) -> tuple[Any, ...]:
        parts: list[Any] = []
        for path in self._state.watched:
            parts.append(_stat(path))
            if path.is_dir():
                try:  # a directory that vanished or cannot be listed is a change, not a crash
                    entries = sorted(path.iterdir())
                except OSError:
                    parts.append(None)
                    continue
                for entry in entries:
                    parts.append((entry.name, _stat(entry)))
        return tuple(parts)

    def __repr__(self) -> str:
        files = [str(f.path) for f in self._loader.files]
        return f"Config(files={files!r}, profile={self.profile!r}, keys={len(self.keys())})"


def _attr_path(obj: Any, path: Path_) -> Any:
    """Follow *path* through attributes of a bound settings object (or ``_ABSENT``)."""
    node = obj
    for part in path:
        fields = getattr(type(node), "__attrs_attrs__", None) or getattr(
            type(node), "__dataclass_fields__", None
        )
        if fields is None:
            return _ABSENT
        names = {f.name for f in fields} if not isinstance(fields, dict) else set(fields)
        if part not in names:
            return _ABSENT
        node = getattr(node, part)
    return node


def _raise_first(errors: list[Exception]) -> None:
    """Raise the first of the callbacks' *errors* (every callback has run); log the others."""
    if not errors:
        return
    for extra in errors[1:]:
        logging.getLogger("pepperpy.config").error(
            "a pepperpy.config on_change callback failed", exc_info=extra
        )
    raise errors[0]


_pending: set[asyncio.Future[Any]] = set()  # scheduled callbacks, kept alive until done


def _finish(awaitable: Awaitable[Any]) -> None:
    """Run an ``async`` callback's awaitable from sync code (see ``Config.reload``)."""
    import asyncio

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is None:
        # A private loop: asyncio.run() would replace (then unset) this thread's loop.
        runner = asyncio.new_event_loop()
        try:
            runner.run_until_complete(_await(awaitable))
        finally:
            try:
                runner.run_until_complete(runner.shutdown_asyncgens())
                runner.run_until_complete(runner.shutdown_default_executor())
            finally:
                runner.close()
        return
    task = asyncio.ensure_future(awaitable)
    _pending.add(task)
    task.add_done_callback(_report)


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


def _report(task: asyncio.Future[Any]) -> None:
    """Drop a finished callback task; hand its exception to the loop's handler."""
    _pending.discard(task)
    if not task.cancelled() and task.exception() is not None:
        task.get_loop().call_exception_handler(
            {
                "message": "a pepperpy.config on_change callback failed",
                "exception": task.exception(),
                "future": task,
            }
        )


def _field_names(obj: Any) -> list[str] | None:
    """The field names of an attrs or dataclass instance (``None`` for anything else)."""
    import dataclasses

    fields = getattr(type(obj), "__attrs_attrs__", None)
    if fields is not None:
        return [f.name for f in fields]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return [f.name for f in dataclasses.fields(obj)]
    return None


def _plain(value: Any) -> Any:
    """A typed value with bound tables turned into dicts and containers copied."""
    if _field_names(value) is not None:
        return _table(_ABSENT, value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _table(raw: Any, typed: Any) -> dict[str, Any] | None:
    """The dict for ``Config.section``: *typed* values over the *raw* table (or ``None``).

    *raw* is a copy of the merged table (or ``_ABSENT``); *typed* is the bound
    value at the same key (or ``_ABSENT`` without a schema).
    """
    names = _field_names(typed)
    if names is None:
        if isinstance(typed, Mapping):
            return cast(dict[str, Any], _plain(typed))
        if isinstance(raw, dict) and typed is _ABSENT:
            return raw
        return None
    table: dict[str, Any] = raw if isinstance(raw, dict) else {}
    for name in names:
        value = getattr(typed, name)
        if _field_names(value) is not None:
            table[name] = _table(table.get(name, _ABSENT), value)
        else:
            table[name] = _plain(value)
    return table


def _stat(path: Path) -> tuple[int, int, bytes] | None:
    """mtime, size and a content digest (coarse mtimes must not hide a change)."""
    import hashlib

    try:
        info = path.stat()
        digest = b"" if path.is_dir() else hashlib.blake2b(read_file(path), digest_size=16).digest()
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size, digest)


def _copy_out(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy_out(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_out(v) for v in value]
    return value
