r"""JSON Schema export for compiled schemas (``Schema.json_schema()``).

The export says what the validator does. Where JSON Schema cannot say it
exactly, a ``$comment`` next to the keyword names the difference. Patterns are
written in the subset Python's ``re`` and ECMA-262 share: ``[0-9]`` rather than
``\d`` (Unicode digits in Python), and ``(?![\s\S])`` as the end anchor,
because Python's ``$`` also matches before a final newline.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import types
import uuid
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any, Literal, Union, get_args, get_origin

from pepperpy.validation._rules import (
    _EMAIL,
    _HOSTNAME,
    _SLUG,
    _UUID,
    SPACE_CHARS,
    Rule,
    _RangeRule,
    _SizeRule,
)

if TYPE_CHECKING:
    from pepperpy.validation._schema import Schema, _Plan

__all__ = ["schema_for"]

_NOTHING: Any = object()
_FLOAT_MAX = 1.7976931348623157e308


def _anchored(pattern: str) -> str:
    """*pattern* matching the whole string, in Python and in ECMA-262."""
    return f"^(?:{pattern})(?![\\s\\S])"


def _ecma(pattern: str) -> str:
    """A Python pattern of the shared subset, with Python-only escapes rewritten."""
    return pattern.replace("\\Z", "(?![\\s\\S])")


def _char_class(chars: str) -> str:
    return "".join(f"\\u{ord(c):04x}" for c in chars)


_NOT_BLANK = f"[^{_char_class(SPACE_CHARS)}]"
_STRICT_INT = "a whole number; strict mode refuses numbers written with a fraction (1.0)"


def _scalars() -> dict[Any, dict[str, Any]]:
    from pepperpy.serialization._converter import DECIMAL_PATTERN, DURATION_PATTERN, UUID_PATTERN

    return {
        str: {"type": "string"},
        int: {"type": "integer", "$comment": _STRICT_INT},
        float: {"type": "number", "minimum": -_FLOAT_MAX, "maximum": _FLOAT_MAX},
        bool: {"type": "boolean"},
        datetime.datetime: {
            "type": "string",
            "format": "date-time",
            "$comment": "read with datetime.fromisoformat (Python's ISO 8601 forms, "
            "surrounding spaces ignored)",
        },
        datetime.date: {
            "type": "string",
            "format": "date",
            "$comment": "read with date.fromisoformat (Python's ISO 8601 forms, "
            "surrounding spaces ignored)",
        },
        datetime.time: {
            "type": "string",
            "format": "time",
            "$comment": "read with time.fromisoformat (Python's ISO 8601 forms, "
            "surrounding spaces ignored)",
        },
        datetime.timedelta: {
            "anyOf": [
                {"type": "number"},
                {"type": "string", "pattern": _anchored(DURATION_PATTERN)},
            ],
            "$comment": "seconds, or an ISO 8601 duration; at most 999999999 days either way",
        },
        uuid.UUID: {"type": "string", "format": "uuid", "pattern": _anchored(UUID_PATTERN)},
        decimal.Decimal: {
            "anyOf": [
                {"type": "number"},
                {"type": "string", "pattern": _anchored(DECIMAL_PATTERN)},
            ]
        },
        bytes: {
            "type": "string",
            "contentEncoding": "base64",
            "pattern": _anchored("(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?"),
        },
    }


_SCALARS: dict[Any, dict[str, Any]] = {}

_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = f"{_OCTET}(?:\\.{_OCTET}){{3}}"  # ipaddress.IPv4Address: no leading zeros

_FORMATS: dict[str, dict[str, Any]] = {
    "email": {
        "format": "email",
        "maxLength": 254,
        "pattern": "^(?=[^@]{1,64}@)" + _anchored(_EMAIL.pattern)[1:],
    },
    "url": {
        "format": "uri",
        "$comment": "an absolute URL with an allowed scheme and a host (urllib.parse), "
        "without whitespace",
    },
    "uuid": {"format": "uuid", "pattern": _anchored(_UUID.pattern)},
    "ipv4": {"format": "ipv4", "pattern": _anchored(_IPV4)},
    "ipv6": {"format": "ipv6", "$comment": "ipaddress.IPv6Address (a %scope is accepted)"},
    "ip": {
        "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}],
        "$comment": "ipaddress.ip_address (an IPv6 %scope is accepted)",
    },
    "hostname": {
        "anyOf": [{"pattern": _anchored(_ecma(_HOSTNAME.pattern))}, {"format": "ipv6"}],
        "$comment": "a DNS name, or an IP address optionally in [brackets]",
    },
    "datetime": {
        "format": "date-time",
        "$comment": "datetime.fromisoformat (Python's ISO 8601 forms; a final Z is UTC)",
    },
    "date": {"format": "date", "$comment": "date.fromisoformat (Python's ISO 8601 forms)"},
    "time": {"format": "time", "$comment": "time.fromisoformat (Python's ISO 8601 forms)"},
    "slug": {"pattern": _anchored(_SLUG.pattern)},
}


class _Walk:
    """Tracks what is being exported, so recursion becomes ``$ref`` into ``$defs``."""

    def __init__(self, root: Schema[Any]) -> None:
        self.root = root
        self.stack: list[Any] = []
        self.defs: dict[str, dict[str, Any]] = {}
        self.names: dict[Any, str] = {}

    def ref(self, key: Any, title: str) -> dict[str, Any] | None:
        if key == _key(self.root) and self.stack:
            return {"$ref": "#"}
        if key in self.stack:
            name = self.names.get(key)
            if name is None:
                name = title if title not in self.defs else f"{title}{len(self.defs)}"
                self.names[key] = name
                self.defs[name] = {}
            return {"$ref": f"#/$defs/{name}"}
        return None


def _key(schema: Schema[Any]) -> Any:
    target = getattr(schema, "_target", None)
    return ("class", target) if target is not None else ("schema", id(schema))


def schema_for(schema: Schema[Any], walk: _Walk | None = None) -> dict[str, Any]:
    """The JSON Schema object for one :class:`Schema`."""
    top = walk is None
    walk = walk or _Walk(schema)
    key = _key(schema)
    ref = walk.ref(key, schema.name)
    if ref is not None:
        return ref
    walk.stack.append(key)
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
    comments = []
    if schema.checks:
        comments.append("cross-field checks are not expressed")
    if schema.coerce:
        comments.append(
            "coercing mode: strings are also read as numbers and booleans, numbers as strings"
        )
    if comments:
        document["$comment"] = "; ".join(comments)
    name = walk.names.get(key)
    if name is not None:
        walk.defs[name] = document
        if not top:
            return {"$ref": f"#/$defs/{name}"}
    if top and walk.defs:
        document = {**document, "$defs": walk.defs}
    return document


def _property(plan: _Plan, walk: _Walk) -> dict[str, Any]:
    prop = _for_plan_type(plan, walk)
    notes: list[str] = []
    if plan.sanitize is not None:
        notes.append("sanitized before the checks")
    for rule in plan.rules:
        extra, note = _for_rule(rule, prop)
        _merge(prop, extra)
        if note:
            notes.append(note)
    if plan.async_rules:
        notes.append("async rules are not expressed")
    if notes:
        _comment(prop, "; ".join(notes))
    if plan.nullable:
        prop = {"anyOf": [prop, {"type": "null"}]}
    elif not ("type" in prop or "$ref" in prop or ("enum" in prop and None not in prop["enum"])):
        prop["not"] = {"type": "null"}  # null is refused unless the field is nullable
    if plan.description:
        prop["description"] = plan.description
    if plan.secret:
        prop["writeOnly"] = True
    elif plan.default is not _absent():
        default = _jsonable(plan.default)
        if default is not _NOTHING:
            prop["default"] = default
    return prop


def _comment(prop: dict[str, Any], text: str) -> None:
    prop["$comment"] = f"{prop['$comment']}; {text}" if "$comment" in prop else text


def _merge(prop: dict[str, Any], extra: Mapping[str, Any]) -> None:
    """Add keywords; a keyword already there with another value goes into ``allOf``."""
    for key, value in extra.items():
        if key == "$comment":
            _comment(prop, value)
        elif key not in prop:
            prop[key] = value
        elif key == "enum":  # a type's values narrowed by one_of: keep both's
            prop[key] = [v for v in prop[key] if any(_json_equal(v, w) for w in value)]
        elif prop[key] != value:
            prop.setdefault("allOf", []).append({key: value})


def _json_equal(a: Any, b: Any) -> bool:
    return isinstance(a, bool) == isinstance(b, bool) and bool(a == b)


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
    if convert is None:
        return {}
    return _for_type(plan.type_, walk, coerce=walk.root.coerce)


def _for_type(tp: Any, walk: _Walk, *, coerce: bool = False) -> dict[str, Any]:
    if not _SCALARS:
        _SCALARS.update(_scalars())
    if tp is Any or tp is object:
        return {}
    if tp in _SCALARS:
        out: dict[str, Any] = dict(_SCALARS[tp])
        if coerce and tp in (int, float, bool, str):
            out = {"$comment": f"coercing mode: {out.get('type')} or text that parses as one"}
        return out
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum([m.value for m in tp])
    origin = get_origin(tp)
    args = get_args(tp)
    if origin is Literal:
        return _enum([a.value if isinstance(a, enum.Enum) else a for a in args])
    if origin is Union or origin is types.UnionType:
        return {
            "anyOf": [
                _for_type(a, walk, coerce=coerce) if a is not type(None) else {"type": "null"}
                for a in args
            ]
        }
    if origin is not None:
        container = _for_container(origin, args, walk, coerce)
        if container is not None:
            return container
    if isinstance(tp, type) and (
        hasattr(tp, "__attrs_attrs__") or hasattr(tp, "__dataclass_fields__")
    ):
        return _for_class(tp, walk)
    return {"$comment": f"values of type {getattr(tp, '__name__', tp)} are not described"}


def _for_container(
    origin: Any, args: tuple[Any, ...], walk: _Walk, coerce: bool
) -> dict[str, Any] | None:
    """A set, list, tuple or mapping type (``None`` for any other generic)."""
    if isinstance(origin, type) and issubclass(origin, AbstractSet):
        out: dict[str, Any] = {"type": "array"}
        if args:
            out["items"] = _for_type(args[0], walk, coerce=coerce)
        out["$comment"] = "a set: repeated items are accepted and merged"
        return out
    if origin in (list, Sequence) or (isinstance(origin, type) and issubclass(origin, list)):
        out = {"type": "array"}
        if args:
            out["items"] = _for_type(args[0], walk, coerce=coerce)
        return out
    if origin is tuple:
        return _for_tuple(args, walk, coerce)
    if origin in (dict, Mapping) or (isinstance(origin, type) and issubclass(origin, Mapping)):
        out = {"type": "object"}
        if len(args) == 2:
            out["additionalProperties"] = _for_type(args[1], walk, coerce=coerce)
            if args[0] not in (str, Any):
                out["$comment"] = f"keys are read as {getattr(args[0], '__name__', args[0])}"
        return out
    return None


def _for_tuple(args: tuple[Any, ...], walk: _Walk, coerce: bool) -> dict[str, Any]:
    if len(args) == 2 and args[1] is Ellipsis:
        return {"type": "array", "items": _for_type(args[0], walk, coerce=coerce)}
    return {
        "type": "array",
        "prefixItems": [_for_type(a, walk, coerce=coerce) for a in args],
        "minItems": len(args),
        "maxItems": len(args),
    }


def _for_class(tp: type, walk: _Walk) -> dict[str, Any]:
    """An attrs class or dataclass: a ``$ref`` when it recurses, else its schema."""
    from pepperpy.validation._schema import Schema

    root = walk.root
    ref = walk.ref(("class", tp), tp.__name__)
    if ref is not None:
        return ref
    return schema_for(Schema.from_class(tp, coerce=root.coerce, extra=root.extra), walk)


def _enum(values: list[Any]) -> dict[str, Any]:
    converted = [_jsonable(v) for v in values]
    if any(v is _NOTHING for v in converted):
        return {"$comment": "the allowed values are not all JSON values"}
    out: dict[str, Any] = {"enum": converted}
    if any(type(v) is int for v in converted):
        out["$comment"] = "an integer value is matched by an integer only (not 1.0)"
    return out


# Size keywords by the JSON type they apply to; a property without one gets all of them
# (each keyword ignores values of other types, as len() does).
_SIZE_WORDS = {
    "string": ("minLength", "maxLength"),
    "array": ("minItems", "maxItems"),
    "object": ("minProperties", "maxProperties"),
}
_KINDS: dict[Any, tuple[str, ...]] = {
    "string": ("string",),
    "array": ("array",),
    "object": ("object",),
    "integer": (),
    "number": (),
    "boolean": (),
    None: ("string", "array", "object"),
}


def _for_rule(rule: Rule, prop: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    params = rule.params or {}
    if rule.code in _FORMATS and rule.applies_to is str:
        return dict(_FORMATS[rule.code]), None
    kinds = _KINDS.get(prop.get("type"), _KINDS[None])
    if isinstance(rule, _SizeRule):
        return _for_length(rule, kinds), None
    if isinstance(rule, _RangeRule):
        return _for_range(rule)
    if rule.code == "pattern" and "pattern" in params:
        pattern = params["pattern"]
        text = _anchored(pattern) if params.get("full", True) else pattern
        return {"pattern": text}, "the pattern is a Python regular expression"
    if rule.code == "one_of" and "choices" in params:
        values = _enum(list(params["choices"]))
        if "enum" not in values:
            return {}, "one_of choices are not all JSON values"
        return values, None
    if rule.code == "multiple_of":
        return _for_multiple_of(params["multiple_of"])
    if rule.code == "not_empty":
        return _for_not_empty(kinds), None
    return {}, f"rule {rule.code!r} is not expressed"


def _for_length(rule: _SizeRule, kinds: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind, words in _SIZE_WORDS.items():
        if kind not in kinds:
            continue
        if rule.low is not None:
            out[words[0]] = rule.low
        if rule.high is not None:
            out[words[1]] = rule.high
    return out


def _for_range(rule: _RangeRule) -> tuple[dict[str, Any], str | None]:
    low, high, gt, lt = rule.bounds
    out: dict[str, Any] = {}
    note = None
    for key, value in (
        ("minimum", low),
        ("maximum", high),
        ("exclusiveMinimum", gt),
        ("exclusiveMaximum", lt),
    ):
        if value is None:
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = value
        else:
            note = f"range bounds of type {type(value).__name__} are not expressed"
    return out, note


def _for_multiple_of(step: Any) -> tuple[dict[str, Any], str | None]:
    if isinstance(step, decimal.Decimal):
        step = float(step) if float(step) == step else step
    if not isinstance(step, (int, float)):
        return {}, f"multiple_of({step}) is not expressed"
    note = None
    if isinstance(step, float) and not step.is_integer():
        note = (
            "multipleOf is exact on the decimal numbers as written (0.3 is a multiple "
            "of 0.1); validators that divide binary floats may disagree"
        )
    return {"multipleOf": step}, note


def _for_not_empty(kinds: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {"minLength": 1, "pattern": _NOT_BLANK, "minItems": 1, "minProperties": 1}
    for kind, words in _SIZE_WORDS.items():
        if kind not in kinds:
            out.pop(words[0])
            if kind == "string":
                out.pop("pattern")
    return out


def _jsonable(value: Any) -> Any:
    """*value* as a JSON value (enum members become their values), or ``_NOTHING``."""
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else _NOTHING
    if isinstance(value, (list, tuple)):
        items = [_jsonable(v) for v in value]
        return _NOTHING if any(v is _NOTHING for v in items) else items
    if isinstance(value, Mapping):
        pairs = {k: _jsonable(v) for k, v in value.items() if isinstance(k, str)}
        if len(pairs) != len(value) or any(v is _NOTHING for v in pairs.values()):
            return _NOTHING
        return pairs
    return _NOTHING
