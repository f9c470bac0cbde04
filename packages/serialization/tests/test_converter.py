"""Tests for pepperpy.serialization._converter (through the public API)."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import uuid
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any, Generic, Literal, TypedDict, TypeVar, Union

import attrs
import pytest

from pepperpy import serialization
from pepperpy.core.exceptions import InvalidArgumentError, ValidationError
from pepperpy.serialization import (
    Converter,
    StructureError,
    UnsupportedTypeError,
    field_options,
)

T = TypeVar("T")


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@attrs.define
class Address:
    street: str
    zip_code: str


@attrs.define
class Person:
    full_name: str
    age: int
    home_address: Address
    nick_name: str | None = None


@dataclasses.dataclass
class Point:
    x: float
    y: float


class Movie(TypedDict):
    title: str
    year: int


@attrs.define
class Box(Generic[T]):
    content: T


@attrs.frozen
class Cat:
    lives: int


@attrs.frozen
class Dog:
    lives: int


class Opaque:
    pass


class Money:
    def __init__(self, cents: int) -> None:
        self.cents = cents

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Money) and other.cents == self.cents


@attrs.define
class Price:
    amount: Money


class TestBuiltins:
    def test_scalar_types_round_trip(self) -> None:
        """datetime, date, time, timedelta, UUID, Decimal, Path and bytes survive JSON."""

        @attrs.define
        class Everything:
            when: datetime.datetime
            day: datetime.date
            at: datetime.time
            span: datetime.timedelta
            ident: uuid.UUID
            amount: Decimal
            where: Path
            posix: PurePosixPath
            blob: bytes
            color: Color
            level: Level
            mode: Literal["r", "w"]

        value = Everything(
            datetime.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=datetime.timezone.utc),
            datetime.date(2026, 1, 2),
            datetime.time(3, 4, 5),
            datetime.timedelta(seconds=90.5),
            uuid.UUID(int=42),
            Decimal("12.3400"),
            Path("a/b.txt"),
            PurePosixPath("/etc/x"),
            b"\x00\xffbytes",
            Color.GREEN,
            Level.HIGH,
            "w",
        )
        raw = serialization.unstructure(value)
        assert raw == {
            "when": "2026-01-02T03:04:05.000006+00:00",
            "day": "2026-01-02",
            "at": "03:04:05",
            "span": 90.5,
            "ident": "00000000-0000-0000-0000-00000000002a",
            "amount": "12.3400",
            "where": "a/b.txt",
            "posix": "/etc/x",
            "blob": "AP9ieXRlcw==",
            "color": "green",
            "level": 2,
            "mode": "w",
        }
        assert serialization.structure(raw, Everything) == value
        assert serialization.loads(serialization.dumps(value), Everything) == value

    def test_zulu_datetime_is_accepted(self) -> None:
        """A trailing Z parses as UTC."""
        parsed = serialization.structure("2026-01-02T03:04:05Z", datetime.datetime)
        assert datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc) == parsed

    def test_dataclass_typeddict_generic(self) -> None:
        """Dataclasses, TypedDicts and generic attrs classes are supported."""
        assert Point(1.0, 2.5) == serialization.structure({"x": 1, "y": 2.5}, Point)
        movie: Movie = {"title": "Heat", "year": 1995}
        assert movie == serialization.structure(movie, Movie)
        box = serialization.structure({"content": ["2026-01-01"]}, Box[list[datetime.date]])
        assert Box([datetime.date(2026, 1, 1)]) == box
        assert serialization.unstructure(Box([1, 2])) == {"content": [1, 2]}

    def test_mapping_keys_become_strings(self) -> None:
        """Non-string keys are written as strings and read back typed."""
        data = {1: "a", 2: "b"}
        raw = serialization.unstructure(data)
        assert raw == {"1": "a", "2": "b"}
        assert data == serialization.structure(raw, dict[int, str])
        assert serialization.structure({"1": 1}, dict[Level, int]) == {Level.LOW: 1}
        assert serialization.unstructure({Color.RED: 3}) == {"red": 3}

    def test_sets_and_tuples_unstructure_to_lists(self) -> None:
        """Sets, frozensets and tuples become JSON arrays."""
        assert serialization.unstructure({1}) == [1]
        assert serialization.unstructure((1, "a"), tuple[int, str]) == [1, "a"]
        assert serialization.structure([1, "a"], tuple[int, str]) == (1, "a")
        assert frozenset({1, 2}) == serialization.structure([1, 2], frozenset[int])
        assert serialization.structure([1, 2, 3], tuple[int, ...]) == (1, 2, 3)

    def test_optional_and_union_of_scalars(self) -> None:
        """Unions of scalars pick the exact type."""
        assert serialization.structure(None, int | None) is None
        assert serialization.structure("x", Union[int, str]) == "x"
        assert serialization.structure(3, Union[int, str]) == 3


class TestStrictness:
    def test_strict_by_default(self) -> None:
        """No silent coercion: '5' is not an int, 1 is not a str, True is not an int."""
        with pytest.raises(StructureError):
            serialization.structure("5", int)
        with pytest.raises(StructureError):
            serialization.structure(1, str)
        with pytest.raises(StructureError):
            serialization.structure(True, int)
        with pytest.raises(StructureError):
            serialization.structure(1.5, int)
        with pytest.raises(StructureError):
            serialization.structure("abc", list[str])
        assert serialization.structure(2, float) == 2.0

    def test_coerce_mode(self) -> None:
        """coerce=True accepts strings for numbers and booleans."""
        lenient = Converter(coerce=True)
        assert lenient.structure(" 5 ", int) == 5
        assert lenient.structure("2.5", float) == 2.5
        assert lenient.structure("yes", bool) is True
        assert lenient.structure("off", bool) is False
        assert lenient.structure(7, str) == "7"
        with pytest.raises(StructureError):
            lenient.structure("maybe", bool)
        with pytest.raises(StructureError):
            lenient.structure(1.5, int)


class TestRename:
    def test_camel_policy(self) -> None:
        """Field names become camelCase keys, both ways, nested too."""
        camel = Converter(rename="camel")
        person = Person("Ada Lovelace", 36, Address("Main St", "123"))
        raw = camel.unstructure(person)
        assert raw == {
            "fullName": "Ada Lovelace",
            "age": 36,
            "homeAddress": {"street": "Main St", "zipCode": "123"},
            "nickName": None,
        }
        assert person == camel.structure(raw, Person)

    def test_other_policies(self) -> None:
        """pascal, kebab and a function work; unknown names are refused."""
        assert "FullName" in Converter(rename="pascal").unstructure(
            Person("a", 1, Address("s", "z"))
        )
        assert "zip-code" in Converter(rename="kebab").unstructure(Address("s", "z"))
        assert "ZIP_CODE" in Converter(rename=str.upper).unstructure(Address("s", "z"))
        with pytest.raises(InvalidArgumentError):
            Converter(rename="shouting")  # type: ignore[arg-type]

    def test_field_options(self) -> None:
        """A field's own rename wins over the policy, and omit drops it."""

        @attrs.define
        class Account:
            account_id: int = attrs.field(metadata=field_options(rename="id"))
            cache: str = attrs.field(default="", metadata=field_options(omit=True))
            display_name: str = "anon"

        camel = Converter(rename="camel")
        raw = camel.unstructure(Account(7, "tmp"))
        assert raw == {"id": 7, "displayName": "anon"}
        assert Account(7) == camel.structure({"id": 7, "displayName": "anon"}, Account)

    def test_error_paths_use_renamed_keys(self) -> None:
        """Error paths point into the document, so they use the serialized keys."""
        camel = Converter(rename="camel")
        with pytest.raises(StructureError) as info:
            camel.structure({"fullName": 1, "age": 2, "homeAddress": {"street": "s"}}, Person)
        assert info.value.paths == ["/fullName", "/homeAddress/zipCode"]


