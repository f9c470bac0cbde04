"""Hostile review of pepperpy-serialization after the issue 19 fixes: the variations next
to each finding.

Results are checked with ``type(x) is ...``: ``"a" == Mixed.A`` passes for the enum
member itself, so ``==`` cannot tell a converted value from a raw one.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

import pytest

from pepperpy.core.exceptions import InvalidArgumentError, PepperPyError
from pepperpy.serialization import (
    Converter,
    DecodeError,
    StructureError,
    dump_file,
    load_file,
    loads,
    structure,
)


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


@pytest.mark.parametrize("path", ["/tmp/a\x00b.json", 5, None, b"/tmp/x.json"])
@pytest.mark.parametrize("action", ["load", "dump"])
def test_file_paths_that_are_not_paths_are_invalid_argument(path: Any, action: str) -> None:
    """issue 19 #2's class (only PepperPyError escapes): a NUL byte in a path was a raw
    ValueError from the OS layer, a non-path a raw TypeError from pathlib."""
    with pytest.raises(InvalidArgumentError):
        if action == "load":
            load_file(path, Any)
        else:
            dump_file({"a": 1}, path)


@pytest.mark.parametrize("data", [None, 5, [1], {"a": 1}])
@pytest.mark.parametrize("fmt", ["json", "toml", "yaml", "msgpack"])
def test_loads_of_a_non_document_is_a_decode_or_argument_error(data: Any, fmt: str) -> None:
    """issue 19 #2's class: ``loads(None, format="toml")`` was a raw AttributeError."""
    with pytest.raises(PepperPyError):
        loads(data, Any, format=fmt)


def test_toml_str_with_a_lone_surrogate_is_a_decode_error() -> None:
    """TOML is UTF-8 (as JSON is, whose reader refuses the same str): a lone surrogate
    in a str document was read as if valid, to fail later in any encoder."""
    with pytest.raises(DecodeError):
        loads('a = "\ud800"', dict[str, str], format="toml")


@pytest.mark.parametrize(
    "value",
    [
        "1e999999999999999999",
        "-1e999999999999999999",
        "1e-999999999999999999",
        Decimal("1e999999999999999999"),
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("-Infinity"),
    ],
)
def test_decimal_refuses_values_arithmetic_cannot_use(value: Any) -> None:
    """The docs promise Decimal fields without NaN or Infinity; a Decimal instance NaN
    passed through, and "1e999999999999999999" was built exactly, so the caller's first
    ``+ 1`` raised decimal.Overflow (and ``int()`` of it never ends)."""
    with pytest.raises(StructureError):
        structure(value, Decimal)
    assert structure("1e999999", Decimal) + 1 > 0  # the context's own limit still reads


def test_decimal_zero_with_a_huge_exponent_is_zero() -> None:
    """0E+999999999999 is zero, which arithmetic handles: not refused."""
    assert structure("0e999999999999", Decimal) + 1 == 1
