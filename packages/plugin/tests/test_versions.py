"""Tests for host API version ranges."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.plugin import ApiRange, is_compatible

versions = st.lists(st.integers(0, 20), min_size=1, max_size=4)


def text(parts: list[int]) -> str:
    return ".".join(map(str, parts))


def norm(parts: list[int]) -> tuple[int, ...]:
    out = list(parts)
    while len(out) > 1 and out[-1] == 0:
        out.pop()
    return tuple(out)


@given(versions, versions)
def test_comparisons_match_tuple_order(low: list[int], version: list[int]) -> None:
    """>=, <, ==, != agree with numeric tuple comparison (trailing zeros ignored)."""
    v, lo = norm(version), norm(low)
    assert is_compatible(f">={text(low)}", text(version)) == (v >= lo)
    assert is_compatible(f"<{text(low)}", text(version)) == (v < lo)
    assert is_compatible(f"=={text(low)}", text(version)) == (v == lo)
    assert is_compatible(f"!={text(low)}", text(version)) == (v != lo)
    assert is_compatible(text(low), text(version)) == (v == lo)


@given(versions, versions, versions)
def test_clauses_are_anded(low: list[int], high: list[int], version: list[int]) -> None:
    """Every comma-separated clause must hold."""
    v = norm(version)
    expected = norm(low) <= v < norm(high)
    assert is_compatible(f">={text(low)}, <{text(high)}", text(version)) == expected


@pytest.mark.parametrize(
    ("spec", "version", "expected"),
    [
        ("==1.*", "1.9.3", True),
        ("==1.*", "2.0", False),
        ("!=1.*", "2.0", True),
        ("~=1.4", "1.4", True),
        ("~=1.4", "1.9", True),
        ("~=1.4", "2.0", False),
        ("~=1.4", "1.3", False),
        ("~=1.4.2", "1.4.9", True),
        ("~=1.4.2", "1.5", False),
        (">1,<=2", "2.0.0", True),
        (">=1.0", "1", True),
    ],
)
def test_wildcards_and_compatible_release(spec: str, version: str, expected: bool) -> None:
    """Wildcards and ~= follow PEP 440 for release segments."""
    assert (version in ApiRange(spec)) is expected


@pytest.mark.parametrize("spec", ["", ">=", "around 1", ">=1.*", "~=1", ">=1,,<2", "1.x"])
def test_bad_ranges_are_refused(spec: str) -> None:
    """Unreadable ranges raise InvalidArgumentError with a hint."""
    with pytest.raises(InvalidArgumentError) as caught:
        ApiRange(spec)
    assert caught.value.hint


def test_bad_version_is_refused() -> None:
    """Host versions must be numeric."""
    with pytest.raises(InvalidArgumentError, match="invalid API version"):
        is_compatible(">=1", "one")


def test_range_value_semantics() -> None:
    """Ranges compare and hash by text and render as written."""
    assert ApiRange(">=1,<2") == ApiRange(" >=1,<2 ")
    assert len({ApiRange(">=1"), ApiRange(">=1")}) == 1
    assert str(ApiRange(">=1,<2")) == ">=1,<2"
    assert repr(ApiRange("==1.*")) == "ApiRange('==1.*')"
    assert 3 not in ApiRange(">=1")
    assert (1, 5, 0) in ApiRange(">=1.5")
