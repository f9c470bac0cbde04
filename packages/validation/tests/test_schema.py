"""Tests for pepperpy.validation._schema: dict specs, attrs classes, modes."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import enum
import uuid
from typing import Annotated, Any, Literal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.validation import (
    Field,
    Rule,
    Schema,
    SchemaError,
    Validation,
    ValidationError,
    constraints,
    cross_field,
    email,
    length,
    range_,
)


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@attrs.define
class Address:
    street: str = attrs.field(metadata=constraints(length(min=1), sanitize=["strip"]))
    zip_code: str = attrs.field(metadata=constraints(alias="zip"))


@attrs.define
class Customer:
    name: str
    email: str = attrs.field(metadata=constraints(email(), sanitize=["strip", "lower"]))
    address: Address
    addresses: list[Address] = attrs.field(factory=list)
    age: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    color: Color = Color.RED


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0


SEED = {"name": str, "age": int, "email": "email"}


class TestDictSpecs:
    def test_seed_spec(self) -> None:
        """The seed's spec validates and returns the cleaned dict."""
        schema = Validation.create_schema(SEED)
        data = {"name": "Ada", "age": 36, "email": "ada@example.com", "extra": 1}
        assert schema.validate(data) == {"name": "Ada", "age": 36, "email": "ada@example.com"}
        assert schema(data) == schema.validate(data)
        assert schema.fields == ["name", "age", "email"]

    def test_every_error_is_reported(self) -> None:
        """Missing, null, wrong type and rule failures are all listed, in field order."""
        schema = Validation.create_schema(
            {"name": str, "age": int, "email": "email", "tags": [str], "home": {"zip": int}}
        )
        with pytest.raises(ValidationError) as info:
            schema.validate({"age": None, "email": "nope", "tags": ["a", 2], "home": {"zip": "x"}})
        error = info.value
        assert [(d.path, d.code) for d in error.errors] == [
            ("/name", "missing"),
            ("/age", "null"),
            ("/email", "email"),
            ("/tags/1", "type"),
            ("/home/zip", "type"),
        ]
        assert error.errors[0].value is None
        assert error.errors[3].value == "2"
        assert error.by_path()["/email"] == ["must be a valid email address"]
        assert "5 validation errors" in str(error)

    def test_optional_defaults_and_factories(self) -> None:
        """X | None may be absent or null; defaults and factories fill absent keys."""
        schema = Validation.create_schema(
            {
                "nick": str | None,
                "n": Field(int, default=5),
                "items": Field(list[int], default_factory=list),
                "maybe": Field(int, required=False),
                "nullable": Field(int, nullable=True),
            }
        )
        assert schema.validate({"nullable": None}) == {
            "nick": None,
            "n": 5,
            "items": [],
            "nullable": None,
        }
        with pytest.raises(SchemaError):
            Field(int, default=1, default_factory=list)

    def test_rich_types_go_through_serialization(self) -> None:
        """datetime, UUID, enums and generics are structured by pepperpy.serialization."""
        schema = Validation.create_schema(
            {"when": datetime.datetime, "id": uuid.UUID, "color": Color, "counts": dict[str, int]}
        )
        value = schema.validate(
            {
                "when": "2026-11-26T12:00:00",
                "id": str(uuid.UUID(int=1)),
                "color": "blue",
                "counts": {"a": 1},
            }
        )
        assert value["color"] is Color.BLUE
        assert value["id"] == uuid.UUID(int=1)
        errors = schema.errors({"when": "x", "id": "y", "color": "green", "counts": {"a": "1"}})
        assert [(e.path, e.code) for e in errors] == [
            ("/when", "type"),
            ("/id", "type"),
            ("/color", "one_of"),
            ("/counts/a", "type"),
        ]
        assert errors[2].message == "must be one of 'red', 'blue'"

    def test_lists_of_nested_specs(self) -> None:
        """[spec] validates each item at its index."""
        schema = Validation.create_schema({"lines": [{"sku": str, "qty": (int, range_(min=1))}]})
        errors = schema.errors({"lines": [{"sku": "a", "qty": 1}, {"sku": 2, "qty": 0}, "x"]})
        assert [(e.path, e.code) for e in errors] == [
            ("/lines/1/sku", "type"),
            ("/lines/1/qty", "too_small"),
            ("/lines/2", "type"),
        ]
        assert [e.code for e in schema.errors({"lines": "abc"})] == ["type"]

    def test_nested_schema_objects(self) -> None:
        """A Schema can be used as a field spec."""
        inner = Validation.create_schema({"a": int})
        outer = Validation.create_schema({"inner": inner, "many": [inner]})
        assert outer.validate({"inner": {"a": 1}, "many": [{"a": 2}]}) == {
            "inner": {"a": 1},
            "many": [{"a": 2}],
        }

    def test_aliases_and_pointer_escaping(self) -> None:
        """Aliases read other keys; '/' and '~' are escaped in paths."""
        schema = Validation.create_schema(
            {"a_b": Field(int, alias="a/b"), "t": Field(int, alias="x~y")}
        )
        assert schema.validate({"a/b": 1, "x~y": 2}) == {"a_b": 1, "t": 2}
        assert [e.path for e in schema.errors({})] == ["/a~1b", "/x~0y"]

    def test_extra_modes(self) -> None:
        """Unknown keys are dropped, forbidden or kept."""
        data = {"a": 1, "b": 2}
        assert Validation.create_schema({"a": int}).validate(data) == {"a": 1}
        assert Validation.create_schema({"a": int}, extra="keep").validate(data) == data
        forbid = Validation.create_schema({"a": int}, extra="forbid")
        assert [(e.path, e.code) for e in forbid.errors(data)] == [("/b", "extra_forbidden")]
        with pytest.raises(SchemaError):
            Validation.create_schema({"a": int}, extra="drop")  # type: ignore[arg-type]

    def test_strict_and_coercing(self) -> None:
        """Strict by default; coerce=True accepts unambiguous strings."""
        spec = {"n": int, "f": float, "b": bool, "s": str}
        data = {"n": "42", "f": "1.5", "b": "yes", "s": 7}
        strict = Validation.create_schema(spec)
        assert [e.code for e in strict.errors(data)] == ["type"] * 4
        assert [
            e.code for e in strict.errors({"n": True, "f": float("nan"), "b": 1, "s": b"x"})
        ] == ["type"] * 4
        coercing = Validation.create_schema(spec, coerce=True)
        assert coercing.validate(data) == {"n": 42, "f": 1.5, "b": True, "s": "7"}
        assert [
            e.path for e in coercing.errors({"n": "4.5", "f": "x", "b": "maybe", "s": None})
        ] == [
            "/n",
            "/f",
            "/b",
            "/s",
        ]

    def test_bad_specs(self) -> None:
        """Malformed specs fail when the schema is built, with a hint."""
        with pytest.raises(SchemaError, match="unknown format 'emial'") as info:
            Validation.create_schema({"e": "emial"})
        assert "email" in (info.value.hint or "")
        with pytest.raises(SchemaError):
            Validation.create_schema({"l": [int, str]})
        with pytest.raises(SchemaError):
            Validation.create_schema({"x": 3})
        with pytest.raises(SchemaError):
            Validation.create_schema({"x": ()})
        with pytest.raises(SchemaError):
            Validation.create_schema([("a", int)])  # type: ignore[call-overload]
        with pytest.raises(SchemaError):
            Validation.create_schema({1: int})  # type: ignore[dict-item]
        with pytest.raises(SchemaError, match="cannot validate"):
            Validation.create_schema({"x": complex})

    def test_secret_values_are_never_quoted(self) -> None:
        """A secret field's value never appears in errors."""
        schema = Validation.create_schema(
            {"password": Field(str, length(min=12), secret=True), "pin": Field(int, secret=True)}
        )
        with pytest.raises(ValidationError) as info:
            schema.validate({"password": "hunter2", "pin": "1234"})
        text = str(info.value) + repr(info.value.to_dict())
        assert "hunter2" not in text
        assert "1234" not in text
        assert [d.value for d in info.value.errors] == ["<redacted>", "<redacted>"]


