"""Turning slice values into JSON-like data for persistence, and back.

One structuring path: pepperpy-serialization's converter (a dependency of
pepperpy-state) unstructures rich values (attrs classes, enums, datetimes ...)
and structures stored data back into the slice's type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pepperpy import serialization
from pepperpy.core.exceptions import InvalidArgumentError, safe_repr

__all__ = ["decode", "encode"]

_SCALARS = (type(None), bool, int, float, str)


def encode(value: Any, *, where: str = "") -> Any:
    """Return *value* as JSON-like builtins (rich values through pepperpy-serialization).

    Raises:
        InvalidArgumentError: The value cannot be represented as JSON (the
            context names the path of the offending part).
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
    try:
        data = serialization.unstructure(value)
    except (InvalidArgumentError, TypeError) as exc:
        raise _not_json(value, where, f"{type(value).__name__} is not JSON-like ({exc})") from None
    if data is value or type(data) is type(value):
        raise _not_json(value, where, f"{type(value).__name__} is not JSON-like")
    return encode(data, where=where)


def _not_json(value: Any, where: str, why: str) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"state value at {where or '/'} cannot be persisted: {why}",
        code="pepperpy.state.not_json",
        context={"path": where or "/", "value": safe_repr(value)},
        hint="Use JSON-like values (dict, list, str, int, float, bool, None), attrs classes, "
        "or types pepperpy-serialization knows.",
    )


def decode(data: Any, type_: Any) -> Any:
    """Rebuild a value of *type_* from JSON-like *data* (``None`` type: as is).

    Raises:
        ValidationError: *data* does not fit *type_* (pepperpy-serialization's
            ``StructureError``, listing every problem with its path).
    """
    if type_ is None or type_ is Any:
        return data
    return serialization.structure(data, type_)
