"""pepperpy.context.ERRORS: every code context raises, with its meaning (issue 24)."""

from __future__ import annotations

import pytest

from pepperpy.context import ERRORS, Key, Snapshot, scope, wrap_executor
from pepperpy.core.exceptions import (
    InvalidArgumentError,
    NotFoundError,
    PepperPyError,
    ValidationError,
)


def _documented(error: PepperPyError) -> None:
    """A program can look the error's code up and learn its class, meaning and action."""
    entry = ERRORS[error.code]
    assert isinstance(error, entry.error)
    assert entry.meaning and entry.action


def test_an_unbound_key_is_catalogued() -> None:
    """issue 24: Key.require() with nothing bound is pepperpy.context.unbound."""
    with pytest.raises(NotFoundError) as caught:
        Key("issue24_tenant").require()
    assert caught.value.code == "pepperpy.context.unbound"
    _documented(caught.value)


def test_bad_arguments_are_catalogued() -> None:
    """issue 24: a non-str key and a non-executor carry catalogued codes."""
    with pytest.raises(InvalidArgumentError) as key:
        scope({1: "x"})  # type: ignore[dict-item]
    assert key.value.code == "pepperpy.context.key"
    _documented(key.value)
    with pytest.raises(InvalidArgumentError) as executor:
        wrap_executor(object())  # type: ignore[arg-type]
    assert executor.value.code == "pepperpy.context.executor"
    _documented(executor.value)


def test_a_broken_snapshot_is_catalogued() -> None:
    """issue 24: a snapshot that is not a JSON object is pepperpy.context.deserialize."""
    for text in ("{not json", "[1, 2]"):
        with pytest.raises(ValidationError) as caught:
            Snapshot.from_json(text)
        assert caught.value.code == "pepperpy.context.deserialize"
        _documented(caught.value)