class TestClasses:
    def test_attrs_class(self) -> None:
        """An attrs schema returns an instance; nested classes get their rules too."""
        schema = Validation.create_schema(Customer)
        customer = schema.validate(
            {
                "name": "Ada",
                "email": "  ADA@EXAMPLE.COM ",
                "address": {"street": " Main ", "zip": "123"},
                "addresses": [{"street": "Side", "zip": "9"}],
                "color": "blue",
            }
        )
        assert customer == Customer(
            "Ada", "ada@example.com", Address("Main", "123"), [Address("Side", "9")], 0, Color.BLUE
        )

    def test_attrs_errors_everywhere(self) -> None:
        """Field rules, nested rules and attrs validators all report at their paths."""
        schema = Schema.from_class(Customer)
        errors = schema.errors(
            {"name": 1, "email": "x", "address": {"street": " ", "zip": 5}, "addresses": [{}]}
        )
        assert [(e.path, e.code) for e in errors] == [
            ("/name", "type"),
            ("/email", "email"),
            ("/address/street", "too_short"),
            ("/address/zip", "type"),
            ("/addresses/0/street", "missing"),
            ("/addresses/0/zip", "missing"),
        ]
        errors = schema.errors(
            {"name": "a", "email": "a@b.co", "address": {"street": "s", "zip": "1"}, "age": -1}
        )
        assert [(e.path, e.code) for e in errors] == [("/age", "invalid")]
        assert "must be >= 0" in errors[0].message

    def test_dataclass(self) -> None:
        """Dataclasses work like attrs classes."""
        schema = Validation.create_schema(Point)
        assert schema.validate({"x": 1}) == Point(1, 0)
        assert [e.path for e in schema.errors({"y": "a"})] == ["/x", "/y"]

    def test_not_a_class(self) -> None:
        """Only attrs classes and dataclasses are accepted."""
        with pytest.raises(SchemaError):
            Schema.from_class(int)


