"""Key validation and value (de)serialization through :mod:`pepperpy.serialization`."""

from __future__ import annotations

import json
import math
from typing import Any

import attrs

from pepperpy.core.exceptions import InvalidArgumentError, PepperPyError, safe_repr
from pepperpy.serialization import dumps, loads, structure, unstructure
from pepperpy.storage._errors import StorageError, StorageKeyError, StorageValueError

__all__ = ["Codec", "check_key", "check_prefix"]

MAX_KEY_LENGTH = 1024
_MAX_DEPTH = 200


def check_key(key: object, max_length: int = MAX_KEY_LENGTH) -> str:
    """Return *key* if it is a usable key, else raise :class:`StorageKeyError`."""
    if type(key) is str and 0 < len(key) <= max_length and "\x00" not in key:
        try:
            key.encode("utf-8")
        except UnicodeEncodeError:
            pass
        else:
            return key
    if not isinstance(key, str):
        raise StorageKeyError(
            f"a key must be a str, not {type(key).__name__}",
            context={"key": safe_repr(key), "type": type(key).__name__},
            hint="Convert the key to a string, e.g. f'user/{user_id}'.",
        )
    if not key:
        raise StorageKeyError(
            "a key must not be empty",
            context={"key": ""},
            hint="Use a non-empty string such as 'settings' or 'user/42'.",
        )
    if len(key) > max_length:
        raise StorageKeyError(
            f"key is {len(key)} characters long; the limit is {max_length}",
            context={"key": safe_repr(key), "length": len(key), "limit": max_length},
            hint="Use a shorter key (store long identifiers inside the value, or hash them).",
        )
    if "\x00" in key:
        raise StorageKeyError(
            "a key must not contain NUL characters",
            context={"key": safe_repr(key)},
            hint="Remove the '\\x00' characters from the key.",
        )
    raise StorageKeyError(
        "a key must be valid Unicode (it contains a lone surrogate)",
        context={"key": safe_repr(key)},
        hint="Decode the key properly before using it.",
    )


def check_prefix(prefix: object, name: str = "prefix") -> str:
    """Return *prefix* (a scan prefix or cursor) if some key could start with it.

    Raises:
        InvalidArgumentError: *prefix* is not a str.
        StorageKeyError: It contains NUL or a lone surrogate, which no key can hold.
    """
    if type(prefix) is not str:
        if not isinstance(prefix, str):
            raise InvalidArgumentError(
                f"{name} must be a str, not {type(prefix).__name__}",
                context={name: safe_repr(prefix)},
                hint="Pass a string such as 'user/'"
                + (", or page.cursor unchanged." if name == "cursor" else "."),
            )
        prefix = str(prefix)
    if "\x00" in prefix:
        raise StorageKeyError(
            f"a {name} must not contain NUL characters (no key can)",
            context={name: safe_repr(prefix)},
            hint="Remove the '\\x00' characters.",
        )
    try:
        prefix.encode("utf-8")
    except UnicodeEncodeError:
        raise StorageKeyError(
            f"a {name} must be valid Unicode (it contains a lone surrogate, which no key can)",
            context={name: safe_repr(prefix)},
            hint="Decode the text properly before using it as a prefix.",
        ) from None
    return prefix


def _bad_value(key: str | None, path: str, message: str, value: object) -> StorageValueError:
    return StorageValueError(
        f"value{f' for key {key!r}' if key else ''} cannot be stored: {message}",
        context={"key": key, "path": path or "/", "value": safe_repr(value)},
        hint="Store JSON-like data (dict with str keys, list, str, int, finite float, bool, "
        "None) or attrs instances made of them.",
    )


def _convert(value: Any, key: str | None, path: str) -> Any:
    """Unstructure a non-JSON value (attrs instance, datetime, set, bytes ...) or refuse it."""
    try:
        data = unstructure(value)
    except RecursionError:
        raise _bad_value(
            key, path, f"{type(value).__name__} is not JSON-like and cannot be converted", value
        ) from None
    except PepperPyError as exc:
        raise _bad_value(key, path, exc.message, value) from exc
    except Exception as exc:
        raise _bad_value(key, path, f"{type(exc).__name__}: {exc}", value) from exc
    if type(data) is type(value) and not _is_plain(data):
        raise _bad_value(key, path, f"{type(value).__name__} is not JSON-like", value)
    return data


def _normalize(value: Any, key: str | None, path: str, depth: int) -> Any:
    """Return *value* as JSON-like builtins, converting through pepperpy.serialization.

    Plain data is returned as is (no copy); a container is rebuilt only when
    one of its children had to be converted. Raises with the JSON-Pointer
    path of the first value that cannot be stored.
    """
    if depth > _MAX_DEPTH:
        raise _bad_value(key, path, f"nested deeper than {_MAX_DEPTH} levels", "...")
    kind = type(value)
    if kind is str:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _bad_value(key, path, "string contains a lone surrogate", value) from None
        return value
    if kind is int or kind is bool or value is None:
        return value
    if kind is float:
        if not math.isfinite(value):
            raise _bad_value(key, path, f"{value!r} is not a finite number", value)
        return value
    if kind is dict:
        return _normalize_dict(value, key, path, depth)
    if kind is list or kind is tuple:
        return _normalize_sequence(value, key, path, depth)
    return _normalize(_convert(value, key, path), key, path, depth + 1)


