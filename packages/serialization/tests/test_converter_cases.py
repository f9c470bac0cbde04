"""Converter behaviours a caller relies on that no other test pinned (issue 24 coverage)."""

from __future__ import annotations

import collections
import enum
from typing import Literal, Union

import attrs
import pytest

from pepperpy import serialization
from pepperpy.serialization import Converter, StructureError, UnsupportedTypeError


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


def test_mapping_keys_read_back_as_their_declared_type() -> None:
    """JSON object keys are text: float, bool and enum keys are read from it."""
    assert serialization.structure({"1.5": 1}, dict[float, int]) == {1.5: 1}
    assert serialization.structure({"true": 1, "0": 2}, dict[bool, int]) == {True: 1, False: 2}
    by_level = serialization.structure({"2": 5}, dict[Level, int])
    assert [type(k) for k in by_level] == [Level] and by_level[Level.HIGH] == 5
    with pytest.raises(StructureError) as info:
        serialization.structure({"9": 5}, dict[Level, int])
    assert [(d.path, d.code) for d in info.value.errors] == [("/9", "key")]


def test_enum_keys_round_trip_through_json() -> None:
    data = {Level.LOW: "low", Level.HIGH: "high"}
    text = serialization.dumps(data)
    assert text == b'{"1":"low","2":"high"}'
    assert serialization.loads(text, dict[Level, str]) == data


def test_a_value_outside_a_literal_is_a_type_problem() -> None:
    with pytest.raises(StructureError) as info:
        serialization.structure(3, Literal[1, 2])
    detail = info.value.errors[0]
    assert (detail.code, detail.expected) == ("type", "one of [1, 2]")


def test_deques_are_sequences() -> None:
    value = serialization.structure([1, 2], collections.deque[int])
    assert type(value) is collections.deque and list(value) == [1, 2]
    with pytest.raises(StructureError) as info:
        serialization.structure([1, "x"], collections.deque[int])
    assert [(d.path, d.code) for d in info.value.errors] == [("/1", "type")]


def test_snake_policy_writes_snake_case_keys() -> None:
    record = attrs.make_class("Record", {"fooBar": attrs.field()})
    converter = Converter(rename="snake")
    assert converter.unstructure(record(1)) == {"foo_bar": 1}
    assert converter.structure({"foo_bar": 2}, record).fooBar == 2


@attrs.define
class Cat:
    name: str


@attrs.define
class Dog:
    name: str
    bark: bool = True


def test_tagged_union_with_own_tag_values_and_a_default() -> None:
    converter = Converter()
    converter.register_tagged_union(
        Union[Cat, Dog], tag="kind", tag_value=lambda cl: cl.__name__.lower(), default=Cat
    )
    data = converter.unstructure(Dog("rex"), Union[Cat, Dog])
    assert data == {"name": "rex", "bark": True, "kind": "dog"}
    assert converter.structure(data, Union[Cat, Dog]) == Dog("rex")
    # no tag: the default class
    assert converter.structure({"name": "tom"}, Union[Cat, Dog]) == Cat("tom")


def test_a_key_no_json_object_can_hold_is_refused() -> None:
    with pytest.raises(UnsupportedTypeError) as info:
        serialization.unstructure({(1, 2): 3})
    assert info.value.code == "pepperpy.serialization.unsupported_type"
    assert info.value.context["type"] == "tuple"


@attrs.define
class Folder:
    children: dict[str, Folder]


def test_a_recursive_mapping_nested_without_bound_is_a_depth_error() -> None:
    """Thousands of levels through dict[str, Folder]: a StructureError, never RecursionError."""
    data: dict[str, object] = {"children": {}}
    for _ in range(3_000):
        data = {"children": {"a": data}}
    with pytest.raises(StructureError) as info:
        serialization.structure(data, Folder)
    assert [d.code for d in info.value.errors] == ["depth"]
    assert info.value.context["max_depth"] == serialization.MAX_DEPTH
    shallow: dict[str, object] = {"children": {}}
    for _ in range(20):
        shallow = {"children": {"a": shallow}}
    assert type(serialization.structure(shallow, Folder)) is Folder
