"""Attacks from issue 19 (findings 1-6): each test failed before its fix.

Every check uses ``type(x) is ...`` / ``is``: ``2 == Level.HIGH`` would pass
for a plain int, so ``==`` cannot tell a converted enum from an unconverted one.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, Optional, Union

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pepperpy import serialization
from pepperpy.core.exceptions import InvalidArgumentError, NotFoundError
from pepperpy.serialization import (
    Converter,
    DecodeError,
    EncodeError,
    StructureError,
)
from pepperpy.serialization._limits import MAX_DEPTH

FORMATS = ["json", "toml", "msgpack", "yaml"]
CONVERTERS = [Converter(), Converter(coerce=True)]


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Mixed(str, enum.Enum):
    A = "a"
    B = "b"


class Ratio(float, enum.Enum):
    HALF = 0.5


class UserId(int):
    """A plain int subclass (not an enum)."""


@attrs.define
class Settings:
    level: Level
    mode: Mixed


# --------------------------------------------------------------------------- finding 1


@pytest.mark.parametrize(
    "converter", [Converter(), Converter(coerce=True)], ids=["strict", "coerce"]
)
def test_int_enum_out_of_range_is_refused(converter: Converter) -> None:
    """issue 19 #1: structure(99, Level) with Level(IntEnum) returned the int 99."""
    with pytest.raises(StructureError) as info:
        converter.structure(99, Level)
    assert info.value.errors[0].code == "type"
    assert type(converter.structure(2, Level)) is Level
    assert converter.structure(2, Level) is Level.HIGH


@pytest.mark.parametrize(
    "converter", [Converter(), Converter(coerce=True)], ids=["strict", "coerce"]
)
def test_str_enum_is_converted_and_checked(converter: Converter) -> None:
    """issue 19 #1: structure("a", Mixed) with Mixed(str, Enum) returned the plain str.

    Config binds APP_LEVEL=bogus through Converter(coerce=True): it is refused here.
    """
    assert converter.structure("a", Mixed) is Mixed.A
    with pytest.raises(StructureError):
        converter.structure("bogus", Mixed)


def test_enums_inside_records_and_containers_are_members() -> None:
    """issue 19 #1: the enum hook wins everywhere, not only at the top level."""
    value = serialization.structure({"level": 2, "mode": "b"}, Settings)
    assert value.level is Level.HIGH and value.mode is Mixed.B
    assert [type(x) for x in serialization.structure([1, 2], list[Level])] == [Level, Level]
    mapping = serialization.structure({"x": "a"}, dict[str, Mixed])
    assert mapping["x"] is Mixed.A
    assert serialization.structure(0.5, Ratio) is Ratio.HALF
    with pytest.raises(StructureError):
        serialization.structure({"level": 99, "mode": "a"}, Settings)


def test_plain_primitive_subclass_is_built() -> None:
    """issue 19 #1: other subclasses of primitives get their own type, not the base's."""
    value = serialization.structure(7, UserId)
    assert type(value) is UserId and value == 7


@pytest.mark.parametrize("target", [Level, Literal[1], Union[int, str], Optional[Level]])  # noqa: UP045
def test_bool_is_not_an_int_anywhere(target: Any) -> None:
    """issue 19 #1: Union[int, str], Literal[1] and IntEnum accepted True; plain int refuses it."""
    with pytest.raises(StructureError):
        serialization.structure(True, int)
    with pytest.raises(StructureError):
        serialization.structure(True, target)


def test_literal_and_union_keep_exact_values() -> None:
    """issue 19 #1: Literal returns the literal itself; 1.0 is not the int literal 1."""
    assert type(serialization.structure(1, Literal[1, "x"])) is int
    with pytest.raises(StructureError):
        serialization.structure(1.0, Literal[1])
    assert serialization.structure(Level.HIGH, Literal[Level.HIGH]) is Level.HIGH
    assert serialization.structure(2, Literal[Level.HIGH]) is Level.HIGH
    assert type(serialization.structure(5, Union[int, str])) is int


def test_primitive_enums_unstructure_to_plain_values() -> None:
    """issue 19 #1: (str, Enum) members were written as the member, which YAML refuses."""
    assert type(serialization.unstructure(Mixed.A)) is str
    assert type(serialization.unstructure(Level.HIGH)) is int
    for fmt in FORMATS:
        data = serialization.dumps(Settings(Level.LOW, Mixed.B), format=fmt)
        back = serialization.loads(data, Settings, format=fmt)
        assert back.level is Level.LOW and back.mode is Mixed.B


# --------------------------------------------------------------------------- finding 2


