"""Tests for pepperpy.validation._sanitize."""

from __future__ import annotations

import pytest

from pepperpy.validation import (
    SANITIZERS,
    Field,
    SchemaError,
    Validation,
    casefold,
    collapse_whitespace,
    escape_html,
    lower,
    nfc,
    nfkc,
    remove_control,
    strip,
    upper,
)


def test_each_sanitizer() -> None:
    """The built-in sanitizers do what their names say."""
    assert strip("  a b  ") == "a b"
    assert collapse_whitespace("  a \t\n b  ") == "a b"
    assert nfc("e\u0301") == "\u00e9"
    assert nfkc("\ufb01") == "fi"
    assert casefold("Straße") == "strasse"
    assert lower("ABC") == "abc"
    assert upper("abc") == "ABC"
    assert escape_html("<a href='x'>&</a>") == "&lt;a href=&#x27;x&#x27;&gt;&amp;&lt;/a&gt;"
    assert remove_control("a\x00b\u200bc\td\ne\x7f") == "abc\td\ne"
    assert set(SANITIZERS) >= {"strip", "nfc", "escape_html", "remove_control"}


def test_sanitizers_run_in_order_before_rules() -> None:
    """Sanitizers are opt-in per field and run before type checks and rules."""
    schema = Validation.create_schema(
        {
            "name": Field(str, sanitize=["remove_control", "collapse_whitespace", "nfc"]),
            "raw": str,
            "email": Field("email", sanitize=[strip, "lower"]),
        }
    )
    cleaned = schema.validate(
        {"name": "  Jose\u0301 \x00 da  Silva ", "raw": "  x ", "email": " A@B.CO "}
    )
    assert cleaned == {"name": "Jos\u00e9 da Silva", "raw": "  x ", "email": "a@b.co"}


def test_sanitizers_ignore_non_strings() -> None:
    """A sanitizer never crashes on a non-string; the type check reports it."""
    schema = Validation.create_schema({"n": Field(int, sanitize=["strip"])})
    assert schema.validate({"n": 3}) == {"n": 3}
    assert [e.code for e in schema.errors({"n": [1]})] == ["type"]


def test_unknown_sanitizer() -> None:
    """An unknown sanitizer name is a schema error listing the known ones."""
    with pytest.raises(SchemaError, match="unknown sanitizer"):
        Field(str, sanitize=["shout"])
    with pytest.raises(SchemaError):
        Field(str, sanitize=[3])  # type: ignore[list-item]