def _normalize_dict(value: dict[Any, Any], key: str | None, path: str, depth: int) -> Any:
    """:func:`_normalize` for a dict: str keys only, copied only if a child was converted."""
    out: dict[str, Any] | None = None
    for k, v in value.items():
        if type(k) is not str:
            raise _bad_value(key, path, f"mapping key {k!r} is a {type(k).__name__}, not a str", k)
        child = _normalize(v, key, f"{path}/{k.replace('~', '~0').replace('/', '~1')}", depth + 1)
        if child is not v and out is None:
            out = dict(value)
        if out is not None:
            out[k] = child
    return value if out is None else out


def _normalize_sequence(
    value: list[Any] | tuple[Any, ...], key: str | None, path: str, depth: int
) -> Any:
    """:func:`_normalize` for a list (copied only if a child was converted) or a tuple (a list)."""
    items: list[Any] | None = None if type(value) is list else list(value)
    for index, item in enumerate(value):
        child = _normalize(item, key, f"{path}/{index}", depth + 1)
        if child is not item and items is None:
            items = list(value)
        if items is not None:
            items[index] = child
    return value if items is None else items


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _plain_json(value: Any) -> bool:
    """Fast check: only JSON builtins with str keys (floats/strings are checked by the encoder).

    Exact types only (a subclass goes the slow way). Scalars inside containers are
    checked inline, without a call each: this walk runs for every value stored.
    """
    kind = type(value)
    if kind in _SCALARS:
        return True
    if kind is dict:
        for k, v in value.items():
            if type(k) is not str:
                return False
            if type(v) not in _SCALARS and not _plain_json(v):
                return False
        return True
    if kind is list or kind is tuple:
        for v in value:  # noqa: SIM110 - a loop, not all(genexpr): no generator frame per value
            if type(v) not in _SCALARS and not _plain_json(v):
                return False
        return True
    return False


_dumps_json = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, check_circular=False
).encode


class Codec:
    """Turns values into bytes and back, in one :mod:`pepperpy.serialization` format.

    JSON-like builtins are validated (so a bad value is refused with the path
    of the culprit, before anything is written) and written as compact JSON;
    attrs instances are unstructured by pepperpy.serialization first. Reading
    with a type structures the data into that type.
    """

    def __init__(self, format: str = "json") -> None:
        self.format = format

    def encode(self, value: Any, key: str | None = None) -> bytes:
        """Serialize *value*; raise :class:`StorageValueError` naming *key* if impossible."""
        if self.format == "json":
            try:
                if _plain_json(value):
                    return _dumps_json(value).encode("utf-8")
            except (ValueError, UnicodeEncodeError, RecursionError):
                pass  # NaN, a lone surrogate or too deep: _normalize says where
        data = _normalize(value, key, "", 0)
        if self.format == "json":
            return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        try:
            return dumps(data, format=self.format)
        except PepperPyError as exc:
            raise _bad_value(key, "", exc.message, value) from exc

    def decode(self, data: bytes, type_: Any = None, key: str | None = None) -> Any:
        """Deserialize stored bytes, structured as *type_* when given."""
        try:
            if self.format == "json":
                raw = json.loads(data)
            else:
                raw = loads(data, Any, format=self.format)
        except (ValueError, PepperPyError) as exc:
            raise StorageError(
                f"stored value for key {key!r} cannot be decoded as {self.format}",
                code="pepperpy.storage.corrupted",
                context={"key": key, "format": self.format},
                hint="The value was written with another format or damaged; delete or "
                "overwrite the key.",
            ) from exc
        if type_ is None or type_ is Any:
            return raw
        return structure(raw, type_)

    def check_type(self, value: Any, type_: Any, key: str | None = None) -> None:
        """Raise :class:`InvalidArgumentError` unless *value* is an instance of *type_*."""
        if isinstance(type_, type) and not isinstance(value, type_):
            raise InvalidArgumentError(
                f"expected a {type_.__name__} for key {key!r}, got {type(value).__name__}",
                context={"key": key, "expected": type_.__name__, "got": type(value).__name__},
                hint=f"Pass a {type_.__name__} instance to this collection.",
            )


def _is_plain(value: Any) -> bool:
    kind = type(value)
    return kind in (dict, list, tuple, str, int, float, bool) or value is None


def is_record(value: Any) -> bool:
    """Whether *value* is an attrs instance."""
    return attrs.has(type(value))
