"""Attacks from issue 19 (findings 1, 2, 4, 5 and 7): each test failed before its fix.

Enum results are checked with ``type(x) is ...`` / ``is``: ``2 == Level.HIGH``
passes for a plain int, so ``==`` cannot tell a converted value from a raw one.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal, Optional, Union

import attrs
import pytest

from pepperpy.serialization import MAX_DEPTH
from pepperpy.validation import (
    Field,
    Schema,
    Validation,
    ValidationError,
    email,
    hostname,
    ip,
    iso_date,
    iso_datetime,
    length,
    multiple_of,
    not_empty,
    one_of,
    range_,
    slug,
    url,
    uuid_,
)


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Mixed(str, enum.Enum):
    A = "a"
    B = "b"


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@attrs.define
class AppSettings:
    """What pepperpy-config binds env vars to (Schema.from_class(coerce=True))."""

    level: Mixed = Mixed.A


@attrs.define
class Chain:
    next: Optional[Chain] = None  # noqa: UP045 - the form users write


@attrs.define
class Tree:
    kids: dict[str, Tree] = attrs.field(factory=dict)
    slots: list[Optional[Tree]] = attrs.field(factory=list)  # noqa: UP045


# --------------------------------------------------------------------------- finding 1


def test_int_enum_field_refuses_unknown_values() -> None:
    """issue 19 #1: Validation.create_schema({"v": Level}) accepted 99."""
    schema = Validation.create_schema({"v": Level})
    with pytest.raises(ValidationError) as info:
        schema.validate({"v": 99})
    assert [v.code for v in info.value.errors] == ["one_of"]
    value = schema.validate({"v": 2})["v"]
    assert type(value) is Level and value is Level.HIGH
    with pytest.raises(ValidationError):
        schema.validate({"v": True})


def test_str_enum_from_config_style_coercion_is_checked() -> None:
    """issue 19 #1: config bound APP_LEVEL=bogus to a (str, Enum) field (coerce mode)."""
    schema = Schema.from_class(AppSettings, coerce=True, extra="ignore")
    with pytest.raises(ValidationError):
        schema.validate({"level": "bogus"})
    assert schema.validate({"level": "b"}).level is Mixed.B


@pytest.mark.parametrize("spec", [Literal[1], Union[int, str]])
def test_bool_is_not_accepted_where_int_is(spec: object) -> None:
    """issue 19 #1: Union[int, str] and Literal[1] accepted True; plain int refuses it."""
    for target in (int, spec):
        with pytest.raises(ValidationError):
            Validation.create_schema({"v": target}).validate({"v": True})


def test_one_of_tells_true_from_one() -> None:
    """issue 19 #7: one_of([1]) accepted True (True == 1 in Python, not in JSON)."""
    schema = Validation.create_schema({"v": (object, one_of([1, 2]))})
    assert schema.validate({"v": 1.0})["v"] == 1  # JSON: 1.0 and 1 are one number
    with pytest.raises(ValidationError):
        schema.validate({"v": True})
    assert Validation.create_schema({"v": (object, one_of([True]))}).is_valid({"v": True})
    assert not Validation.create_schema({"v": (object, one_of([True]))}).is_valid({"v": 1})


# --------------------------------------------------------------------------- finding 2


@pytest.mark.parametrize("spec", [float, (float, range_(min=0)), Optional[float]])  # noqa: UP045
def test_float_field_given_a_huge_int_is_a_validation_error(spec: object) -> None:
    """issue 19 #2: json.loads("1" + "0" * 400) into a float field raised OverflowError."""
    schema = Validation.create_schema({"x": spec})
    with pytest.raises(ValidationError) as info:
        schema.validate({"x": json.loads("1" + "0" * 400)})
    assert info.value.errors[0].path == "/x"


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 500, 3_000])
def test_recursive_class_nested_deep_is_a_validation_error(depth: int) -> None:
    """issue 19 #2: validating a recursive class ~500 deep raised RecursionError."""
    data: dict[str, object] = {}
    for _ in range(depth):
        data = {"next": data}
    schema = Schema.from_class(Chain)
    with pytest.raises(ValidationError) as info:
        schema.validate(data)
    assert [v.code for v in info.value.errors] == ["depth"]
    assert info.value.errors[0].path == "/next" * MAX_DEPTH
    shallow: dict[str, object] = {}
    for _ in range(MAX_DEPTH - 1):
        shallow = {"next": shallow}
    assert isinstance(schema.validate(shallow), Chain)


