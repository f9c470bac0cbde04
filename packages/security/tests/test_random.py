"""Tests for pepperpy.security._random."""

from __future__ import annotations

import re

import pytest

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.security import constant_time_equals, random_bytes, random_id, random_token


def test_random_bytes():
    assert len(random_bytes(16)) == 16
    assert random_bytes() != random_bytes()
    with pytest.raises(InvalidArgumentError):
        random_bytes(0)


def test_random_token_is_url_safe():
    token = random_token()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    assert len({random_token(8) for _ in range(200)}) == 200


def test_random_id():
    value = random_id("usr")
    assert re.fullmatch(r"usr_[0-9a-z]{26}", value)
    assert re.fullmatch(r"[0-9a-z]{7}", random_id(nbytes=4))
    assert len({random_id() for _ in range(500)}) == 500


def test_constant_time_equals():
    assert constant_time_equals("abc", "abc")
    assert constant_time_equals(b"abc", "abc")
    assert not constant_time_equals("abc", "abd")
    assert not constant_time_equals("abc", "abcd")
    assert constant_time_equals("é", "é".encode())
