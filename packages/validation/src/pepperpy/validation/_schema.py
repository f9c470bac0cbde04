"""Schemas: compiled validators for dict specs and attrs classes."""

from __future__ import annotations

import enum
import math
import re
import threading
import types
import weakref
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import (
    Annotated,
    Any,
    Generic,
    Literal,
    TypeVar,
    Union,
    cast,
    get_args,
    get_origin,
    overload,
)

from pepperpy.core.exceptions import ErrorDetail, InvalidArgumentError
from pepperpy.serialization import MAX_DEPTH
from pepperpy.validation._errors import NO_VALUE, Quoted, SchemaError, ValidationError, Violation
from pepperpy.validation._messages import DEFAULT_CATALOG, Messages
from pepperpy.validation._rules import FORMATS, Rule, RuleLike, _Guarded, as_rule
from pepperpy.validation._sanitize import SanitizerLike, as_sanitizer, compose

__all__ = ["META_KEY", "CrossCheck", "Field", "Schema", "constraints", "cross_field"]

T = TypeVar("T")

META_KEY = "pepperpy.validation"
"""The ``attrs.field(metadata=...)`` key holding rules (see :func:`constraints`)."""

Extra = Literal["ignore", "forbid", "keep"]

_ABSENT: Any = object()
# Class schemas being compiled in this thread (recursive classes refer to them).
_BUILDING = threading.local()
# Compiled class schemas (default messages, no checks): compiled once per class.
_CLASS_CACHE: weakref.WeakKeyDictionary[type, dict[tuple[bool, str], Schema[Any]]] = (
    weakref.WeakKeyDictionary()
)
_ATTR_NAME = re.compile(r"^'([A-Za-z_][A-Za-z0-9_]*)'")
_FAIL: Any = object()


class _Redacted:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<redacted>"


_REDACTED = _Redacted()