def test_nested_list_specs_have_the_depth_limit() -> None:
    """issue 19 #2: list-of-list specs recurse too."""
    spec: object = int
    for _ in range(MAX_DEPTH + 2):
        spec = [spec]
    schema = Validation.create_schema({"v": spec})
    value: object = 1
    for _ in range(MAX_DEPTH + 2):
        value = [value]
    assert [v.code for v in schema.errors({"v": value})] == ["depth"]


# --------------------------------------------------------------------------- finding 4


@pytest.mark.parametrize(
    ("rule", "good"),
    [
        (email(), "ada@example.com"),
        (slug(), "my-post-1"),
        (hostname(), "example.com"),
        (uuid_(), "12345678-1234-5678-1234-567812345678"),
    ],
)
def test_anchored_rules_refuse_a_trailing_newline(rule: object, good: str) -> None:
    """issue 19 #4: "$" matched before a final "\\n"; every anchored rule uses fullmatch."""
    schema = Validation.create_schema({"v": (str, rule)})
    assert schema.is_valid({"v": good})
    for bad in (good + "\n", good + "\n\n", "\n" + good, good + "\r"):
        assert not schema.is_valid({"v": bad}), repr(bad)


def test_email_and_hostname_formats_refuse_a_trailing_newline() -> None:
    """issue 19 #4: the same through the dict-spec format names."""
    schema = Validation.create_schema({"e": "email", "h": "hostname", "s": "slug"})
    good = {"e": "a@b.co", "h": "b.co", "s": "a-b"}
    assert schema.is_valid(good)
    for key in good:
        assert not schema.is_valid({**good, key: good[key] + "\n"})


def test_uuid_rule_takes_the_hyphenated_form_only() -> None:
    """issue 19 #7: UUID accepted braces and no hyphens while the export says uuid."""
    text = "12345678-1234-5678-1234-567812345678"
    schema = Validation.create_schema({"v": "uuid"})
    for bad in ("{" + text + "}", text.replace("-", ""), "urn:uuid:" + text):
        assert not schema.is_valid({"v": bad})


# --------------------------------------------------------------------------- finding 5


def test_str_keyed_dict_field_refuses_other_keys() -> None:
    """issue 19 #5: dict[str, int] accepted {1: 2} (YAML and msgpack give int keys)."""
    schema = Validation.create_schema({"m": dict[str, int]})
    assert schema.validate({"m": {"a": 1}}) == {"m": {"a": 1}}
    errors = schema.errors({"m": {1: 2}})
    assert [e.path for e in errors] == ["/m/1"]


# --------------------------------------------------------------------------- finding 7


def test_multiple_of_is_exact() -> None:
    """issue 19 #7: multiple_of(0.1) used a 1e-9 tolerance; JSON Schema is exact."""
    schema = Validation.create_schema({"v": (float, multiple_of(0.1))})
    assert schema.is_valid({"v": 0.3})  # the decimal number 0.3 is 3 x 0.1
    assert not schema.is_valid({"v": 0.1 + 1e-12})
    assert not schema.is_valid({"v": 0.30000000000000004})
    exact = Validation.create_schema({"v": (object, multiple_of(3))})
    assert exact.is_valid({"v": 10**30 * 3}) and not exact.is_valid({"v": 10**30 * 3 + 1})
    assert exact.is_valid({"v": Decimal("9.0")}) and not exact.is_valid({"v": Decimal("9.5")})


def test_range_ignores_booleans_like_json_schema() -> None:
    """issue 19 #7: range_(min=2) failed True (1 < 2); minimum ignores non-numbers."""
    schema = Validation.create_schema({"v": (object, range_(min=2))})
    assert schema.is_valid({"v": True})
    # NaN: no raw InvalidOperation, and within no bounds (test_review.py::test_range_refuses_nan)
    assert not schema.is_valid({"v": Decimal("NaN")})


def test_not_empty_export_refuses_blanks() -> None:
    """issue 19 #7: not_empty refuses "  " while the export said only minLength: 1."""
    prop = Validation.create_schema({"v": (str, not_empty())}).json_schema()["properties"]["v"]
    assert prop["minLength"] == 1 and "pattern" in prop


