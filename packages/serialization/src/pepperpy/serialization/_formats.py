"""Wire formats: JSON (orjson or stdlib, same bytes), TOML, msgpack and YAML.

A format turns JSON-like builtins into bytes and back. Optional libraries are
imported the first time their format is used, so importing the package stays
cheap.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from pepperpy.core.exceptions import ErrorDetail, InvalidArgumentError
from pepperpy.serialization._errors import DecodeError, FormatUnavailableError
from pepperpy.serialization._limits import check_depth, depth_error, encode_failure, may_be_deep
from pepperpy.serialization._toml import toml_dumps, toml_loads

__all__ = [
    "Format",
    "available_formats",
    "format_for_path",
    "get_format",
    "register_format",
]


class Format(NamedTuple):
    """A wire format: how JSON-like builtins become bytes and back.

    Attributes:
        name: The name used as ``format=`` (``"json"``).
        encode: Turns builtins into bytes.
        decode: Turns bytes (or text) into builtins.
        suffixes: File suffixes that select this format in the file helpers.
        extra: The pip extra that installs the format's dependency, if any.
    """

    name: str
    encode: Callable[[Any], bytes]
    decode: Callable[[bytes | str], Any]
    suffixes: tuple[str, ...] = ()
    extra: str | None = None


# --------------------------------------------------------------------------- JSON

_orjson: Any = None
_orjson_checked = False
_lock = threading.Lock()


def _load_orjson() -> Any:
    global _orjson, _orjson_checked
    if not _orjson_checked:
        with _lock:
            try:
                import orjson as module
            except ImportError:
                module = None  # type: ignore[assignment]
            _orjson = module
            _orjson_checked = True
    return _orjson


def _py_float(value: float) -> str:
    """Format a float exactly as orjson does (``null`` for NaN/inf, ``1e-7`` exponents)."""
    if math.isnan(value) or math.isinf(value):
        return "null"
    text = repr(value)
    if "e-" in text:
        mantissa, exponent = text.split("e-")
        if exponent == "05":  # orjson switches to exponents below 1e-5, Python below 1e-4
            sign = "-" if mantissa.startswith("-") else ""
            text = f"{sign}0.0000{mantissa.lstrip('-').replace('.', '')}"
        else:
            text = f"{mantissa}e-{int(exponent)}"
    return text


def _py_encode(value: Any, out: list[str]) -> None:
    """A slow, exact encoder used when the stdlib output would differ from orjson's."""
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(_py_float(value))
    elif isinstance(value, Mapping):
        _py_encode_object(value, out)
    elif isinstance(value, (list, tuple)):
        _py_encode_array(value, out)
    else:
        raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


def _py_encode_object(value: Mapping[Any, Any], out: list[str]) -> None:
    out.append("{")
    first = True
    for key, item in value.items():
        if not first:
            out.append(",")
        first = False
        if not isinstance(key, str):
            raise TypeError(f"keys must be str, not {type(key).__name__}")
        out.append(json.dumps(key, ensure_ascii=False))
        out.append(":")
        _py_encode(item, out)
    out.append("}")


def _py_encode_array(value: list[Any] | tuple[Any, ...], out: list[str]) -> None:
    out.append("[")
    for index, item in enumerate(value):
        if index:
            out.append(",")
        _py_encode(item, out)
    out.append("]")


def _stdlib_json_encode(value: Any) -> bytes:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=True)
    if "NaN" in text or "Infinity" in text or "e-0" in text:
        # Rare: the fast stdlib output would differ from orjson's; redo it exactly.
        out: list[str] = []
        _py_encode(value, out)
        text = "".join(out)
    return text.encode("utf-8")


def _json_encode(value: Any) -> bytes:
    orjson = _orjson if _orjson_checked else _load_orjson()
    if orjson is not None:
        try:
            result: bytes = orjson.dumps(value)
            return result
        except TypeError as exc:
            if "64-bit" not in str(exc):
                if "Recursion limit" in str(exc):
                    raise encode_failure("json", RecursionError(), value) from None
                raise encode_failure("json", exc, value) from None
            # Integers beyond 64 bits: the stdlib writes them exactly.
    try:
        return _stdlib_json_encode(value)
    except (TypeError, ValueError, RecursionError) as exc:
        raise encode_failure("json", exc, value) from None


def _json_decode(data: bytes | str) -> Any:
    orjson = _orjson if _orjson_checked else _load_orjson()
    try:
        result = orjson.loads(data) if orjson is not None else json.loads(data)
    except json.JSONDecodeError as exc:
        if "depth limit" in exc.msg:  # orjson's own limit (1024)
            raise depth_error("json") from None
        raise decode_error("json", exc.msg, exc.lineno, exc.colno) from None
    except UnicodeDecodeError as exc:
        raise decode_error("json", f"input is not UTF-8 ({exc.reason})", None, None) from None
    except RecursionError:
        raise depth_error("json") from None
    except ValueError as exc:  # e.g. an integer longer than sys.get_int_max_str_digits()
        raise decode_error("json", str(exc), None, None) from None
    if may_be_deep(data, ("[", "{")):
        check_depth(result, "json")
    return result


