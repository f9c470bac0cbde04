"""What the JSON Schema export does with what it cannot express (issue 24 coverage).

A client generated from the export (a form, an OpenAPI page) must never be told a
field is stricter or looser than it is without a word: each constraint the
export cannot carry is named in a ``$comment``, and containers keep their item
types.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from pepperpy.validation import (
    Validation,
    cross_field,
    multiple_of,
    not_empty,
    one_of,
    range_,
)


@attrs.define
class Point:
    x: int


def _props(spec: dict[str, Any], **options: Any) -> dict[str, Any]:
    props: dict[str, Any] = Validation.create_schema(spec, **options).json_schema()["properties"]
    return props


def test_containers_keep_their_item_types() -> None:
    props = _props(
        {
            "tags": frozenset[int],
            "row": tuple[int, ...],
            "seq": Sequence[str],
            "by_id": dict[int, str],
            "point": Point,
        }
    )
    assert props["tags"]["type"] == "array" and props["tags"]["items"]["type"] == "integer"
    assert "repeated items" in props["tags"]["$comment"]
    assert props["row"]["type"] == "array" and props["row"]["items"]["type"] == "integer"
    assert props["seq"] == {"type": "array", "items": {"type": "string"}}
    assert props["by_id"]["additionalProperties"] == {"type": "string"}
    assert props["by_id"]["$comment"] == "keys are read as int"  # JSON keys are text
    assert props["point"]["properties"]["x"]["type"] == "integer"
    assert props["point"]["required"] == ["x"]


def test_untyped_and_undescribed_fields_say_so() -> None:
    props = _props({"anything": Any, "where": Path})
    assert props["anything"] == {"not": {"type": "null"}}  # any value but null
    assert props["where"]["$comment"] == "values of type Path are not described"


def test_rules_the_export_cannot_carry_are_named() -> None:
    def even(value: int) -> bool:
        return value % 2 == 0

    async def available(value: str) -> bool:
        return True

    props = _props(
        {
            "n": (int, even),
            "name": (str, available),
            "day": (dt.date, range_(min=dt.date(2020, 1, 1))),
            "tenth": (Any, multiple_of(Decimal("0.1"))),
            "half": (Any, multiple_of(Decimal("0.5"))),
            "odd": (Any, one_of([object()])),
            "huge": (Any, one_of([{"a": float("inf")}])),
        }
    )
    assert "rule 'even' is not expressed" in props["n"]["$comment"]
    assert "async rules are not expressed" in props["name"]["$comment"]
    assert "range bounds of type date are not expressed" in props["day"]["$comment"]
    assert "minimum" not in props["day"]
    # 0.1 has no exact binary float: refusing to round it beats a wrong multipleOf
    assert "multipleOf" not in props["tenth"]
    assert "multiple_of(0.1) is not expressed" in props["tenth"]["$comment"]
    assert props["half"]["multipleOf"] == 0.5
    for name in ("odd", "huge"):
        assert "enum" not in props[name]
        assert props[name]["$comment"] == "one_of choices are not all JSON values"


def test_one_of_exports_nested_json_choices() -> None:
    props = _props({"shape": (Any, one_of([[1, 2], (3,), {"a": None}]))})
    assert props["shape"]["enum"] == [[1, 2], [3], {"a": None}]


def test_not_empty_on_a_number_carries_no_size_words() -> None:
    props = _props({"n": (int, not_empty())})
    assert not {"minLength", "pattern", "minItems", "minProperties"} & set(props["n"])


def test_cross_field_checks_and_coercing_mode_are_noted() -> None:
    document = Validation.create_schema(
        {"start": int, "end": int},
        coerce=True,
        checks=[cross_field(lambda d: d["end"] > d["start"], path="end")],
    ).json_schema()
    assert "cross-field checks are not expressed" in document["$comment"]
    assert "coercing mode" in document["$comment"]
    # "42" is accepted for an int field, so the export does not say "type": "integer"
    assert "type" not in document["properties"]["start"]
    assert "coercing mode" in document["properties"]["start"]["$comment"]
