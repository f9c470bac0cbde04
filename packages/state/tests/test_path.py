"""Tests for pepperpy.state._path: parsing and resolving dotted paths."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pepperpy.core import MISSING, InvalidArgumentError
from pepperpy.state._path import parse_path, resolve


@attrs.frozen
class Point:
    x: int
    y: int


def test_parse() -> None:
    """The first segment is the slice; the rest are the path inside it."""
    assert ("user", ()) == parse_path("user")
    assert ("cart", ("items", "0", "sku")) == parse_path("cart.items.0.sku")
    for bad in ("", ".a", "a.", "a..b"):
        with pytest.raises(InvalidArgumentError):
            parse_path(bad)


def test_resolve() -> None:
    """Mappings by key, sequences by index, objects by attribute; MISSING otherwise."""
    value = {"pts": [Point(1, 2)], "name": "n"}
    assert 2 == resolve(value, ("pts", "0", "y"))
    assert MISSING is resolve(value, ("pts", "x"))
    assert MISSING is resolve(value, ("pts", "3"))
    assert MISSING is resolve(value, ("name", "0"))
    assert MISSING is resolve(value, ("nope",))
    assert MISSING is resolve(5, ("real", "x"))


@settings(max_examples=60, deadline=None)
@given(
    st.recursive(
        st.integers(),
        lambda kids: st.dictionaries(st.text("abc", min_size=1, max_size=3), kids, max_size=4),
        max_leaves=12,
    )
)
def test_resolve_roundtrip(tree: object) -> None:
    """Every leaf of a nested dict is reachable through its key path."""

    def leaves(node: object, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], object]]:
        if isinstance(node, dict):
            return [item for k, v in node.items() for item in leaves(v, (*path, k))]
        return [(path, node)]

    for path, leaf in leaves(tree, ()):
        assert leaf == resolve(tree, path)
