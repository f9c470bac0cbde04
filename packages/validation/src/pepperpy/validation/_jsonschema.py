"""JSON Schema export for compiled schemas (``Schema.json_schema()``)."""

from __future__ import annotations

import datetime
import decimal
import enum
import types
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Union, get_args, get_origin

from pepperpy.validation._rules import Rule, _RangeRule, _SizeRule

if TYPE_CHECKING:
    from pepperpy.validation._schema import Schema, _Plan

__all__ = ["schema_for"]

_SCALARS: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    datetime.datetime: {"type": "string", "format": "date-time"},
    datetime.date: {"type": "string", "format": "date"},
    datetime.time: {"type": "string", "format": "time"},
    datetime.timedelta: {"type": "number"},
    uuid.UUID: {"type": "string", "format": "uuid"},
    decimal.Decimal: {"type": "string"},
    bytes: {"type": "string", "contentEncoding": "base64"},
}
_FORMATS: dict[str, dict[str, Any]] = {
    "email": {"format": "email"},
    "url": {"format": "uri"},
    "uuid": {"format": "uuid"},
    "ipv4": {"format": "ipv4"},
    "ipv6": {"format": "ipv6"},
    "ip": {"anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]},
    "hostname": {"format": "hostname"},
    "datetime": {"format": "date-time"},
    "date": {"format": "date"},
    "time": {"format": "time"},
    "slug": {"pattern": "^[a-z0-9]+(?:-[a-z0-9]+)*$"},
}


class _Walk:
    """Tracks the schemas being exported, so recursive schemas become ``$ref``s."""

    def __init__(self, root: Schema[Any]) -> None:
        self.root = root
        self.stack: list[Schema[Any]] = []
        self.defs: dict[str, dict[str, Any]] = {}
        self.names: dict[int, str] = {}

    def ref(self, schema: Schema[Any]) -> dict[str, Any] | None:
        if schema is self.root and self.stack:
            return {"$ref": "#"}
        if any(s is schema for s in self.stack):
            name = self.names.setdefault(id(schema), f"{schema.name}{len(self.names) or ''}")
            self.defs.setdefault(name, {})
            return {"$ref": f"#/$defs/{name}"}
        return None


def schema_for(schema: Schema[Any], walk: _Walk | None = None) -> dict[str, Any]:
    """The JSON Schema object for one :class:`Schema`."""
    top = walk is None
    walk = walk or _Walk(schema)
    ref = walk.ref(schema)
    if ref is not None:
        return ref
    walk.stack.append(schema)
    try:
        properties: dict[str, Any] = {}
        required: list[str] = []
        for plan in schema._plans:
            properties[plan.key] = _property(plan, walk)
            if plan.required:
                required.append(plan.key)
    finally:
        walk.stack.pop()
    document: dict[str, Any] = {"type": "object", "title": schema.name, "properties": properties}
    if required:
        document["required"] = required
    if schema.extra == "forbid":
        document["additionalProperties"] = False
    name = walk.names.get(id(schema))
    if name is not None and not walk.defs.get(name):
        walk.defs[name] = document
    if top and walk.defs:
        document = {**document, "$defs": walk.defs}
    return document


def _property(plan: _Plan, walk: _Walk) -> dict[str, Any]:
    prop = _for_plan_type(plan, walk)
    for rule in plan.rules:
        prop.update(_for_rule(rule, prop))
    if plan.nullable:
        prop = {"anyOf": [prop, {"type": "null"}]}
    if plan.description:
        prop["description"] = plan.description
    if plan.secret:
        prop["writeOnly"] = True
    elif plan.default is not _absent():
        default = _json_default(plan.default)
        if default is not _absent():
            prop["default"] = default
    return prop


def _absent() -> Any:
    from pepperpy.validation._schema import _ABSENT

    return _ABSENT


def _for_plan_type(plan: _Plan, walk: _Walk) -> dict[str, Any]:
    from pepperpy.validation._schema import Schema

    convert = plan.convert
    owner = getattr(convert, "__self__", None)
    if isinstance(owner, Schema):
        return dict(schema_for(owner, walk))
    holder = getattr(convert, "schema", None)
    if isinstance(holder, Schema):
        return {"type": "array", "items": _property(holder._plans[0], walk)}
    return _for_type(plan.type_)


def _for_type(tp: Any) -> dict[str, Any]:
    if tp is Any or tp is object:
        return {}
    if tp in _SCALARS:
        return dict(_SCALARS[tp])
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return {"enum": [m.value for m in tp]}
    origin = get_origin(tp)
    args = get_args(tp)
    if origin is Literal:
        return {"enum": list(args)}
    if origin is Union or origin is types.UnionType:
        return {"anyOf": [_for_type(a) if a is not type(None) else {"type": "null"} for a in args]}
    if origin in (list, set, frozenset, Sequence) or (
        isinstance(origin, type) and issubclass(origin, (list, set, frozenset))
    ):
        out: dict[str, Any] = {"type": "array"}
        if args:
            out["items"] = _for_type(args[0])
        if origin in (set, frozenset):
            out["uniqueItems"] = True
        return out
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": _for_type(args[0])}
        return {
            "type": "array",
            "prefixItems": [_for_type(a) for a in args],
            "minItems": len(args),
            "maxItems": len(args),
        }
    if origin in (dict, Mapping) or (isinstance(origin, type) and issubclass(origin, dict)):
        out = {"type": "object"}
        if len(args) == 2:
            out["additionalProperties"] = _for_type(args[1])
        return out
    if isinstance(tp, type) and (
        hasattr(tp, "__attrs_attrs__") or hasattr(tp, "__dataclass_fields__")
    ):
        from pepperpy.validation._schema import Schema

        return schema_for(Schema.from_class(tp))
    return {}


def _for_rule(rule: Rule, prop: Mapping[str, Any]) -> dict[str, Any]:
    params = rule.params or {}
    if rule.code in _FORMATS:
        return dict(_FORMATS[rule.code])
    if isinstance(rule, _SizeRule):
        words = (
            ("minItems", "maxItems")
            if prop.get("type") == "array"
            else (
                "minLength",
                "maxLength",
            )
        )
        out: dict[str, Any] = {}
        if rule.low is not None:
            out[words[0]] = rule.low
        if rule.high is not None:
            out[words[1]] = rule.high
        return out
    if isinstance(rule, _RangeRule):
        low, high, gt, lt = rule.bounds
        out = {}
        for key, value in (
            ("minimum", low),
            ("maximum", high),
            ("exclusiveMinimum", gt),
            ("exclusiveMaximum", lt),
        ):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                out[key] = value
        return out
    if rule.code == "pattern" and "pattern" in params:
        pattern = params["pattern"]
        return {"pattern": f"^(?:{pattern})$" if params.get("full", True) else pattern}
    if rule.code == "one_of" and "choices" in params:
        return {"enum": list(params["choices"])}
    if rule.code == "multiple_of":
        return {"multipleOf": params["multiple_of"]}
    if rule.code == "not_empty":
        return {"minItems": 1} if prop.get("type") == "array" else {"minLength": 1}
    return {}


def _json_default(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)) and all(
        v is None or isinstance(v, (bool, int, float, str)) for v in value
    ):
        return list(value)
    return _absent()