def test_float_from_an_int_too_large_is_a_structure_error() -> None:
    """issue 19 #2: a float field given 10**400 (json.loads("1" + "0" * 400))."""
    huge = json.loads("1" + "0" * 400)
    with pytest.raises(StructureError) as info:
        serialization.structure({"x": huge}, dict[str, float])
    assert info.value.errors[0].path == "/x"
    with pytest.raises(StructureError):
        serialization.structure(huge, dt.timedelta)


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 3_000])
@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_deep_arrays_are_a_decode_error(fmt: str, depth: int) -> None:
    """issue 19 #2: 2,000-3,000 levels raised RecursionError; the limit is MAX_DEPTH."""
    with pytest.raises(DecodeError) as info:
        serialization.loads(_nested(depth), Any, format=fmt)
    assert info.value.errors[0].code == "depth"
    assert serialization.loads(_nested(MAX_DEPTH), Any, format=fmt) is not None


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 3_000])
@pytest.mark.parametrize("kind", ["array", "inline", "dotted", "header"])
def test_deep_toml_is_a_decode_error(kind: str, depth: int) -> None:
    """issue 19 #2: the TOML reader raised RecursionError (also via Config.load)."""
    text = {
        "array": "a = " + _nested(depth),
        "inline": "a = " + "{b = " * depth + "1" + "}" * depth,
        "dotted": ".".join(["a"] * depth) + " = 1",
        "header": "[" + ".".join(["a"] * depth) + "]",
    }[kind]
    with pytest.raises(DecodeError) as info:
        serialization.loads(text, Any, format="toml")
    assert info.value.errors[0].code == "depth"


def test_deep_json_without_orjson_is_a_decode_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """issue 19 #2: the default install (stdlib json, no orjson) raised RecursionError."""
    from pepperpy.serialization import _formats

    monkeypatch.setattr(_formats, "_orjson", None)
    monkeypatch.setattr(_formats, "_orjson_checked", True)
    with pytest.raises(DecodeError):
        serialization.loads(_nested(3_000), Any)
    with pytest.raises(DecodeError):
        serialization.loads("1" * 5_000, Any)  # int longer than int_max_str_digits


def test_deep_msgpack_and_yaml_aliases_are_a_decode_error() -> None:
    """issue 19 #2: msgpack nesting and a YAML alias holding itself."""
    with pytest.raises(DecodeError):
        serialization.loads(b"\x91" * 200_000 + b"\x90", Any, format="msgpack")
    with pytest.raises(DecodeError):
        serialization.loads("a: &x [*x]", Any, format="yaml")


@attrs.define
class Node:
    child: Node | None = None


def test_deep_recursive_structure_and_unstructure_are_pepperpy_errors() -> None:
    """issue 19 #2: structuring/unstructuring a recursive class thousands deep."""
    data: dict[str, Any] = {}
    for _ in range(3_000):
        data = {"child": data}
    with pytest.raises(StructureError) as info:
        serialization.structure(data, Node)
    assert [e.code for e in info.value.errors] == ["depth"]
    node = Node()
    for _ in range(3_000):
        node = Node(node)
    with pytest.raises(EncodeError):
        serialization.dumps(node)


@pytest.mark.parametrize("fmt", FORMATS)
def test_lone_surrogates_are_an_encode_error_with_a_path(fmt: str) -> None:
    """issue 19 #2: dumps(format="toml"|"yaml") raised UnicodeEncodeError."""
    with pytest.raises(EncodeError) as info:
        serialization.dumps({"a": {"b": ["ok", "x\ud800y"]}}, format=fmt)
    assert info.value.context["path"] == "/a/b/1"


@pytest.mark.parametrize("fmt", ["toml", "yaml"])
def test_huge_integers_in_text_are_a_decode_error(fmt: str) -> None:
    """issue 19 #2: a 5,000-digit integer raised ValueError from tomllib and PyYAML."""
    with pytest.raises(DecodeError):
        serialization.loads(("a = " if fmt == "toml" else "a: ") + "1" * 5_000, Any, format=fmt)


@pytest.mark.parametrize(
    "text", ["a: !!int 0x", "a: !!float x", "a: 2026-13-45", "a: !!timestamp 2026-02-30"]
)
def test_yaml_constructor_failures_are_a_decode_error(text: str) -> None:
    """issue 19 #2: PyYAML constructors raise ValueError, not YAMLError."""
    with pytest.raises(DecodeError):
        serialization.loads(text, Any, format="yaml")


def test_file_helpers_refuse_directories_and_missing_files(tmp_path: Path) -> None:
    """issue 19 close-the-class: paths that are directories or missing."""
    with pytest.raises(InvalidArgumentError):
        serialization.load_file(tmp_path, Any, format="json")
    with pytest.raises(NotFoundError):
        serialization.load_file(tmp_path / "missing.json", Any)
    with pytest.raises(InvalidArgumentError):
        serialization.dump_file({"a": 1}, tmp_path / "no" / "such" / "dir.json")


