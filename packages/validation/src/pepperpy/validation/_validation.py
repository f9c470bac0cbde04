"""The seed's ``Validation`` facade.

``Validation.create_schema({...})`` and ``await validator.validate(data)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, overload

from pepperpy.serialization import MAX_DEPTH
from pepperpy.validation._errors import SchemaError, ValidationError, Violation
from pepperpy.validation._messages import DEFAULT_CATALOG, Messages
from pepperpy.validation._schema import CrossCheck, Extra, Schema, _pointer

__all__ = ["Validation"]

T = TypeVar("T")


class Validation:
    """Entry point for validation, in the shapes the PepperPy seed uses.

    * ``Validation.create_schema({"name": str, "age": int, "email": "email"})``
      returns a :class:`Schema`; its ``validate`` is sync and returns the
      cleaned value, so ``schema.validate`` is a pipeline step as it is.
    * ``Validation(schema)`` (or ``Validation()``) is a validator object whose
      ``await validator.validate(data)`` is **async**, as in the seed's secure
      endpoint; it runs async rules too. Without a schema it checks that the
      data is plain JSON (string keys, finite numbers, at most *max_depth*
      levels) and returns a copy.

    Args:
        schema: A :class:`Schema`, a dict spec, or an attrs class.
        coerce: Coercing mode for specs and classes given here.
        extra: What to do with unknown keys (``"ignore"``, ``"forbid"``, ``"keep"``).
        messages: A :class:`Messages` catalog or a mapping of templates by code.
        max_depth: Nesting limit for the schema-less JSON check (1 to
            :data:`pepperpy.serialization.MAX_DEPTH`).
    """

    __slots__ = ("max_depth", "messages", "schema")

    def __init__(
        self,
        schema: Schema[Any] | Mapping[str, Any] | type | None = None,
        *,
        coerce: bool = False,
        extra: Extra = "ignore",
        messages: Messages | Mapping[str, str] | None = None,
        max_depth: int = 32,
    ) -> None:
        catalog = (
            messages
            if isinstance(messages, Messages)
            else (DEFAULT_CATALOG if messages is None else Messages(messages))
        )
        self.messages = catalog
        if not 0 < max_depth <= MAX_DEPTH:
            raise SchemaError(
                f"max_depth must be between 1 and {MAX_DEPTH}, got {max_depth!r}",
                context={"max_depth": max_depth},
                hint=f"The decoders refuse data nested deeper than {MAX_DEPTH} levels anyway.",
            )
        self.max_depth = max_depth
        self.schema: Schema[Any] | None
        if schema is None or isinstance(schema, Schema):
            self.schema = schema
        elif isinstance(schema, Mapping):
            self.schema = Schema.from_spec(schema, coerce=coerce, extra=extra, messages=catalog)
        else:
            self.schema = Schema.from_class(schema, coerce=coerce, extra=extra, messages=catalog)

    @overload
    @staticmethod
    def create_schema(
        spec: type[T],
        *,
        name: str | None = ...,
        coerce: bool = ...,
        extra: Extra = ...,
        messages: Messages | Mapping[str, str] | None = ...,
        checks: Iterable[CrossCheck | Callable[[Any], Any]] = ...,
    ) -> Schema[T]: ...

    @overload
    @staticmethod
    def create_schema(
        spec: Mapping[str, Any],
        *,
        name: str | None = ...,
        coerce: bool = ...,
        extra: Extra = ...,
        messages: Messages | Mapping[str, str] | None = ...,
        checks: Iterable[CrossCheck | Callable[[Any], Any]] = ...,
    ) -> Schema[dict[str, Any]]: ...

    @staticmethod
    def create_schema(
        spec: Mapping[str, Any] | type,
        *,
        name: str | None = None,
        coerce: bool = False,
        extra: Extra = "ignore",
        messages: Messages | Mapping[str, str] | None = None,
        checks: Iterable[CrossCheck | Callable[[Any], Any]] = (),
    ) -> Schema[Any]:
        """Compile a dict spec or an attrs class into a :class:`Schema`.

        See :meth:`Schema.from_spec` for what a dict spec may contain.

        Raises:
            SchemaError: the spec is malformed.
        """
        if isinstance(spec, Mapping):
            return Schema.from_spec(
                spec,
                name=name or "Schema",
                coerce=coerce,
                extra=extra,
                messages=messages,
                checks=checks,
            )
        return Schema.from_class(spec, coerce=coerce, extra=extra, messages=messages, checks=checks)

    async def validate(self, data: Any, schema: Schema[T] | None = None) -> Any:
        """Validate *data* with *schema* (or this validator's), async rules included.

        Raises:
            ValidationError: every problem found.
        """
        target = schema or self.schema
        if target is not None:
            return await target.avalidate(data)
        return self.check_json(data)

    def validate_sync(self, data: Any, schema: Schema[T] | None = None) -> Any:
        """The sync twin of :meth:`validate` (sync rules only)."""
        target = schema or self.schema
        if target is not None:
            return target.validate(data)
        return self.check_json(data)

    def check_json(self, data: Any) -> Any:
        """Check that *data* is plain JSON data and return a copy of it.

        Raises:
            ValidationError: non-string keys, NaN/infinity, other types, or
                deeper nesting than ``max_depth``, each at its path.
        """
        out: list[Violation] = []
        copy = _json_copy(data, "", 0, self.max_depth, out)
        if out:
            count = len(out)
            raise ValidationError(
                f"{count} validation error{'s' if count != 1 else ''}",
                violations=out,
                messages=self.messages,
                hint="Send plain JSON data.",
            )
        return copy

    def __repr__(self) -> str:
        return f"Validation(schema={self.schema!r})"


def _json_copy(value: Any, path: str, depth: int, limit: int, out: list[Violation]) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        out.append(Violation(path, "not_json", None, value))
        return None
    if depth >= limit and isinstance(value, (Mapping, list, tuple)):
        out.append(Violation(path, "depth", {"max_depth": limit}, "..."))
        return None
    if isinstance(value, Mapping):
        result: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                out.append(Violation(f"{path}/{key}", "not_json", None, key))
                continue
            result[key] = _json_copy(item, path + _pointer(key), depth + 1, limit, out)
        return result
    if isinstance(value, (list, tuple)):
        return [
            _json_copy(item, f"{path}/{index}", depth + 1, limit, out)
            for index, item in enumerate(value)
        ]
    out.append(Violation(path, "not_json", None, value))
    return None
