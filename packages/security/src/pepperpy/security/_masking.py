"""Masking and redaction of secrets, built on pepperpy-core's one redactor.

:class:`Redactor` is a :class:`pepperpy.core.Redactor`: core's word list
(:data:`pepperpy.core.DEFAULT_SECRET_KEYS`) decides which keys are secret and
core's text rules mask ``key=value`` pairs, ``Bearer``/``Basic`` credentials
and URL passwords, so security, logging, telemetry and error contexts agree on
what a secret is.  This module adds only what is specific to security: its own
token formats (pp1 tokens, API keys), JWTs and card numbers in free text, the
``[REDACTED]`` placeholder, and :func:`mask` for partial masking.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pepperpy.core import DEFAULT_SECRET_KEYS
from pepperpy.core import Redactor as _CoreRedactor
from pepperpy.core.exceptions import InvalidArgumentError

__all__ = ["DEFAULT_SENSITIVE_KEYS", "Redactor", "mask", "redact"]

DEFAULT_SENSITIVE_KEYS: frozenset[str] = frozenset(DEFAULT_SECRET_KEYS)
"""Core's secret key words (:data:`pepperpy.core.DEFAULT_SECRET_KEYS`), as a frozenset."""

_PLACEHOLDER = "[REDACTED]"

_DEFAULT_PATTERNS: tuple[tuple[str, str], ...] = (
    # pepperpy tokens (pp1.<kid>.<payload>.<sig>) and API keys (<prefix>_<id>_<secret>).
    (r"\bpp1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", _PLACEHOLDER),
    (r"\b[a-z]{2,8}_[0-9a-z]{12,}_[A-Za-z0-9_-]{20,}", _PLACEHOLDER),
    # JWTs.
    (r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*", _PLACEHOLDER),
    # Payment card numbers (13-19 digits, optionally grouped).
    (r"\b(?:\d[ -]?){12,18}\d\b", "[CARD]"),
)


def mask(value: str, *, keep_start: int = 0, keep_end: int = 4, char: str = "*") -> str:
    """Mask *value*, keeping only a few characters at the ends.

    Nothing is kept when the value is too short for the kept parts to leave
    at least half of it hidden, so short secrets are never revealed::

        >>> mask("4111111111111111")
        '************1111'
        >>> mask("abc")
        '***'
    """
    text = _as_text(value, "mask()")
    for name, number in (("keep_start", keep_start), ("keep_end", keep_end)):
        if isinstance(number, bool) or not isinstance(number, int):
            raise InvalidArgumentError(
                f"mask() {name} must be an int", context={name: type(number).__name__}
            )
    if not isinstance(char, str) or len(char) != 1:
        raise InvalidArgumentError("mask() char must be one character")
    if keep_start < 0 or keep_end < 0:
        keep_start = keep_end = 0
    if (keep_start + keep_end) * 2 > len(text):
        return char * len(text)
    end = text[len(text) - keep_end :] if keep_end else ""
    hidden = len(text) - keep_start - keep_end
    return text[:keep_start] + char * hidden + end


def _as_text(value: Any, where: str) -> str:
    """*value* as str: str itself, or ``str(value)``; a failing ``__str__`` is an error."""
    if isinstance(value, str):
        return value
    try:
        text = str(value)
    except Exception as exc:
        raise InvalidArgumentError(
            f"{where} could not turn a {type(value).__name__} into text",
            context={"type": type(value).__name__},
            hint="Pass a str.",
        ) from exc
    if not isinstance(text, str):  # pragma: no cover - str() always returns str
        raise InvalidArgumentError(f"{where} needs text")
    return text


def _key_names(keys: Any) -> tuple[str, ...]:
    if (
        isinstance(keys, str)
        or not isinstance(keys, Iterable)
        or isinstance(keys, (bytes, bytearray))
    ):
        raise InvalidArgumentError(
            f"Sensitive key names must be an iterable of str, not {type(keys).__name__}",
            context={"keys": type(keys).__name__},
        )
    names = tuple(keys)
    for name in names:
        if not isinstance(name, str):
            raise InvalidArgumentError(
                f"Sensitive key names must be str, not {type(name).__name__}",
                context={"key": type(name).__name__},
            )
    return names


def _compile(
    patterns: Any,
) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[re.Pattern[str], str], ...]]:
    message = "Redactor patterns must be (regex, replacement) pairs of str"
    try:
        pairs = tuple((p, r) for p, r in patterns)
        compiled = tuple((re.compile(p), r) for p, r in pairs)
    except (TypeError, ValueError, re.error) as exc:
        raise InvalidArgumentError(message, context={"error": type(exc).__name__}) from exc
    if not all(isinstance(p, str) and isinstance(r, str) for p, r in pairs):
        raise InvalidArgumentError(message)
    return pairs, compiled


