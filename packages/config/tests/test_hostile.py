"""Hostile input for every loader of pepperpy.config (issue 19, "close the class").

``Config.load`` reads TOML, JSON and YAML files, ``.env`` files, secrets
directories, environment variables, command-line options and defaults /
overrides. Each gets deep nesting, huge integers and floats, NaN and
infinities, lone surrogates, byte-order marks, non-UTF-8 bytes, mangled valid
documents, and paths that are directories, symlink loops or hold a NUL. The
only exceptions allowed out of ``Config.load`` (and out of the readers and
``dumps`` of what it loaded) are ``PepperPyError`` subclasses; every other
one is counted as an escape and each test asserts the count is 0 (the message
gives the count and the first few inputs).

Examples per loader: ``PEPPERPY_FUZZ_EXAMPLES`` if set, else 10,000 on CI
(``CI=true``) and 200 otherwise, so a local run stays fast. The command-line,
defaults/overrides and path loaders get a tenth (at least 100). The strategies'
shared part, the budget and the check come from ``pepperpy.testing.hostile``.
"""

from __future__ import annotations

import datetime as dt
import enum
import os
import shutil
from pathlib import Path
from typing import Any, Optional

import attrs
import pytest
from hypothesis import strategies as st

from pepperpy.config import Config, ConfigFile, Secret
from pepperpy.testing.hostile import (
    Unprintable,
    fuzz_only_pepperpy_errors,
    fuzz_settings,
    hostile_bytes,
    hostile_scalars,
    hostile_values,
    weird_text,
)

FUZZ = fuzz_settings(200)
FUZZ_LIGHT = fuzz_settings(200, fraction=10)


class Level(str, enum.Enum):
    LOW = "low"
    HIGH = "high"


class Size(enum.IntEnum):
    S = 1
    L = 2


@attrs.define
class Db:
    host: str = "localhost"
    port: int = 5432
    password: Secret[str] = attrs.field(factory=lambda: Secret(""))
    ratio: float = 1.0


@attrs.define
class Settings:
    """A schema touching every coercion binding does: enums, lists, dicts, floats, dates."""

    name: str = "svc"
    db: Db = attrs.field(factory=Db)
    level: Level = Level.LOW
    size: Size = Size.S
    tags: list[str] = attrs.field(factory=list)
    limits: dict[str, int] = attrs.field(factory=dict)
    when: Optional[dt.datetime] = None  # noqa: UP045 (Python 3.10 evaluates it)
    debug: bool = False


# --------------------------------------------------------------------------- strategies

WEIRD = [
    "\ud800",
    "a\udfffb",
    "\ufeff",
    "\x00",
    "\u2028",
    "NaN",
    "inf",
    "-Infinity",
    "1" * 5000,
    "1e999",
    "-1e400",
    "${HOME_DIR}",
    "${a.b}",
    "${",
    "$${x}",
    "${X:-${Y}}",
    "[" * 300 + "]" * 300,
    "[" * 3000 + "]" * 3000,
    "[" + "1" * 5000 + "]",
    '{"a": ' + "9" * 5000 + "}",
    '{"a":' * 200 + "1" + "}" * 200,
    "[1,2",
    "high",
    "HIGH",
    "2",
    "true",
    "2026-13-45T25:61:00",
]
WEIRD_TEXT = weird_text(*WEIRD)  # the shared hostile text and config's own
TEXT = st.text(max_size=16) | WEIRD_TEXT


def _deep_toml(depth: int) -> str:
    return "a = " + "[" * depth + "]" * depth + "\n"