class TestOptions:
    def test_omit_defaults(self) -> None:
        """omit_defaults leaves out fields equal to their default."""
        raw = Converter(omit_defaults=True).unstructure(Person("a", 1, Address("s", "z")))
        assert "nick_name" not in raw

    def test_forbid_extra(self) -> None:
        """forbid_extra reports every unknown key at its own path."""
        strict = Converter(forbid_extra=True)
        with pytest.raises(StructureError) as info:
            strict.structure({"street": "s", "zip_code": "z", "x": 1, "y": 2}, Address)
        assert info.value.paths == ["/x", "/y"]
        assert {"extra_forbidden"} == {d.code for d in info.value.errors}
        assert Address("s", "z") == Converter().structure(
            {"street": "s", "zip_code": "z", "x": 1}, Address
        )

    def test_tagged_union(self) -> None:
        """register_tagged_union writes and reads a discriminator key."""
        conv = Converter()
        conv.register_tagged_union(Union[Cat, Dog], tag="kind")
        raw = conv.unstructure(Dog(3), Union[Cat, Dog])
        assert raw == {"lives": 3, "kind": "Dog"}
        assert Dog(3) == conv.structure(raw, Union[Cat, Dog])
        assert Cat(9) == conv.structure({"lives": 9, "kind": "Cat"}, Union[Cat, Dog])

    def test_tagged_union_with_mapping(self) -> None:
        """Tag values can come from a mapping."""
        conv = Converter()
        conv.register_tagged_union(Union[Cat, Dog], tag_value={Cat: "cat", Dog: "dog"})
        assert conv.unstructure(Cat(1), Union[Cat, Dog]) == {"lives": 1, "type": "cat"}

    def test_register_hook(self) -> None:
        """Custom hooks teach the converter new types; errors keep their path."""

        def parse(value: Any, _: Any) -> Money:
            if not isinstance(value, str) or not value.endswith("EUR"):
                raise ValueError("money must look like '12.50 EUR'")
            return Money(round(float(value[:-3]) * 100))

        conv = Converter()
        conv.register_hook(Money, structure=parse, unstructure=lambda m: f"{m.cents / 100} EUR")
        assert Price(Money(1250)) == conv.structure({"amount": "12.5 EUR"}, Price)
        assert conv.unstructure(Price(Money(1250))) == {"amount": "12.5 EUR"}
        with pytest.raises(StructureError) as info:
            conv.structure({"amount": 3}, Price)
        assert info.value.errors[0].path == "/amount"
        assert "12.50 EUR" in info.value.errors[0].message
        with pytest.raises(InvalidArgumentError):
            conv.register_hook(Money)

    def test_unresolvable_annotation(self) -> None:
        """A class whose annotations cannot be resolved gives a clear error."""

        @attrs.define
        class Local:
            value: Missing  # type: ignore[name-defined]  # noqa: F821

        with pytest.raises(UnsupportedTypeError, match="Local"):
            Converter().structure({"value": 1}, Local)