def test_recursion_through_dict_and_optional_list_exports_refs() -> None:
    """issue 19 #7: json_schema() raised RecursionError through dict[str, Node]."""
    document = Schema.from_class(Tree).json_schema()
    props = document["properties"]
    assert props["kids"]["additionalProperties"] == {"$ref": "#"}
    assert props["slots"]["items"]["anyOf"][0] == {"$ref": "#"}

    @attrs.define
    class Holder:
        tree: Tree

    outer = Schema.from_class(Holder).json_schema()
    assert outer["properties"]["tree"] == {"$ref": "#/$defs/Tree"}
    assert outer["$defs"]["Tree"]["properties"]["kids"]["additionalProperties"] == {
        "$ref": "#/$defs/Tree"
    }


def test_export_holds_only_json_values() -> None:
    """issue 19 #7: one_of([Color.RED]) and Literal[Color.RED] put members in the output."""
    schema = Validation.create_schema(
        {
            "a": (Color, one_of([Color.RED])),
            "b": Literal[Color.RED],
            "c": (Level, one_of([Level.HIGH])),
            "d": Field_default_enum(),
        }
    )
    document = schema.json_schema()
    text = json.dumps(document)  # raises TypeError on a non-JSON value
    assert json.loads(text) == document
    assert document["properties"]["a"]["enum"] == ["red"]
    assert document["properties"]["b"]["enum"] == ["red"]
    assert type(document["properties"]["c"]["enum"][0]) is int


def Field_default_enum() -> object:
    from pepperpy.validation import Field

    return Field(Mixed, default=Mixed.B)


# ------------------------------------------------------------------- issue 24 review, hole 1
# A value's own __len__/__hash__/__eq__/__lt__/__repr__ raising escaped the built-in rules
# raw (RuntimeError, InvalidOperation). Only PepperPyError may leave a public API: the
# value is reported as a problem with the rule's code, through the fast path and the full
# pass alike. (pydantic reports an unusable value as a validation error too.)


class _Boom(RuntimeError):
    pass


class _Unsized:
    def __len__(self) -> int:
        raise _Boom("len")


class _Unhashable:
    def __hash__(self) -> int:
        raise _Boom("hash")


class _Unequal:
    __hash__ = object.__hash__

    def __eq__(self, other: object) -> bool:
        raise _Boom("eq")


class _Unordered:
    def __lt__(self, other: object) -> bool:
        raise _Boom("lt")

    def __gt__(self, other: object) -> bool:
        raise _Boom("gt")


class _FlakyLen:
    """Measures fine *good* times, then raises: no second measuring may run raw."""

    def __init__(self, good: int) -> None:
        self.good = good
        self.calls = 0

    def __len__(self) -> int:
        self.calls += 1
        if self.calls > self.good:
            raise _Boom("len again")
        return 10


class _BadReprFloat(float):
    def __repr__(self) -> str:
        raise _Boom("repr")


class _BadDecimal(Decimal):
    def as_tuple(self) -> Any:
        raise _Boom("as_tuple")


@pytest.mark.parametrize(
    ("rule", "make", "code"),
    [
        (length(max=3), _Unsized, "length"),
        (not_empty(), _Unsized, "not_empty"),
        (range_(min=1), _Unordered, "range"),
        (range_(max=1), _Unordered, "range"),
        (one_of([1, 2]), _Unhashable, "one_of"),
        (one_of([[1], 2]), _Unequal, "one_of"),
    ],
    ids=[
        "length-len",
        "not_empty-len",
        "range-min-lt",
        "range-max-gt",
        "one_of-hash",
        "one_of-eq",
    ],
)
def test_builtin_rules_report_a_value_whose_own_methods_raise(
    rule: Any, make: Callable[[], object], code: str
) -> None:
    """issue 24 review hole 1: the value's own method raised through the built-in rule."""
    schema = Validation.create_schema({"v": (Any, rule)})
    with pytest.raises(ValidationError) as info:
        schema.validate({"v": make()})
    assert [(e.path, e.code) for e in info.value.errors] == [("/v", code)]
    assert [e.code for e in schema.errors({"v": make()})] == [code]


