"""Hostile input for every public decoder, loader and encoder (issue 19, "close the class").

Each decoder gets deep nesting, huge integers and floats, NaN and infinities,
lone surrogates, byte-order marks, non-UTF-8 bytes and mangled valid
documents. The only exceptions allowed out are ``PepperPyError`` subclasses;
every other one is counted as an escape, and each test asserts the count is 0
(the message gives the count and the first few inputs).

Examples per decoder (``loads`` for each format, the stdlib JSON path, and
``structure``): ``PEPPERPY_FUZZ_EXAMPLES`` if set, else 10,000 on CI
(``CI=true``, set by ``.ci/run`` and GitHub Actions) and 300 otherwise, so a
local run stays fast. Encoders, ``load_file`` (which decodes with the same
decoders) and coercing ``structure`` get a tenth of that (at least 100).
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, Optional, Union

import attrs
import pytest
from hypothesis import strategies as st

from pepperpy import serialization
from pepperpy.core.exceptions import PepperPyError
from pepperpy.serialization import Converter
from pepperpy.testing.hostile import (
    assert_only_pepperpy_errors,
    deep,
    fuzz_only_pepperpy_errors,
    fuzz_settings,
    hostile_bytes,
    hostile_scalars,
    hostile_values,
    weird_text,
)

FUZZ = fuzz_settings(300)
# Encoders, load_file (whose decoding is the decoders above) and coercing structure
# get a tenth, which keeps the CI run near two minutes on two cores.
FUZZ_LIGHT = fuzz_settings(300, fraction=10)


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Mode(str, enum.Enum):
    R = "r"
    W = "w"


@attrs.define
class Item:
    name: str
    price: Decimal
    tags: set[str] = attrs.field(factory=set)


@attrs.define
class Order:
    """A target touching every structure hook the converter has."""

    id: uuid.UUID
    level: Level
    mode: Mode
    when: dt.datetime
    day: dt.date
    at: dt.time
    wait: dt.timedelta
    ratio: float
    count: int
    flag: bool
    blob: bytes
    path: Path
    items: list[Item]
    extra: dict[str, int]
    pair: tuple[int, str]
    choice: Literal[1, "one"]
    either: Union[int, str]
    parent: Optional[Order] = None  # noqa: UP045


# --------------------------------------------------------------------------- strategies

# The shared hostile text (surrogates, BOM, NUL, U+2028, NaN/Infinity spellings,
# 5,000 digits, 1e999, -1e400) and serialization's own spellings.
_WEIRD_TEXT = weird_text(
    ".nan",
    "0x",
    "P",
    "P1DT",
    "2026-13-45",
    "{12345678-1234-5678-1234-567812345678}",
    "=====",
)
_SCALARS = hostile_scalars(st.text(max_size=12) | _WEIRD_TEXT)
# Deep values (129 to 3,000) are costly to build and encode: one draw in ten.
VALUES = hostile_values(_SCALARS, keys=st.text(max_size=4) | _WEIRD_TEXT)

_OPENERS = {
    "json": ("[", "]"),
    "yaml": ("[", "]"),
    "toml": ("a = [", "]"),
}


def _nested_text(fmt: str, depth: int) -> bytes:
    if fmt == "msgpack":
        return b"\x91" * depth + b"\x90"
    if fmt == "toml" and depth % 2:
        return (".".join(["a"] * depth) + " = 1").encode()
    opening, closing = _OPENERS[fmt]
    if fmt == "toml":
        return (opening + "[" * depth + "]" * depth + closing).encode()
    return (opening * depth + closing * depth).encode()


_SEEDS: list[Any] = [
    {"a": 1, "b": [1.5, "x", None, True], "c": {"d": "2026-11-26T12:00:00Z"}},
    {"id": "12345678-1234-5678-1234-567812345678", "n": 10**30, "f": 1e308},
    {"s": "caf\u00e9 \u2028 \U0001f600", "e": "", "z": -0.0, "neg": -(2**63)},
    {"t": [[1, 2], [3, [4, [5]]]], "m": {"k": {"k": {"k": {}}}}},
    {"nan": float("nan"), "inf": float("inf"), "big": 2**64},
    deep(20, 1),  # deeper documents come from _nested_text, without an encoder
    [1, 2, 3],
    "text",
    12,
]


def _corpus(fmt: str) -> list[bytes]:
    documents = []
    for seed in _SEEDS:
        try:
            documents.append(
                serialization.dumps({"v": seed} if fmt == "toml" else seed, format=fmt)
            )
        except PepperPyError:
            pass
    return documents


def hostile(fmt: str) -> st.SearchStrategy[bytes | str]:
    """Bytes and text aimed at *fmt*'s decoder."""
    raw = hostile_bytes(_corpus(fmt), inserts=[b"&a *a"], text=_WEIRD_TEXT) | st.builds(
        _nested_text, st.just(fmt), st.sampled_from([1, 127, 128, 129, 1_000, 3_000])
    )
    text = st.one_of(st.text(max_size=64), _WEIRD_TEXT, raw.map(lambda b: b.decode("latin-1")))
    return raw | text if fmt != "msgpack" else raw


