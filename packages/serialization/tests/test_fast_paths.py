"""The fast structuring path and the error collection behind it (issue 26).

Records are structured by a cattrs hook without detailed validation; only when it
fails are the fields checked one by one to report every problem. These tests pin
that the second pass reports exactly what cattrs' detailed validation reported
before (every error, JSON-Pointer paths, unknown keys, ``__init__`` failures),
that it builds valid nested records correctly, and that its work stays linear in
the depth of the data.
"""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from typing import Any, Generic, TypeVar

import attrs
import pytest

from pepperpy import serialization
from pepperpy.serialization import Converter, StructureError
from pepperpy.serialization._converter import _STATE
from pepperpy.serialization._limits import MAX_DEPTH, may_be_deep

T = TypeVar("T")


@attrs.define
class Record:
    id: int
    name: str
    price: float
    active: bool
    tags: list[str]
    counts: list[int]
    labels: dict[str, str]
    created: datetime.datetime
    ref: uuid.UUID
    note: str | None = None


GOOD: dict[str, Any] = {
    "id": 42,
    "name": "espresso machine",
    "price": 349.99,
    "active": True,
    "tags": ["kitchen", "coffee"],
    "counts": [1, 2, 3],
    "labels": {"color": "red"},
    "created": "2026-11-26T12:30:00+00:00",
    "ref": "00000000-0000-0000-0000-000000003039",
}


def _details(exc: StructureError) -> list[tuple[str, str]]:
    return [(d.path, d.code) for d in exc.errors]


def test_benchmark_payload_reports_all_four_errors() -> None:
    """issue 26: the fast hook stops at the first bad field; every error is still listed."""
    bad = {**GOOD, "id": "x", "price": "free", "created": "not a date", "ref": "nope"}
    with pytest.raises(StructureError) as info:
        serialization.loads(serialization.dumps(bad), Record)
    assert _details(info.value) == [
        ("/id", "type"),
        ("/price", "type"),
        ("/created", "type"),
        ("/ref", "type"),
    ]
    assert [d.value for d in info.value.errors] == ["'x'", "'free'", "'not a date'", "'nope'"]


@attrs.define
class Leaf:
    n: int = attrs.field(validator=attrs.validators.ge(0))
    _secret: str = "s"


@attrs.define
class Parent:
    leaf: Leaf
    k: int


def test_valid_child_with_private_field_is_built_while_collecting() -> None:
    """issue 26: a valid nested record is built from its init names (``_secret`` -> ``secret``).

    With the wrong keyword the child's ``__init__`` would fail and a second error
    would appear at ``/leaf``.
    """
    with pytest.raises(StructureError) as info:
        serialization.structure({"leaf": {"n": 1, "secret": "x"}, "k": "z"}, Parent)
    assert _details(info.value) == [("/k", "type")]


def test_init_failure_of_a_nested_record_is_reported_at_its_path() -> None:
    """issue 26: an attrs validator failing is an ``invalid`` error at the record's path."""
    with pytest.raises(StructureError) as info:
        serialization.structure({"leaf": {"n": -5}, "k": "z"}, Parent)
    assert _details(info.value) == [("/leaf", "invalid"), ("/k", "type")]
    assert "must be >= 0" in info.value.errors[0].message


def test_missing_required_and_absent_default() -> None:
    """issue 26: a missing required key is ``missing``; an absent defaulted one is fine."""
    with pytest.raises(StructureError) as info:
        serialization.structure({"leaf": {}, "k": 1}, Parent)
    assert _details(info.value) == [("/leaf/n", "missing")]


def test_unknown_keys_alone_and_with_field_errors() -> None:
    """issue 26: forbid_extra lists unknown keys after the field errors, sorted."""
    strict = Converter(forbid_extra=True)
    with pytest.raises(StructureError) as info:
        strict.structure({"n": 1, "zz": 1, "yy": 2}, Leaf)
    assert _details(info.value) == [("/yy", "extra_forbidden"), ("/zz", "extra_forbidden")]
    with pytest.raises(StructureError) as info:
        strict.structure({"n": "q", "zz": 1}, Leaf)
    assert _details(info.value) == [("/n", "type"), ("/zz", "extra_forbidden")]