class TestCrossFieldAndAsync:
    def test_cross_field(self) -> None:
        """Cross-field checks run once every field passed, and report at their path."""
        schema = Validation.create_schema(
            {"start": int, "end": int},
            checks=[
                cross_field(
                    lambda d: d["end"] > d["start"], path="end", message="must be after start"
                )
            ],
        )
        assert schema.validate({"start": 1, "end": 2}) == {"start": 1, "end": 2}
        errors = schema.errors({"start": 3, "end": 2})
        assert [(e.path, e.code, e.message, e.value) for e in errors] == [
            ("/end", "cross_field", "must be after start", None)
        ]
        assert [e.code for e in schema.errors({"start": "x", "end": 2})] == ["type"]

    def test_plain_callable_check_on_attrs(self) -> None:
        """A plain callable check receives the built instance."""
        schema = Validation.create_schema(Point, checks=[lambda p: p.x != p.y])
        assert schema.validate({"x": 1, "y": 2}) == Point(1, 2)
        assert [e.path for e in schema.errors({"x": 1, "y": 1})] == [""]

    async def test_async_rules(self) -> None:
        """Async rules run in avalidate, concurrently, only on values that passed."""
        calls: list[str] = []

        async def unique(value: str) -> bool:
            calls.append(value)
            await asyncio.sleep(0)
            return value not in {"taken@x.io"}

        schema = Validation.create_schema(
            {"emails": [Field("email", Rule(unique, code="unique", message="{value} is taken"))]}
        )
        assert schema.has_async_rules
        with pytest.raises(InvalidArgumentError, match="avalidate"):
            schema.validate({"emails": []})
        assert await schema.avalidate({"emails": ["a@x.io"]}) == {"emails": ["a@x.io"]}
        with pytest.raises(ValidationError) as info:
            await schema.avalidate({"emails": ["taken@x.io", "bad", "b@x.io", "taken@x.io"]})
        assert [(e.path, e.code) for e in info.value.errors] == [
            ("/emails/1", "email"),
            ("/emails/0", "unique"),
            ("/emails/3", "unique"),
        ]
        assert info.value.errors[1].message == "'taken@x.io' is taken"
        assert "bad" not in calls

    async def test_async_cross_field_checks(self) -> None:
        """Async checks run after the async field rules, and only when the object is valid."""

        async def positive_total(d: dict[str, Any]) -> bool:
            await asyncio.sleep(0)
            return d["a"] + d["b"] > 0

        async def fails(value: int) -> str | None:
            return "no" if value == 99 else None

        schema = Validation.create_schema(
            {"a": (int, fails), "b": int, "inner": {"c": int}},
            checks=[cross_field(positive_total, path="b"), lambda d: d["a"] != 7],
        )
        assert await schema.avalidate({"a": 1, "b": 1, "inner": {"c": 1}}) == {
            "a": 1,
            "b": 1,
            "inner": {"c": 1},
        }
        with pytest.raises(ValidationError) as info:
            await schema.avalidate({"a": -5, "b": 1, "inner": {"c": 1}})
        assert [e.path for e in info.value.errors] == ["/b"]
        with pytest.raises(ValidationError) as info:
            await schema.avalidate({"a": 99, "b": -200, "inner": {"c": 1}})
        assert [(e.path, e.message) for e in info.value.errors] == [("/a", "no")]
        with pytest.raises(ValidationError) as info:
            await schema.avalidate({"a": 7, "b": 1, "inner": {"c": 1}})
        assert [e.path for e in info.value.errors] == [""]

    async def test_async_rule_raising(self) -> None:
        """An async rule raising ValueError fails with its message."""

        async def boom(value: int) -> None:
            raise ValueError("server says no")

        schema = Validation.create_schema({"a": (int, boom)})
        with pytest.raises(ValidationError) as info:
            await schema.avalidate({"a": 1})
        assert info.value.errors[0].message == "server says no"


