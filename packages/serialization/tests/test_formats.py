"""Tests for pepperpy.serialization._formats: one call shape, every format."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from pepperpy import serialization
from pepperpy.serialization import (
    DecodeError,
    EncodeError,
    Format,
    FormatUnavailableError,
    StructureError,
    _formats,
)


@attrs.define
class Settings:
    name: str
    port: int
    ratio: float
    tags: list[str]
    limits: dict[str, int]
    debug: bool = False


SETTINGS = Settings("svc", 8080, 0.25, ["a", "b"], {"rps": 10})


@pytest.mark.parametrize("fmt", ["json", "toml", "msgpack", "yaml"])
def test_every_format_round_trips(fmt: str) -> None:
    """dumps/loads give the same object back in every format."""
    data = serialization.dumps(SETTINGS, format=fmt)
    assert isinstance(data, bytes)
    assert serialization.loads(data, Settings, format=fmt) == SETTINGS


def test_json_is_compact_utf8() -> None:
    """JSON output is compact and keeps non-ASCII text as UTF-8."""
    assert (
        serialization.dumps({"a": "é", "b": [1, 2.5, None]}) == b'{"a":"\xc3\xa9","b":[1,2.5,null]}'
    )
    assert serialization.loads('{"a": 1}', dict[str, int]) == {"a": 1}


def test_toml_and_yaml_text() -> None:
    """TOML and YAML are readable text documents."""
    toml = serialization.dumps(SETTINGS, format="toml").decode()
    assert 'name = "svc"' in toml
    assert "[limits]" in toml
    yaml = serialization.dumps(SETTINGS, format="yaml").decode()
    assert "name: svc" in yaml


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats()
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=25,
)


@given(json_values)
@example(1e-05)  # orjson writes 0.00001 where Python writes 1e-05 (issue 24 coverage)
@example([-2.5e-05, float("inf"), {"k": 1e-05}])
def test_stdlib_json_matches_orjson_byte_for_byte(value: Any) -> None:
    """The stdlib fallback writes exactly what orjson writes (NaN -> null, 1e-07 -> 1e-7)."""
    import orjson

    assert orjson.dumps(value) == _formats._stdlib_json_encode(value)


def test_json_without_orjson(monkeypatch: pytest.MonkeyPatch) -> None:
    """With orjson absent the stdlib is used, with the same results."""
    with_orjson = serialization.dumps({"x": [1.5e-7, float("nan"), 10**30]})
    monkeypatch.setattr(_formats, "_orjson", None)
    monkeypatch.setattr(_formats, "_orjson_checked", True)
    assert with_orjson == serialization.dumps({"x": [1.5e-7, float("nan"), 10**30]})
    assert with_orjson == b'{"x":[1.5e-7,null,1000000000000000000000000000000]}'
    assert serialization.loads(serialization.dumps(SETTINGS), Settings) == SETTINGS
    with pytest.raises(DecodeError):
        serialization.loads(b"{", dict)


@pytest.mark.parametrize(
    ("fmt", "payload", "line", "column"),
    [
        ("json", b'{\n  "a": 1,\n  "b": }', 3, 8),
        ("toml", b"a = 1\nb = = 2\n", 2, 5),
        ("yaml", b"a: 1\nb: [1, 2\n", 3, 1),
    ],
)
def test_decode_errors_carry_line_and_column(
    fmt: str, payload: bytes, line: int, column: int
) -> None:
    """Malformed input gives a DecodeError with the position of the problem."""
    with pytest.raises(DecodeError) as info:
        serialization.loads(payload, dict, format=fmt)
    assert fmt == info.value.context["format"]
    assert line == info.value.context["line"]
    assert column == info.value.context["column"]
    assert f"line {line}" in str(info.value)


def test_msgpack_decode_errors() -> None:
    """Garbage msgpack is a DecodeError; text is refused with a hint."""
    with pytest.raises(DecodeError):
        serialization.loads(b"\xc1", dict, format="msgpack")
    with pytest.raises(serialization.UnsupportedTypeError.__mro__[1]):
        serialization.loads("text", dict, format="msgpack")


def test_yaml_is_safe() -> None:
    """The YAML loader is the safe one: no arbitrary Python objects."""
    with pytest.raises(DecodeError):
        serialization.loads(b"!!python/object/apply:os.system ['echo hi']", dict, format="yaml")


def test_encode_errors() -> None:
    """Values a format cannot hold are refused with EncodeError."""
    with pytest.raises(EncodeError):
        serialization.dumps([1, 2], format="toml")
    with pytest.raises(EncodeError):
        serialization.dumps({"a": [1, None]}, format="toml")


def test_unknown_and_missing_formats(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unknown formats and missing extras say what to do."""
    with pytest.raises(FormatUnavailableError, match="unknown serialization format"):
        serialization.dumps({}, format="xml")
    monkeypatch.setitem(sys.modules, "msgpack", None)
    with pytest.raises(FormatUnavailableError) as info:
        serialization.dumps({}, format="msgpack")
    assert "pepperpy-serialization[msgpack]" in (info.value.hint or "")


def test_register_format() -> None:
    """A custom format plugs into dumps/loads and the file helpers."""
    fmt = Format(
        "upper-json",
        encode=lambda v: json.dumps(v).upper().encode(),
        decode=lambda b: json.loads(b.lower()),
        suffixes=(".ujson",),
    )
    serialization.register_format(fmt)
    try:
        assert serialization.dumps({"a": 1}, format="upper-json") == b'{"A": 1}'
        with pytest.raises(serialization.UnsupportedTypeError.__mro__[1]):
            serialization.register_format(fmt)
        serialization.register_format(fmt, replace=True)
        assert "upper-json" in serialization.available_formats()
    finally:
        _formats._FORMATS.pop("upper-json", None)


@pytest.mark.parametrize("suffix", [".json", ".toml", ".yaml", ".yml", ".msgpack"])
def test_files(tmp_path: Path, suffix: str) -> None:
    """dump_file/load_file pick the format from the suffix."""
    target = tmp_path / f"settings{suffix}"
    serialization.dump_file(SETTINGS, target)
    assert serialization.load_file(target, Settings) == SETTINGS
    assert [target.name] == [p.name for p in tmp_path.iterdir()]


def test_file_errors_name_the_source(tmp_path: Path) -> None:
    """Errors while loading a file carry its path."""
    target = tmp_path / "bad.json"
    target.write_text('{"name": 1}')
    with pytest.raises(StructureError) as info:
        serialization.load_file(target, Settings)
    assert str(target) == info.value.context["source"]
    with pytest.raises(FormatUnavailableError):
        serialization.load_file(tmp_path / "x.unknown", Settings)
    serialization.dump_file({"a": 1}, tmp_path / "x.data", format="json")
    assert serialization.load_file(tmp_path / "x.data", dict, format="json") == {"a": 1}


def test_nan_becomes_null_in_json() -> None:
    """NaN and infinities are written as null, like orjson does."""
    assert serialization.dumps([math.nan, math.inf]) == b"[null,null]"