class TestUnsupported:
    def test_unknown_type_structure(self) -> None:
        """A type with no hook names itself and how to register one."""

        @attrs.define
        class Holder:
            thing: Opaque

        with pytest.raises(UnsupportedTypeError) as info:
            serialization.structure({"thing": 1}, Holder)
        assert "Opaque" in str(info.value)
        assert "register_hook" in (info.value.hint or "")

    def test_unknown_type_unstructure(self) -> None:
        """Unstructuring an unknown object is refused, never pickled or passed through."""
        with pytest.raises(UnsupportedTypeError, match="Opaque"):
            serialization.unstructure(Opaque())
        with pytest.raises(UnsupportedTypeError):
            serialization.dumps({"x": Opaque()})

    def test_structure_error_is_a_validation_error(self) -> None:
        """The contract: structuring failures are core ValidationErrors."""
        with pytest.raises(ValidationError):
            serialization.structure({}, Address)


class Masked(Generic[T]):
    """A type that teaches the converter itself, and hides its value in errors."""

    __pepperpy_redact__ = True

    def __init__(self, value: T) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Masked) and other.value == self.value

    @classmethod
    def __pepperpy_structure__(cls, value: Any, type_: Any, structure: Any) -> Masked[Any]:
        (inner,) = getattr(type_, "__args__", (Any,))
        return cls(structure(value, inner))

    def __pepperpy_unstructure__(self, unstructure: Any) -> str:
        return "***"


@attrs.define
class Login:
    user: str
    pin: Masked[int]


class TestProtocol:
    def test_self_describing_types(self) -> None:
        """__pepperpy_structure__/__pepperpy_unstructure__ are used without registration."""
        assert Login("a", Masked(1234)) == serialization.structure(
            {"user": "a", "pin": 1234}, Login
        )
        assert serialization.unstructure(Login("a", Masked(1))) == {"user": "a", "pin": "***"}

    def test_redacted_values_stay_out_of_errors(self) -> None:
        """A failing redacted field reports its path, never its value."""
        with pytest.raises(StructureError) as info:
            serialization.structure({"user": "a", "pin": "secret-pin"}, Login)
        assert info.value.paths == ["/pin"]
        assert "secret-pin" not in str(info.value)
        assert info.value.errors[0].value == "<redacted>"


