"""Masking and redaction of secrets in values, mappings and free text.

These helpers need only attrs and pepperpy-core, so that pepperpy-logging (or
any log processor) can call :class:`Redactor` on every record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from pepperpy.core.exceptions import InvalidArgumentError

__all__ = ["DEFAULT_SENSITIVE_KEYS", "Redactor", "mask", "redact"]

DEFAULT_SENSITIVE_KEYS: frozenset[str] = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "secret",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "api_key",
        "apikey",
        "authorization",
        "cookie",
        "set_cookie",
        "session",
        "private_key",
        "client_secret",
        "credit_card",
        "card_number",
        "cvv",
        "ssn",
    }
)
"""Key names and key words whose values are redacted (see :meth:`Redactor.is_sensitive`)."""

_PLACEHOLDER = "[REDACTED]"

_DEFAULT_PATTERNS: tuple[tuple[str, str], ...] = (
    # Authorization headers and bearer credentials.
    (r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}", r"\1 [REDACTED]"),
    # pepperpy tokens (pp1.<kid>.<payload>.<sig>) and API keys (<prefix>_<id>_<secret>).
    (r"\bpp1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", _PLACEHOLDER),
    (r"\b[a-z]{2,8}_[0-9a-z]{12,}_[A-Za-z0-9_-]{20,}", _PLACEHOLDER),
    # JWTs.
    (r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*", _PLACEHOLDER),
    # key=value / key: value pairs whose key looks secret.
    (
        r"(?i)\b(password|passwd|pwd|secret|token|api[_-]?key|client[_-]?secret)"
        r"(\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s,;&]+)",
        r"\1\2[REDACTED]",
    ),
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


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT = re.compile(r"[_\-.\s]+")


def _normalise(key: str) -> str:
    return "_".join(w for w in _SPLIT.split(_CAMEL.sub("_", key.strip()).lower()) if w)


def _words(key: str) -> list[str]:
    return [w for w in _normalise(key).split("_") if w]


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


def _normalise_all(keys: Iterable[str]) -> frozenset[str]:
    return frozenset(_normalise(k) for k in _key_names(keys))


def _compile(patterns: Any) -> tuple[tuple[re.Pattern[str], str], ...]:
    try:
        return tuple((re.compile(p), r) for p, r in patterns if isinstance(r, str))
    except (TypeError, ValueError, re.error) as exc:
        raise InvalidArgumentError(
            "Redactor patterns must be (regex, replacement) pairs of str",
            context={"error": type(exc).__name__},
        ) from exc


@attrs.frozen
class Redactor:
    """Redact secrets from nested data and from free text.

    Args:
        keys: Key names whose values are replaced (case-insensitive, ``-``
            and ``_`` equivalent); defaults to :data:`DEFAULT_SENSITIVE_KEYS`.
        patterns: ``(regex, replacement)`` pairs applied to every string;
            defaults cover bearer tokens, JWTs, pepperpy tokens and API keys,
            ``password=...`` pairs and card numbers.
        placeholder: What a redacted value becomes.

    A :class:`Redactor` is immutable and thread-safe; build it once and use
    it for every log record::

        >>> r = Redactor()
        >>> r.redact({"user": "ann", "password": "hunter2"})
        {'user': 'ann', 'password': '[REDACTED]'}
        >>> r.redact_text("Authorization: Bearer abcdefgh12345678")
        'Authorization: Bearer [REDACTED]'
    """

    keys: frozenset[str] = attrs.field(
        default=DEFAULT_SENSITIVE_KEYS,
        converter=_normalise_all,
    )
    patterns: tuple[tuple[str, str], ...] = _DEFAULT_PATTERNS
    placeholder: str = _PLACEHOLDER
    _compiled: tuple[tuple[re.Pattern[str], str], ...] = attrs.field(
        init=False, repr=False, eq=False
    )

    def __attrs_post_init__(self) -> None:
        compiled = _compile(self.patterns)
        if len(compiled) != len(self.patterns):
            raise InvalidArgumentError("Redactor pattern replacements must be str")
        object.__setattr__(self, "_compiled", compiled)

    def with_keys(self, *keys: str) -> Redactor:
        """Return a copy that also redacts the values of *keys*."""
        return attrs.evolve(self, keys=self.keys | _normalise_all(keys))

    def is_sensitive(self, key: str) -> bool:
        """Whether values stored under *key* are redacted.

        True when the whole key (normalised: lower case, camelCase, ``-``,
        ``.`` and spaces read as ``_``) or any single word of it is listed, so
        ``dbPassword``, ``X-Api-Key`` and ``user.password`` are all caught.
        """
        if not isinstance(key, str):
            return False  # type: ignore[unreachable]
        norm = _normalise(key)
        if norm in self.keys:
            return True
        words = norm.split("_")
        if any(w in self.keys for w in words):
            return True
        return any("_".join(words[i : i + 2]) in self.keys for i in range(len(words) - 1))

    def redact_text(self, text: str) -> str:
        """Replace every secret-looking part of *text*.

        Text is required: anything else raises ``InvalidArgumentError`` (use
        :meth:`redact` for arbitrary values).
        """
        if not isinstance(text, str):
            raise InvalidArgumentError(
                f"redact_text() takes str, not {type(text).__name__}",
                context={"type": type(text).__name__},
                hint="Use redact() for values that are not text.",
            )
        for pattern, replacement in self._compiled:
            text = pattern.sub(replacement, text)
        return text

    def redact(self, value: Any) -> Any:
        """Return a redacted copy of *value* (mappings, sequences and strings, nested).

        Mappings become ``dict``, lists and tuples keep their type, other
        objects are returned unchanged.  Objects with ``get_secret_value()``
        or ``reveal()`` (config secrets) are replaced by the placeholder.
        """
        return self._redact(value, 0)

    def _redact(self, value: Any, depth: int) -> Any:
        if depth > 32:
            return self.placeholder
        if callable(getattr(value, "get_secret_value", None)) or callable(
            getattr(value, "reveal", None)
        ):
            return self.placeholder
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, Mapping):
            return {
                k: (
                    self.placeholder
                    if isinstance(k, str) and self.is_sensitive(k) and v is not None
                    else self._redact(v, depth + 1)
                )
                for k, v in value.items()
            }
        if isinstance(value, (list, tuple)):
            items = [self._redact(v, depth + 1) for v in value]
            return items if isinstance(value, list) else tuple(items)
        return value


_DEFAULT_REDACTOR = Redactor()


def redact(value: Any, *, extra_keys: Iterable[str] = ()) -> Any:
    """Redact *value* with the default :class:`Redactor` (plus *extra_keys*)."""
    names = _key_names(extra_keys)
    redactor = _DEFAULT_REDACTOR.with_keys(*names) if names else _DEFAULT_REDACTOR
    return redactor.redact(value)
