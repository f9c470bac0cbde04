"""Tests for pepperpy.event._topics: names, patterns and wildcard matching."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pepperpy.core import InvalidArgumentError
from pepperpy.event import matches, topic, topic_of

segment = st.text(alphabet="abcxyz_0", min_size=1, max_size=4)
names = st.lists(segment, min_size=1, max_size=5).map(".".join)


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("orders.created", "orders.created", True),
        ("orders.created", "orders.paid", False),
        ("orders.*", "orders.created", True),
        ("orders.*", "orders", False),
        ("orders.*", "orders.eu.created", False),
        ("orders.#", "orders", True),
        ("orders.#", "orders.created", True),
        ("orders.#", "orders.eu.created", True),
        ("orders.#", "ordersx.created", False),
        ("#", "anything.at.all", True),
        ("*.created", "orders.created", True),
        ("*.created", "orders.eu.created", False),
        ("#.created", "orders.eu.created", True),
        ("orders.#.created", "orders.created", True),
        ("orders.#.created", "orders.a.b.created", True),
        ("orders.#.created", "orders.a.b.paid", False),
        ("*.*", "a.b", True),
        ("*.*", "a", False),
    ],
)
def test_matching(pattern, name, expected):
    assert matches(pattern, name) is expected


@settings(deadline=None)
@given(names)
def test_every_name_matches_itself_and_hash(name):
    assert matches(name, name)
    assert matches("#", name)
    assert matches(name + ".#", name)


@settings(deadline=None)
@given(names, names)
def test_star_matches_exactly_one_segment(prefix, leaf):
    assert matches(prefix + ".*", prefix + "." + leaf.split(".")[0])
    assert not matches(prefix + ".*", prefix)


@pytest.mark.parametrize("bad", ["", "orders..created", ".orders", "orders.cre*ted", "a.#b", 5])
def test_bad_patterns_are_rejected(bad):
    with pytest.raises(InvalidArgumentError) as info:
        matches(bad, "x")
    assert info.value.hint


def test_topic_decorator_and_default_topic():
    @topic("orders.created")
    @attrs.frozen
    class OrderCreated:
        order_id: int

    @attrs.frozen
    class Plain:
        pass

    assert topic_of(OrderCreated) == "orders.created"
    assert topic_of(Plain) == "Plain"


def test_topic_decorator_rejects_wildcards():
    with pytest.raises(InvalidArgumentError):
        topic("orders.*")