json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)

PROPERTY_SCHEMA = Validation.create_schema(
    {
        "name": Field(str, length(min=1, max=5), sanitize=["strip", "nfc"]),
        "age": (int, range_(min=0)),
        "email": "email",
        "when": datetime.date,
        "tags": [str],
        "home": {"zip": str, "n": float | None},
        "customer": Customer,
        "score": Field(float, nullable=True),
    },
    checks=[cross_field(lambda d: d["age"] < 200, path="age")],
)
PROPERTY_COERCE = Validation.create_schema({"n": int, "b": bool, "s": str}, coerce=True)


@given(json_like)
def test_arbitrary_json_only_raises_validation_errors(data: Any) -> None:
    """Whatever JSON-like input comes in, the only exception is ValidationError."""
    for schema in (PROPERTY_SCHEMA, PROPERTY_COERCE):
        details: list[Any] = []
        try:
            schema.validate(data)
        except ValidationError as error:
            details = error.errors
            assert details, "a ValidationError always lists its problems"
        assert all(d.path == "" or d.path.startswith("/") for d in details)


@given(
    st.dictionaries(st.sampled_from(["name", "age", "email", "when", "tags", "home"]), json_like)
)
def test_arbitrary_objects_only_raise_validation_errors(data: dict[str, Any]) -> None:
    """Objects with the right keys and arbitrary values: still only ValidationError."""
    details: list[Any] = ["valid"]
    try:
        PROPERTY_SCHEMA.validate(data)
    except ValidationError as error:
        details = error.errors
    assert details


def test_class_schemas_are_compiled_once() -> None:
    """from_class with default options returns the cached compiled schema."""
    assert Schema.from_class(Point) is Schema.from_class(Point)
    assert Schema.from_class(Point, coerce=True) is not Schema.from_class(Point)
    assert Schema.from_class(Point, messages={"missing": "x"}) is not Schema.from_class(Point)


@attrs.define
class TreeNode:
    name: str = attrs.field(metadata=constraints(length(min=1)))
    children: list[TreeNode] = attrs.field(factory=list)


