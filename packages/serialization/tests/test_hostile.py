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
import os
import reprlib
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, Optional, Union

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pepperpy import serialization
from pepperpy.core.exceptions import PepperPyError
from pepperpy.serialization import Converter

EXAMPLES = int(
    os.environ.get("PEPPERPY_FUZZ_EXAMPLES")
    or (10_000 if os.environ.get("CI", "").lower() == "true" else 300)
)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
# Encoders, load_file (whose decoding is the decoders above) and coercing structure
# get a tenth, which keeps the CI run near two minutes on two cores.
FUZZ_LIGHT = settings(FUZZ, max_examples=max(EXAMPLES // 10, 100))


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

_WEIRD_TEXT = st.sampled_from(
    [
        "\ud800",
        "a\udfffb",
        "\ufeff",
        "\x00",
        "\u2028",
        "NaN",
        "Infinity",
        "-inf",
        ".nan",
        "1" * 5000,
        "1e999",
        "-1e400",
        "0x",
        "P",
        "P1DT",
        "2026-13-45",
        "{12345678-1234-5678-1234-567812345678}",
        "=====",
    ]
)
_NUMBERS = (
    st.integers()
    | st.sampled_from([10**400, -(10**400), 2**63, -(2**63) - 1, 2**64])
    | st.floats()
    | st.sampled_from([float("nan"), float("inf"), -float("inf"), 1e308, -0.0])
)
_SCALARS = st.none() | st.booleans() | _NUMBERS | st.text(max_size=12) | _WEIRD_TEXT


def _deep(depth: int, leaf: Any) -> Any:
    value = leaf
    for index in range(depth):
        value = [value] if index % 2 else {"k": value}
    return value


_TREES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=4) | _WEIRD_TEXT, inner, max_size=4)
    ),
    max_leaves=8,
)
# Deep values are costly to build and encode: one draw in ten.
VALUES = st.one_of(
    *[_TREES] * 9, st.builds(_deep, st.sampled_from([129, 400, 1_200, 3_000]), _SCALARS)
)

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
    _deep(20, 1),  # deeper documents come from _nested_text, without an encoder
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


def _mangle(data: bytes, cut: int, flip: int, insert: bytes) -> bytes:
    if not data:
        return insert
    cut %= len(data) + 1
    flip %= len(data)
    mangled = bytearray(data[:cut] + insert + data[cut:])
    mangled[flip % len(mangled)] ^= 0x80
    return bytes(mangled)


_PREFIXES = st.sampled_from(
    [b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf\xef\xbb\xbf", b"\x80"]
)
_INSERTS = st.sampled_from(
    [b"", b"\xed\xa0\x80", b"\xff", b"\xc3", b"\x00", b"\\ud800", b"[", b"{", b'"', b"&a *a"]
)


def hostile(fmt: str) -> st.SearchStrategy[bytes | str]:
    """Bytes and text aimed at *fmt*'s decoder."""
    documents = st.sampled_from(_corpus(fmt))
    mangled = st.builds(_mangle, documents, st.integers(0, 10**6), st.integers(0, 10**6), _INSERTS)
    raw = st.one_of(
        st.binary(max_size=64),
        documents,
        mangled,
        st.builds(lambda p, d: p + d, _PREFIXES, documents),
        st.builds(_nested_text, st.just(fmt), st.sampled_from([1, 127, 128, 129, 1_000, 3_000])),
        _WEIRD_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
    )
    text = st.one_of(st.text(max_size=64), _WEIRD_TEXT, raw.map(lambda b: b.decode("latin-1")))
    return raw | text if fmt != "msgpack" else raw


# --------------------------------------------------------------------------- the harness


def count_escapes(
    strategy: st.SearchStrategy[Any], call: Callable[[Any], Any], profile: settings = FUZZ
) -> list[tuple[Any, BaseException]]:
    """Run *call* on each example; return the non-PepperPyError exceptions it raised."""
    escapes: list[tuple[Any, BaseException]] = []

    @profile
    @given(strategy)
    def run(value: Any) -> None:
        try:
            call(value)
        except PepperPyError:
            pass
        except Exception as exc:  # an escape: counted, reported below
            escapes.append((value, exc))

    run()
    return escapes


_SHORT = reprlib.Repr()  # bounded depth and length: the inputs nest thousands deep
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother = 3, 60, 60


def _report(name: str, escapes: list[tuple[Any, BaseException]]) -> str:
    shown = [f"{type(e).__name__}: {e} <- {_SHORT.repr(v)}" for v, e in escapes[:3]]
    return f"{name}: {len(escapes)} escapes; first: {shown}"


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
    escapes = count_escapes(hostile(fmt), lambda data: serialization.loads(data, Any, format=fmt))
    assert not escapes, _report(f"loads({fmt})", escapes)


@pytest.mark.usefixtures("stdlib_json")
def test_stdlib_json_loads_only_raises_pepperpy_errors() -> None:
    """issue 19 #2: the stdlib JSON path (no orjson) raised RecursionError and ValueError."""
    escapes = count_escapes(hostile("json"), lambda data: serialization.loads(data, Any))
    assert not escapes, _report("loads(json, stdlib)", escapes)


@pytest.mark.parametrize("coerce", [False, True], ids=["strict", "coerce"])
def test_structure_only_raises_pepperpy_errors(coerce: bool) -> None:
    """issue 19 #1/#2: structure(value, Order) over hostile JSON-like values."""
    converter = Converter(coerce=coerce)
    targets = st.sampled_from(
        [Order, Item, float, Level, Mode, dt.timedelta, Decimal, uuid.UUID, dict[str, int]]
    )
    small = _SCALARS | st.lists(_SCALARS, max_size=2) | st.dictionaries(_SCALARS.map(str), _SCALARS)
    valid = st.fixed_dictionaries({}, optional=dict.fromkeys(attrs.fields_dict(Order), small))
    escapes = count_escapes(
        st.tuples(VALUES | valid, targets),
        lambda pair: converter.structure(*pair),
        FUZZ if not coerce else FUZZ_LIGHT,
    )
    assert not escapes, _report("structure", escapes)


@pytest.mark.parametrize("fmt", DECODERS)
def test_dumps_only_raises_pepperpy_errors(fmt: str) -> None:
    """issue 19 #2: dumps() raised UnicodeEncodeError and RecursionError."""
    escapes = count_escapes(
        VALUES, lambda value: serialization.dumps(value, format=fmt), FUZZ_LIGHT
    )
    assert not escapes, _report(f"dumps({fmt})", escapes)


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
    escapes = count_escapes(files, load, FUZZ_LIGHT)
    for path in fixed:
        try:
            serialization.load_file(path, Any)
        except PepperPyError:
            pass
        except Exception as exc:
            escapes.append((path, exc))
    assert not escapes, _report("load_file", escapes)