@dataclasses.dataclass
class WithFactory:
    a: int
    b: list[int] = dataclasses.field(default_factory=list)


@attrs.define
class Holder:
    inner: WithFactory
    bad: int


def test_dataclass_default_factory_absent_while_collecting() -> None:
    """issue 26: a dataclass field with a default_factory may be absent."""
    with pytest.raises(StructureError) as info:
        serialization.structure({"inner": {"a": 1}, "bad": "x"}, Holder)
    assert _details(info.value) == [("/bad", "type")]


@attrs.define
class Generic1(Generic[T]):
    x: T
    y: int


@attrs.define
class InitFalse:
    a: int
    b: int = attrs.field(init=False, default=0)


def test_classes_left_to_cattrs_detailed_hook_report_every_error() -> None:
    """issue 26: generic classes and ``init=False`` fields use cattrs' detailed hook."""
    with pytest.raises(StructureError) as info:
        serialization.structure({"x": "a", "y": "b"}, Generic1[int])
    assert _details(info.value) == [("/x", "type"), ("/y", "type")]
    with pytest.raises(StructureError) as info:
        serialization.structure({"a": "x"}, InitFalse)
    assert _details(info.value) == [("/a", "type")]


class Counted:
    """A leaf type whose hook counts its calls."""

    calls = 0


@attrs.define
class Chain:
    leaf: Counted
    next: Chain | None = None
    bad: int = 0


def test_error_collection_work_is_linear_in_depth() -> None:
    """issue 26: a failure costs one fast pass plus one collecting pass, not 2**depth.

    Each nested record met while collecting skips its own fast attempt; otherwise
    every level would redo its subtree once per level above it.
    """
    conv = Converter()

    def structure_counted(value: Any, _: Any) -> Counted:
        Counted.calls += 1
        return Counted()

    conv.register_hook(Counted, structure=structure_counted, unstructure=lambda _: 0)
    depth = 40
    data: dict[str, Any] = {"leaf": 0}
    for _ in range(depth - 1):
        data = {"leaf": 0, "next": data}
    data["bad"] = "x"  # the top record is invalid, after its whole chain
    Counted.calls = 0
    with pytest.raises(StructureError) as info:
        conv.structure(data, Chain)
    assert _details(info.value) == [("/bad", "type")]
    assert depth <= Counted.calls <= 2 * depth  # at most one fast and one collecting pass
    assert _STATE.collecting == 0


def test_collecting_state_is_reset_when_a_hook_raises_a_non_data_error() -> None:
    """issue 26: an UnsupportedTypeError from inside the collecting pass leaves no state."""

    class Unknown:
        pass

    @attrs.define
    class Bad:
        a: int
        u: Unknown

    with pytest.raises(serialization.UnsupportedTypeError):
        serialization.structure({"a": "x", "u": 1}, Bad)
    assert _STATE.collecting == 0


@pytest.mark.parametrize(
    "data",
    [
        b"[" * MAX_DEPTH,
        "[" * MAX_DEPTH,
        bytearray(b"{" * MAX_DEPTH),
        memoryview(b"[" * MAX_DEPTH),
        memoryview(b"[" * MAX_DEPTH).cast("B", (MAX_DEPTH // 2, 2)),
    ],
)
def test_may_be_deep_counts_bytes_of_every_input_kind(data: Any) -> None:
    """issue 26: the cheap pre-check never skips the depth walk for deep input.

    A memoryview of wider items is measured in bytes, not items.
    """
    assert may_be_deep(data, ("[", "{"))
    assert not may_be_deep(b"[" * (MAX_DEPTH - 1), ("[", "{"))
