"""Sanitizers: opt-in, per-field transformations of text applied before the rules."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any, Union

from pepperpy.validation._errors import SchemaError

__all__ = [
    "SANITIZERS",
    "Sanitizer",
    "SanitizerLike",
    "as_sanitizer",
    "casefold",
    "collapse_whitespace",
    "escape_html",
    "lower",
    "nfc",
    "nfkc",
    "remove_control",
    "strip",
    "upper",
]

Sanitizer = Callable[[str], str]
"""A function from text to cleaned text."""

SanitizerLike = Union[str, Sanitizer]
"""A sanitizer, or the name of a built-in one (``"strip"``, ``"nfc"`` ...)."""

_HTML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"})
_SPACES = re.compile(r"\s+")
# Cc (controls) except tab, newline and carriage return; plus Cf format chars
# commonly abused (zero-width, bidi overrides) and the BOM.
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]"
)


def strip(text: str) -> str:
    """Remove leading and trailing whitespace."""
    return text.strip()


def collapse_whitespace(text: str) -> str:
    """Strip, and turn every run of whitespace into one space."""
    return _SPACES.sub(" ", text).strip()


def nfc(text: str) -> str:
    """Unicode NFC normalization (composed characters)."""
    return unicodedata.normalize("NFC", text)


def nfkc(text: str) -> str:
    """Unicode NFKC normalization (compatibility forms folded: ``ﬁ`` -> ``fi``)."""
    return unicodedata.normalize("NFKC", text)


def casefold(text: str) -> str:
    """Aggressive lowercase for caseless comparison (``ß`` -> ``ss``)."""
    return text.casefold()


def lower(text: str) -> str:
    """Lowercase."""
    return text.lower()


def upper(text: str) -> str:
    """Uppercase."""
    return text.upper()


def escape_html(text: str) -> str:
    """Escape ``& < > " '`` so the text is safe inside HTML."""
    return text.translate(_HTML)


def remove_control(text: str) -> str:
    """Remove control and invisible formatting characters (keeps tab and newlines)."""
    return _CONTROL.sub("", text)


SANITIZERS: dict[str, Sanitizer] = {
    "strip": strip,
    "collapse_whitespace": collapse_whitespace,
    "nfc": nfc,
    "nfkc": nfkc,
    "casefold": casefold,
    "lower": lower,
    "upper": upper,
    "escape_html": escape_html,
    "remove_control": remove_control,
}
"""Built-in sanitizers by name."""


def as_sanitizer(value: SanitizerLike) -> Sanitizer:
    """Resolve a sanitizer name, or check that *value* is callable."""
    if isinstance(value, str):
        try:
            return SANITIZERS[value]
        except KeyError:
            raise SchemaError(
                f"unknown sanitizer {value!r}",
                context={"sanitizer": value},
                hint=f"Use one of {', '.join(sorted(SANITIZERS))}, or a function str -> str.",
            ) from None
    if callable(value):
        return value
    raise SchemaError(
        f"a sanitizer must be a name or a function, got {type(value).__name__}",
        context={"sanitizer": repr(value)},
    )


def compose(sanitizers: list[Sanitizer]) -> Callable[[Any], Any] | None:
    """One function applying *sanitizers* in order to strings (other values pass)."""
    if not sanitizers:
        return None
    chain = tuple(sanitizers)

    def apply(value: Any) -> Any:
        if isinstance(value, str):
            if type(value) is not str:  # a subclass: its characters, not its overrides
                value = str.__str__(value)
            for fn in chain:
                value = fn(value)
        return value

    return apply