CORPUS: dict[str, list[str]] = {
    "toml": [
        'name = "shop"\n[db]\nhost = "h"\nport = 5432\npassword = "pw"\n',
        '[default]\nname = "a"\n[default.db]\nport = 1\n[production]\nname = "b"\n',
        'name = "top"\n[default]\nx = 1\n[production]\nx = 2\n',
        '[default]\nname = "svc"\n[db]\nhost = "h"\n',
        'level = "bogus"\nsize = 99\ntags = [1, "a"]\nlimits = {a = "x"}\n',
        "when = 2026-12-04T12:00:00Z\n[db]\nratio = 1e308\nport = 99999999999999999999\n",
        "n = " + "9" * 5000 + "\n",
        'name = "${HOME_DIR}/x"\nother = "${name}"\nloop = "${loop}"\n',
        'name = "\\ud800"\n',
        ".".join(["a"] * 200) + " = 1\n",
        _deep_toml(127),
        _deep_toml(129),
        _deep_toml(3000),
    ],
    "json": [
        '{"name": "shop", "db": {"host": "h", "port": "5432"}}',
        '{"default": {"name": "a"}, "production": {"name": "b"}, "x": 1}',
        '{"level": "bogus", "size": true, "tags": {"a": 1}, "limits": [1], "when": 5}',
        '{"db": {"ratio": 1' + "0" * 400 + ', "port": 1e400}}',
        '{"name": "\\ud800", "db": {"host": "\\udfff"}}',
        '{"n": ' + "1" * 5000 + "}",
        "[" * 3000 + "]" * 3000,
        '{"a":' * 129 + "1" + "}" * 129,
        '{"a":' * 127 + "1" + "}" * 127,
        '"just a string"',
        "null",
        '{"db": NaN, "debug": Infinity}',
    ],
    "yaml": [
        "name: shop\ndb:\n  host: h\n  port: '5432'\n",
        "default:\n  name: a\nproduction:\n  name: b\nname: top\n",
        "1: 2\n? [a]\n: b\ndb: {ratio: .inf, port: .nan}\n",
        "a: &a [*a]\n",
        "a: &x [1, 2]\nb: [*x, *x, *x]\n",
        "when: 2026-12-04\ntags: !!set {a, b}\nlimits: {a: 99999999999999999999999}\n",
        "[" * 3000 + "]" * 3000,
        "- - - - - - - - - - - 1\n",
        "name: !!python/object:os.system x\n",
        'name: "\\ud800"\n',
    ],
}


TEXT_64 = WEIRD_TEXT | st.text(max_size=64)


def hostile_documents(documents: list[str]) -> st.SearchStrategy[bytes]:
    """Valid documents, mangled ones, BOM-prefixed ones, random bytes and weird text."""
    return hostile_bytes(documents, inserts=[b"${", b"\n"], text=TEXT_64)


DOTENV_CORPUS = [
    "APP_NAME=shop\nAPP_DB__PORT=6432\n# c\nexport APP_DEBUG=yes\n",
    "APP_PROFILE=production\nAPP_LEVEL=bogus\nAPP_SIZE=99\n",
    'APP_TAGS=[1, 2\nAPP_LIMITS={"a": 1e999}\nAPP_WHEN=2026-13-45\n',
    "APP_NAME='x${HOME_DIR}y'\nAPP_DB__HOST=\"${APP_NAME}\\n\"\nB=${B}\n",
    'APP_NAME="unterminated\n',
    "=novalue\n  \nAPP_=x\nAPP____=y\n",
    "APP_DB__PORT=" + "9" * 5000 + "\n",
    "APP_" + "A__" * 300 + "B=1\n",
    "APP_TAGS=" + "[" * 3000 + "]" * 3000 + "\n",
]

ENV_NAMES = st.one_of(
    st.sampled_from(
        [
            "APP_NAME",
            "APP_DB__PORT",
            "APP_DB_RATIO",
            "APP_DB__PASSWORD",
            "APP_LEVEL",
            "APP_SIZE",
            "APP_TAGS",
            "APP_LIMITS",
            "APP_WHEN",
            "APP_DEBUG",
            "APP_PROFILE",
            "APP_",
            "APP__",
            "APP_____",
            "APP_" + "A__" * 300 + "B",
            "APP_" + "A__" * 2000 + "B",
            "HOME_DIR",
        ]
    ),
    TEXT.map(lambda t: "APP_" + t),
)
ENVIRONMENTS = st.dictionaries(ENV_NAMES, TEXT, max_size=6)


SCALARS = hostile_scalars(TEXT)
VALUES = hostile_values(SCALARS, keys=TEXT, max_size=3, max_leaves=6)
MAPPINGS = st.dictionaries(
    st.sampled_from(["name", "db", "db.port", "level", "tags", "limits", "a.b.c"]) | TEXT,
    VALUES,
    max_size=4,
)

OPTIONS = st.fixed_dictionaries(
    {
        "schema": st.sampled_from([None, Settings]),
        "profile": st.sampled_from([None, "production", "default", "db"]),
        "profiles": st.sampled_from([None, False, ["production"]]),
    }
)


# --------------------------------------------------------------------------- the harness