def _escape_template(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _pointer(key: str) -> str:
    return "/" + key.replace("~", "~0").replace("/", "~1")


class _Fallback(Exception):
    """Raised by a compiled fast path: leave it to the full (error-collecting) pass."""


class _Bad(Exception):
    """Raised by the scalar converters: wrong type."""

    def __init__(self, expected: str) -> None:
        self.expected = expected


# --------------------------------------------------------------------------- field specs


class Field:
    """One field of a schema: its type, rules, sanitizers and presence.

    Args:
        type_: The expected type: ``str``, ``int``, ``float``, ``bool``, any type
            :mod:`pepperpy.serialization` can structure (``datetime``, ``UUID``,
            ``list[int]``, enums, attrs classes ...), a nested dict spec, a
            format name (``"email"``), or ``Any``.
        *rules: Rules checked in order on the converted value (built-ins such
            as ``email()``, ``length(max=80)``, or plain callables).
        required: Whether the key must be present; ``False`` when a default
            is given.
        default: The value used when the key is absent.
        default_factory: Called to make the default (for mutable defaults).
        nullable: Whether ``None`` is accepted.
        sanitize: Sanitizers applied, in order, to a string before anything
            else (names such as ``"strip"`` or functions ``str -> str``).
        alias: The key read from the input (defaults to the field name).
        secret: Never quote this field's value in error messages.
        description: Free text, for documentation.
    """

    __slots__ = (
        "alias",
        "default",
        "default_factory",
        "description",
        "nullable",
        "required",
        "rules",
        "sanitize",
        "secret",
        "type_",
    )

    def __init__(
        self,
        type_: Any = Any,
        *rules: RuleLike,
        required: bool | None = None,
        default: Any = _ABSENT,
        default_factory: Callable[[], Any] | None = None,
        nullable: bool = False,
        sanitize: Iterable[SanitizerLike] = (),
        alias: str | None = None,
        secret: bool = False,
        description: str | None = None,
    ) -> None:
        if default is not _ABSENT and default_factory is not None:
            raise SchemaError("give default= or default_factory=, not both")
        has_default = default is not _ABSENT or default_factory is not None
        self.type_ = type_
        self.rules = [as_rule(r) for r in rules]
        self.required = (not has_default) if required is None else required
        self.default = default
        self.default_factory = default_factory
        self.nullable = nullable
        self.sanitize = [as_sanitizer(s) for s in sanitize]
        self.alias = alias
        self.secret = secret
        self.description = description

    def __repr__(self) -> str:
        return f"Field({_type_label(self.type_)}, rules={self.rules!r}, required={self.required})"


def constraints(
    *rules: RuleLike,
    sanitize: Iterable[SanitizerLike] = (),
    alias: str | None = None,
    secret: bool = False,
) -> dict[str, Any]:
    """``attrs.field(metadata=...)`` carrying validation rules for an attrs schema.

    Example::

        @attrs.define
        class SignUp:
            email: str = attrs.field(metadata=constraints(email(), sanitize=["strip", "lower"]))
    """
    return {
        META_KEY: {
            "rules": [as_rule(r) for r in rules],
            "sanitize": [as_sanitizer(s) for s in sanitize],
            "alias": alias,
            "secret": secret,
        }
    }


class CrossCheck:
    """A rule over the whole validated object (after every field passed).

    Args:
        fn: ``cleaned -> bool | str | None`` (sync or async); ``False`` or a
            message fails, like a :class:`Rule`.
        path: Where the error is reported (``"/end"``); the object itself by default.
        code: The error code.
        message: The message template.
    """

    __slots__ = ("path", "rule")

    def __init__(
        self,
        fn: Callable[[Any], Any],
        *,
        path: str = "",
        code: str = "cross_field",
        message: str | None = None,
    ) -> None:
        if path and not path.startswith("/"):
            path = "/" + path
        self.path = path
        self.rule = Rule(fn, code=code, message=message)


def cross_field(
    fn: Callable[[Any], Any],
    *,
    path: str = "",
    code: str = "cross_field",
    message: str | None = None,
) -> CrossCheck:
    """A check across several fields of one object, reported at *path*.

    Example: ``cross_field(lambda d: d["end"] > d["start"], path="end")``.
    """
    return CrossCheck(fn, path=path, code=code, message=message)


# --------------------------------------------------------------------------- scalar converters


def _strict_str(value: Any) -> Any:
    if type(value) is str:
        return value
    if isinstance(value, str):  # a (str, Enum) member: its text, not str(member)
        return str.__str__(value)
    raise _Bad("string")


def _coerce_str(value: Any) -> Any:
    if isinstance(value, str):
        return _strict_str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int.__repr__(value)  # str(IntEnum member) is "Level.LOW" on 3.10
    if isinstance(value, float):
        return float.__repr__(value)
    raise _Bad("string")


def _strict_int(value: Any) -> Any:
    if type(value) is int:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    raise _Bad("integer")


def _coerce_int(value: Any) -> Any:
    if isinstance(value, bool):
        raise _Bad("integer")
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise _Bad("integer")


def _strict_float(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            result = float(value)
        except OverflowError:  # an int beyond 1.8e308 (json.loads("1" + "0" * 400))
            raise _Bad("number") from None
        if math.isfinite(result):
            return result
    raise _Bad("number")


def _coerce_float(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise _Bad("number") from None
    return _strict_float(value)


def _strict_bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    raise _Bad("boolean")


_TRUE = frozenset({"true", "1", "yes", "on", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "off", "n", "f"})


def _coerce_bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    raise _Bad("boolean")


_SCALARS: dict[Any, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    str: (_strict_str, _coerce_str),
    int: (_strict_int, _coerce_int),
    float: (_strict_float, _coerce_float),
    bool: (_strict_bool, _coerce_bool),
}


def _type_label(tp: Any) -> str:
    if isinstance(tp, type):
        return tp.__name__
    return repr(tp).replace("typing.", "")


def _is_optional(tp: Any) -> tuple[bool, Any]:
    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        args = get_args(tp)
        if type(None) in args:
            rest = [a for a in args if a is not type(None)]
            inner = rest[0] if len(rest) == 1 else Union[tuple(rest)]
            return True, inner
    return False, tp


# --------------------------------------------------------------------------- plans


class _Plan:
    """A compiled field: everything the hot loop needs, precomputed."""

    __slots__ = (
        "async_rules",
        "convert",
        "default",
        "default_factory",
        "description",
        "key",
        "name",
        "nested",
        "nullable",
        "pointer",
        "required",
        "rules",
        "sanitize",
        "secret",
        "type_",
    )

    def __init__(self) -> None:
        self.type_: Any = Any
        self.description: str | None = None
        self.key = ""
        self.name = ""
        self.pointer = ""
        self.required = True
        self.default: Any = _ABSENT
        self.default_factory: Callable[[], Any] | None = None
        self.nullable = False
        self.sanitize: Callable[[Any], Any] | None = None
        self.convert: Callable[..., Any] | None = None
        self.nested = False
        self.rules: tuple[Rule, ...] = ()
        self.async_rules: tuple[Rule, ...] = ()
        self.secret = False


class _Ctx:
    """What one validation run collects: violations, async work, deferred checks."""

    __slots__ = ("deferred", "depth", "out", "partial", "pending")

    def __init__(self, *, defer: bool, partial: bool = False) -> None:
        self.depth = 0
        self.partial = partial
        self.out: list[Violation] = []
        self.pending: list[tuple[str, Rule, Any, bool | None]] = []
        self.deferred: list[tuple[str, CrossCheck, Any]] | None = [] if defer else None


class Schema(Generic[T]):
    """A compiled validator; :meth:`validate` returns the typed, cleaned value.

    Build one with :meth:`Validation.create_schema` (dict specs, as the seed
    writes them), :meth:`Schema.from_spec` or :meth:`Schema.from_class`
    (attrs classes, rules in ``attrs.field(metadata=constraints(...))``).

    * ``validate(data)`` is **sync** and returns the value (or raises
      :class:`ValidationError` listing every problem), so ``schema.validate``
      is directly usable as a pipeline step and ``schema(data)`` works too.
    * ``await avalidate(data)`` also runs async rules (e.g. a uniqueness
      lookup); ``validate`` refuses a schema that has async rules rather than
      skip them silently.

    Args:
        coerce: Accept ``"42"`` for ``int``, ``"true"`` for ``bool``, numbers
            for ``str`` (coercing mode); strict typing by default.
        extra: Unknown keys are ``"ignore"``-d (dropped), ``"forbid"``-den
            (errors) or ``"keep"``-t as they are.
        messages: A :class:`Messages` catalog or a mapping of templates by code.
        checks: Cross-field checks (:func:`cross_field`), run once every field passed.
    """

    def __init__(
        self,
        *,
        name: str = "Schema",
        coerce: bool = False,
        extra: Extra = "ignore",
        messages: Messages | Mapping[str, str] | None = None,
        checks: Iterable[CrossCheck | Callable[[Any], Any]] = (),
    ) -> None:
        if extra not in ("ignore", "forbid", "keep"):
            raise SchemaError(
                f"extra must be 'ignore', 'forbid' or 'keep', got {extra!r}",
                context={"extra": repr(extra)},
            )
        self.name = name
        self.coerce = coerce
        self.extra: Extra = extra
        if messages is None:
            self.messages = DEFAULT_CATALOG
        elif isinstance(messages, Messages):
            self.messages = messages
        else:
            self.messages = Messages(messages)
        self.checks = [c if isinstance(c, CrossCheck) else CrossCheck(c) for c in checks]
        self._plans: list[_Plan] = []
        self._keys: frozenset[str] = frozenset()
        self._key_of: dict[str, str] = {}
        self._factory: Callable[[dict[str, Any]], Any] | None = None
        self._converter: Any = None
        self._has_async = False
        self._fast: Callable[[Any], Any] | None = None
        self._target: type | None = None  # the class of a from_class schema

    # ------------------------------------------------------------------ builders

    @classmethod
    def from_spec(
        cls,
        spec: Mapping[str, Any],
        *,
        name: str = "Schema",
        coerce: bool = False,
        extra: Extra = "ignore",
        messages: Messages | Mapping[str, str] | None = None,
        checks: Iterable[CrossCheck | Callable[[Any], Any]] = (),
    ) -> Schema[dict[str, Any]]:
        """Compile a dict spec: ``{"name": str, "age": int, "email": "email"}``.

        Each value may be a type, a format name (``"email"``, ``"url"``,
        ``"uuid"``, ``"ip"``, ``"slug"``, ``"datetime"`` ...), a tuple
        ``(type_or_format, *rules)``, a :class:`Field`, a nested dict spec, a
        one-item list ``[item_spec]``, or another :class:`Schema`.
        ``X | None`` means "may be null or absent (default ``None``)".

        Raises:
            SchemaError: the spec is malformed (unknown format name ...).
        """
        if not isinstance(spec, Mapping):
            raise SchemaError(
                f"a schema spec must be a mapping of field names, got {type(spec).__name__}",
                hint='Write it like {"name": str, "age": int, "email": "email"}.',
            )
        schema: Schema[dict[str, Any]] = Schema(
            name=name, coerce=coerce, extra=extra, messages=messages, checks=checks
        )
        for field_name, field_spec in spec.items():
            if not isinstance(field_name, str):
                raise SchemaError(
                    f"field names must be strings, got {field_name!r}",
                    context={"field": repr(field_name)},
                )
            schema._add(field_name, _as_field(field_name, field_spec))
        schema._finish()
        return schema

    @classmethod
    def from_class(
        cls,
        target: type[T],
        *,
        coerce: bool = False,
        extra: Extra = "ignore",
        messages: Messages | Mapping[str, str] | None = None,
        checks: Iterable[CrossCheck | Callable[[Any], Any]] = (),
    ) -> Schema[T]:
        """Compile an attrs class (or dataclass); ``validate`` returns an instance.

        Field types, defaults and ``attrs.field(metadata=constraints(...))``
        rules are read from the class; nested attrs classes become nested
        schemas, so their rules apply too. attrs validators still run in
        ``__init__``; their failures are reported at the field's path.
        """
        if messages is DEFAULT_CATALOG:
            messages = None
        cacheable = messages is None and not checks and _is_record_type(target)
        if cacheable:
            cached = _CLASS_CACHE.get(target, {}).get((coerce, extra))
            if cached is not None:
                return cast("Schema[T]", cached)
        if not _is_record_type(target):
            raise SchemaError(
                f"{_type_label(target)} is not an attrs class or a dataclass",
                hint="Decorate it with @attrs.define, or use a dict spec.",
            )
        key = (target, coerce, extra, id(messages))
        building = _BUILDING.__dict__.setdefault("schemas", {})
        if key in building:  # a recursive class: refer to the schema being built
            return cast("Schema[T]", building[key])
        schema: Schema[T] = Schema(
            name=target.__name__, coerce=coerce, extra=extra, messages=messages, checks=checks
        )

        def build(values: dict[str, Any]) -> Any:
            return target(**values)

        schema._factory = build
        schema._target = target
        building[key] = schema
        try:
            for name, tp, default, factory, meta, init_name in _class_fields(target):
                options = meta.get(META_KEY) or {}
                field = Field(
                    tp,
                    *options.get("rules", ()),
                    default=default,
                    default_factory=factory,
                    sanitize=options.get("sanitize", ()),
                    alias=options.get("alias"),
                    secret=options.get("secret", False),
                )
                schema._add(name, field, output=init_name)
            schema._finish()
        finally:
            del building[key]
        if cacheable:
            try:
                _CLASS_CACHE.setdefault(target, {})[(coerce, extra)] = schema
            except TypeError:  # not weak-referenceable: just do not cache
                pass
        return schema

    def _add(self, name: str, field: Field, *, output: str | None = None) -> None:
        plan = _Plan()
        plan.name = output or name
        plan.key = field.alias or name
        plan.pointer = _pointer(plan.key)
        optional, inner = _is_optional(field.type_)
        plan.nullable = field.nullable or optional
        plan.required = field.required
        plan.default = field.default
        plan.default_factory = field.default_factory
        if optional and field.default is _ABSENT and field.default_factory is None:
            plan.required = False
            plan.default = None
        rules = list(field.rules)
        tp = inner
        if get_origin(tp) is Annotated:
            # Annotated[int, range_(min=0)]: rules in the metadata apply too.
            base, *metadata = get_args(tp)
            rules = [m for m in metadata if isinstance(m, Rule)] + rules
            optional, base = _is_optional(base)
            plan.nullable = plan.nullable or optional
            tp = base
        if isinstance(tp, str):
            format_rule = _format_rule(name, tp)
            rules.insert(0, format_rule)
            tp = str
        plan.type_ = tp
        plan.description = field.description
        plan.convert, plan.nested = self._converter_for(name, tp)
        plan.sanitize = compose(field.sanitize)
        plan.rules = tuple(r for r in rules if not r.is_async)
        plan.async_rules = tuple(r for r in rules if r.is_async)
        plan.secret = field.secret
        if plan.async_rules:
            self._has_async = True
        self._plans.append(plan)

    def _finish(self) -> None:
        self._keys = frozenset(p.key for p in self._plans)
        self._key_of = {p.name: p.key for p in self._plans}
        if any(c.rule.is_async for c in self.checks):
            self._has_async = True
        for plan in self._plans:
            nested = getattr(plan.convert, "__self__", None)
            if isinstance(nested, Schema) and nested._has_async:
                self._has_async = True
            sub = getattr(plan.convert, "schema", None)
            if isinstance(sub, Schema) and sub._has_async:
                self._has_async = True

    def _converter_for(self, name: str, tp: Any) -> tuple[Callable[..., Any] | None, bool]:
        if tp is Any or tp is object:
            return None, False
        scalar = _SCALARS.get(tp) if isinstance(tp, type) else None
        if scalar is not None:
            return scalar[1] if self.coerce else scalar[0], False
        if isinstance(tp, Schema):
            return tp._run, True
        if isinstance(tp, Mapping):
            sub = Schema.from_spec(
                tp, name=name, coerce=self.coerce, extra=self.extra, messages=self.messages
            )
            return sub._run, True
        if isinstance(tp, list):
            if len(tp) != 1:
                raise SchemaError(
                    f"field {name!r}: a list spec has exactly one item spec, got {len(tp)}",
                    context={"field": name},
                    hint='Write [str] or [{"sku": str}] for a list of those.',
                )
            item = _as_field(name, tp[0])
            return self._list_converter(name, item), True
        origin = get_origin(tp)
        if origin in (list, Sequence) and len(get_args(tp)) == 1:
            item_tp = get_args(tp)[0]
            if _is_record_type(item_tp):
                return self._list_converter(name, Field(item_tp)), True
        if _is_record_type(tp):
            sub_schema = Schema.from_class(
                tp, coerce=self.coerce, extra=self.extra, messages=self.messages
            )
            return sub_schema._run, True
        return self._structure_converter(tp), True

    def _list_converter(self, name: str, item: Field) -> Callable[..., Any]:
        holder: Schema[dict[str, Any]] = Schema(
            name=name, coerce=self.coerce, extra=self.extra, messages=self.messages
        )
        holder._add("item", item)
        holder._finish()
        plan = holder._plans[0]

        def convert_list(value: Any, path: str, ctx: _Ctx) -> Any:
            if not isinstance(value, (list, tuple)):
                ctx.out.append(Violation(path, "type", {"expected": "array"}, value))
                return _FAIL
            if ctx.depth >= MAX_DEPTH:
                ctx.out.append(Violation(path, "depth", {"max_depth": MAX_DEPTH}, NO_VALUE))
                return _FAIL
            ctx.depth += 1
            try:
                return convert_items(value, path, ctx)
            finally:
                ctx.depth -= 1

        def convert_items(value: Any, path: str, ctx: _Ctx) -> Any:
            result = []
            failed = False
            for index, item_value in enumerate(value):
                converted = holder._field(plan, item_value, f"{path}/{index}", ctx)
                if converted is _FAIL:
                    failed = True
                else:
                    result.append(converted)
            return _FAIL if failed else result

        convert_list.schema = holder  # type: ignore[attr-defined]
        return convert_list

    def _structure_converter(self, tp: Any) -> Callable[..., Any]:
        from pepperpy.serialization import Converter, StructureError

        converter = Converter(coerce=self.coerce)

        def convert(value: Any, path: str, ctx: _Ctx) -> Any:
            out = ctx.out
            try:
                return converter.structure(value, tp)
            except StructureError as error:
                for detail in error.errors:
                    code = detail.code if detail.code in ("type", "missing") else "invalid"
                    params: dict[str, Any] | None = (
                        {"expected": detail.expected} if detail.expected else None
                    )
                    template = (
                        None if code in ("type", "missing") else _escape_template(detail.message)
                    )
                    if code == "type" and detail.expected and detail.expected.startswith("one of"):
                        code, template = "one_of", None
                        params = {"choices": _enum_choices(tp, detail.expected)}
                    shown = NO_VALUE if detail.value is None else Quoted(detail.value)
                    out.append(Violation(path + detail.path, code, params, shown, template))
                return _FAIL

        # Fail at schema build time, not at the first call, for unknown types.
        try:
            converter._structure_hook(tp)
        except InvalidArgumentError as exc:
            raise SchemaError(
                f"cannot validate values of type {_type_label(tp)}: {exc.message}",
                context={"type": _type_label(tp)},
                hint=exc.hint,
            ) from None
        return convert

    # ------------------------------------------------------------------ running

    def _field(self, plan: _Plan, raw: Any, path: str, ctx: _Ctx) -> Any:
        if raw is None:
            if plan.nullable:
                return None
            ctx.out.append(Violation(path, "null", None, None))
            return _FAIL
        if plan.sanitize is not None:
            raw = plan.sanitize(raw)
        value = self._convert(plan, raw, path, ctx)
        if value is _FAIL:
            return _FAIL
        ok = True
        for rule in plan.rules:
            applies = rule.applies_to
            if applies is not None and not isinstance(value, applies):
                continue
            if not _apply(rule, value, path, ctx.out, plan.secret):
                ok = False
        if ok and plan.async_rules:
            for rule in plan.async_rules:
                applies = rule.applies_to
                if applies is None or isinstance(value, applies):
                    ctx.pending.append((path, rule, value, plan.secret))
        return value if ok else _FAIL

    @staticmethod
    def _convert(plan: _Plan, raw: Any, path: str, ctx: _Ctx) -> Any:
        """The field's value converted to its type (``_FAIL`` with a violation if it is not)."""
        convert = plan.convert
        if convert is None:
            return raw
        if plan.nested:
            return convert(raw, path, ctx)
        try:
            return convert(raw)
        except _Bad as bad:
            shown = _REDACTED if plan.secret else raw
            ctx.out.append(Violation(path, "type", {"expected": bad.expected}, shown))
            return _FAIL

    def _run(self, data: Any, path: str, ctx: _Ctx) -> Any:
        out = ctx.out
        if type(data) is not dict and not isinstance(data, Mapping):
            out.append(Violation(path, "type", {"expected": "object"}, data))
            return _FAIL
        if ctx.depth >= MAX_DEPTH:  # a recursive schema fed data nested without bound
            out.append(Violation(path, "depth", {"max_depth": MAX_DEPTH}, NO_VALUE))
            return _FAIL
        ctx.depth += 1
        try:
            return self._run_object(data, path, ctx)
        finally:
            ctx.depth -= 1

    def _run_object(self, data: Mapping[Any, Any], path: str, ctx: _Ctx) -> Any:
        out = ctx.out
        before = len(out)
        result: dict[str, Any] = {}
        field = self._field
        for plan in self._plans:
            raw = data.get(plan.key, _ABSENT)
            if raw is _ABSENT:
                if not ctx.partial:
                    _absent(plan, result, path, out)
                continue
            value = field(plan, raw, path + plan.pointer, ctx)
            if value is not _FAIL:
                result[plan.name] = value
        if self.extra != "ignore":
            self._extras(data, result, path, out)
        if len(out) != before:
            return _FAIL
        if ctx.partial:  # a subset of the fields: no object to build, no whole-object checks
            return result
        value = result if self._factory is None else self._build(result, path, out)
        if value is _FAIL or not self.checks:
            return value
        return self._check_whole(value, path, ctx)

    def _check_whole(self, value: Any, path: str, ctx: _Ctx) -> Any:
        """Run the cross-field checks on the built object (or defer them to the caller)."""
        if ctx.deferred is not None:
            ctx.deferred.extend((path, check, value) for check in self.checks)
            return value
        out = ctx.out
        before = len(out)
        for check in self.checks:
            _apply(check.rule, value, path + check.path, out, False, quote=False)
        return _FAIL if len(out) != before else value

    def _extras(
        self, data: Mapping[Any, Any], result: dict[str, Any], path: str, out: list[Violation]
    ) -> None:
        keys = self._keys
        for key, value in data.items():
            if key in keys:
                continue
            if self.extra == "forbid":
                out.append(Violation(path + _pointer(str(key)), "extra_forbidden", None, value))
            elif self.extra == "keep":
                result[key] = value

    def _build(self, values: dict[str, Any], path: str, out: list[Violation]) -> Any:
        assert self._factory is not None
        try:
            return self._factory(values)
        except (ValueError, TypeError) as exc:
            # attrs validators name the attribute: in args[1], or quoted first in the message.
            message = str(exc.args[0]) if exc.args else type(exc).__name__
            name = None
            if len(exc.args) >= 2 and type(exc.args[1]).__name__ == "Attribute":
                name = exc.args[1].name
            else:
                match = _ATTR_NAME.match(message)
                if match and match.group(1) in values:
                    name = match.group(1)
            key = self._key_of.get(name, name) if name else None
            where = path + _pointer(key) if key else path
            value = values.get(name, NO_VALUE) if name else NO_VALUE
            out.append(Violation(where, "invalid", None, value, _escape_template(message)))
            return _FAIL

    # ------------------------------------------------------------------ public API

    @property
    def has_async_rules(self) -> bool:
        """Whether some rule or check is async (then use :meth:`avalidate`)."""
        return self._has_async

    @property
    def fields(self) -> list[str]:
        """The input keys this schema reads, in order."""
        return [p.key for p in self._plans]

    @overload
    def validate(self, data: Any) -> T: ...

    @overload
    def validate(self, data: Any, *, partial: Literal[False]) -> T: ...

    @overload
    def validate(self, data: Any, *, partial: bool) -> Any: ...

    def validate(self, data: Any, *, partial: bool = False) -> Any:
        """Validate *data* and return the typed, cleaned value.

        With ``partial=True`` (a PATCH-style update) absent keys are neither
        required nor defaulted, cross-field checks are skipped, and the result
        is a dict of the fields present, even for class schemas.

        Raises:
            ValidationError: every problem, each with path, code and message.
            InvalidArgumentError: the schema has async rules; use :meth:`avalidate`.
        """
        if self._has_async:
            raise InvalidArgumentError(
                f"schema {self.name!r} has async rules, which validate() cannot run",
                context={"schema": self.name},
                hint="Use 'await schema.avalidate(data)' (also usable as an async pipeline step).",
            )
        if not partial:
            fast = self._fast or self._compile_fast()
            try:
                return fast(data)
            except _Fallback:
                pass  # something is wrong: the full pass below finds and reports everything
        ctx = _Ctx(defer=False, partial=partial)
        value = self._run(data, "", ctx)
        if ctx.out:
            raise self._error(ctx.out)
        return value

    def _compile_fast(self) -> Callable[[Any], Any]:
        fast = self._fast = _compile_fast(self)
        return fast

    def __call__(self, data: Any) -> T:
        """Same as :meth:`validate` (so a schema is itself a pipeline step)."""
        return self.validate(data)

    @overload
    async def avalidate(self, data: Any) -> T: ...

    @overload
    async def avalidate(self, data: Any, *, partial: bool) -> Any: ...

    async def avalidate(self, data: Any, *, partial: bool = False) -> Any:
        """Validate *data*, running async rules and checks too (concurrently).

        Async rules run only for values that passed their sync rules; the
        cross-field checks of an object run only once every field inside it
        passed, async rules included.

        Raises:
            ValidationError: every problem found.
        """
        ctx = _Ctx(defer=True, partial=partial)
        value = self._run(data, "", ctx)
        out = ctx.out
        if ctx.pending:
            await _run_async(ctx.pending, out)
        if ctx.deferred:
            ready = [
                (where, check, obj)
                for where, check, obj in ctx.deferred
                if not any(v.path == where or v.path.startswith(where + "/") for v in out)
            ]
            for where, check, obj in ready:
                if not check.rule.is_async:
                    _apply(check.rule, obj, where + check.path, out, False, quote=False)
            later: list[tuple[str, Rule, Any, bool | None]] = [
                (w + c.path, c.rule, o, None) for w, c, o in ready if c.rule.is_async
            ]
            if later:
                await _run_async(later, out)
        if out:
            raise self._error(out)
        return value

    def errors(self, data: Any) -> list[ErrorDetail]:
        """Every problem with *data* (sync rules only), empty when it is valid."""
        ctx = _Ctx(defer=False)
        self._run(data, "", ctx)
        return [v.render(self.messages) for v in ctx.out]

    def is_valid(self, data: Any) -> bool:
        """Whether *data* passes the sync rules."""
        ctx = _Ctx(defer=False)
        self._run(data, "", ctx)
        return not ctx.out

    def json_schema(self) -> dict[str, Any]:
        """A JSON Schema (draft 2020-12) describing what this schema accepts.

        Types, required keys, defaults, nullability, nested objects and lists,
        and the built-in rules (formats, lengths, ranges, patterns, choices)
        are expressed; custom and async rules and cross-field checks cannot
        be, and are left out.
        """
        from pepperpy.validation._jsonschema import schema_for

        document = schema_for(self)
        document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        return document

    def _error(self, violations: list[Violation]) -> ValidationError:
        count = len(violations)
        return ValidationError(
            f"{self.name}: {count} validation error{'s' if count != 1 else ''}",
            violations=violations,
            messages=self.messages,
            context={"schema": self.name},
            hint="Fix the values at the paths listed.",
        )

    def __repr__(self) -> str:
        return f"Schema({self.name!r}, fields={self.fields!r})"


def _absent(plan: _Plan, result: dict[str, Any], path: str, out: list[Violation]) -> None:
    """A field missing from the data: a violation if required, else its default."""
    if plan.required:
        out.append(Violation(path + plan.pointer, "missing"))
    elif plan.default_factory is not None:
        result[plan.name] = plan.default_factory()
    elif plan.default is not _ABSENT:
        result[plan.name] = plan.default


async def _run_async(batch: list[tuple[str, Rule, Any, bool | None]], out: list[Violation]) -> None:
    """Run async checks concurrently; ``secret=None`` marks a whole-object check (not quoted)."""

    async def one(path: str, rule: Rule, value: Any, secret: bool | None) -> Violation | None:
        shown = NO_VALUE if secret is None else (_REDACTED if secret else value)
        try:
            result = await cast(Awaitable[Any], rule.check(value))
        except (ValueError, TypeError) as exc:
            message = rule.message or _escape_template(str(exc))
            return Violation(path, rule.code, rule.params, shown, message)
        return _failure(rule, result, value, path, bool(secret), shown)

    import asyncio

    results = await asyncio.gather(*(one(*item) for item in batch))
    out.extend(v for v in results if v is not None)


def _apply(
    rule: Rule, value: Any, path: str, out: list[Violation], secret: bool, *, quote: bool = True
) -> bool:
    shown = (_REDACTED if secret else value) if quote else NO_VALUE
    try:
        result = rule.check(value)
    except (ValueError, TypeError) as exc:
        out.append(
            Violation(
                path, rule.code, rule.params, shown, rule.message or _escape_template(str(exc))
            )
        )
        return False
    if result is False or type(result) is str:
        violation = _failure(rule, result, value, path, secret, shown)
        if violation is not None:
            out.append(violation)
            return False
    return True


def _failure(
    rule: Rule, result: Any, value: Any, path: str, secret: bool, shown: Any = NO_VALUE
) -> Violation | None:
    if result is False:
        code, params = rule.violation(value)
        return Violation(path, code, params, shown, rule.message)
    if isinstance(result, str):
        return Violation(
            path, rule.code, rule.params, shown, rule.message or _escape_template(result)
        )
    return None


def _enum_choices(tp: Any, expected: str) -> list[Any]:
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return [m.value for m in tp]
    if get_origin(tp) is Literal:
        return list(get_args(tp))
    return [expected.removeprefix("one of ")]


def _format_rule(field_name: str, name: str) -> Rule:
    factory = FORMATS.get(name)
    if factory is None:
        raise SchemaError(
            f"field {field_name!r}: unknown format {name!r}",
            context={"field": field_name, "format": name},
            hint=f"Use one of {', '.join(sorted(FORMATS))}, or a type such as str.",
        )
    return factory()


def _as_field(name: str, spec: Any) -> Field:
    if isinstance(spec, Field):
        return spec
    if isinstance(spec, tuple):
        if not spec:
            raise SchemaError(f"field {name!r}: an empty tuple is not a field spec")
        return Field(spec[0], *spec[1:])
    if isinstance(spec, (type, str, Mapping, list, Schema)) or spec is Any:
        return Field(spec)
    if get_origin(spec) is not None or isinstance(spec, types.UnionType):
        return Field(spec)
    raise SchemaError(
        f"field {name!r}: cannot use {spec!r} as a field spec",
        context={"field": name},
        hint="Use a type, a format name, (type, *rules), Field(...), or a nested dict.",
    )


def _is_record_type(tp: Any) -> bool:
    # Checked by dunder so that importing this module does not import attrs.
    return isinstance(tp, type) and (
        hasattr(tp, "__attrs_attrs__") or hasattr(tp, "__dataclass_fields__")
    )


def _class_fields(
    target: type,
) -> list[tuple[str, Any, Any, Callable[[], Any] | None, Mapping[str, Any], str]]:
    fields: list[tuple[str, Any, Any, Callable[[], Any] | None, Mapping[str, Any], str]] = []
    import dataclasses

    import attrs

    if attrs.has(target):
        attrs.resolve_types(target)
        for a in attrs.fields(target):
            if not a.init:
                continue
            default: Any = _ABSENT
            factory: Callable[[], Any] | None = None
            if isinstance(a.default, attrs.Factory):  # type: ignore[arg-type,unused-ignore]
                if a.default.takes_self:
                    raise SchemaError(
                        f"{target.__name__}.{a.name}: Factory(takes_self=True) is not supported",
                        hint="Use a plain default or default factory.",
                    )
                factory = a.default.factory
            elif a.default is not attrs.NOTHING:
                default = a.default
            fields.append((a.name, a.type or Any, default, factory, a.metadata, a.alias or a.name))
        return fields
    import typing

    hints = typing.get_type_hints(target, include_extras=True)
    for f in dataclasses.fields(target):
        if not f.init:
            continue
        default = _ABSENT if f.default is dataclasses.MISSING else f.default
        factory = None if f.default_factory is dataclasses.MISSING else f.default_factory
        fields.append((f.name, hints.get(f.name, Any), default, factory, f.metadata, f.name))
    return fields


# --------------------------------------------------------------------------- fast path

_FAST_TYPES = {str: "type(v) is str", int: "type(v) is int", bool: "type(v) is bool"}


def _compile_fast(schema: Schema[Any]) -> Callable[[Any], Any]:
    """Generate a straight-line validator for valid input (cattrs-style code generation).

    It only ever returns the same value the full pass would, or raises
    ``_Fallback`` at the first doubt; the full pass then collects every error.
    """
    if any(plan.async_rules for plan in schema._plans) or any(
        check.rule.is_async for check in schema.checks
    ):
        return _always_fallback
    # every field always present in the result: locals, then one dict display
    literal = all(
        plan.required or plan.default_factory is not None or plan.default is not _ABSENT
        for plan in schema._plans
    )
    source = _FastSource(literal=literal)
    source.emit("def fast(data):", "    if type(data) is not dict:", "        raise _Fallback")
    if not literal:
        source.emit("    result = {}")
    for index, plan in enumerate(schema._plans):
        source.field(index, plan)
    if literal:
        items = ", ".join(f"n{index}: f{index}" for index in range(len(schema._plans)))
        source.emit(f"    result = {{{items}}}")
    value = source.finish(schema)
    source.emit(f"    return {value}")
    return source.compile(f"<pepperpy.validation fast path for {schema.name}>")


class _FastSource:
    """The generated fast path's source lines and the names they use, a method per part."""

    def __init__(self, *, literal: bool) -> None:
        self.literal = literal
        self.names: dict[str, Any] = {
            "_ABSENT": _ABSENT,
            "_Fallback": _Fallback,
            "_Ctx": _Ctx,
            "_FAIL": _FAIL,
            "_CHECK_ERRORS": (ValueError, TypeError),
        }
        self.lines: list[str] = []

    def emit(self, *lines: str) -> None:
        self.lines.extend(lines)

    def store(self, index: int) -> str:
        """The target a field's value is assigned to (see *literal*)."""
        return f"f{index}" if self.literal else f"result[n{index}]"

    def field(self, index: int, plan: _Plan) -> None:
        """One field: read it, default it or refuse its absence, convert it, run its rules."""
        key, name = f"k{index}", f"n{index}"
        self.names[key] = plan.key
        self.names[name] = plan.name
        simple = plan.convert is not None and not plan.nested
        exact = simple and plan.type_ in _FAST_TYPES
        if (
            (exact or (simple and plan.type_ is float))
            and plan.required
            and not plan.nullable
            and plan.sanitize is None
        ):
            # absent and None both fail the type test: one test for the three
            self.emit(f"    v = data.get({key})")
            self.convert(index, plan, "    ")
            self.rules(index, plan, "    ", checked=exact)
            self.emit(f"    {self.store(index)} = v")
            return
        self.emit(f"    v = data.get({key}, _ABSENT)", "    if v is _ABSENT:")
        self.absent(index, plan, name)
        self.emit("    elif v is None:")
        self.emit(
            f"        {self.store(index) + ' = None' if plan.nullable else 'raise _Fallback'}"
        )
        self.emit("    else:")
        if plan.sanitize is not None:
            self.names[f"san{index}"] = plan.sanitize
            self.emit(f"        v = san{index}(v)")
        self.convert(index, plan, "        ")
        self.rules(index, plan, "        ", checked=exact)
        self.emit(f"        {self.store(index)} = v")

    def rules(self, index: int, plan: _Plan, indent: str, *, checked: bool) -> None:
        """The field's rules; *checked*: v's exact type (never a str subclass) is known."""
        if not checked and any(isinstance(rule.check, _Guarded) for rule in plan.rules):
            # a str subclass: the built-in checks judge its characters; the full pass does
            self.emit(f"{indent}if type(v) is not str and isinstance(v, str):")
            self.emit(f"{indent}    raise _Fallback")
        for number, rule in enumerate(plan.rules):
            self.rule(f"r{index}_{number}", rule, indent)

    def absent(self, index: int, plan: _Plan, name: str) -> None:
        if plan.required:
            self.emit("        raise _Fallback")
        elif plan.default_factory is not None:
            self.names[f"df{index}"] = plan.default_factory
            self.emit(f"        {self.store(index)} = df{index}()")
        elif plan.default is not _ABSENT:
            self.names[f"d{index}"] = plan.default
            self.emit(f"        {self.store(index)} = d{index}")
        else:
            self.emit("        pass")

    def convert(self, index: int, plan: _Plan, indent: str) -> None:
        kind = plan.type_
        if plan.convert is None:
            return
        if not plan.nested and kind in _FAST_TYPES:
            self.emit(f"{indent}if not ({_FAST_TYPES[kind]}):", f"{indent}    raise _Fallback")
        elif not plan.nested and kind is float:
            self.names["_isfinite"] = math.isfinite
            self.names["_BIG"] = 2**1023  # below it float(v) cannot overflow
            self.emit(
                f"{indent}if type(v) is float:",
                f"{indent}    if not _isfinite(v):",
                f"{indent}        raise _Fallback",
                f"{indent}elif type(v) is int and -_BIG < v < _BIG:",
                f"{indent}    v = float(v)",
                f"{indent}else:",
                f"{indent}    raise _Fallback",
            )
        elif plan.nested:
            self.names[f"conv{index}"] = plan.convert
            self.emit(
                f"{indent}scratch = _Ctx(defer=False)",
                f"{indent}v = conv{index}(v, '', scratch)",
                f"{indent}if scratch.out or v is _FAIL or scratch.pending:",
                f"{indent}    raise _Fallback",
            )
        else:
            self.names[f"conv{index}"] = plan.convert
            self.emit(
                f"{indent}try:",
                f"{indent}    v = conv{index}(v)",
                f"{indent}except Exception:",
                f"{indent}    raise _Fallback from None",
            )

    def rule(self, check: str, rule: Rule, indent: str) -> None:
        # a built-in check runs bare here: any exception (a hostile value) hands over
        guarded = isinstance(rule.check, _Guarded)
        self.names[check] = rule.check.raw if isinstance(rule.check, _Guarded) else rule.check
        errors = "Exception" if guarded else "_CHECK_ERRORS"
        if rule.applies_to is not None:
            self.names[f"{check}_t"] = rule.applies_to
            self.emit(f"{indent}if isinstance(v, {check}_t):")
            indent += "    "
        self.emit(
            f"{indent}try:",
            f"{indent}    r = {check}(v)",
            f"{indent}except {errors}:",
            f"{indent}    raise _Fallback from None",
            f"{indent}if r is not True and (r is False or type(r) is str):",
            f"{indent}    raise _Fallback",
        )

    def finish(self, schema: Schema[Any]) -> str:
        """Unknown keys, the class built, the cross-field checks; the name of the result."""
        if schema.extra != "ignore":
            self.names["_KEYS"] = schema._keys
            self.emit("    for key, item in data.items():", "        if key not in _KEYS:")
            if schema.extra == "forbid":
                self.emit("            raise _Fallback")
            else:
                self.emit("            result[key] = item")
        value = "result"
        if schema._factory is not None:
            self.names["_factory"] = schema._factory
            self.emit(
                "    try:",
                "        value = _factory(result)",
                "    except _CHECK_ERRORS:",
                "        raise _Fallback from None",
            )
            value = "value"
        for number, check_obj in enumerate(schema.checks):
            self.names[f"c{number}"] = check_obj.rule.check
            self.emit(
                "    try:",
                f"        r = c{number}({value})",
                "    except _CHECK_ERRORS:",
                "        raise _Fallback from None",
                "    if r is False or type(r) is str:",
                "        raise _Fallback",
            )
        return value

    def compile(self, filename: str) -> Callable[[Any], Any]:
        exec(compile("\n".join(self.lines), filename, "exec"), self.names)
        fast: Callable[[Any], Any] = self.names["fast"]
        return fast


def _always_fallback(data: Any) -> Any:
    raise _Fallback
