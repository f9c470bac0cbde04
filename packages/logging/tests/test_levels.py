from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.logging import LEVELS, level_no
from pepperpy.logging._levels import level_name, resolve


@pytest.mark.parametrize(
    ("given_level", "expected"),
    [("info", 20), ("WARN", 30), (" Error ", 40), ("fatal", 50), ("notset", 5), (7, 7), ("15", 15)],
)
def test_level_no(given_level: str | int, expected: int) -> None:
    assert level_no(given_level) == expected


@pytest.mark.parametrize("bad", ["loud", -1, None, True, 2.5])
def test_bad_levels_are_rejected(bad: object) -> None:
    with pytest.raises(InvalidArgumentError, match="unknown log level"):
        level_no(bad)  # type: ignore[arg-type]


def test_level_name() -> None:
    assert level_name(25) == "SUCCESS"
    assert level_name(33) == "Level 33"
    assert set(LEVELS) >= {"TRACE", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}


def test_resolve_uses_the_most_specific_prefix() -> None:
    levels = {"a": 30, "a.b": 10}
    assert resolve("a.b.c", levels, 20) == 10
    assert resolve("a.bc", levels, 20) == 30
    assert resolve("a", levels, 20) == 30
    assert resolve("other", levels, 20) == 20
    assert resolve(None, levels, 20) == 20


@given(st.lists(st.sampled_from(["x", "y", "z"]), min_size=1, max_size=4), st.integers(0, 50))
def test_resolve_inherits_from_ancestors(parts: list[str], level: int) -> None:
    root = parts[0]
    name = ".".join(parts)
    assert resolve(name, {root: level}, 99) == level
