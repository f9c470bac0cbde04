"""The toml-test suite (TOML 1.0 cases, vendored in data/toml-test) on the TOML reader and writer.

issue 19 #3 and "differential tests where a reference exists": every valid case
must read as the suite's tagged JSON says, and write back (through our writer)
to a document that reads the same; every invalid case must be refused with a
``DecodeError`` (never another exception). The suite marks a leading UTF-8
byte-order mark valid (``valid/utf8-bom-*``), which the reader refused before.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest

from pepperpy import serialization
from pepperpy.serialization import DecodeError, get_format

DATA = Path(__file__).parent / "data" / "toml-test"
LISTED = (DATA / "files-toml-1.0.0").read_text().split()
VALID = sorted(
    name[: -len(".toml")] for name in LISTED if name.startswith("valid/") and name.endswith(".toml")
)
INVALID = sorted(name for name in LISTED if name.startswith("invalid/"))
# tomli 2.3+ (the reader on Python 3.10) implements TOML 1.1, which made a few 1.0
# errors valid: inline tables over several lines, "\xHH" escapes, times without seconds.
# These are the 1.0 invalid cases missing from the suite's files-toml-1.1.0 list,
# less the spec-1.0.0 ones (renamed spec-1.1.0 there, still invalid).
VALID_IN_1_1 = frozenset(
    {
        "invalid/datetime/no-secs.toml",
        "invalid/local-datetime/no-secs.toml",
        "invalid/local-time/no-secs.toml",
        "invalid/inline-table/linebreak-01.toml",
        "invalid/inline-table/linebreak-02.toml",
        "invalid/inline-table/linebreak-03.toml",
        "invalid/inline-table/linebreak-04.toml",
        "invalid/inline-table/trailing-comma.toml",
        "invalid/string/basic-byte-escapes.toml",
    }
)


def _reader_is_toml_1_1() -> bool:
    try:
        serialization.loads("a = {b = 1,}", Any, format="toml")
    except DecodeError:
        return False
    return True


TOML_1_1 = _reader_is_toml_1_1()


def _datetime(text: str) -> dt.datetime:
    if sys.version_info < (3, 11) and text[-1:] in ("Z", "z"):  # pragma: no cover
        text = text[:-1] + "+00:00"
    return dt.datetime.fromisoformat(text)


_TAGGED = {
    "string": str,
    "integer": int,
    "float": lambda text: float(text.replace("+", "")) if "nan" in text else float(text),
    "bool": lambda text: text == "true",
    "datetime": _datetime,
    "datetime-local": dt.datetime.fromisoformat,
    "date-local": dt.date.fromisoformat,
    "time-local": dt.time.fromisoformat,
}


def untag(value: Any) -> Any:
    """The suite's tagged JSON ({"type": "integer", "value": "1"}) as Python values."""
    if isinstance(value, list):
        return [untag(item) for item in value]
    if set(value) == {"type", "value"} and value["type"] in _TAGGED:
        return _TAGGED[value["type"]](value["value"])
    return {key: untag(item) for key, item in value.items()}


def same(left: Any, right: Any) -> bool:
    """Equal values of the same type (NaN equals NaN; 1 is not 1.0, True is not 1)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, float):
        return (math.isnan(left) and math.isnan(right)) or left == right
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(same(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right, strict=True))
    return bool(left == right)


def test_the_vendored_cases_are_all_there() -> None:
    """The TOML 1.0 list names 210 valid and 499 invalid cases; all are vendored."""
    assert (len(VALID), len(INVALID)) == (210, 499)


@pytest.mark.parametrize("case", VALID)
def test_reader_accepts_every_valid_case(case: str) -> None:
    """Each valid/X.toml reads as valid/X.json says (types included)."""
    expected = untag(json.loads((DATA / f"{case}.json").read_text(encoding="utf-8")))
    document = serialization.loads((DATA / f"{case}.toml").read_bytes(), Any, format="toml")
    assert same(document, expected)


@pytest.mark.parametrize("case", VALID)
def test_writer_round_trips_every_valid_case(case: str) -> None:
    """Our writer renders each valid case's data as TOML that reads back the same.

    The format's encoder is called directly: ``dumps`` would first unstructure
    datetimes to strings, and the suite's values include TOML's own datetimes.
    """
    expected = untag(json.loads((DATA / f"{case}.json").read_text(encoding="utf-8")))
    written = get_format("toml").encode(expected)
    assert same(serialization.loads(written, Any, format="toml"), expected)


@pytest.mark.parametrize("case", INVALID)
def test_reader_refuses_every_invalid_case(case: str) -> None:
    """Each invalid/X.toml is a DecodeError, not an accepted document or a raw exception."""
    if TOML_1_1 and case in VALID_IN_1_1:
        serialization.loads((DATA / case).read_bytes(), Any, format="toml")  # valid in 1.1
        return
    with pytest.raises(DecodeError):
        serialization.loads((DATA / case).read_bytes(), Any, format="toml")