class TestRecursion:
    def test_recursive_class(self) -> None:
        """A self-referencing attrs class validates to any depth, errors at their paths."""
        schema = Schema.from_class(TreeNode)
        tree = schema.validate(
            {"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}]}
        )
        assert tree == TreeNode("a", [TreeNode("b", [TreeNode("c")])])
        errors = schema.errors(
            {"name": "a", "children": [{"name": ""}, {"children": [{"name": 1}]}]}
        )
        assert [(e.path, e.code) for e in errors] == [
            ("/children/0/name", "too_short"),
            ("/children/1/name", "missing"),
            ("/children/1/children/0/name", "type"),
        ]

    def test_literal_in_spec(self) -> None:
        """Literal values are choices."""
        schema = Validation.create_schema({"mode": Literal["r", "w"]})
        errors = schema.errors({"mode": "x"})
        assert [(e.code, e.message) for e in errors] == [("one_of", "must be one of 'r', 'w'")]


@attrs.define
class Annotated_:
    age: Annotated[int, range_(min=0)]
    name: Annotated[str, length(min=2)] = "ab"
    mail: Annotated[str | None, email()] = None


@dataclasses.dataclass
class AnnotatedPoint:
    x: Annotated[int, range_(min=0)]


class TestAnnotated:
    def test_rules_in_annotated_metadata(self) -> None:
        """Annotated[T, rule, ...] applies the rules, in classes, dataclasses and specs."""
        schema = Schema.from_class(Annotated_)
        assert schema.validate({"age": 1}) == Annotated_(1)
        errors = schema.errors({"age": -1, "name": "x", "mail": "bad"})
        assert [(e.path, e.code) for e in errors] == [
            ("/age", "too_small"),
            ("/name", "too_short"),
            ("/mail", "email"),
        ]
        assert schema.validate({"age": 0, "mail": None}).mail is None
        assert [e.code for e in Schema.from_class(AnnotatedPoint).errors({"x": -1})] == [
            "too_small"
        ]
        spec = Validation.create_schema({"n": Annotated[int, range_(max=3)]})
        assert [e.code for e in spec.errors({"n": 5})] == ["too_large"]
        assert schema.json_schema()["properties"]["age"]["minimum"] == 0


class TestPartial:
    def test_partial_updates(self) -> None:
        """partial=True validates only the keys present (deeply), with no defaults."""
        schema = Validation.create_schema(
            {"name": str, "age": (int, range_(min=0)), "home": {"zip": str, "city": str}},
            checks=[lambda d: d["age"] < 200],
        )
        assert schema.validate({"age": 3}, partial=True) == {"age": 3}
        assert schema.validate({"home": {"city": "x"}}, partial=True) == {"home": {"city": "x"}}
        with pytest.raises(ValidationError) as info:
            schema.validate({"age": -1, "home": {"zip": 1}}, partial=True)
        assert info.value.paths == ["/age", "/home/zip"]
        with pytest.raises(ValidationError):
            schema.validate({"age": 3})

    def test_partial_on_classes_returns_a_dict(self) -> None:
        """A class schema in partial mode returns the validated fields as a dict."""
        schema = Schema.from_class(Customer)
        assert schema.validate({"email": " A@B.CO "}, partial=True) == {"email": "a@b.co"}

    async def test_partial_async(self) -> None:
        """avalidate accepts partial too."""
        schema = Validation.create_schema({"a": int, "b": int})
        assert await schema.avalidate({"b": 1}, partial=True) == {"b": 1}


FAST_SCHEMAS = [
    Validation.create_schema(
        {
            "name": Field(str, length(min=1, max=8), sanitize=["strip"]),
            "age": (int, range_(min=0)),
            "score": Field(float, nullable=True),
            "ok": Field(bool, default=False),
            "tags": Field(list[str], default_factory=list),
            "home": {"zip": str},
            "any": Field(Any, required=False),
            "when": datetime.date | None,
        },
        checks=[lambda d: d["age"] != 13],
    ),
    Validation.create_schema({"n": int, "b": bool, "s": str}, coerce=True, extra="keep"),
    Validation.create_schema({"n": int, "items": [{"x": int}]}, extra="forbid"),
    Schema.from_class(Customer),
]

field_values = (
    st.none()
    | st.booleans()
    | st.integers(-5, 20)
    | st.floats(allow_nan=True)
    | st.sampled_from(["", " ab ", "x@y.io", "2026-01-02", "red", "abcdefghij"])
    | st.lists(st.sampled_from(["a", 1]), max_size=2)
    | st.fixed_dictionaries({"zip": st.sampled_from(["1", 2])})
)
records = st.dictionaries(
    st.sampled_from(
        [
            "name",
            "age",
            "score",
            "ok",
            "tags",
            "home",
            "any",
            "when",
            "n",
            "b",
            "s",
            "items",
            "email",
            "address",
            "extra",
        ]
    ),
    field_values,
    max_size=10,
)


@given(records)
def test_fast_path_matches_the_full_pass(data: dict[str, Any]) -> None:
    """The generated fast path returns exactly what the full pass returns, or defers to it."""
    from pepperpy.validation._schema import _Ctx

    for schema in FAST_SCHEMAS:
        ctx = _Ctx(defer=False)
        full = schema._run(data, "", ctx)
        if ctx.out:
            with pytest.raises(ValidationError) as info:
                schema.validate(data)
            assert [d.path for d in info.value.errors] == [v.path for v in ctx.out]
        else:
            assert schema.validate(data) == full
