"""Hostile review of pepperpy-validation after the issue 19 fixes: the variations next to each.

Results of enum-like values are checked with ``type(x) is ...``: ``"a" == Mixed.A``
passes for the enum member, so ``==`` cannot tell a converted value from a raw one.
"""

from __future__ import annotations

import enum

import pytest

from pepperpy.validation import Validation, hostname, ip, url


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
