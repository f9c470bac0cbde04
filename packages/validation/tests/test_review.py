"""Hostile review of pepperpy-validation after the issue 19 fixes: the variations next to each.

Results of enum-like values are checked with ``type(x) is ...``: ``"a" == Mixed.A``
passes for the enum member, so ``==`` cannot tell a converted value from a raw one.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

import pytest

from pepperpy.validation import Validation, hostname, ip, multiple_of, range_, url


class Mixed(str, enum.Enum):
    A = "a"


class Level(enum.IntEnum):
    LOW = 1


@pytest.mark.parametrize(
    "bad",
    [
        "\x00http://example.com/",  # urlsplit strips leading C0 controls before parsing
        "\x08https://example.com/",
        "http://example.com/\x00",
        "http://example.com/a\x7fb",
        "http://example.com/?q=\x01",
    ],
)
def test_url_refuses_control_characters(bad: str) -> None:
    """issue 19 #4's class (what is validated is what is stored): urlsplit drops leading
    C0 controls and spaces (WHATWG), so "\\x00http://example.com/" passed as a URL; NUL
    and DEL inside passed too. Every control character is refused, as whitespace is."""
    schema = Validation.create_schema({"v": (str, url())})
    assert schema.is_valid({"v": "http://example.com/"})
    assert not schema.is_valid({"v": bad})
    assert not Validation.create_schema({"v": "url"}).is_valid({"v": bad})


@pytest.mark.parametrize(
    "bad", ["fe80::1%\n", "fe80::1%eth0\n", "::1%<script>", "fe80::1% ", "fe80::1%a/b"]
)
@pytest.mark.parametrize("spec", ["ip", "ipv6", "hostname"])
def test_ip_scope_ids_refuse_newlines_and_markup(bad: str, spec: str) -> None:
    """issue 19 #4's class: ipaddress takes any text after "%" as the scope id, so a
    trailing newline (or markup) passed ip(), ip(6) and hostname(). A scope is an
    interface name or number (RFC 6874 allows unreserved characters only)."""
    rule = {"ip": ip(), "ipv6": ip(6), "hostname": hostname()}[spec]
    schema = Validation.create_schema({"v": (str, rule)})
    assert schema.is_valid({"v": "fe80::1%eth0"})
    assert not schema.is_valid({"v": bad})


@pytest.mark.parametrize("bad", ["1.2.3.4]", "[1.2.3.4", "[[::1]]", "::1]", "[::1"])
def test_hostname_refuses_unbalanced_brackets(bad: str) -> None:
    """hostname() stripped every "[" and "]" before reading an IP, so "1.2.3.4]" passed."""
    schema = Validation.create_schema({"v": (str, hostname())})
    assert schema.is_valid({"v": "[::1]"})
    assert not schema.is_valid({"v": bad})


def test_str_field_given_a_str_enum_member_gets_its_value() -> None:
    """issue 19 #1's class, the other direction: a ``str`` field given a (str, Enum)
    member kept the member (a ``str`` field must hold a ``str``), and a ``dict[str, int]``
    key became ``"Mixed.A"`` (``str()`` of the member) instead of ``"a"``."""
    schema = Validation.create_schema({"v": str, "m": dict[str, int]})
    result = schema.validate({"v": Mixed.A, "m": {Mixed.A: 1}})
    assert type(result["v"]) is str
    assert result["v"] == "a"
    [key] = result["m"]
    assert type(key) is str
    assert key == "a"


def test_int_field_given_an_int_enum_member_gets_a_plain_int() -> None:
    """issue 19 #1's class: an ``int`` field holds a plain ``int`` (json.dumps of an
    IntEnum member is fine, but ``type(x) is int`` checks and ``repr`` are not)."""
    result = Validation.create_schema({"v": int}).validate({"v": Level.LOW})
    assert type(result["v"]) is int


@pytest.mark.parametrize(
    ("step", "value", "ok"),
    [
        (0.1, 10**400, True),  # an int too large for a float (json.loads("1" + "0" * 400))
        (0.5, 10**400 + 1, True),
        (0.3, 10**400 + 1, False),
        (Decimal("0.1"), Decimal("1e999999999"), True),  # 10**999999999 as a Fraction: a hang
        (Decimal("3"), Decimal("1e999999999"), False),
        (Decimal("1e999999999"), Decimal("1e999999999"), True),
        (Decimal("0.1"), Decimal("1e-999999999"), False),
        (2, Decimal("1e-999999999"), False),
        (0.1, Decimal("0.3"), True),
        (Decimal("0.07"), 0.21, True),
        (7, 21.0, True),
        (3, Decimal("1E+2"), False),
    ],
)
def test_multiple_of_is_exact_and_bounded_for_huge_numbers(step: Any, value: Any, ok: bool) -> None:
    """issue 19 #2/#7's class: ``multiple_of(0.1)`` on an int over 1.8e308 raised a raw
    OverflowError (math.isfinite), and on ``Decimal("1e999999999")`` built
    10**999999999 as a Fraction (minutes of CPU and GBs: a denial of service through a
    Decimal field). Divisibility is decided on coefficients and exponents."""
    schema = Validation.create_schema({"v": (Any, multiple_of(step))})
    assert schema.is_valid({"v": value}) is ok


@pytest.mark.parametrize("nan", [float("nan"), Decimal("NaN"), Decimal("sNaN"), Decimal("-NaN")])
@pytest.mark.parametrize(
    "rule", [range_(min=0), range_(max=1), range_(gt=0), range_(lt=1), range_(min=0, max=1)]
)
def test_range_refuses_nan(nan: Any, rule: Any) -> None:
    """A range failed open on NaN: ``Decimal("NaN") < 0`` raises, which the rule took
    for "not comparable" and passed; a float NaN compares false both ways, so
    ``range_(min=0)`` let it through. NaN is within no bounds."""
    schema = Validation.create_schema({"v": (Any, rule)})
    assert schema.is_valid({"v": 0.5})
    assert not schema.is_valid({"v": nan})
