"""Async rules are recognised however they are spelled (issue 24 coverage).

A rule that is a ``functools.partial`` of a coroutine function, or an object
with an ``async def __call__``, is async: ``validate()`` refuses the schema
with a clear error (it cannot await), and ``avalidate()`` runs the rule.
Recognising it wrongly would call it synchronously and take the un-awaited
coroutine for a pass.
"""

from __future__ import annotations

import functools

import pytest

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.validation import Field, Validation, ValidationError

TAKEN = {"root"}


async def not_in(names: set[str], value: str) -> bool:
    return value not in names


class Available:
    """A callable object whose ``__call__`` is a coroutine function."""

    async def __call__(self, value: str) -> bool:
        return value not in TAKEN


@pytest.mark.parametrize(
    "rule", [functools.partial(not_in, TAKEN), Available()], ids=["partial", "async-call"]
)
async def test_async_rules_spelled_as_partials_or_objects_run_in_avalidate(rule: object) -> None:
    schema = Validation.create_schema({"name": Field(str, rule)})
    with pytest.raises(InvalidArgumentError, match="avalidate"):
        schema.validate({"name": "ada"})
    assert await schema.avalidate({"name": "ada"}) == {"name": "ada"}
    with pytest.raises(ValidationError) as info:
        await schema.avalidate({"name": "root"})
    assert [e.path for e in info.value.errors] == ["/name"]


def test_a_plain_callable_object_is_a_sync_rule() -> None:
    class Short:
        def __call__(self, value: str) -> bool:
            return len(value) < 4

    schema = Validation.create_schema({"name": Field(str, Short())})
    assert schema.validate({"name": "ada"}) == {"name": "ada"}
    assert not schema.is_valid({"name": "grace"})
