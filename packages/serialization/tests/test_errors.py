"""Tests for pepperpy.serialization._errors: aggregated, pointer-addressed errors."""

from __future__ import annotations

import pickle
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pepperpy import serialization
from pepperpy.core.exceptions import ErrorDetail
from pepperpy.serialization import StructureError


@attrs.define
class Item:
    name: str
    price: Decimal


@attrs.define
class Basket:
    owner: str
    items: list[Item]
    tags: dict[str, int]


def test_every_problem_is_listed_with_its_pointer() -> None:
    """All errors are reported, not only the first, each at its JSON-Pointer path."""
    data = {
        "owner": 5,
        "items": [{"name": "ok", "price": "1"}, {"name": 2, "price": "x"}, "junk", {"name": "n"}],
        "tags": {"a": 1, "b": "two", "c/d": None},
    }
    with pytest.raises(StructureError) as info:
        serialization.structure(data, Basket)
    error = info.value
    assert error.paths == [
        "/owner",
        "/items/1/name",
        "/items/1/price",
        "/items/2",
        "/items/3/price",
        "/tags/b",
        "/tags/c~1d",
    ]
    by_path = {d.path: d for d in error.errors}
    assert by_path["/owner"].code == "type"
    assert by_path["/owner"].expected == "string"
    assert by_path["/owner"].value == "5"
    assert by_path["/items/3/price"].code == "missing"
    assert by_path["/items/2"].expected == "object"
    assert "7 structuring errors" in str(error)
    assert error.context["type"] == "Basket"


def test_missing_top_level_object() -> None:
    """A non-object where a record is expected is one clear error at the root."""
    with pytest.raises(StructureError) as info:
        serialization.structure([1, 2], Item)
    assert [
        ErrorDetail(
            "", "expected object, got array", code="type", expected="object", value="[1, 2]"
        )
    ] == info.value.errors


def test_long_values_are_truncated() -> None:
    """The offending value is quoted, but never in full when it is huge."""
    with pytest.raises(StructureError) as info:
        serialization.structure({"name": ["y"] * 10_000, "price": "1"}, Item)
    value = info.value.errors[0].value
    assert value is not None
    assert len(value) <= 80


def test_errors_pickle_and_serialize() -> None:
    """Errors survive pickling and render as JSON-safe dicts."""
    with pytest.raises(StructureError) as info:
        serialization.structure({"name": 1}, Item)
    clone = pickle.loads(pickle.dumps(info.value))
    assert clone.errors == info.value.errors
    assert info.value.to_dict()["errors"][0]["path"] == "/name"


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=5), children, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_arbitrary_json_never_raises_anything_else(data: object) -> None:
    """Any JSON-like input either structures or raises StructureError, nothing else."""
    errors: list[ErrorDetail] = []
    try:
        serialization.structure(data, Basket)
    except StructureError as error:
        errors = error.errors
        assert errors, "a StructureError always lists its problems"
    assert all(detail.path == "" or detail.path.startswith("/") for detail in errors)