# --------------------------------------------------------------------------- finding 3


@pytest.mark.parametrize("data", [b"\xef\xbb\xbfa = 1\n", "\ufeffa = 1\n"])
def test_toml_byte_order_mark_is_accepted(data: bytes | str) -> None:
    """issue 19 #3: a BOM at 1:1 was refused; toml-test valid/utf8-bom-01 accepts it."""
    assert serialization.loads(data, dict[str, int], format="toml") == {"a": 1}


def test_toml_byte_order_mark_elsewhere_is_refused() -> None:
    """issue 19 #3: only a leading BOM is skipped (toml-test invalid/encoding/bom-not-at-start)."""
    with pytest.raises(DecodeError):
        serialization.loads("a = 1\n\ufeffb = 2\n", Any, format="toml")


# --------------------------------------------------------------------------- finding 5


@pytest.mark.parametrize("fmt", ["yaml", "msgpack"])
def test_str_keyed_mapping_refuses_other_keys(fmt: str) -> None:
    """issue 19 #5: dict[str, int] accepted {1: 2} from YAML and msgpack."""
    data = serialization.dumps({"ok": 1}, format=fmt)
    assert serialization.loads(data, dict[str, int], format=fmt) == {"ok": 1}
    raw = b"1: 2\n" if fmt == "yaml" else b"\x81\x01\x02"
    with pytest.raises(StructureError) as info:
        serialization.loads(raw, dict[str, int], format=fmt)
    assert info.value.errors[0].path == "/1"
    with pytest.raises(StructureError):
        serialization.loads(raw, dict[str, Any], format=fmt)


# --------------------------------------------------------------------------- finding 6


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "value",
    [
        dt.timedelta(days=999_999_999, microseconds=1),
        dt.timedelta(days=200 * 365, seconds=1, microseconds=999_999),
        dt.timedelta.max,
        dt.timedelta.min,
        dt.timedelta.min + dt.timedelta(microseconds=1),
        dt.timedelta(seconds=1.5),
        -dt.timedelta(microseconds=1),
    ],
)
def test_timedelta_round_trips_exactly(fmt: str, value: dt.timedelta) -> None:
    """issue 19 #6: microseconds were lost past ~285 years (float seconds)."""
    back = serialization.loads(
        serialization.dumps({"t": value}, format=fmt), dict[str, dt.timedelta], format=fmt
    )
    assert back["t"] == value


@settings(max_examples=300, deadline=None)
@given(st.timedeltas())
def test_every_timedelta_round_trips(value: dt.timedelta) -> None:
    """issue 19 #6: exact for every timedelta hypothesis can build."""
    assert serialization.loads(serialization.dumps(value), dt.timedelta) == value


def test_timedelta_keeps_float_seconds_when_exact() -> None:
    """issue 19 #6: the wire form stays seconds whenever seconds are exact."""
    assert serialization.unstructure(dt.timedelta(seconds=1.5)) == 1.5
    assert serialization.structure("P1DT2H3M4.5S", dt.timedelta) == dt.timedelta(
        days=1, hours=2, minutes=3, seconds=4.5
    )
    for bad in ["P", "PT", "P1H", "1 day", "P1DT", float("nan"), float("inf"), 10**20]:
        with pytest.raises(StructureError):
            serialization.structure(bad, dt.timedelta)


# --------------------------------------------------------------------------- finding 7 (types)


def test_uuid_text_is_the_hyphenated_form_only() -> None:
    """issue 19 #7: UUID accepted braces, urn: and no hyphens while the export says uuid."""
    text = "12345678-1234-5678-1234-567812345678"
    assert serialization.structure(text.upper(), uuid.UUID) == uuid.UUID(text)
    for bad in ["{" + text + "}", "urn:uuid:" + text, text.replace("-", ""), text + "\n"]:
        with pytest.raises(StructureError):
            serialization.structure(bad, uuid.UUID)


def test_decimal_text_is_plain_numbers_only() -> None:
    """issue 19 #7: Decimal accepted NaN, Infinity, '1_000' and padding."""
    assert serialization.structure("-1.50e3", Decimal) == Decimal("-1.50e3")
    assert serialization.structure(5, Decimal) == Decimal(5)
    for bad in ["NaN", "Infinity", "1_000", " 1", "", float("nan"), True]:
        with pytest.raises(StructureError):
            serialization.structure(bad, Decimal)
    assert Converter(coerce=True).structure(" 1.5 ", Decimal) == Decimal("1.5")


class Perm(enum.IntFlag):
    R = 4
    W = 2


