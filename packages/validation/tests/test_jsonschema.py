"""Tests for pepperpy.validation._jsonschema: Schema.json_schema()."""

from __future__ import annotations

import datetime
import enum

import attrs

from pepperpy.validation import (
    Field,
    Schema,
    Validation,
    constraints,
    email,
    length,
    one_of,
    range_,
    regex,
)


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@attrs.define
class Address:
    street: str
    zip_code: str = attrs.field(metadata=constraints(alias="zip"))


@attrs.define
class Customer:
    name: str
    email: str = attrs.field(metadata=constraints(email()))
    address: Address
    addresses: list[Address] = attrs.field(factory=list)
    age: int = 0
    color: Color = Color.RED


@attrs.define
class TreeNode:
    name: str
    children: list[TreeNode] = attrs.field(factory=list)


class TestJsonSchema:
    def test_dict_spec_export(self) -> None:
        """Types, required keys, nesting, nullability, defaults and built-in rules are exported."""
        schema = Validation.create_schema(
            {
                "name": Field(str, length(min=1, max=80), description="Full name"),
                "age": (int, range_(min=0, lt=150)),
                "email": "email",
                "tags": ([str], length(max=3)),
                "home": {"zip": (str, regex(r"\d{5}"))},
                "when": datetime.date,
                "color": Color,
                "nick": str | None,
                "role": (str, one_of(["a", "b"])),
                "password": Field(str, secret=True, default="x"),
                "scores": dict[str, list[int]],
                "pair": tuple[int, str],
            },
            extra="forbid",
        )
        document = schema.json_schema()
        props = document["properties"]
        assert document["$schema"].endswith("2020-12/schema")
        assert document["additionalProperties"] is False
        assert document["required"] == [
            "name",
            "age",
            "email",
            "tags",
            "home",
            "when",
            "color",
            "role",
            "scores",
            "pair",
        ]
        assert props["name"] == {
            "type": "string",
            "minLength": 1,
            "maxLength": 80,
            "description": "Full name",
        }
        assert props["age"] == {
            "type": "integer",
            "$comment": "a whole number; strict mode refuses numbers written with a fraction (1.0)",
            "minimum": 0,
            "exclusiveMaximum": 150,
        }
        assert props["email"]["format"] == "email"
        assert props["tags"] == {"type": "array", "items": {"type": "string"}, "maxItems": 3}
        assert props["home"]["properties"]["zip"]["pattern"] == r"^(?:\d{5})(?![\s\S])"
        assert (props["when"]["type"], props["when"]["format"]) == ("string", "date")
        assert props["color"] == {"enum": ["red", "blue"]}
        assert props["nick"] == {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}
        assert props["role"] == {"type": "string", "enum": ["a", "b"]}
        assert props["password"] == {"type": "string", "writeOnly": True}
        assert props["scores"]["additionalProperties"]["items"]["type"] == "integer"
        assert [p["type"] for p in props["pair"]["prefixItems"]] == ["integer", "string"]

    def test_class_export(self) -> None:
        """attrs classes export nested objects, lists of objects and defaults."""
        document = Schema.from_class(Customer).json_schema()
        props = document["properties"]
        assert document["title"] == "Customer"
        assert props["address"]["properties"]["zip"] == {"type": "string"}
        assert props["addresses"]["type"] == "array"
        assert props["addresses"]["items"]["title"] == "Address"
        assert (props["age"]["type"], props["age"]["default"]) == ("integer", 0)
        assert props["color"] == {"enum": ["red", "blue"], "default": "red"}
        assert props["email"]["format"] == "email"
        assert document["required"] == ["name", "email", "address"]

    def test_recursive_json_schema(self) -> None:
        """Recursion is exported as a $ref to the root."""
        document = Schema.from_class(TreeNode).json_schema()
        assert document["properties"]["children"]["items"] == {"$ref": "#"}