def load_and_read(*files: Any, **options: Any) -> None:
    """Config.load, then every reader of the result, including dumps in each format."""
    if options.get("profiles") is False:
        options["profile"] = None
    config = Config.load(*files, **options)
    for key in config.keys()[:5]:
        config.get(key)
        config.explain(key)
    config.as_dict()
    for fmt in ("toml", "json", "yaml"):
        config.dumps(fmt)


BASE_ENV = {"HOME_DIR": "/home/x"}


# --------------------------------------------------------------------------- the loaders


@pytest.mark.parametrize("fmt", ["toml", "json", "yaml"])
def test_config_files_only_raise_pepperpy_errors(fmt: str, tmp_path: Path) -> None:
    """Close the class: Config.load on hostile TOML/JSON/YAML files, with and without a schema."""
    path = tmp_path / f"config.{fmt}"

    def load(pair: tuple[bytes, dict[str, Any]]) -> None:
        data, options = pair
        path.write_bytes(data)
        load_and_read(path, env_prefix="APP", env=BASE_ENV, **options)

    fuzz_only_pepperpy_errors(
        load,
        st.tuples(hostile_documents(CORPUS[fmt]), OPTIONS),
        profile=FUZZ,
        name=f"Config.load({fmt} file)",
    )


def test_format_argument_only_raises_pepperpy_errors(tmp_path: Path) -> None:
    """Close the class (#11): any file read as any format with format=."""
    path = tmp_path / "config.conf"
    every = [doc for docs in CORPUS.values() for doc in docs]

    def load(pair: tuple[bytes, str]) -> None:
        data, fmt = pair
        path.write_bytes(data)
        load_and_read(ConfigFile(path, format=fmt), schema=Settings, env={})

    strategy = st.tuples(hostile_documents(every), st.sampled_from(["toml", "json", "yaml"]))
    fuzz_only_pepperpy_errors(load, strategy, profile=FUZZ_LIGHT, name="Config.load(format=)")


def test_dotenv_files_only_raise_pepperpy_errors(tmp_path: Path) -> None:
    """Issue 19 #10 and close the class: hostile .env files (non-UTF-8 raised before)."""
    path = tmp_path / ".env"

    def load(pair: tuple[bytes, dict[str, Any]]) -> None:
        data, options = pair
        path.write_bytes(data)
        load_and_read(env_prefix="APP", dotenv=path, env=BASE_ENV, **options)

    fuzz_only_pepperpy_errors(
        load,
        st.tuples(hostile_documents(DOTENV_CORPUS), OPTIONS),
        profile=FUZZ,
        name="Config.load(dotenv=)",
    )


SECRET_NAMES = st.sampled_from(
    ["db__password", "APP_DB__PASSWORD", "name", "level", "tags", "____", "a" * 200, "x.y", "-"]
)


def test_secret_files_only_raise_pepperpy_errors(tmp_path: Path) -> None:
    """Issue 19 #9/#10 and close the class: hostile secret files (non-UTF-8 raised before)."""
    secrets = tmp_path / "secrets"
    contents = hostile_documents(["hunter2\n", "pa${ss}word", "1" * 5000, "[1, 2]", "\ud800"])

    def load(pair: tuple[dict[str, bytes], dict[str, Any]]) -> None:
        files, options = pair
        shutil.rmtree(secrets, ignore_errors=True)
        secrets.mkdir()
        for name, data in files.items():
            (secrets / name).write_bytes(data)
        load_and_read(env_prefix="APP", secrets_dir=secrets, env=BASE_ENV, **options)

    strategy = st.tuples(st.dictionaries(SECRET_NAMES, contents, max_size=3), OPTIONS)
    fuzz_only_pepperpy_errors(load, strategy, profile=FUZZ, name="Config.load(secrets_dir=)")


def test_environment_only_raises_pepperpy_errors() -> None:
    """Issue 19 #1/#9 and close the class: hostile environment names and values."""

    def load(pair: tuple[dict[str, str], dict[str, Any]]) -> None:
        env, options = pair
        load_and_read(env_prefix="APP", env={**BASE_ENV, **env}, **options)

    fuzz_only_pepperpy_errors(
        load, st.tuples(ENVIRONMENTS, OPTIONS), profile=FUZZ, name="Config.load(env=)"
    )