@pytest.fixture
def stdlib_json(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default install: no orjson, so the stdlib json module decodes."""
    from pepperpy.serialization import _formats

    monkeypatch.setattr(_formats, "_orjson", None)
    monkeypatch.setattr(_formats, "_orjson_checked", True)


DECODERS = ["json", "toml", "msgpack", "yaml"]


@pytest.mark.parametrize("fmt", DECODERS)
def test_loads_any_only_raises_pepperpy_errors(fmt: str) -> None:
    """issue 19 #2 and close-the-class: loads(data, Any, format=fmt)."""
    fuzz_only_pepperpy_errors(
        lambda data: serialization.loads(data, Any, format=fmt),
        hostile(fmt),
        profile=FUZZ,
        name=f"loads({fmt})",
    )


@pytest.mark.usefixtures("stdlib_json")
def test_stdlib_json_loads_only_raises_pepperpy_errors() -> None:
    """issue 19 #2: the stdlib JSON path (no orjson) raised RecursionError and ValueError."""
    fuzz_only_pepperpy_errors(
        lambda data: serialization.loads(data, Any),
        hostile("json"),
        profile=FUZZ,
        name="loads(json, stdlib)",
    )


@pytest.mark.parametrize("coerce", [False, True], ids=["strict", "coerce"])
def test_structure_only_raises_pepperpy_errors(coerce: bool) -> None:
    """issue 19 #1/#2: structure(value, Order) over hostile JSON-like values."""
    converter = Converter(coerce=coerce)
    targets = st.sampled_from(
        [Order, Item, float, Level, Mode, dt.timedelta, Decimal, uuid.UUID, dict[str, int]]
    )
    small = _SCALARS | st.lists(_SCALARS, max_size=2) | st.dictionaries(_SCALARS.map(str), _SCALARS)
    valid = st.fixed_dictionaries({}, optional=dict.fromkeys(attrs.fields_dict(Order), small))
    fuzz_only_pepperpy_errors(
        lambda pair: converter.structure(*pair),
        st.tuples(VALUES | valid, targets),
        profile=FUZZ if not coerce else FUZZ_LIGHT,
        name="structure",
    )


@pytest.mark.parametrize("fmt", DECODERS)
def test_dumps_only_raises_pepperpy_errors(fmt: str) -> None:
    """issue 19 #2: dumps() raised UnicodeEncodeError and RecursionError."""
    fuzz_only_pepperpy_errors(
        lambda value: serialization.dumps(value, format=fmt),
        VALUES,
        profile=FUZZ_LIGHT,
        name=f"dumps({fmt})",
    )


def test_load_file_only_raises_pepperpy_errors(tmp_path: Path) -> None:
    """Close the class: load_file on hostile bytes, directories and missing files."""
    (tmp_path / "dir.json").mkdir()
    unreadable = tmp_path / "locked.toml"
    unreadable.write_text("a = 1")
    unreadable.chmod(0)
    fixed = [tmp_path / "dir.json", tmp_path / "missing.yaml", unreadable, tmp_path / "x.unknown"]

    def load(pair: tuple[str, bytes | str]) -> None:
        fmt, data = pair
        target = tmp_path / f"doc.{fmt}"
        target.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "replace"))
        serialization.load_file(target, Any)

    files = st.sampled_from(DECODERS).flatmap(lambda f: st.tuples(st.just(f), hostile(f)))
    fuzz_only_pepperpy_errors(load, files, profile=FUZZ_LIGHT, name="load_file")
    for path in fixed:
        assert_only_pepperpy_errors(lambda p: serialization.load_file(p, Any), path)
