"""Tests for pepperpy.config._sources: parsers, line maps, env resolution."""

from __future__ import annotations

import attrs
from hypothesis import given
from hypothesis import strategies as st

from pepperpy.config._sources import (
    env_layer,
    parse_dotenv,
    resolve_path,
    schema_tree,
    toml_lines,
    yaml_lines,
)


@attrs.define
class Db:
    host: str
    pool_size: int = 1
    replicas: list[str] = attrs.field(factory=list)


@attrs.define
class Settings:
    db: Db
    db_name: str = "x"
    api_key: str = ""


def test_toml_lines() -> None:
    """Keys, dotted keys, table headers and arrays of tables get their line."""
    text = "\n".join(
        [
            "# comment",
            'title = "x"',
            "[db]",
            "host = 'h'",
            'owner.name = "o"',
            'doc = """',
            "fake = 1",
            '"""',
            "[[servers]]",
            'ip = "1"',
            '[a."b.c"]',
            "d = 1",
        ]
    )
    lines = toml_lines(text)
    assert lines[("title",)] == 2
    assert lines[("db",)] == 3
    assert lines[("db", "host")] == 4
    assert lines[("db", "owner", "name")] == 5
    assert ("db", "fake") not in lines
    assert lines[("servers",)] == 9
    assert lines[("a", "b.c", "d")] == 12


def test_yaml_lines() -> None:
    """YAML keys get their line from the safe composer."""
    lines = yaml_lines("a: 1\nb:\n  c: 2\n  d: [1, 2]\n")
    assert lines == {("a",): 1, ("b",): 2, ("b", "c"): 3, ("b", "d"): 4}
    assert yaml_lines(": : bad [") == {}


def test_dotenv_parsing() -> None:
    """export, quotes, escapes, comments, multi-line values and ${VAR} expansion."""
    text = "\n".join(
        [
            "# comment",
            "export A=1",
            "B = 'literal ${A}' ",
            'C="line\\nbreak ${A} $HOME_X"',
            "D=plain value # trailing comment",
            'E="multi',
            'line"',
            "F=${MISSING}",
            "not a line",
            "G='unterminated",
        ]
    )
    values, errors = parse_dotenv(text, name=".env", environ={"HOME_X": "/h"})
    assert {k: v for k, (v, _) in values.items()} == {
        "A": "1",
        "B": "literal ${A}",
        "C": "line\nbreak 1 /h",
        "D": "plain value",
        "E": "multi\nline",
        "F": "${MISSING}",
    }
    assert values["D"][1] == 5
    assert [e.message for e in errors] == [
        ".env:9: expected KEY=value",
        ".env:10: unterminated ' quote",
    ]


def test_env_resolution_with_schema() -> None:
    """Segments match fields case-insensitively; single underscores split only when needed."""
    tree = schema_tree(Settings)
    assert resolve_path(["db", "host"], tree)[0] == ("db", "host")
    assert resolve_path(["db_name"], tree)[0] == ("db_name",)
    assert resolve_path(["db_host"], tree)[0] == ("db", "host")
    assert resolve_path(["db_pool_size"], tree)[0] == ("db", "pool_size")
    assert resolve_path(["unknown_x"], tree)[0] == ("unknown_x",)
    assert resolve_path(["a", "b"], None)[0] == ("a", "b")


def test_env_layer() -> None:
    """Prefix, delimiter, JSON and comma lists, nested refinement."""
    layer = env_layer(
        {
            "APP_DB__HOST": "h",
            "app_db__replicas": "a, b",
            "APP_API_KEY": "k",
            "OTHER": "x",
            "APP_": "empty",
            "APP_PROFILE": "prod",
        },
        prefix="APP_",
        delimiter="__",
        tree=schema_tree(Settings),
        exclude=["APP_PROFILE"],
    )
    assert layer.tree == {"db": {"host": "h", "replicas": ["a", "b"]}, "api_key": "k"}
    layer = env_layer(
        {"APP_DB__REPLICAS": '["x"]', "APP_X": "1", "APP_X__Y": "2"},
        prefix="APP_",
        delimiter="__",
        tree=schema_tree(Settings),
    )
    assert layer.tree == {"db": {"replicas": ["x"]}, "x": {"y": "2"}}
    assert str(layer.origins[("x", "y")]) == "env APP_X__Y"


@given(
    st.dictionaries(st.from_regex(r"[A-Z][A-Z0-9_]{0,12}", fullmatch=True), st.text(max_size=20))
)
def test_dotenv_round_trip(values: dict[str, str]) -> None:
    """Single-quoted values always read back exactly (no expansion, no escapes)."""
    safe = {k: v for k, v in values.items() if "'" not in v and "\n" not in v and "\r" not in v}
    text = "\n".join(f"{k}='{v}'" for k, v in safe.items())
    parsed, errors = parse_dotenv(text, name=".env", environ={})
    assert errors == []
    assert {k: v for k, (v, _) in parsed.items()} == safe
