"""Paths into state: ``"user.address.city"``, ``"cart.items.0.sku"``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from pepperpy.core.exceptions import InvalidArgumentError, safe_repr
from pepperpy.core.types import MISSING

__all__ = ["parse_path", "resolve"]


def parse_path(path: str) -> tuple[str, tuple[str, ...]]:
    """Split *path* into the slice name and the segments inside it.

    Raises:
        InvalidArgumentError: The path is empty or has an empty segment.
    """
    if not isinstance(path, str) or not path:
        raise InvalidArgumentError(
            f"a state path must be a non-empty string, got {safe_repr(path)}",
            code="pepperpy.state.invalid_path",
            hint="Use a slice name, optionally followed by dotted segments: 'user.address.city'.",
        )
    parts = path.split(".")
    if any(not part for part in parts):
        raise InvalidArgumentError(
            f"state path {path!r} has an empty segment",
            code="pepperpy.state.invalid_path",
            context={"path": path},
            hint="Separate segments with single dots, e.g. 'cart.items.0.sku'.",
        )
    return parts[0], tuple(parts[1:])


def resolve(value: Any, segments: tuple[str, ...]) -> Any:
    """Follow *segments* into *value* (mappings, sequences by index, attributes).

    Returns :data:`~pepperpy.core.MISSING` when a segment does not exist.
    """
    for segment in segments:
        if isinstance(value, Mapping):
            value = value.get(segment, MISSING)
        elif isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
            try:
                value = value[int(segment)]
            except (ValueError, IndexError):
                return MISSING
        elif attrs.has(type(value)) or hasattr(value, "__dict__") or hasattr(value, segment):
            value = getattr(value, segment, MISSING)
        else:
            return MISSING
        if value is MISSING:
            return MISSING
    return value
