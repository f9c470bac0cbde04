"""Hostile review of pepperpy-serialization after the issue 19 fixes: the variations next
to each finding.

Results are checked with ``type(x) is ...``: ``"a" == Mixed.A`` passes for the enum
member itself, so ``==`` cannot tell a converted value from a raw one.
"""

from __future__ import annotations

import enum
from typing import Any

import pytest

from pepperpy.serialization import Converter, structure


class Mixed(str, enum.Enum):
    A = "a"


class Level(enum.IntEnum):
    LOW = 1


def test_str_target_given_a_str_enum_member_gets_its_text() -> None:
    """issue 19 #1's class, the other direction: ``structure(Mixed.A, str)`` returned
    ``"Mixed.A"`` (``str()`` of the member), and a ``dict[str, int]`` key the same."""
    text = structure(Mixed.A, str)
    assert type(text) is str
    assert text == "a"
    [key] = structure({Mixed.A: 1}, dict[str, int])
    assert type(key) is str
    assert key == "a"


@pytest.mark.parametrize(("value", "text"), [(Mixed.A, "a"), (Level.LOW, "1")])
def test_coercing_str_target_never_uses_an_enum_str(value: Any, text: str) -> None:
    """A coercing converter turns numbers into text: an IntEnum member is "1", never
    "Level.LOW" (its ``str()`` on Python 3.10)."""
    result = Converter(coerce=True).structure(value, str)
    assert type(result) is str
    assert result == text
