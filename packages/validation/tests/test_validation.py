"""Tests for pepperpy.validation._validation: the seed's Validation facade."""

from __future__ import annotations

import attrs
import pytest

from pepperpy.core.exceptions import ValidationError as CoreValidationError
from pepperpy.validation import Schema, Validation, ValidationError, email


@attrs.define
class Login:
    user: str
    email: str = attrs.field(default="a@b.co")


async def test_seed_async_validate() -> None:
    """validator = Validation(schema); data = await validator.validate(payload)."""
    validator = Validation({"name": str, "email": "email"})
    assert await validator.validate({"name": "x", "email": "a@b.co"}) == {
        "name": "x",
        "email": "a@b.co",
    }
    with pytest.raises(ValidationError):
        await validator.validate({"name": 1})
    assert validator.validate_sync({"name": "y", "email": "a@b.co"})["name"] == "y"


async def test_class_and_explicit_schema() -> None:
    """A class, or a schema passed per call, works too."""
    validator = Validation(Login, coerce=True)
    assert await validator.validate({"user": 5}) == Login("5")
    other = Validation.create_schema({"n": int})
    assert await validator.validate({"n": 1}, other) == {"n": 1}
    assert isinstance(Validation.create_schema(Login), Schema)


async def test_schemaless_json_check() -> None:
    """Validation() with no schema accepts plain JSON and returns a copy."""
    validator = Validation(max_depth=3)
    data = {"a": [1, 2.5, None, True, "s"], "b": {"c": {}}}
    copy = await validator.validate(data)
    assert copy == data
    assert copy is not data
    with pytest.raises(ValidationError) as info:
        await validator.validate({"a": float("inf"), "b": {"c": {"d": {"e": 1}}}, "s": {1, 2}})
    assert [(e.path, e.code) for e in info.value.errors] == [
        ("/a", "not_json"),
        ("/b/c/d", "depth"),
        ("/s", "not_json"),
    ]
    with pytest.raises(ValidationError):
        validator.check_json({1: "non-string key"})


def test_pipeline_step_shape() -> None:
    """schema.validate is a plain sync callable of one argument (a pipeline step)."""
    step = Validation.create_schema({"email": (str, email())}).validate
    assert step({"email": "a@b.co"}) == {"email": "a@b.co"}


def test_errors_are_core_validation_errors() -> None:
    """One except clause catches validation errors from every package."""
    with pytest.raises(CoreValidationError):
        Validation.create_schema({"a": int}).validate({})
    assert "Validation(schema=" in repr(Validation())
