"""Turning slice values into JSON-like data for persistence, and back."""

from __future__ import annotations

import enum
import importlib
import types
import typing
from collections.abc import Mapping
from typing import Any

import attrs

from pepperpy.core.exceptions import InvalidArgumentError, ValidationError, safe_repr

__all__ = ["decode", "encode"]

_SCALARS = (type(None), bool, int, float, str)
_UnionType: Any = getattr(types, "UnionType", None)  # X | Y on Python 3.10+


def _serialization() -> Any:
    # pepperpy-serialization arrives with the 'storage' extra (storage depends on it);
    # without it attrs values fall back to attrs.asdict / the class constructor.
    try:
        return importlib.import_module("pepperpy.serialization")
    except ImportError:
        return None


def encode(value: Any, *, where: str = "") -> Any:
    """Return *value* as JSON-like builtins (attrs instances are unstructured).

    Raises:
        InvalidArgumentError: The value cannot be represented as JSON.
    """
    if isinstance(value, _SCALARS):
        if isinstance(value, float) and value != value:
            raise _not_json(value, where, "NaN cannot be persisted")
        return value
    if isinstance(value, (list, tuple)):
        return [encode(v, where=f"{where}/{i}") for i, v in enumerate(value)]
    if isinstance(value, (set, frozenset)):
        items = list(value)
        try:
            items.sort()  # a stable order for equal sets
        except TypeError:
            pass
        return [encode(v, where=f"{where}/{i}") for i, v in enumerate(items)]
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise _not_json(value, where, f"mapping key {safe_repr(k)} is not a string")
            out[k] = encode(v, where=f"{where}/{k}")
        return out
    if isinstance(value, enum.Enum):
        return encode(value.value, where=where)
    if attrs.has(type(value)):
        serialization = _serialization()
        if serialization is not None:
            return encode(serialization.unstructure(value), where=where)
        return encode(attrs.asdict(value, recurse=False), where=where)
    raise _not_json(value, where, f"{type(value).__name__} is not JSON-like")


def _not_json(value: Any, where: str, why: str) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"state value at {where or '/'} cannot be persisted: {why}",
        code="pepperpy.state.not_json",
        context={"path": where or "/", "value": safe_repr(value)},
        hint="Use JSON-like values (dict, list, str, int, float, bool, None) or attrs classes.",
    )


def decode(data: Any, type_: Any) -> Any:
    """Rebuild a value of *type_* from JSON-like *data* (``None`` type: as is).

    Uses pepperpy-serialization when it is installed; otherwise a built-in
    structurer handles attrs classes, enums, tuples, lists, sets, dicts and
    optionals.

    Raises:
        ValidationError: *data* does not fit *type_*.
    """
    if type_ is None or type_ is Any:
        return data
    serialization = _serialization()
    if serialization is not None:
        return serialization.structure(data, type_)
    try:
        return _structure(data, type_)
    except (TypeError, ValueError, KeyError) as exc:
        name = getattr(type_, "__name__", repr(type_))
        raise ValidationError(
            f"stored state does not fit {name}: {exc}",
            code="pepperpy.state.invalid_stored_value",
            hint="Install pepperpy-serialization for full structuring, or migrate the stored "
            "value.",
        ) from exc


def _structure(data: Any, tp: Any) -> Any:
    if tp is Any or tp is object or tp is None:
        return data
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Union or (_UnionType is not None and isinstance(tp, _UnionType)):
        if data is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        return _structure(data, options[0]) if len(options) == 1 else data
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(data)
    if isinstance(tp, type) and attrs.has(tp):
        if not isinstance(data, Mapping):
            raise TypeError(f"expected a mapping for {tp.__name__}, got {type(data).__name__}")
        try:
            attrs.resolve_types(tp)
        except NameError:  # a type defined in a local scope: use the raw annotations
            pass
        kwargs = {}
        for field in attrs.fields(tp):
            if field.name in data and field.init:
                ftype = field.type if not isinstance(field.type, str) else Any
                kwargs[field.alias] = _structure(data[field.name], ftype)
        return tp(**kwargs)
    if origin is tuple or tp is tuple:
        if args and args[-1] is not Ellipsis:
            return tuple(_structure(v, a) for v, a in zip(data, args, strict=True))
        return tuple(_structure(v, args[0] if args else Any) for v in data)
    if origin in (list, set, frozenset) or tp in (list, set, frozenset):
        kind = origin or tp
        return kind(_structure(v, args[0] if args else Any) for v in data)
    if origin is dict:
        return {k: _structure(v, args[1] if len(args) > 1 else Any) for k, v in data.items()}
    return data
