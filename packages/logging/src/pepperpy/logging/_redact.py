"""Masking secrets: secret-looking keys, secret objects and ``key=value`` text."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

__all__ = ["DEFAULT_SECRET_KEYS", "MASK", "Redactor", "is_secret_value"]

MASK: Final = "***"
"""The default replacement for masked values."""

DEFAULT_SECRET_KEYS: Final = (
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "authorization",
    "api_key",
    "apikey",
    "private_key",
    "access_key",
    "secret_key",
    "credential",
    "credentials",
    "cookie",
    "set_cookie",
    "session_id",
    "passphrase",
)
"""Key words that mark a key as secret (matched on word boundaries, any case)."""

_PLAIN: Final = frozenset({str, int, float, bool, type(None), bytes})
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def is_secret_value(value: object) -> bool:
    """Whether *value* is a secret wrapper that must never be rendered.

    True for instances of a class named ``Secret`` (pepperpy-config's, and
    similar ones) and for objects with a ``reveal()`` or
    ``get_secret_value()`` method (pydantic's ``SecretStr`` among others).
    """
    kind = type(value)
    if kind in _PLAIN:
        return False
    if kind.__name__ in ("Secret", "SecretStr", "SecretBytes"):
        return True
    try:
        return callable(getattr(value, "reveal", None)) or callable(
            getattr(value, "get_secret_value", None)
        )
    except Exception:  # a hostile __getattr__: treat it as a secret, never render it
        return True


class Redactor:
    """Masks secrets in log data.

    A key is secret when one of its words (split on ``_``, ``-``, ``.``,
    spaces and camelCase) is a secret word, or when the whole normalised key
    is one: ``access_token``, ``X-Api-Key``, ``dbPassword``, ``token_type``
    and ``Authorization`` are masked; ``max_tokens`` and ``tokenizer`` are not
    (a word must match whole).

    Args:
        keys: Extra secret words (added to :data:`DEFAULT_SECRET_KEYS`).
        mask: The replacement text.
        messages: Also mask ``key=value`` / ``key: value`` pairs with a
            secret key inside message text (``Authorization: Bearer x``).
        defaults: Include :data:`DEFAULT_SECRET_KEYS`.
    """

    __slots__ = ("_cache", "_message_re", "_words", "mask", "messages")

    def __init__(
        self,
        keys: Iterable[str] = (),
        *,
        mask: str = MASK,
        messages: bool = True,
        defaults: bool = True,
    ) -> None:
        words = {self._normalise(k) for k in keys}
        if defaults:
            words.update(DEFAULT_SECRET_KEYS)
        words.discard("")
        self._words: frozenset[str] = frozenset(words)
        self.mask = mask
        self.messages = messages
        self._cache: dict[str, bool] = {}
        alternatives = "|".join(
            sorted((re.escape(w).replace("_", "[_-]?") for w in self._words), key=len, reverse=True)
        )
        self._message_re = re.compile(
            rf"(?i)((?:{alternatives})\b[\"']?)(\s*[=:]\s*)"
            r"((?:bearer|basic|token|digest)\s+)?"
            r"(\"[^\"]*\"|'[^']*'|[^\s,;&\"'}]+)"
            if alternatives
            else r"(?!x)x"
        )

    @staticmethod
    def _normalise(key: str) -> str:
        return _CAMEL.sub("_", key).lower().replace("-", "_").replace(".", "_").replace(" ", "_")

    @property
    def words(self) -> frozenset[str]:
        """The secret words in use."""
        return self._words

    def is_secret_key(self, key: object) -> bool:
        """Whether values stored under *key* must be masked."""
        if not isinstance(key, str):
            return False
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        norm = self._normalise(key)
        words = self._words
        result = norm in words or any(part in words for part in norm.split("_"))
        if not result:
            padded = f"_{norm}_"
            # multi-word secrets ("x_api_key") and words spelled without
            # separators ("xapikey", "dbpassword")
            result = any(
                (f"_{w}_" in padded) if "_" in w else (len(w) > 5 and w in norm) for w in words
            )
        if len(self._cache) < 4096:
            self._cache[key] = result
        return result

    def redact(self, value: Any) -> Any:
        """Return *value* with secrets masked; the input is never modified.

        Mappings are masked by key, lists/tuples/sets element-wise, secret
        objects are replaced by the mask. Unchanged containers are returned
        as they are (no copy).
        """
        kind = type(value)
        if kind in _PLAIN:
            return value
        if isinstance(value, Mapping):
            return self.redact_mapping(value)
        if kind in (list, tuple):
            changed = False
            out = []
            for item in value:
                new = self.redact(item)
                changed = changed or new is not item
                out.append(new)
            if not changed:
                return value
            return out if kind is list else tuple(out)
        if is_secret_value(value):
            return self.mask
        return value

    def redact_mapping(self, mapping: Mapping[Any, Any]) -> Mapping[Any, Any]:
        """Return *mapping* with secret keys and secret values masked (a copy if changed)."""
        out: dict[Any, Any] | None = None
        mask = self.mask
        for key, value in mapping.items():
            if self.is_secret_key(key):
                new: Any = mask if value is not None else None
            else:
                new = self.redact(value)
            if new is not value:
                if out is None:
                    out = dict(mapping)
                out[key] = new
        return mapping if out is None else out

    def redact_text(self, text: str) -> str:
        """Mask secret ``key=value`` / ``key: value`` pairs inside *text*."""
        if not self.messages or ("=" not in text and ":" not in text):
            return text
        return self._message_re.sub(self._replace, text)

    def _replace(self, match: re.Match[str]) -> str:
        return f"{match.group(1)}{match.group(2)}{match.group(3) or ''}{self.mask}"
