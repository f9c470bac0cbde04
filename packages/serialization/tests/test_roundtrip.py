"""Property test: loads(dumps(x), T) == x for generated attrs classes, in every format."""

from __future__ import annotations

import datetime
import enum
import uuid
from decimal import Decimal
from typing import Any

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from pepperpy import serialization
from pepperpy.serialization import Converter


class Mood(enum.Enum):
    HAPPY = "happy"
    SAD = "sad"


_text = st.text(max_size=10)
LEAVES: list[tuple[Any, Any]] = [
    (int, st.integers(min_value=-(2**63), max_value=2**63 - 1)),
    (float, st.floats(allow_nan=False, allow_infinity=False)),
    (str, _text),
    (bool, st.booleans()),
    (bytes, st.binary(max_size=10)),
    (uuid.UUID, st.uuids()),
    (Decimal, st.decimals(allow_nan=False, allow_infinity=False, places=3)),
    (datetime.datetime, st.datetimes(timezones=st.none() | st.just(datetime.timezone.utc))),
    (datetime.date, st.dates()),
    (Mood, st.sampled_from(Mood)),
]


def _type_and_values(depth: int) -> Any:
    leaf = st.sampled_from(LEAVES)
    if depth == 0:
        return leaf

    def containers(inner: tuple[Any, Any]) -> Any:
        tp, values = inner
        return st.sampled_from(
            [
                (list[tp], st.lists(values, max_size=3)),  # type: ignore[valid-type]
                (dict[str, tp], st.dictionaries(_text, values, max_size=3)),  # type: ignore[valid-type]
            ]
        )

    nested = _type_and_values(depth - 1)
    return st.one_of(leaf, nested.flatmap(containers), _records(depth - 1))


@st.composite
def _records(draw: Any, depth: int) -> tuple[Any, Any]:
    count = draw(st.integers(min_value=1, max_value=5))
    specs = [draw(_type_and_values(depth)) for _ in range(count)]
    with_optional = draw(st.booleans())
    attributes: dict[str, Any] = {
        f"field_{i}": attrs.field(type=tp) for i, (tp, _) in enumerate(specs)
    }
    strategies = {f"field_{i}": values for i, (_, values) in enumerate(specs)}
    if with_optional:
        attributes["maybe"] = attrs.field(type=int | None, default=None)
        strategies["maybe"] = st.none() | st.integers(min_value=0, max_value=10)
    cls = attrs.make_class(f"Generated{draw(st.integers(0, 10**6))}", attributes)
    return cls, st.builds(cls, **strategies)


@st.composite
def _instances(draw: Any) -> tuple[Any, Any]:
    cls, values = draw(_records(2))
    return cls, draw(values)


FORMATS = ["json", "toml", "msgpack", "yaml"]


@settings(max_examples=60, deadline=None)
@given(_instances(), st.sampled_from(FORMATS))
def test_round_trip(case: tuple[Any, Any], fmt: str) -> None:
    """Every generated instance survives every format unchanged."""
    cls, instance = case
    assert instance == serialization.loads(
        serialization.dumps(instance, format=fmt), cls, format=fmt
    )


@settings(max_examples=30, deadline=None)
@given(_instances())
def test_round_trip_with_camel_case_and_omitted_defaults(case: tuple[Any, Any]) -> None:
    """Rename policies and omitted defaults do not lose data."""
    cls, instance = case
    conv = Converter(rename="camel", omit_defaults=True, forbid_extra=True)
    for fmt in FORMATS:
        assert instance == conv.loads(conv.dumps(instance, format=fmt), cls, format=fmt)