def test_int_flag_combinations_and_missing_hooks_still_work() -> None:
    """issue 19 #1: the stricter enum hook keeps Flag combinations and _missing_."""

    class Loose(str, enum.Enum):
        A = "a"

        @classmethod
        def _missing_(cls, value: object) -> Loose | None:
            return cls.A if isinstance(value, str) and value.lower() == "a" else None

    combined = serialization.structure(6, Perm)
    assert type(combined) is Perm and combined == Perm.R | Perm.W
    assert serialization.structure("A", Loose) is Loose.A
    with pytest.raises(StructureError):
        serialization.structure(True, Perm)


# ------------------------------------------------------------------- issue 24 review, hole 2
# dumps({1: 2, "1": 3}) wrote {"1":3}: two mapping keys became one JSON object key and a
# value vanished without a word. Every format unstructures keys to strings the same way,
# so each refuses such a mapping. (orjson refuses non-str keys outright; the stdlib's
# json.dumps writes the key twice; PepperPy says which keys collide instead.)


class Shade(enum.Enum):
    RED = "red"


COLLIDING: list[dict[Any, int]] = [
    {1: 2, "1": 3},
    {"1": 3, 1: 2},
    {True: 1, "true": 2},
    {Shade.RED: 1, "red": 2},
    {1.5: 1, "1.5": 2},
    {uuid.UUID(int=1): 1, str(uuid.UUID(int=1)): 2},
    {dt.date(2026, 1, 1): 1, "2026-01-01": 2},
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("mapping", COLLIDING)
def test_mapping_keys_that_collide_as_strings_are_refused(
    fmt: str, mapping: dict[Any, int]
) -> None:
    """issue 24 review hole 2: colliding keys silently dropped a value."""
    with pytest.raises(EncodeError) as info:
        serialization.dumps({"m": mapping}, format=fmt)
    assert info.value.code == "pepperpy.serialization.duplicate_key"
    keys = ("1", "true", "red", "1.5", str(uuid.UUID(int=1)), "2026-01-01")
    assert info.value.context["key"] in keys


@pytest.mark.parametrize("type_", [dict[str, int], dict[Any, int], Any, None])
def test_unstructure_refuses_colliding_keys_whatever_the_declared_type(type_: Any) -> None:
    """issue 24 review hole 2: unstructure() is where the keys become strings."""
    for converter in CONVERTERS:
        with pytest.raises(EncodeError) as info:
            converter.unstructure({1: 2, "1": 3}, type_)
        assert info.value.code == "pepperpy.serialization.duplicate_key"
        # Distinct keys still become strings, in order, with nothing lost.
        assert converter.unstructure({1: 2, "2": 3}, type_) == {"1": 2, "2": 3}


@attrs.define
class Holder:
    counts: dict[str, int]


def test_a_str_keyed_field_given_other_keys_loses_nothing() -> None:
    """issue 24 review hole 2: dict[str, int]'s fast copy passed int keys on to the encoder."""
    with pytest.raises(EncodeError) as info:
        serialization.dumps(Holder({1: 2, "1": 3}))  # type: ignore[dict-item]
    assert info.value.code == "pepperpy.serialization.duplicate_key"
    assert serialization.dumps(Holder({1: 2}), format="msgpack") == serialization.dumps(  # type: ignore[dict-item]
        {"counts": {"1": 2}}, format="msgpack"
    )


@attrs.define
class TwoNamesOneKey:
    a_b: int
    aB: int  # camelCase on purpose: "a_b" becomes "aB" under rename="camel"


@attrs.define
class SameRename:
    x: int = attrs.field(metadata=serialization.field_options(rename="k"))
    y: int = attrs.field(metadata=serialization.field_options(rename="k"))


@attrs.define
class HoldsSameRename:
    inner: SameRename


@pytest.mark.parametrize(
    ("converter", "value", "data", "target"),
    [
        (Converter(rename="camel"), TwoNamesOneKey(1, 2), {"aB": 2}, TwoNamesOneKey),
        (Converter(), SameRename(1, 2), {"k": 1}, SameRename),
        (Converter(), HoldsSameRename(SameRename(1, 2)), {"inner": {"k": 1}}, HoldsSameRename),
    ],
)
def test_fields_written_under_one_key_are_refused(
    converter: Converter, value: object, data: dict[str, Any], target: type
) -> None:
    """issue 24 review hole 2, same class: two fields renamed to one key lost a value.

    {"a_b": 1, "aB": 2} under rename="camel" was written {"aB": 2}, and reading it back
    filled both fields from one key.
    """
    with pytest.raises(serialization.UnsupportedTypeError) as written:
        converter.dumps(value)
    with pytest.raises(serialization.UnsupportedTypeError) as read:
        converter.structure(data, target)
    for error in (written.value, read.value):
        assert error.code == "pepperpy.serialization.duplicate_field_key"