def test_argv_only_raises_pepperpy_errors() -> None:
    """Close the class: hostile command-line options."""
    options = st.one_of(
        TEXT,
        TEXT.map(lambda t: "--" + t),
        st.sampled_from(["--", "--=", "--.", "--db.port", "--a" + ".a" * 2000 + "=1"]),
    )

    def load(argv: list[str]) -> None:
        load_and_read(argv=argv, schema=Settings, env={})

    fuzz_only_pepperpy_errors(
        load, st.lists(options, max_size=5), profile=FUZZ_LIGHT, name="Config.load(argv=)"
    )


def test_defaults_and_overrides_only_raise_pepperpy_errors() -> None:
    """Close the class: hostile defaults= and overrides= (deep, huge, NaN, surrogates)."""

    def load(pair: tuple[dict[str, Any], dict[str, Any], Any]) -> None:
        defaults, overrides, schema = pair
        load_and_read(defaults=defaults, overrides=overrides, schema=schema, env={})

    strategy = st.tuples(MAPPINGS, MAPPINGS, st.sampled_from([None, Settings]))
    fuzz_only_pepperpy_errors(
        load, strategy, profile=FUZZ_LIGHT, name="Config.load(defaults=, overrides=)"
    )


def test_hostile_paths_only_raise_pepperpy_errors(tmp_path: Path) -> None:
    """Issue 19 #10 and close the class: directories, symlink loops, NULs, wrong types."""
    (tmp_path / "dir.toml").mkdir()
    loop = tmp_path / "loop.toml"
    os.symlink(loop, loop)
    secrets_file = tmp_path / "secrets-file"
    secrets_file.write_text("x")
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    os.symlink(secrets / "token", secrets / "token")
    os.mkfifo(secrets / "fifo")
    (secrets / "sub").mkdir()
    paths: list[Any] = [
        tmp_path / "dir.toml",
        loop,
        tmp_path / "missing.toml",
        str(tmp_path / "nul\x00.toml"),
        tmp_path / "x.unknown",
        str(tmp_path / "\udcff.toml"),
        secrets_file,
        secrets,
        3,
        b"config.toml",
        None,
        ["a.toml"],
    ]

    def load(pair: tuple[Any, str]) -> None:
        path, where = pair
        if where == "file":
            Config.load(path, env={})
        elif where == "optional":
            Config.load(ConfigFile(path, optional=True), env={})
        elif where == "dotenv":
            Config.load(env_prefix="APP", dotenv=path, env={})
        else:
            Config.load(secrets_dir=path, env={})

    strategy = st.tuples(
        st.sampled_from(paths), st.sampled_from(["file", "optional", "dotenv", "secrets"])
    )
    fuzz_only_pepperpy_errors(load, strategy, profile=FUZZ_LIGHT, name="Config.load(paths)")


UNSPELLABLE = (
    hostile_scalars(TEXT) | st.sampled_from([10**5000, -(10**4301)]) | st.builds(Unprintable)
)
TEMPLATES = st.lists(
    st.sampled_from(["${name}", "${db.port}", "${a.b.c}", "${db}", "${limits.a}", "${tags}"]),
    min_size=1,
    max_size=3,
).map(lambda refs: 'text = "' + "-".join(refs) + '"\n')


def test_templates_over_hostile_values_only_raise_pepperpy_errors(tmp_path: Path) -> None:
    """Review finding (interpolation spelling), close the class: a file's ``${key}`` over
    hostile values from defaults= (ints past the digit limit, objects whose str raises)."""
    path = tmp_path / "config.toml"

    def load(pair: tuple[str, dict[str, Any]]) -> None:
        template, defaults = pair
        path.write_text(template, encoding="utf-8")
        Config.load(path, defaults=defaults, env={}).as_dict()

    defaults = st.fixed_dictionaries(
        {},
        optional={
            "name": UNSPELLABLE,
            "db": st.fixed_dictionaries({}, optional={"port": UNSPELLABLE}) | UNSPELLABLE,
            "a": st.fixed_dictionaries({"b": st.fixed_dictionaries({"c": UNSPELLABLE})}),
            "limits": st.dictionaries(st.just("a"), UNSPELLABLE),
            "tags": st.lists(UNSPELLABLE, max_size=2),
        },
    )
    fuzz_only_pepperpy_errors(
        load, st.tuples(TEMPLATES, defaults), profile=FUZZ_LIGHT, name="Config.load(${key})"
    )
