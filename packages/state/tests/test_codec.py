"""Tests for pepperpy.state._codec: values to JSON-like data and back."""

from __future__ import annotations

import enum
from typing import Any, Optional

import attrs
import pytest

from pepperpy.core import InvalidArgumentError, ValidationError
from pepperpy.state._codec import decode, encode


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@attrs.frozen
class Inner:
    color: Color
    weights: frozenset[int] = frozenset()


@attrs.frozen
class Outer:
    name: str
    inner: Inner
    pair: tuple[int, str] = (0, "")
    items: tuple[Inner, ...] = ()
    extra: Optional[dict[str, list[int]]] = None  # noqa: UP045 - the typing form is tested
    alt: int | None = None


VALUE = Outer(
    "o",
    Inner(Color.BLUE, frozenset({1, 2})),
    (3, "x"),
    (Inner(Color.RED),),
    {"k": [1]},
    5,
)


def test_round_trip() -> None:
    """attrs values survive encode -> JSON-like -> decode through pepperpy-serialization."""
    data = encode(VALUE)
    assert "blue" == data["inner"]["color"]
    assert sorted(data["inner"]["weights"]) == [1, 2]
    assert VALUE == decode(data, Outer)
    assert data == decode(data, None)
    assert data == decode(data, Any)


def test_structuring_errors() -> None:
    """Data that does not fit the type raises ValidationError (issue 18 #9: one path)."""
    with pytest.raises(ValidationError):
        decode({"color": "green"}, Inner)
    with pytest.raises(ValidationError):
        decode([1, 2], Inner)


def test_encode_rejects_non_json() -> None:
    """Objects, NaN and non-string keys are refused with the offending path."""
    with pytest.raises(InvalidArgumentError) as info:
        encode({"a": [1, object()]})
    assert "/a/1" == info.value.context["path"]
    with pytest.raises(InvalidArgumentError):
        encode(float("nan"))
    with pytest.raises(InvalidArgumentError):
        encode({1: 2})


def test_sets_persist_as_lists_in_a_stable_order() -> None:
    """Equal sets encode to equal lists (sorted), so persisted snapshots compare equal."""
    assert encode({"b", "a", "c"}) == ["a", "b", "c"]
    assert encode(frozenset({3, 1, 2})) == encode({2, 3, 1}) == [1, 2, 3]
    mixed = encode({1, "a"})  # cannot be sorted: kept, in whatever order the set gives
    assert sorted(mixed, key=str) == [1, "a"]
    with pytest.raises(InvalidArgumentError) as info:
        encode({"tags": {1, float("nan")}})
    assert info.value.context["path"].startswith("/tags/")
