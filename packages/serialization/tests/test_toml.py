"""Tests for pepperpy.serialization._toml: the TOML writer and reader."""

from __future__ import annotations

import datetime
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pepperpy.serialization import DecodeError, EncodeError
from pepperpy.serialization._toml import toml_dumps, toml_loads

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def test_tables_and_arrays_of_tables() -> None:
    """Nested mappings become tables, lists of mappings arrays of tables."""
    doc = {
        "title": "x",
        "owner": {"name": "Tom", "dob": datetime.date(1979, 5, 27)},
        "servers": [{"ip": "10.0.0.1", "roles": ["web"]}, {"ip": "10.0.0.2", "meta": {"a": 1}}],
        "empty": {},
        "weird key": {"a.b": 1},
    }
    text = toml_dumps(doc)
    assert "[owner]" in text
    assert "[[servers]]" in text
    assert '["weird key"]' in text
    assert doc == tomllib.loads(text)


def test_none_is_omitted_in_tables_and_refused_in_arrays() -> None:
    """TOML has no null."""
    assert tomllib.loads(toml_dumps({"a": 1, "b": None})) == {"a": 1}
    with pytest.raises(EncodeError):
        toml_dumps({"a": [None]})
    with pytest.raises(EncodeError):
        toml_dumps({1: "x"})
    with pytest.raises(EncodeError):
        toml_dumps({"big": 2**64})
    with pytest.raises(EncodeError):
        toml_dumps({"obj": object()})


def test_mixed_arrays_use_inline_tables() -> None:
    """Arrays mixing tables and scalars are written inline."""
    doc = {"mixed": [1, {"a": "b", "n": None}, [2, 3]]}
    assert tomllib.loads(toml_dumps(doc)) == {"mixed": [1, {"a": "b"}, [2, 3]]}


def test_reader_reports_position() -> None:
    """Syntax errors carry line and column."""
    with pytest.raises(DecodeError) as info:
        toml_loads("a = 1\n[b\n", source="app.toml")
    assert info.value.context["line"] == 2
    assert info.value.context["source"] == "app.toml"
    with pytest.raises(DecodeError):
        toml_loads(b"\xff")


keys = st.text(min_size=1, max_size=8)
scalars = (
    st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text()
)


def _tables(depth: int) -> Any:
    values = scalars | st.lists(scalars, max_size=3)
    if depth > 0:
        values = values | _tables(depth - 1) | st.lists(_tables(depth - 1), min_size=1, max_size=2)
    return st.dictionaries(keys, values, max_size=4)


@given(_tables(2))
def test_writer_round_trips_through_tomllib(doc: dict[str, Any]) -> None:
    """Whatever the writer emits, tomllib reads back as the same data."""
    assert doc == tomllib.loads(toml_dumps(doc))
