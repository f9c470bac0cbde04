"""Tests for pepperpy.validation._errors: ValidationError and Violation."""

from __future__ import annotations

import pickle

import pytest

from pepperpy.core.exceptions import ErrorDetail
from pepperpy.core.exceptions import ValidationError as CoreValidationError
from pepperpy.validation import (
    MESSAGES_PT,
    Field,
    Validation,
    ValidationError,
    Violation,
    length,
)


def test_violation_renders_to_error_detail() -> None:
    """A violation renders its template with its parameters and quotes its value."""
    violation = Violation("/name", "too_short", {"min": 3}, "ab")
    assert violation.render() == ErrorDetail(
        "/name", "must have at least 3 characters", code="too_short", value="'ab'"
    )
    assert violation.render(MESSAGES_PT).message == "deve ter pelo menos 3 caracteres"
    missing = Violation("/x", "missing")
    assert missing.render().value is None
    custom = Violation("/y", "even", None, 3, "{value} is odd")
    assert custom.render().message == "3 is odd"
    assert "too_short" in repr(violation)


def test_error_is_lazy_and_groups_by_path() -> None:
    """Messages render on first access; by_path groups them; details can be set."""
    error = ValidationError(
        violations=[Violation("/a", "missing"), Violation("/a", "null"), Violation("/b", "null")]
    )
    assert isinstance(error, CoreValidationError)
    assert str(error).startswith("3 validation errors")
    assert error.by_path() == {
        "/a": ["is required", "must not be null"],
        "/b": ["must not be null"],
    }
    assert error.paths == ["/a", "/a", "/b"]
    error.errors = [ErrorDetail("/z", "replaced")]
    assert error.paths == ["/z"]
    explicit = ValidationError("boom", errors=[ErrorDetail("", "x")])
    assert explicit.violations == []
    assert [d.message for d in explicit.errors] == ["x"]


def test_errors_pickle_with_any_value() -> None:
    """Pickling renders messages and keeps only quoted values."""
    schema = Validation.create_schema({"obj": Field(str, length(min=2))})

    class Unpicklable:
        def __reduce__(self) -> str:
            raise TypeError("no")

    with pytest.raises(ValidationError) as info:
        schema.validate({"obj": Unpicklable()})
    clone = pickle.loads(pickle.dumps(info.value))
    assert clone.errors == info.value.errors
    assert clone.render(MESSAGES_PT)[0].message.startswith("deve ser do tipo")
    assert info.value.to_dict()["errors"][0]["path"] == "/obj"
