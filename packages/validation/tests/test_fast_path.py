"""issue 26 (validation speed): the generated fast path agrees with the full pass.

The fast path (``validate``) either returns what the full pass would or hands
over to it; ``avalidate`` never uses it, so comparing the two on the same input
checks the shortcuts of issue 26: one ``dict.get`` for a required field's
absence, ``None`` and type, the result built in one dict display, and the
plain-``str``/plain-``int`` branches of ``length``, ``range_`` and ``one_of``.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pepperpy.validation import (
    Field,
    Schema,
    Validation,
    ValidationError,
    length,
    one_of,
    range_,
)


class _Str(str):
    """A str subclass: the built-in rules judge its characters (full pass)."""


class _Hostile:
    """Every dunder a rule might call raises."""

    def __len__(self) -> int:
        raise RuntimeError("len")

    def __lt__(self, other: object) -> bool:
        raise RuntimeError("lt")

    __gt__ = __le__ = __ge__ = __lt__

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("eq")

    def __hash__(self) -> int:
        raise RuntimeError("hash")


def _outcome(schema: Schema[Any], data: Any) -> Any:
    try:
        return ("ok", schema.validate(data))
    except ValidationError as exc:
        return ("error", sorted((e.path, e.code) for e in exc.errors))


def _full(schema: Schema[Any], data: Any) -> Any:
    try:
        return ("ok", asyncio.run(schema.avalidate(data)))
    except ValidationError as exc:
        return ("error", sorted((e.path, e.code) for e in exc.errors))


def _schema(nick: Field) -> Schema[Any]:
    return Validation.create_schema(
        {
            "name": (str, length(min=1, max=5)),
            "age": (int, range_(min=0, max=150)),
            "open": (int, range_(gt=-1.5, lt=10)),
            "nan": (int, range_(min=float("nan"))),  # compares false: never "too small"
            "score": float,
            "active": bool,
            "role": (str, one_of(["admin", "user", True, 1, _Str("guest")])),
            "note": (str | None, length(max=3)),
            "nick": nick,
            "tag": Field(str, length(min=1), default="t"),
        }
    )


# a field that may be absent from the result: results built key by key
SCHEMA = _schema(Field(str | None, required=False))
# every field always in the result: built in one dict display
LITERAL = _schema(Field(str | None, default_factory=lambda: "n"))

_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=200),
    st.sampled_from([2**1100, -(2**1100), 1.0, 1.5, math.nan, math.inf]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=7),
    st.sampled_from(["admin", "user", "guest", "root", "", _Str("admin"), _Str("guest")]),
    st.builds(_Hostile),
)
_KEYS = ["name", "age", "open", "nan", "score", "active", "role", "note", "nick", "tag"]
_VALID = {
    "name": "Ada",
    "age": 36,
    "open": 3,
    "nan": 7,
    "score": 9.5,
    "active": True,
    "role": "admin",
    "note": None,
}


@settings(max_examples=300, deadline=None)
@given(
    changes=st.dictionaries(st.sampled_from(_KEYS), _VALUES, max_size=4),
    drop=st.sets(st.sampled_from(_KEYS), max_size=2),
)
def test_fast_path_agrees_with_the_full_pass(changes: dict[str, Any], drop: set[str]) -> None:
    """issue 26: validate() (fast path first) == avalidate() (full pass only)."""
    data = {**_VALID, **changes}
    for key in drop:
        data.pop(key, None)
    for schema in (SCHEMA, LITERAL):
        assert _outcome(schema, data) == _full(schema, data)


def test_valid_record_goes_through_and_int_becomes_float() -> None:
    """issue 26: the one-get field reads, float conversion and the dict display."""
    value = SCHEMA.validate({**_VALID, "score": 3})
    assert value == {**_VALID, "score": 3.0, "nick": None, "tag": "t"}
    assert type(value["score"]) is float
    literal = LITERAL.validate({**_VALID, "score": 3})
    assert literal == {**_VALID, "score": 3.0, "nick": "n", "tag": "t"}
    assert list(literal) == [*_VALID, "nick", "tag"]


@pytest.mark.parametrize(
    ("key", "value", "code"),
    [
        ("name", None, "null"),
        ("age", None, "null"),
        ("score", None, "null"),
        ("score", math.nan, "type"),
        ("age", True, "type"),
        ("age", 151, "too_large"),
        ("open", 10, "not_lt"),
        ("open", -2, "not_gt"),
        ("name", "toolong", "too_long"),
        ("name", "", "too_short"),
        ("role", "root", "one_of"),
        ("role", 1.0, "type"),
    ],
)
def test_each_shortcut_hands_bad_values_to_the_full_pass(key: str, value: Any, code: str) -> None:
    """issue 26: each shortcut rejects what the full pass reports (same code)."""
    outcome = _outcome(SCHEMA, {**_VALID, key: value})
    assert outcome == _full(SCHEMA, {**_VALID, key: value})
    assert outcome[0] == "error"
    assert [c for _, c in outcome[1]] == [code]


def test_absent_required_field_is_reported() -> None:
    """issue 26: absence and None share one test in the fast path, not in the report."""
    data = dict(_VALID)
    del data["age"]
    assert _outcome(SCHEMA, data) == ("error", [("/age", "missing")])


def test_str_choices_and_subclass_values_agree() -> None:
    """issue 26: one_of's plain-str shortcut only ever says yes for a real member."""
    for role in ("admin", "user", "guest", _Str("guest"), _Str("admin"), "Admin", True, 1):
        data = {**_VALID, "role": role}
        assert _outcome(SCHEMA, data) == _full(SCHEMA, data)


def test_hostile_values_never_escape_the_rules() -> None:
    """issue 26: rules on Any fields keep the _Guarded guarantee (no raw exception)."""
    schema = Validation.create_schema(
        {
            "a": (Any, length(max=3)),
            "b": (Any, range_(min=0, max=9)),
            "c": (Any, one_of(["x", 1])),
        }
    )
    outcome = _outcome(schema, {"a": _Hostile(), "b": _Hostile(), "c": _Hostile()})
    assert outcome[0] == "error"
    assert [path for path, _ in outcome[1]] == ["/a", "/b", "/c"]


def test_range_of_plain_ints_matches_bounds_of_every_kind() -> None:
    """issue 26: range_'s plain-int branch only for finite int/float bounds."""
    cases = [
        (range_(min=0, max=10), 5, True),
        (range_(min=0, max=10), 11, False),
        (range_(min=0.5), 0, False),
        (range_(max=math.inf), 10**400, True),
        (range_(gt=1, lt=3), 2, True),
        (range_(gt=1, lt=3), 3, False),
        (range_(gt=1), 1, False),
        (range_(min=float("nan")), 1, True),  # as the full comparison: nothing is below NaN
        (range_(min=True), 0, False),  # a bool bound: the general path
    ]
    for rule, value, ok in cases:
        schema = Validation.create_schema({"v": (int, rule)})
        assert (_outcome(schema, {"v": value})[0] == "ok") is ok, (rule, value)
        assert _outcome(schema, {"v": value}) == _full(schema, {"v": value})


@pytest.mark.parametrize(
    "bounds", [{"min": "x"}, {"max": 2.5}, {"min": True}, {"max": None, "min": [1]}]
)
def test_length_refuses_bounds_that_are_not_whole_numbers(bounds: dict[str, Any]) -> None:
    """issue 26 (found while reworking length()'s check): length(min="x") was accepted
    and a value reaching it raised a raw TypeError from the error report."""
    from pepperpy.validation import SchemaError

    with pytest.raises(SchemaError, match="whole numbers"):
        length(**bounds)