class Redactor(_CoreRedactor):
    """Redact secrets from nested data and from free text.

    A :class:`pepperpy.core.Redactor` (accepted wherever core's is) with
    security's placeholder and free-text formats.

    Args:
        keys: The secret key words (case-insensitive; ``-``, ``.``, spaces and
            camelCase read as ``_``; a key is secret when it or one of its
            words is listed); defaults to :data:`DEFAULT_SENSITIVE_KEYS`,
            which is core's list.
        patterns: ``(regex, replacement)`` pairs applied to every string
            after core's text rules (``key=value`` pairs, ``Bearer``
            credentials, URL passwords); the defaults cover pp1 tokens, API
            keys, JWTs and card numbers.
        placeholder: What a redacted value becomes.

    Build it once and use it for every log record::

        >>> r = Redactor()
        >>> r.redact({"user": "ann", "password": "hunter2"})
        {'user': 'ann', 'password': '[REDACTED]'}
        >>> r.redact_text("Authorization: Bearer abcdefgh12345678")
        'Authorization: Bearer [REDACTED]'
    """

    __slots__ = ("_compiled", "_patterns")

    def __init__(
        self,
        keys: Iterable[str] = DEFAULT_SENSITIVE_KEYS,
        patterns: Iterable[tuple[str, str]] = _DEFAULT_PATTERNS,
        placeholder: str = _PLACEHOLDER,
    ) -> None:
        names = _key_names(keys)
        if not isinstance(placeholder, str):
            raise InvalidArgumentError(
                f"Redactor placeholder must be str, not {type(placeholder).__name__}",
                context={"placeholder": type(placeholder).__name__},
            )
        self._patterns, self._compiled = _compile(patterns)
        super().__init__(names, mask=placeholder, messages=True, defaults=False)

    @property
    def keys(self) -> frozenset[str]:
        """The secret key words in use (normalised)."""
        return self.words

    @property
    def patterns(self) -> tuple[tuple[str, str], ...]:
        """The extra ``(regex, replacement)`` pairs applied to text."""
        return self._patterns

    @property
    def placeholder(self) -> str:
        """What a redacted value becomes."""
        return self.mask

    def __repr__(self) -> str:
        return f"Redactor(keys={sorted(self.keys)!r}, placeholder={self.placeholder!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Redactor):
            return NotImplemented
        return (self.keys, self.patterns, self.placeholder) == (
            other.keys,
            other.patterns,
            other.placeholder,
        )

    def __hash__(self) -> int:
        return hash((self.keys, self.patterns, self.placeholder))

    def with_keys(self, *keys: str) -> Redactor:
        """Return a copy that also redacts the values of *keys*."""
        names = _key_names(keys)
        return Redactor(self.keys | frozenset(names), self.patterns, self.placeholder)

    def is_sensitive(self, key: str) -> bool:
        """Whether values stored under *key* are redacted (core's ``is_secret_key``).

        ``dbPassword``, ``X-Api-Key``, ``user.password`` and ``GITHUB_TOKEN``
        are all caught; a key that is not a str never is.
        """
        return self.is_secret_key(key)

    def redact_text(self, text: str) -> str:
        """Replace every secret-looking part of *text*.

        Core's text rules run first, then :attr:`patterns`. Text is required:
        anything else raises ``InvalidArgumentError`` (use :meth:`redact` for
        arbitrary values).
        """
        if not isinstance(text, str):
            raise InvalidArgumentError(
                f"redact_text() takes str, not {type(text).__name__}",
                context={"type": type(text).__name__},
                hint="Use redact() for values that are not text.",
            )
        return super().redact_text(text)

    def _redact_text(self, text: str) -> str:
        # Core scrubs every string (in redact(), safe_str(), format_exception()
        # and redact_text()) through this method; security's formats follow.
        text = super()._redact_text(text)
        for pattern, replacement in self._compiled:
            text = pattern.sub(replacement, text)
        return text


_DEFAULT_REDACTOR = Redactor()


def redact(value: Any, *, extra_keys: Iterable[str] = ()) -> Any:
    """Redact *value* with the default :class:`Redactor` (plus *extra_keys*)."""
    names = _key_names(extra_keys)
    redactor = _DEFAULT_REDACTOR.with_keys(*names) if names else _DEFAULT_REDACTOR
    return redactor.redact(value)
