"""The one redactor: masks secrets wherever a value leaves the process.

Logging (text and JSON sinks, exception renderings), span attributes and span
exception messages, ``debug()`` output and error contexts all go through
:class:`Redactor`, so one word list decides what is a secret everywhere.

What is masked:

* values stored under a secret-looking key (``password``, ``api_key``,
  ``X-Api-Key``, ``dbPassword``, ...) in mappings and in the fields of
  dataclass and attrs instances, at any depth;
* secret objects: pepperpy-config's ``Secret``, pydantic's ``SecretStr`` and
  anything else with ``reveal()`` / ``get_secret_value()`` or
  ``__pepperpy_redact__ = True``;
* inside text: ``key=value`` / ``key: value`` pairs with a secret key,
  ``Bearer``/``Basic`` credentials and the password of URL userinfo
  (``postgresql://app:***@db``).

Rendering never raises: an object whose ``__str__``/``__repr__`` raises is
shown as ``<Type object (str failed)>``.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import re
import traceback
from collections.abc import Iterable, Mapping
from typing import Any, Final

__all__ = [
    "DEFAULT_SECRET_KEYS",
    "MASK",
    "Redactor",
    "default_redactor",
    "is_secret_value",
    "redact",
    "redact_text",
    "safe_str",
]

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
    "session",
    "passphrase",
    "credit_card",
    "card_number",
    "cvv",
    "ssn",
    "pin",
    "otp",
    "jwt",
)
"""Key words that mark a key as secret (matched as whole words, any case)."""

_PLAIN: Final = frozenset({str, int, float, bool, type(None), bytes})
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_MAX_DEPTH = 12
# a key, then "=" or ":" (the value is matched separately, so a non-secret
# key never swallows the next pair: "RuntimeError: password=x")
_PAIR = re.compile(r"([A-Za-z_][\w.\-]*)([\"']?[ \t]*[=:][ \t]*)")
_VALUE = re.compile(
    r"((?:bearer|basic|token|digest)[ \t]+)?"
    # a quoted value (escapes inside it included, b'' bytes too), an unquoted one, or
    # a quote that never closes (masked to the end of the word)
    r"([bB]?\"(?:[^\"\\\n]|\\.)*\"|[bB]?'(?:[^'\\\n]|\\.)*'|[^\s,;&\"'}]+|[\"'][^\s,;&}]*)",
    re.IGNORECASE,
)
_CREDENTIAL = re.compile(
    r"\b((?i:bearer|basic))[ \t]+(?=[^\s]*[0-9A-Z+/=._~-])[A-Za-z0-9._~+/=-]{8,}"
)
# The password runs to the *last* "@" of the authority, so a hand-written password
# holding "@" or "/" is masked whole (the host after it has no "@", "/", "?" or "#").
_USERINFO = re.compile(
    r"(?i)\b([a-z][a-z0-9+.\-]{0,31}://)([^\s/@:]{0,256}):(\S{0,256}?)@"
    r"(?=[^\s@/?#]{0,256}(?:[/?#\s]|$))"
)


def is_secret_value(value: object) -> bool:
    """Whether *value* is a secret wrapper that must never be rendered.

    True for instances of a class named ``Secret``/``SecretStr``/``SecretBytes``,
    for classes that set ``__pepperpy_redact__ = True`` (pepperpy-config's
    ``Secret``) and for objects with a ``reveal()`` or ``get_secret_value()``
    method (pydantic's ``SecretStr`` among others). Never raises: an object
    whose attribute lookup fails counts as a secret.
    """
    kind = type(value)
    if kind in _PLAIN:
        return False
    if kind.__name__ in ("Secret", "SecretStr", "SecretBytes"):
        return True
    try:
        if getattr(kind, "__pepperpy_redact__", False) is True:
            return True
        return callable(getattr(value, "reveal", None)) or callable(
            getattr(value, "get_secret_value", None)
        )
    except Exception:  # a hostile __getattr__: treat it as a secret, never render it
        return True


def _fallback(value: object, what: str) -> str:
    try:
        name = type(value).__name__
    except Exception:  # pragma: no cover - type() of anything has a name
        name = "object"
    return f"<{name} object ({what} failed)>"


def _fields(value: object) -> list[str] | None:
    """The field names of a dataclass or attrs instance, else ``None``."""
    kind = type(value)
    try:
        if isinstance(value, tuple):  # a namedtuple (typing.NamedTuple too)
            names = getattr(kind, "_fields", None)
            if isinstance(names, tuple) and all(isinstance(n, str) for n in names):
                return list(names)
            return None
        attrs_fields = getattr(kind, "__attrs_attrs__", None)
        if attrs_fields is not None:
            return [f.name for f in attrs_fields]
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return [f.name for f in dataclasses.fields(value) if f.repr]
    except Exception:
        return None
    return None


class Redactor:
    """Masks secrets in values and text; every method is safe on hostile input.

    A key is secret when one of its words (split on ``_``, ``-``, ``.``,
    spaces and camelCase) is a secret word, or when the whole normalised key
    is one: ``access_token``, ``X-Api-Key``, ``dbPassword``, ``token_type``
    and ``Authorization`` are masked; ``max_tokens`` and ``tokenizer`` are not
    (a word must match whole).

    Args:
        keys: Extra secret words (added to :data:`DEFAULT_SECRET_KEYS`).
        mask: The replacement text.
        messages: Also mask secrets inside text (``key=value`` pairs,
            ``Bearer`` credentials, URL passwords).
        defaults: Include :data:`DEFAULT_SECRET_KEYS`.
    """

    __slots__ = ("_cache", "_probes", "_words", "mask", "messages")

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
        # cheap substring probes deciding whether text needs the regex pass
        self._probes = tuple(sorted({w.replace("_", "") for w in self._words}))

    @staticmethod
    def _normalise(key: str) -> str:
        return _CAMEL.sub("_", key).lower().replace("-", "_").replace(".", "_").replace(" ", "_")

    @property
    def words(self) -> frozenset[str]:
        """The secret words in use."""
        return self._words

    def is_secret_key(self, key: object) -> bool:
        """Whether values stored under *key* must be masked (a str, or bytes as in raw headers)."""
        if isinstance(key, (bytes, bytearray)):
            key = bytes(key).decode("latin-1")
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

    # ------------------------------------------------------------------ values

    def redact(self, value: Any) -> Any:
        """Return *value* with secrets masked; the input is never modified.

        Mappings are masked by key, lists/tuples element-wise, strings are
        scrubbed (:meth:`redact_text`), secret objects are replaced by the
        mask, and dataclass/attrs instances by their repr with secret fields
        masked. Other objects are returned as they are
        (render them with :meth:`safe_str` / :meth:`safe_repr`). Unchanged
        containers are returned as they are (no copy). Never raises.
        """
        try:
            return self._redact(value, 0)
        except Exception:
            return self.mask

    def _redact(self, value: Any, depth: int) -> Any:
        kind = type(value)
        if kind is str:
            if not self.messages:
                return value
            new = self._redact_text(value)
            return value if new == value else new
        if kind in _PLAIN:
            return value
        if depth > _MAX_DEPTH:
            return "<...>"
        if isinstance(value, Mapping):
            return self._redact_mapping(value, depth)
        if is_secret_value(value):
            return self.mask
        if _fields(value) is not None:  # dataclass, attrs, namedtuple
            return self._repr(value, depth)
        if isinstance(value, (list, tuple, set, frozenset, collections.deque)):
            return self._redact_items(value, depth)
        return value

    def _redact_items(self, value: Any, depth: int) -> Any:
        """A list, tuple, set, frozenset or deque (or subclass) with its items redacted."""
        changed = False
        out = []
        for item in value:
            new = self._redact(item, depth + 1)
            changed = changed or new is not item
            out.append(new)
        if not changed:
            return value
        kind = type(value)
        if kind in (list, tuple):
            return out if kind is list else tuple(out)
        if isinstance(value, (set, frozenset)):
            try:
                return frozenset(out) if isinstance(value, frozenset) else set(out)
            except TypeError:  # an unhashable masked item
                return out
        return tuple(out) if isinstance(value, tuple) else out

    def redact_mapping(self, mapping: Mapping[Any, Any]) -> Mapping[Any, Any]:
        """Return *mapping* with secret keys and secret values masked (a copy if changed)."""
        try:
            return self._redact_mapping(mapping, 0)
        except Exception:
            return {"redaction_error": self.mask}

    def _redact_mapping(self, mapping: Mapping[Any, Any], depth: int) -> Mapping[Any, Any]:
        out: dict[Any, Any] | None = None
        mask = self.mask
        for key, value in mapping.items():
            if self.is_secret_key(key):
                new: Any = mask if value is not None else None
            else:
                new = self._redact(value, depth + 1)
            if new is not value:
                if out is None:
                    out = dict(mapping)
                out[key] = new
        return mapping if out is None else out

    # ------------------------------------------------------------------ rendering

    def safe_str(self, value: object, limit: int | None = None) -> str:
        """``str(value)`` with secrets masked; never raises.

        Secret objects render as the mask, mappings and dataclass/attrs
        instances with their secret fields masked, and the text is scrubbed
        (:meth:`redact_text`). *limit* cuts the result (with ``...``).
        """
        if type(value) is str:
            text = value
        elif is_secret_value(value):
            return self.mask
        else:
            try:
                text = self._render(value, 0, use_repr=False)
            except Exception:
                text = _fallback(value, "str")
        return self._finish(text, limit)

    def safe_repr(self, value: object, limit: int | None = None) -> str:
        """``repr(value)`` with secrets masked; never raises (see :meth:`safe_str`)."""
        if is_secret_value(value):
            return self.mask
        try:
            text = self._render(value, 0, use_repr=True)
        except Exception:
            text = _fallback(value, "repr")
        return self._finish(text, limit)

    def format_exception(self, exc: BaseException) -> str:
        """The traceback of *exc* (and its causes) with secrets masked; never raises.

        Exception messages are rendered like :meth:`safe_str` renders the
        exception (secret objects and dataclass/attrs fields among its
        arguments masked), then the whole text is scrubbed (:meth:`redact_text`).
        """
        try:
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        except Exception:
            text = f"{type(exc).__name__}: <unprintable exception>\n"
        seen: set[int] = set()
        current: BaseException | None = exc
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            try:
                raw = str(current)
            except Exception:
                raw = ""
            if raw:
                shown = self.safe_str(current)
                if shown != raw:
                    text = text.replace(raw, shown)
            current = current.__cause__ or current.__context__
        return self.redact_text(text)

    def _finish(self, text: str, limit: int | None) -> str:
        text = self.redact_text(text)
        if limit is not None and len(text) > limit:
            text = text[: max(0, limit - 3)] + "..."
        return text

    def _render(self, value: object, depth: int, *, use_repr: bool) -> str:
        kind = type(value)
        if kind in _PLAIN:
            if kind is float and not math.isfinite(value):  # type: ignore[arg-type]
                return repr(value)
            return repr(value) if use_repr or kind is bytes else str(value)
        if is_secret_value(value):
            return repr(self.mask) if use_repr else self.mask
        if depth > _MAX_DEPTH:
            return "<...>"
        if isinstance(value, Mapping):
            items = ", ".join(
                f"{self._render(k, depth + 1, use_repr=True)}: "
                + (
                    repr(self.mask)
                    if self.is_secret_key(k) and v is not None
                    else self._render(v, depth + 1, use_repr=True)
                )
                for k, v in value.items()
            )
            return f"{{{items}}}"
        if kind in (list, tuple):
            inner = ", ".join(self._render(v, depth + 1, use_repr=True) for v in value)  # type: ignore[attr-defined]
            if kind is tuple:
                return f"({inner}{',' if len(value) == 1 else ''})"  # type: ignore[arg-type]
            return f"[{inner}]"
        if _fields(value) is not None:
            return self._repr(value, depth)
        if isinstance(value, BaseException) and type(value).__str__ is BaseException.__str__:
            # the default str() of an exception shows its arguments: render them safely
            args = value.args
            if use_repr:
                inner = ", ".join(self._render(a, depth + 1, use_repr=True) for a in args)
                return f"{type(value).__name__}({inner})"
            if len(args) == 1:
                return self._render(args[0], depth + 1, use_repr=False)
            return self._render(args, depth + 1, use_repr=True) if args else ""
        try:
            return repr(value) if use_repr else str(value)
        except Exception:
            return _fallback(value, "repr" if use_repr else "str")

    def _repr(self, value: object, depth: int) -> str:
        """A dataclass/attrs instance as ``Name(field=...)``, secret fields masked."""
        names = _fields(value) or []
        parts = []
        for name in names:
            try:
                field_value = getattr(value, name)
            except Exception:
                parts.append(f"{name}=<unreadable>")
                continue
            if self.is_secret_key(name) and field_value is not None:
                parts.append(f"{name}={self.mask!r}")
            else:
                parts.append(f"{name}={self._render(field_value, depth + 1, use_repr=True)}")
        return f"{type(value).__qualname__}({', '.join(parts)})"

    # ------------------------------------------------------------------ text

    def redact_text(self, text: str) -> str:
        """Mask secrets inside *text*.

        Masks secret ``key=value`` / ``key: value`` pairs, ``Bearer``/``Basic``
        credentials and URL userinfo passwords. Returns *text* unchanged when
        :attr:`messages` is off. Never raises.
        """
        if not self.messages:
            return text
        try:
            return self._redact_text(text)
        except Exception:
            return self.mask

    def _redact_text(self, text: str) -> str:
        if "://" in text:
            text = _USERINFO.sub(lambda m: f"{m.group(1)}{m.group(2)}:{self.mask}@", text)
        lower = text.lower()
        if "bearer" in lower or "basic" in lower:
            text = _CREDENTIAL.sub(lambda m: f"{m.group(1)} {self.mask}", text)
        if "=" not in text and ":" not in text:
            return text
        squeezed = lower.replace("_", "").replace("-", "")
        if not any(probe in squeezed for probe in self._probes):
            return text
        out: list[str] = []
        pos = 0
        search = _PAIR.search
        while True:
            match = search(text, pos)
            if match is None:
                break
            end = match.end()
            if self.is_secret_key(match.group(1)):
                value = _VALUE.match(text, end)
                if value is not None:
                    out.append(text[pos:end])
                    raw = value.group(2)
                    if raw[:1] in ("b", "B") and raw[1:2] in ("'", '"'):
                        raw = raw[1:]  # b'...': the bytes prefix goes with the value
                    quote = raw[0] if raw[:1] in ("'", '"') else ""  # JSON stays JSON
                    out.append(f"{value.group(1) or ''}{quote}{self.mask}{quote}")
                    pos = value.end()
                    continue
            out.append(text[pos:end])
            pos = end
        if not out:
            return text
        out.append(text[pos:])
        return "".join(out)


default_redactor: Final = Redactor()
"""The redactor with the default word list, used where nothing is configured."""


def redact(value: Any) -> Any:
    """:meth:`Redactor.redact` with the default word list."""
    return default_redactor.redact(value)


def redact_text(text: str) -> str:
    """:meth:`Redactor.redact_text` with the default word list."""
    return default_redactor.redact_text(text)


def safe_str(value: object, limit: int | None = None) -> str:
    """:meth:`Redactor.safe_str` with the default word list: never raises, secrets masked."""
    return default_redactor.safe_str(value, limit)
