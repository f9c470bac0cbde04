"""Tests for pepperpy.validation._messages and the error rendering."""

from __future__ import annotations

import pytest

from pepperpy.validation import (
    DEFAULT_MESSAGES,
    MESSAGES_PT,
    Messages,
    Validation,
    ValidationError,
    length,
    one_of,
)

SCHEMA = Validation.create_schema(
    {"name": (str, length(min=3)), "role": (str, one_of(["a", "b"])), "age": int}
)
BAD = {"name": "x", "role": "c"}


def test_default_messages() -> None:
    """Every default code has an English template and a Portuguese one."""
    assert set(DEFAULT_MESSAGES) <= set(MESSAGES_PT)
    with pytest.raises(ValidationError) as info:
        SCHEMA.validate(BAD)
    assert [d.message for d in info.value.errors] == [
        "must have at least 3 characters",
        "must be one of 'a', 'b'",
        "is required",
    ]


def test_render_with_another_catalog() -> None:
    """Errors re-render in another language after the fact."""
    with pytest.raises(ValidationError) as info:
        SCHEMA.validate(BAD)
    assert [d.message for d in info.value.render(MESSAGES_PT)] == [
        "deve ter pelo menos 3 caracteres",
        "deve ser um de 'a', 'b'",
        "é obrigatório",
    ]
    assert info.value.render({"missing": "fehlt"})[2].message == "fehlt"


def test_schema_level_overrides() -> None:
    """A schema can carry its own templates; unknown placeholders are left alone."""
    schema = Validation.create_schema(
        {"name": (str, length(min=3)), "x": int},
        messages={"too_short": "{min}+ chars please, not {value} {nothing}", "missing": "needed"},
    )
    errors = schema.errors({"name": "x"})
    assert [e.message for e in errors] == ["3+ chars please, not 'x' {nothing}", "needed"]


def test_messages_catalog() -> None:
    """Messages layers overrides over a base; bad templates never raise."""
    catalog = Messages({"missing": "gone"}, base=MESSAGES_PT)
    assert catalog.render("missing") == "gone"
    assert catalog.render("null") == "não pode ser nulo"
    assert catalog.with_overrides({"null": "nil"}).render("null") == "nil"
    assert catalog.render("no-such-code") == "é inválido"
    broken = Messages({"invalid": "{0} {a.b} {"})
    assert broken.render("invalid", {"a": 1}) == "{0} {a.b} {"
    assert "templates" in repr(catalog)
