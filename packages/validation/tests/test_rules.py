"""Tests for pepperpy.validation._rules: the built-in and custom rules."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest

from pepperpy.validation import (
    Rule,
    SchemaError,
    Validation,
    ValidationError,
    check,
    email,
    hostname,
    ip,
    iso_date,
    iso_datetime,
    iso_time,
    length,
    multiple_of,
    not_empty,
    one_of,
    range_,
    regex,
    rule,
    slug,
    url,
    uuid_,
)


def _codes(spec_value: Any, value: Any) -> list[str]:
    schema = Validation.create_schema({"v": spec_value})
    return [d.code for d in schema.errors({"v": value})]


@pytest.mark.parametrize(
    ("made", "good", "bad"),
    [
        (
            email(),
            ["a@b.co", "first.last+tag@sub.example.org"],
            ["a@b", "@b.co", "a b@c.de", "a@-b.com"],
        ),
        (
            url(),
            ["https://example.com/x?y=1", "http://127.0.0.1:8080"],
            ["ftp://x.org", "http://", "https://exa mple.com", "http://x:99999"],
        ),
        (url(schemes=["ftp"]), ["ftp://files.example.org"], ["https://example.org"]),
        (url(require_tld=True), ["https://example.org"], ["https://localhost"]),
        (hostname(), ["example.com", "localhost", "10.0.0.1"], ["-bad.com", "exa mple"]),
        (
            uuid_(),
            ["12345678-1234-5678-1234-567812345678"],
            ["1234", "zzzzzzzz-1234-5678-1234-567812345678"],
        ),
        (ip(), ["10.0.0.1", "::1"], ["10.0.0.256", "x"]),
        (ip(4), ["10.0.0.1"], ["::1"]),
        (ip(6), ["::1"], ["10.0.0.1"]),
        (slug(), ["my-post-1", "a"], ["My-Post", "a--b", "-a", "a_b"]),
        (
            iso_datetime(),
            ["2026-11-26T12:00:00", "2026-11-26T12:00:00Z"],
            ["2026-13-01T00:00:00", "yesterday"],
        ),
        (iso_date(), ["2026-11-26"], ["26/11/2026"]),
        (iso_time(), ["12:30:00"], ["25:00"]),
        (regex(r"[A-Z]{3}"), ["ABC"], ["ABCD", "abc"]),
        (regex(r"\d", full=False), ["a1b"], ["abc"]),
    ],
)
def test_string_rules(made: Rule, good: list[str], bad: list[str]) -> None:
    """Each string rule accepts the good examples and rejects the bad ones."""
    for value in good:
        assert _codes((str, made), value) == [], value
    for value in bad:
        assert _codes((str, made), value) == [made.code], value


def test_length_on_strings_and_lists() -> None:
    """length() uses characters for text and items for collections."""
    schema = Validation.create_schema(
        {"s": (str, length(min=2, max=3)), "l": ([int], length(max=1))}
    )
    errors = schema.errors({"s": "abcd", "l": [1, 2]})
    assert [(e.path, e.code, e.message) for e in errors] == [
        ("/s", "too_long", "must have at most 3 characters"),
        ("/l", "too_many", "must have at most 1 items"),
    ]
    assert [e.code for e in schema.errors({"s": "a", "l": []})] == ["too_short"]
    with pytest.raises(SchemaError):
        length()
    with pytest.raises(SchemaError):
        length(min=3, max=1)


def test_range_bounds() -> None:
    """range_ checks inclusive and exclusive bounds on anything ordered."""
    assert _codes((int, range_(min=1, max=3)), 0) == ["too_small"]
    assert _codes((int, range_(min=1, max=3)), 4) == ["too_large"]
    assert _codes((float, range_(gt=0)), 0.0) == ["not_gt"]
    assert _codes((float, range_(lt=1)), 1.0) == ["not_lt"]
    assert _codes((int, range_(min=1, max=3)), 2) == []
    when = Validation.create_schema({"d": (datetime.date, range_(min=datetime.date(2026, 1, 1)))})
    assert [e.code for e in when.errors({"d": "2025-12-31"})] == ["too_small"]
    assert when.validate({"d": "2026-02-01"}) == {"d": datetime.date(2026, 2, 1)}
    with pytest.raises(SchemaError):
        range_()


def test_multiple_one_of_not_empty() -> None:
    """multiple_of, one_of and not_empty."""
    assert _codes((int, multiple_of(5)), 10) == []
    assert _codes((int, multiple_of(5)), 11) == ["multiple_of"]
    assert _codes((float, multiple_of(0.1)), 0.3) == []
    assert _codes((str, one_of(["a", "b"])), "c") == ["one_of"]
    assert _codes((Any, one_of(["a"])), ["unhashable"]) == ["one_of"]
    assert _codes((str, not_empty()), "   ") == ["not_empty"]
    assert _codes(([int], not_empty()), []) == ["not_empty"]
    with pytest.raises(SchemaError):
        multiple_of(0)
    with pytest.raises(SchemaError):
        regex("(")
    with pytest.raises(SchemaError):
        ip(5)


def test_one_of_message_lists_choices() -> None:
    """Template parameters are filled in the message."""
    schema = Validation.create_schema({"role": (str, one_of(["admin", "user"]))})
    assert schema.errors({"role": "x"})[0].message == "must be one of 'admin', 'user'"


class TestCustomRules:
    def test_plain_callable(self) -> None:
        """A plain function is a rule: False fails, None/True pass, its name is the code."""

        def positive(value: int) -> bool:
            return value > 0

        schema = Validation.create_schema({"n": (int, positive, lambda v: None)})
        assert schema.validate({"n": 1}) == {"n": 1}
        assert [(e.code, e.message) for e in schema.errors({"n": -1})] == [
            ("positive", "is invalid")
        ]

    def test_message_from_string_or_exception(self) -> None:
        """A returned string or a raised ValueError becomes the message."""

        def even(value: int) -> str | None:
            return None if value % 2 == 0 else "must be even"

        def no_thirteen(value: int) -> None:
            if value == 13:
                raise ValueError("13 is unlucky {value}")

        schema = Validation.create_schema({"a": (int, even), "b": (int, no_thirteen)})
        errors = schema.errors({"a": 3, "b": 13})
        assert [e.message for e in errors] == ["must be even", "13 is unlucky {value}"]

    def test_rule_decorator_and_check(self) -> None:
        """rule() and check() name a rule and give it a template."""

        @rule("even", message="{value} is odd")
        def even(value: int) -> bool:
            return value % 2 == 0

        schema = Validation.create_schema(
            {"a": (int, even), "b": (int, check(lambda v: v < 10, code="small"))}
        )
        errors = schema.errors({"a": 3, "b": 11})
        assert [(e.code, e.message) for e in errors] == [
            ("even", "3 is odd"),
            ("small", "is invalid"),
        ]
        assert "even" in repr(even)

    def test_with_message(self) -> None:
        """with_message replaces a built-in rule's template."""
        schema = Validation.create_schema({"e": (str, email().with_message("bad mail: {value}"))})
        assert schema.errors({"e": "x"})[0].message == "bad mail: 'x'"

    def test_not_a_rule(self) -> None:
        """Something neither a rule nor callable is refused at schema build time."""
        with pytest.raises(SchemaError):
            Validation.create_schema({"a": (int, 3)})

    def test_rules_do_not_run_on_wrong_types(self) -> None:
        """String rules skip values of other types (the type error is reported instead)."""
        schema = Validation.create_schema({"d": (Decimal, length(max=2))})
        assert schema.validate({"d": "1.5"}) == {"d": Decimal("1.5")}

    @pytest.mark.parametrize("fmt", ["email", "url", "slug", "uuid", "ip", "hostname", "date"])
    def test_string_formats_report_type_for_non_strings(self, fmt: str) -> None:
        """A non-string for a string format is a type error, not a crash."""
        schema = Validation.create_schema({"v": fmt})
        assert [e.code for e in schema.errors({"v": 5})] == ["type"]
        with pytest.raises(ValidationError):
            schema.validate({"v": 5})