def decode_error(
    fmt: str, message: str, line: int | None, column: int | None, *, source: str | None = None
) -> DecodeError:
    """Build the :class:`DecodeError` for malformed *fmt* input."""
    context: dict[str, Any] = {"format": fmt}
    if source is not None:
        context["source"] = source
    where = ""
    if line is not None:
        context["line"] = line
        context["column"] = column
        where = f" at line {line}, column {column}"
    return DecodeError(
        f"invalid {fmt.upper()}: {message}{where}",
        errors=[ErrorDetail("", message, code="syntax")],
        context=context,
        hint=f"Fix the {fmt.upper()} syntax at the position shown."
        if line is not None
        else f"Check that the input is well-formed {fmt.upper()}.",
    )


# --------------------------------------------------------------------------- TOML


def _toml_encode(value: Any) -> bytes:
    try:
        return toml_dumps(value).encode("utf-8")
    except (UnicodeEncodeError, RecursionError) as exc:
        raise encode_failure("toml", exc, value) from None


# --------------------------------------------------------------------------- msgpack


def _require(module: str, fmt: str, extra: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise FormatUnavailableError(
            f"the {fmt!r} format needs the {module!r} package, which is not installed",
            context={"format": fmt, "module": module},
            hint=f"Install it with: pip install 'pepperpy-serialization[{extra}]'",
        ) from None


def _msgpack_encode(value: Any) -> bytes:
    msgpack = _require("msgpack", "msgpack", "msgpack")
    try:
        result: bytes = msgpack.packb(value, use_bin_type=True)
    except (TypeError, ValueError, OverflowError, RecursionError) as exc:
        raise encode_failure("msgpack", exc, value) from None
    return result


def _msgpack_decode(data: bytes | str) -> Any:
    msgpack = _require("msgpack", "msgpack", "msgpack")
    if isinstance(data, str):
        raise InvalidArgumentError(
            "msgpack data must be bytes, not str",
            context={"format": "msgpack"},
            hint="Pass the bytes produced by dumps(..., format='msgpack').",
        )
    try:
        result = msgpack.unpackb(data, raw=False, strict_map_key=False)
    except (RecursionError, msgpack.StackError):
        raise depth_error("msgpack") from None
    except Exception as exc:  # msgpack raises several unrelated types
        raise decode_error("msgpack", str(exc) or type(exc).__name__, None, None) from None
    check_depth(result, "msgpack")
    return result


# --------------------------------------------------------------------------- YAML


def _yaml_encode(value: Any) -> bytes:
    yaml = _require("yaml", "yaml", "yaml")
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    try:
        text: str = yaml.dump(
            value, Dumper=dumper, allow_unicode=True, sort_keys=False, default_flow_style=False
        )
    except (yaml.YAMLError, RecursionError, UnicodeEncodeError) as exc:
        raise encode_failure("yaml", exc, value) from None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise encode_failure("yaml", exc, value) from None


def _yaml_decode(data: bytes | str) -> Any:
    yaml = _require("yaml", "yaml", "yaml")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        result = yaml.load(data, Loader=loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        message = exc.problem or exc.context or "malformed document"
        if "nesting depth" in message:  # libyaml's own limit (1000)
            raise depth_error("yaml") from None
        raise decode_error("yaml", message, line, column) from None
    except yaml.YAMLError as exc:
        raise decode_error("yaml", str(exc), None, None) from None
    except RecursionError:
        raise depth_error("yaml") from None
    except Exception as exc:  # constructors raise ValueError (!!int 0x, month 13, ...)
        raise decode_error("yaml", str(exc) or type(exc).__name__, None, None) from None
    check_depth(result, "yaml", shared=True)
    return result


# --------------------------------------------------------------------------- registry

_FORMATS: dict[str, Format] = {
    "json": Format("json", _json_encode, _json_decode, (".json",)),
    "toml": Format("toml", _toml_encode, toml_loads, (".toml",)),
    "msgpack": Format("msgpack", _msgpack_encode, _msgpack_decode, (".msgpack", ".mpk"), "msgpack"),
    "yaml": Format("yaml", _yaml_encode, _yaml_decode, (".yaml", ".yml"), "yaml"),
}


def register_format(fmt: Format, *, replace: bool = False) -> None:
    """Add a wire format usable as ``format=fmt.name`` everywhere.

    Raises:
        InvalidArgumentError: a format with that name exists and *replace* is false.
    """
    if fmt.name in _FORMATS and not replace:
        raise InvalidArgumentError(
            f"a format named {fmt.name!r} is already registered",
            context={"format": fmt.name},
            hint="Pass replace=True to override it.",
        )
    _FORMATS[fmt.name] = fmt


def get_format(name: str) -> Format:
    """Return the registered format called *name*.

    Raises:
        FormatUnavailableError: no such format.
    """
    try:
        return _FORMATS[name]
    except KeyError:
        raise FormatUnavailableError(
            f"unknown serialization format {name!r}",
            context={"format": name, "known": sorted(_FORMATS)},
            hint=f"Use one of {', '.join(sorted(_FORMATS))}, or register_format() your own.",
        ) from None


def available_formats() -> list[str]:
    """The names of every registered format (installed or not)."""
    return sorted(_FORMATS)


def format_for_path(path: str) -> Format:
    """Pick the format whose suffix matches *path* (``.json``, ``.toml``, ``.yml`` ...).

    Raises:
        FormatUnavailableError: no format claims the suffix.
    """
    lowered = path.lower()
    for fmt in _FORMATS.values():
        if any(lowered.endswith(suffix) for suffix in fmt.suffixes):
            return fmt
    raise FormatUnavailableError(
        f"cannot tell the format of {path!r} from its suffix",
        context={"path": path},
        hint="Pass format='json' (or toml, yaml, msgpack) explicitly.",
    )