@pytest.mark.parametrize("good_calls", [0, 1, 2, 3])
def test_length_survives_a_len_that_raises_later(good_calls: int) -> None:
    """issue 24 review hole 1: violation() measured the value a second time, raw."""
    schema = Validation.create_schema({"v": (Any, length(max=3))})
    for run in (schema.validate, schema.errors):
        try:
            errors = run({"v": _FlakyLen(good_calls)})
        except ValidationError as error:
            errors = error.errors
        # too_many when a measure reached violation(); length when __len__ raised first
        assert [e.path for e in errors] == ["/v"]
        assert errors[0].code in ("too_many", "length")


def test_multiple_of_judges_a_number_subclass_by_its_number() -> None:
    """issue 24 review hole 1: a float's __repr__ / a Decimal's as_tuple override raised raw."""
    for step, make in ((0.1, _BadReprFloat), (Decimal("0.1"), _BadDecimal)):
        schema = Validation.create_schema({"v": (Any, multiple_of(step))})
        assert schema.is_valid({"v": make("0.3")})
        assert [e.code for e in schema.errors({"v": make("0.35")})] == ["multiple_of"]


class _LyingStr(str):
    """A str subclass whose methods lie or raise: a rule judges the characters it holds."""

    def __len__(self) -> int:
        raise _Boom("len")

    def __iter__(self) -> Any:
        raise _Boom("iter")

    def strip(self, chars: str | None = None) -> str:
        raise _Boom("strip")

    def endswith(self, *args: Any) -> bool:
        raise _Boom("endswith")

    def partition(self, sep: str) -> Any:
        raise _Boom("partition")


@pytest.mark.parametrize(
    ("rule", "good", "bad", "code"),
    [
        (email(), "ada@example.com", "ada@", "email"),
        (url(), "https://example.com/x", "https://exa mple.com", "url"),
        (ip(), "::1%eth0", "1.2.3", "ip"),
        (iso_date(), "2026-11-26", "2026-13-01", "date"),
        (iso_datetime(), "2026-11-26T12:00:00Z", "2026-11-26T25:00:00Z", "datetime"),
        (not_empty(), "x", "  ", "not_empty"),
        (length(max=3), "abc", "abcd", "too_long"),
    ],
)
def test_builtin_rules_judge_a_str_subclass_by_its_characters(
    rule: Any, good: str, bad: str, code: str
) -> None:
    """issue 24 review hole 1: str-subclass overrides (__len__, strip ...) raised raw."""
    schema = Validation.create_schema({"v": (Any, rule)})
    assert schema.validate({"v": _LyingStr(good)})["v"] == good
    with pytest.raises(ValidationError) as info:
        schema.validate({"v": _LyingStr(bad)})
    assert [e.code for e in info.value.errors] == [code]


@pytest.mark.parametrize("name", ["strip", "lower", "upper", "casefold", "collapse_whitespace"])
def test_builtin_sanitizers_judge_a_str_subclass_by_its_characters(name: str) -> None:
    """issue 24 review hole 1, same class: a str subclass's overridden strip() raised raw."""

    class Lying(str):
        def strip(self, chars: str | None = None) -> str:
            raise _Boom("strip")

        def lower(self) -> str:
            raise _Boom("lower")

        def upper(self) -> str:
            raise _Boom("upper")

        def casefold(self) -> str:
            raise _Boom("casefold")

        def split(self, sep: str | None = None, maxsplit: int = -1) -> list[str]:
            raise _Boom("split")

    schema = Validation.create_schema({"v": Field(str, sanitize=[name])})
    expected = {"strip": "Ab  c", "lower": " ab  c ", "upper": " AB  C "}
    expected |= {"casefold": " ab  c ", "collapse_whitespace": "Ab c"}
    result = schema.validate({"v": Lying(" Ab  c ")})["v"]
    assert type(result) is str and result == expected[name]


def test_a_str_subclass_cannot_lie_its_way_past_length() -> None:
    """issue 24 review hole 1: the fast path and the full pass both measure the characters."""

    class Short(str):
        def __len__(self) -> int:
            return 0

    schema = Validation.create_schema({"v": (Any, length(max=3)), "w": (str, not_empty())})
    with pytest.raises(ValidationError) as info:
        schema.validate({"v": Short("abcd"), "w": Short("x")})
    assert [(e.path, e.code) for e in info.value.errors] == [("/v", "too_long")]
    assert schema.validate({"v": Short("abc"), "w": Short("x")}) == {"v": "abc", "w": "x"}
