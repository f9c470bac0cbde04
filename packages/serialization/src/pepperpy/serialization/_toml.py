"""A small, correct TOML 1.0 writer and the reader glue (tomllib or tomli).

TOML has no ``null``: a ``None`` value inside a table is left out (so it reads
back as "missing", which an attrs field with a ``None`` default accepts), and
``None`` inside an array is an :class:`EncodeError`.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from pepperpy.serialization._errors import DecodeError, EncodeError
from pepperpy.serialization._limits import check_depth, depth_error, may_be_deep

__all__ = ["toml_dumps", "toml_loads"]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
    '"': '\\"',
    "\\": "\\\\",
}
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\\x7f]')


def _escape_char(match: re.Match[str]) -> str:
    char = match.group(0)
    return _ESCAPES.get(char) or f"\\u{ord(char):04x}"


def _string(text: str) -> str:
    return '"' + _NEEDS_ESCAPE.sub(_escape_char, text) + '"'


def _key(key: object, path: str) -> str:
    if not isinstance(key, str):
        raise EncodeError(
            f"TOML keys must be strings, got {type(key).__name__}",
            context={"path": path or "/", "key": repr(key)},
            hint="Unstructure the value first (pepperpy.serialization.unstructure) so keys "
            "become strings.",
        )
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _is_table(value: object) -> bool:
    return isinstance(value, Mapping)


def _is_table_array(value: object) -> bool:
    return (
        isinstance(value, (list, tuple))
        and len(value) > 0
        and all(isinstance(item, Mapping) for item in value)
    )


def _float(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = repr(value)
    if "e" in text and "." not in text.split("e")[0]:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}.0e{exponent}"
    return text


def _scalar(value: Any, path: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise EncodeError(
                "TOML integers must fit in 64 bits",
                context={"path": path or "/"},
                hint="Store very large integers as strings.",
            )
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        items = []
        for index, item in enumerate(value):
            if item is None:
                raise EncodeError(
                    "TOML arrays cannot hold None",
                    context={"path": f"{path}/{index}"},
                    hint="Remove the None items or use a format with null (json, yaml, msgpack).",
                )
            items.append(_scalar(item, f"{path}/{index}"))
        return "[" + ", ".join(items) + "]"
    if isinstance(value, Mapping):
        parts = [
            f"{_key(k, path)} = {_scalar(v, f'{path}/{k}')}"
            for k, v in value.items()
            if v is not None
        ]
        return "{" + (" " + ", ".join(parts) + " " if parts else "") + "}"
    raise EncodeError(
        f"TOML cannot represent a value of type {type(value).__name__}",
        context={"path": path or "/", "type": type(value).__name__},
        hint="Unstructure the value first (pepperpy.serialization.unstructure).",
    )


def _write_table(
    out: list[str], table: Mapping[Any, Any], header: list[str], path: str, *, array: bool
) -> None:
    simple: list[tuple[str, Any]] = []
    tables: list[tuple[str, Mapping[Any, Any]]] = []
    arrays: list[tuple[str, Sequence[Mapping[Any, Any]]]] = []
    for key, value in table.items():
        rendered = _key(key, path)
        if value is None:
            continue
        if _is_table(value):
            tables.append((rendered, value))
        elif _is_table_array(value):
            arrays.append((rendered, value))
        else:
            simple.append((rendered, value))
    if header and (array or simple or not (tables or arrays)):
        if out:
            out.append("")
        name = ".".join(header)
        out.append(f"[[{name}]]" if array else f"[{name}]")
    for rendered, value in simple:
        out.append(f"{rendered} = {_scalar(value, f'{path}/{rendered}')}")
    for rendered, sub in tables:
        _write_table(out, sub, [*header, rendered], f"{path}/{rendered}", array=False)
    for rendered, items in arrays:
        for index, item in enumerate(items):
            _write_table(out, item, [*header, rendered], f"{path}/{rendered}/{index}", array=True)


def toml_dumps(data: Any) -> str:
    """Render a mapping of TOML-compatible builtins as a TOML document.

    Raises:
        EncodeError: *data* is not a mapping, or holds a value TOML cannot
            represent (``None`` in an array, a non-string key, an unknown type).
    """
    if not isinstance(data, Mapping):
        raise EncodeError(
            f"a TOML document must be a table (mapping), got {type(data).__name__}",
            context={"type": type(data).__name__},
            hint="Serialize an attrs instance or a dict, or pick another format.",
        )
    out: list[str] = []
    _write_table(out, data, [], "", array=False)
    return "\n".join(out) + "\n" if out else ""


_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


def toml_loads(data: bytes | str, *, source: str | None = None) -> dict[str, Any]:
    """Parse a TOML document with :mod:`tomllib` (or ``tomli`` before 3.11).

    Raises:
        DecodeError: the text is not valid TOML; ``context`` has ``line`` and
            ``column`` (and ``source`` when given).
    """
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib

    text = _toml_text(data, source)
    try:
        result: dict[str, Any] = tomllib.loads(text)
    except RecursionError:
        raise depth_error("toml", source) from None
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(exc, source) from None
    except ValueError as exc:  # e.g. an integer longer than sys.get_int_max_str_digits()
        raise _decode_error(f"invalid TOML: {exc}", source, None, None) from None
    if may_be_deep(text, ("[", "{", ".")):
        check_depth(result, "toml", source=source)
    return result


def _toml_text(data: bytes | str, source: str | None) -> str:
    """The document as text: UTF-8 only, without a leading byte-order mark."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _decode_error(f"TOML must be UTF-8: {exc}", source, None, None) from None
    elif isinstance(data, str):
        try:  # TOML is UTF-8: a lone surrogate in a str is no TOML document (json agrees)
            data.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise _decode_error(f"TOML must be UTF-8: {exc}", source, None, None) from None
        text = data
    else:
        raise _decode_error(
            f"TOML input must be str or bytes, not {type(data).__name__}", source, None, None
        )
    if text.startswith("\ufeff"):  # a UTF-8 byte-order mark (Notepad); toml-test: valid
        text = text[1:]
    return text


def _syntax_error(exc: ValueError, source: str | None) -> Any:
    """The DecodeError for a TOMLDecodeError, with its line and column when it has them."""
    line = getattr(exc, "lineno", None)
    column = getattr(exc, "colno", None)
    message = str(exc)
    if line is None:
        match = _POSITION.search(message)
        if match:
            line, column = int(match.group(1)), int(match.group(2))
    message = _POSITION.sub("", message).strip()
    return _decode_error(f"invalid TOML: {message}", source, line, column)


def _decode_error(message: str, source: str | None, line: int | None, column: int | None) -> Any:
    from pepperpy.core.exceptions import ErrorDetail

    context: dict[str, Any] = {"format": "toml"}
    if source is not None:
        context["source"] = source
    if line is not None:
        context["line"] = line
        context["column"] = column
    where = f" at line {line}, column {column}" if line is not None else ""
    return DecodeError(
        f"{message}{where}" + (f" in {source}" if source else ""),
        errors=[ErrorDetail("", message, code="syntax")],
        context=context,
        hint="Fix the TOML syntax at the position shown.",
    )
