"""Turning slice values into JSON-like data for persistence, and back."""

from __future__ import annotations

import enum
import importlib
from collections.abc import Mapping
from typing import Any

import attrs

from pepperpy.core.exceptions import InvalidArgumentError, ValidationError, safe_repr

__all__ = ["decode", "encode"]

_SCALARS = (type(None), bool, int, float, str)


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

    Raises:
        ValidationError: *data* does not fit *type_*.
    """
    if type_ is None or type_ is Any:
        return data
    serialization = _serialization()
    if serialization is not None:
        return serialization.structure(data, type_)
    if attrs.has(type_) and isinstance(data, Mapping):
        try:
            return type_(**data)
        except TypeError as exc:
            raise ValidationError(
                f"stored state does not fit {type_.__name__}: {exc}",
                code="pepperpy.state.invalid_stored_value",
            ) from exc
    return data
