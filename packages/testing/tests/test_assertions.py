"""Tests for assert_raises_pepperpy() and assert_attrs_equal()."""

from __future__ import annotations

import attrs
import pytest

from pepperpy.core import ConflictError, NotFoundError
from pepperpy.testing import assert_attrs_equal, assert_raises_pepperpy, attrs_diff


@attrs.define
class Address:
    city: str
    zip: str


@attrs.define
class User:
    name: str
    tags: list[str]
    address: Address


def test_assert_attrs_equal_lists_every_difference():
    """Every differing field is reported by path."""
    a = User("ann", ["x"], Address("Oslo", "0150"))
    b = User("bob", ["y"], Address("Oslo", "0151"))
    assert_attrs_equal(a, User("ann", ["x"], Address("Oslo", "0150")))
    with pytest.raises(AssertionError) as info:
        assert_attrs_equal(a, b)
    text = str(info.value)
    assert "3 field(s) differ" in text
    assert "/name: expected 'ann', got 'bob'" in text
    assert "/tags/0" in text and "/address/zip" in text
    assert ["/: type User != Address"] == attrs_diff(a, Address("x", "y"))


def test_assert_raises_pepperpy_checks_code_context_and_hint():
    """Passing and each kind of mismatch."""
    with assert_raises_pepperpy(
        NotFoundError, code="pepperpy.not_found", context={"key": "k"}
    ) as info:
        raise NotFoundError("gone", context={"key": "k"}, hint="look elsewhere")
    assert "gone" == info.value.message

    with pytest.raises(AssertionError, match="code is"):
        with assert_raises_pepperpy(NotFoundError, code="other"):
            raise NotFoundError("gone")
    with pytest.raises(AssertionError, match="context"):
        with assert_raises_pepperpy(NotFoundError, context={"key": "z"}):
            raise NotFoundError("gone", context={"key": "k"})
    with pytest.raises(AssertionError, match="no hint"):
        with assert_raises_pepperpy(ConflictError, hint=True):
            raise ConflictError("c")
    with pytest.raises(AssertionError, match="does not match"):
        with assert_raises_pepperpy(ConflictError, match="version"):
            raise ConflictError("c")
    with pytest.raises(AssertionError, match="but KeyError was raised"):
        with assert_raises_pepperpy(NotFoundError):
            raise KeyError("k")
    with pytest.raises(AssertionError, match="nothing was raised"):
        with assert_raises_pepperpy(NotFoundError):
            pass