def test_literal_errors_list_the_choices() -> None:
    """A value outside a Literal is a type error naming the allowed values."""
    with pytest.raises(StructureError) as info:
        serialization.structure({"mode": "x"}, dict[str, Literal["r", "w"]])
    detail = info.value.errors[0]
    assert (detail.path, detail.code, detail.message) == (
        "/mode",
        "type",
        "expected one of ['r', 'w']",
    )


@attrs.define
class WithPrivate:
    _token: str
    kind: str = attrs.field(default="a", alias="type")


def test_use_alias() -> None:
    """use_alias keys fields by their attrs alias; the default keeps attribute names."""
    value = WithPrivate("t", "b")
    assert serialization.unstructure(value) == {"_token": "t", "kind": "b"}
    aliased = Converter(use_alias=True, rename="camel")
    assert aliased.unstructure(value) == {"token": "t", "type": "b"}
    assert aliased.structure({"token": "t", "type": "b"}, WithPrivate) == value
    with pytest.raises(StructureError) as info:
        aliased.structure({"type": 1}, WithPrivate)
    assert info.value.paths == ["/token", "/type"]


@pytest.mark.parametrize(
    ("type_", "bad"),
    [
        (float, "1.5"),
        (float, True),
        (bool, 1),
        (bytes, "not base64!"),
        (bytes, 5),
        (datetime.datetime, "yesterday"),
        (datetime.date, "2026-13-01"),
        (datetime.date, datetime.datetime(2026, 1, 1)),
        (datetime.time, "25:00"),
        (datetime.timedelta, "1h"),
        (uuid.UUID, 12),
        (Decimal, "abc"),
        (Decimal, None),
        (Path, 3),
        (Color, "purple"),
        (list[int], {"a": 1}),
        (list[int], {1, 2}),
        (set[int], "ab"),
        (tuple[int, int], [1]),
        (tuple[int, ...], "12"),
        (dict[str, int], [("a", 1)]),
    ],
)
def test_each_hook_rejects_bad_values(type_: Any, bad: Any) -> None:
    """Every built-in hook refuses a wrong value with a StructureError at the root."""
    with pytest.raises(StructureError) as info:
        serialization.structure(bad, type_)
    assert info.value.paths == [""]
    assert info.value.errors[0].code in ("type", "invalid")


@pytest.mark.parametrize(
    ("type_", "raw", "expected"),
    [
        (float, " 2.5 ", 2.5),
        (int, 3.0, 3),
        (bool, 0, False),
        (bool, "TRUE", True),
        (str, Decimal("1.5"), "1.5"),
        (bytes, bytearray(b"x"), b"x"),
        (datetime.timedelta, 1.5, datetime.timedelta(seconds=1.5)),
        (Decimal, 2, Decimal(2)),
        (Decimal, 0.5, Decimal("0.5")),
        (datetime.time, "12:30:00+00:00", datetime.time(12, 30, tzinfo=datetime.timezone.utc)),
    ],
)
def test_coercing_hooks_accept(type_: Any, raw: Any, expected: Any) -> None:
    """The coercing converter accepts the unambiguous alternative forms."""
    assert Converter(coerce=True).structure(raw, type_) == expected


def test_coercing_hooks_still_refuse() -> None:
    """Coercion has limits: no bools as numbers, no garbage strings."""
    lenient = Converter(coerce=True)
    for type_, bad in ((int, True), (int, "x"), (float, "x"), (str, True), (str, None)):
        with pytest.raises(StructureError):
            lenient.structure(bad, type_)


def test_scalar_lists_are_copied_and_strict() -> None:
    """Lists of exact scalars are copied (never aliased); a bool is still not an int."""
    data = [1, 2, 3]
    result = serialization.structure(data, list[int])
    assert result == data
    assert result is not data
    with pytest.raises(StructureError) as info:
        serialization.structure([1, True, "x"], list[int])
    assert info.value.paths == ["/1", "/2"]
    assert serialization.structure((1, 2), list[int]) == [1, 2]


def test_plain_object_is_refused_clearly():
    """A bare object() (alone or nested) raises UnsupportedTypeError, not RecursionError."""
    import pytest

    from pepperpy.serialization import UnsupportedTypeError, dumps, unstructure

    with pytest.raises(UnsupportedTypeError, match="object"):
        unstructure(object())
    with pytest.raises(UnsupportedTypeError):
        dumps({"a": object()})
