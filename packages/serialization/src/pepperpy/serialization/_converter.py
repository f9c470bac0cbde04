"""The preconfigured cattrs converter and the error translation to JSON-Pointer paths."""

from __future__ import annotations

import abc
import base64
import binascii
import dataclasses
import datetime as _dt
import enum
import math
import re
import sys
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from decimal import Decimal, InvalidOperation, getcontext
from pathlib import Path, PurePath
from typing import (
    TYPE_CHECKING,
    Annotated,
    Any,
    Literal,
    TypeVar,
    Union,
    cast,
    get_args,
    get_origin,
    get_type_hints,
    overload,
)

import attrs
import cattrs
from cattrs.errors import (
    BaseValidationError,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
    StructureHandlerNotFoundError,
)
from cattrs.fns import identity as cattrs_identity
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from pepperpy.core.exceptions import ErrorDetail, InvalidArgumentError, safe_repr
from pepperpy.serialization._errors import StructureError, UnsupportedTypeError
from pepperpy.serialization._formats import (
    _json_decode,
    _json_encode,
    format_for_path,
    get_format,
)

__all__ = ["META_KEY", "Converter", "RenamePolicy", "field_options"]

T = TypeVar("T")

META_KEY = "pepperpy.serialization"
"""The ``attrs.field(metadata=...)`` key read by :class:`Converter` (see :func:`field_options`)."""

RenamePolicy = Union[Literal["camel", "pascal", "kebab", "snake"], Callable[[str], str], None]
"""How attribute names become keys: a named policy, a function, or ``None`` (unchanged)."""

_MISSING: Any = object()


def field_options(
    *, rename: str | None = None, omit: bool = False, omit_if_default: bool | None = None
) -> dict[str, Any]:
    """Build ``attrs.field(metadata=...)`` that tunes one field's serialized form.

    Args:
        rename: The key used for this field, overriding the rename policy.
        omit: Leave the field out when unstructuring and ignore it when structuring
            (it must have a default).
        omit_if_default: Leave the field out when it equals its default; ``None``
            follows the converter's ``omit_defaults``.

    Example::

        @attrs.define
        class User:
            user_id: int = attrs.field(metadata=field_options(rename="id"))
    """
    return {META_KEY: {"rename": rename, "omit": omit, "omit_if_default": omit_if_default}}


# --------------------------------------------------------------------------- rename policies

_CAMEL_SPLIT = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def _kebab(name: str) -> str:
    return name.replace("_", "-")


def _snake(name: str) -> str:
    return _CAMEL_SPLIT.sub("_", name).lower()


_POLICIES: dict[str, Callable[[str], str]] = {
    "camel": _camel,
    "pascal": _pascal,
    "kebab": _kebab,
    "snake": _snake,
}


def _resolve_policy(rename: RenamePolicy) -> Callable[[str], str] | None:
    if rename is None or callable(rename):
        return rename
    try:
        return _POLICIES[rename]
    except KeyError:
        raise InvalidArgumentError(
            f"unknown rename policy {rename!r}",
            context={"rename": rename},
            hint="Use 'camel', 'pascal', 'kebab', 'snake', a function, or None.",
        ) from None


# --------------------------------------------------------------------------- strict hooks


class _Mismatch(TypeError):
    """Raised by the primitive hooks: the value is not of the expected type.

    The message is built only when asked for (``str(exc)``): on the error path
    these are raised once per bad value, and most are turned into an
    :class:`ErrorDetail` without it.
    """

    # No Python __init__: BaseException keeps (expected, value[, reason]) in args,
    # so raising one costs no extra frame.
    if TYPE_CHECKING:

        def __init__(self, expected: str, value: Any, reason: str | None = None) -> None: ...

    @property
    def expected(self) -> str:
        """What the value should have been (``"integer"``, ``"ISO 8601 date"``, ...)."""
        return cast(str, self.args[0])

    @property
    def value(self) -> Any:
        """The offending value."""
        return self.args[1]

    @property
    def reason(self) -> str | None:
        """A message replacing the generated one, if any."""
        return cast("str | None", self.args[2]) if len(self.args) > 2 else None

    def __str__(self) -> str:
        return self.reason or f"expected {self.expected}"


_TYPE_NAMES: dict[Any, str] = {}


def _type_name(tp: Any) -> str:
    try:
        return _TYPE_NAMES[tp]
    except (KeyError, TypeError):
        pass
    name = _compute_type_name(tp)
    try:
        if len(_TYPE_NAMES) < 4096:
            _TYPE_NAMES[tp] = name
    except TypeError:
        pass
    return name


def _compute_type_name(tp: Any) -> str:
    if tp is None or tp is type(None):
        return "null"
    if isinstance(tp, type):
        names = {
            int: "integer",
            float: "number",
            str: "string",
            bool: "boolean",
            dict: "object",
            list: "array",
        }
        return names.get(tp, tp.__name__)
    text = repr(tp)
    return text.replace("typing.", "")


_BOOL_TRUE = frozenset({"true", "1", "yes", "on", "y", "t"})
_BOOL_FALSE = frozenset({"false", "0", "no", "off", "n", "f"})


def _s_int(value: Any, _: Any) -> int:
    if type(value) is int:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    raise _Mismatch("integer", value)


def _s_int_coerce(value: Any, _: Any) -> int:
    if isinstance(value, bool):
        raise _Mismatch("integer", value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise _Mismatch("integer", value)


def _to_float(value: int | float) -> float:
    try:
        return float(value)
    except OverflowError:  # an integer beyond 1.8e308 (json.loads("1" + "0" * 400))
        raise _Mismatch("number", value, "integer is too large for a float") from None


def _s_float(value: Any, _: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _to_float(value)
    raise _Mismatch("number", value)


def _s_float_coerce(value: Any, _: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _to_float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise _Mismatch("number", value)


def _plain_text(value: Any) -> str:
    """The text of a str, int or float (subclass), never its ``__str__``.

    ``str(Mixed.A)`` is ``"Mixed.A"`` for ``class Mixed(str, Enum)`` (and
    ``str(Level.LOW)`` is ``"Level.LOW"`` for an IntEnum on Python 3.10).
    """
    if isinstance(value, str):
        return value if type(value) is str else str.__str__(value)
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return float.__repr__(value)
    return str(value)


def _s_str(value: Any, _: Any) -> str:
    if isinstance(value, str):
        return value if type(value) is str else str.__str__(value)
    raise _Mismatch("string", value)


def _s_str_coerce(value: Any, _: Any) -> str:
    if isinstance(value, (str, int, float, Decimal, uuid.UUID)) and not isinstance(value, bool):
        return _plain_text(value)
    raise _Mismatch("string", value)


def _s_bool(value: Any, _: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise _Mismatch("boolean", value)


def _s_bool_coerce(value: Any, _: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _BOOL_TRUE:
            return True
        if lowered in _BOOL_FALSE:
            return False
    raise _Mismatch("boolean", value)


def _s_bytes(value: Any, _: Any) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        try:
            return base64.b64decode(value.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise _Mismatch("base64 string", value, "expected a base64 string") from None
    raise _Mismatch("base64 string", value)


def _u_bytes(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _parse_iso(text: str) -> str:
    if sys.version_info < (3, 11) and text.endswith(("Z", "z")):  # pragma: no cover
        return text[:-1] + "+00:00"
    return text


def _s_datetime(value: Any, _: Any) -> _dt.datetime:
    if isinstance(value, _dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return _dt.datetime.fromisoformat(_parse_iso(value.strip()))
        except ValueError:
            pass
    raise _Mismatch("ISO 8601 datetime", value)


def _s_date(value: Any, _: Any) -> _dt.date:
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return _dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _Mismatch("ISO 8601 date", value)


def _s_time(value: Any, _: Any) -> _dt.time:
    if isinstance(value, _dt.time):
        return value
    if isinstance(value, str):
        try:
            return _dt.time.fromisoformat(_parse_iso(value.strip()))
        except ValueError:
            pass
    raise _Mismatch("ISO 8601 time", value)


_DURATION = re.compile(
    r"(-)?P(?:([0-9]+)D)?(?:T(?=[0-9])(?:([0-9]+)H)?(?:([0-9]+)M)?(?:([0-9]+)(?:\.([0-9]{1,6}))?S)?)?"
)
DURATION_PATTERN = _DURATION.pattern
"""The ISO 8601 duration strings a ``timedelta`` is read from (``P1DT2H3M4.000005S``)."""


def _s_timedelta(value: Any, _: Any) -> _dt.timedelta:
    if isinstance(value, _dt.timedelta):
        return value
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return _dt.timedelta(seconds=value)
        if isinstance(value, str):
            match = _DURATION.fullmatch(value)
            if match and value not in ("P", "-P"):
                sign, days, hours, minutes, seconds, fraction = match.groups()
                delta = _dt.timedelta(
                    days=int(days or 0),
                    hours=int(hours or 0),
                    minutes=int(minutes or 0),
                    seconds=int(seconds or 0),
                    microseconds=int((fraction or "").ljust(6, "0")),
                )
                return -delta if sign else delta
    except (OverflowError, ValueError):  # beyond timedelta.max, NaN, inf
        raise _Mismatch("duration", value, "duration is out of range (or not finite)") from None
    raise _Mismatch("duration in seconds", value)


def _u_timedelta(value: _dt.timedelta) -> float | str:
    seconds = value.total_seconds()
    try:
        if _dt.timedelta(seconds=seconds) == value:
            return seconds  # every duration below ~285 years with microseconds, and more
    except OverflowError:  # rounds past timedelta.max
        pass
    # Too many microseconds for a float: an exact ISO 8601 duration instead.
    sign = "-" if value < _dt.timedelta(0) else ""
    size = abs(value)
    return f"{sign}P{size.days}DT{size.seconds}.{size.microseconds:06d}S"


def _u_isoformat(value: _dt.date | _dt.time) -> str:
    return value.isoformat()


_UUID_TEXT = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
UUID_PATTERN = _UUID_TEXT.pattern
"""The UUID text form accepted: 8-4-4-4-12 hex digits (RFC 9562), either case."""


def _s_uuid(value: Any, _: Any) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str) and _UUID_TEXT.fullmatch(value):
        return uuid.UUID(value)
    raise _Mismatch("UUID string", value)


_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
DECIMAL_PATTERN = _DECIMAL_TEXT.pattern
"""The decimal text form accepted: digits, an optional fraction and exponent (no NaN)."""


def _usable_decimal(value: Decimal) -> bool:
    """Finite, and within the context's exponent range, so arithmetic on it works.

    ``Decimal("1e999999999999999999")`` is built exactly, but its first ``+ 1``
    raises ``decimal.Overflow`` (and ``int()`` of it never ends).
    """
    if not value.is_finite():
        return False
    if not value:
        return True
    context = getcontext()
    return context.Emin <= value.adjusted() <= context.Emax


def _s_decimal(value: Any, _: Any) -> Decimal:
    if isinstance(value, Decimal):
        if _usable_decimal(value):
            return value
        raise _Mismatch(
            "decimal string",
            value,
            "NaN, infinities and exponents beyond the decimal context are refused",
        )
    if isinstance(value, str):
        if _DECIMAL_TEXT.fullmatch(value):
            try:
                number = Decimal(value)
            except (InvalidOperation, ValueError):
                pass
            else:
                if _usable_decimal(number):
                    return number
    elif isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    elif isinstance(value, float) and math.isfinite(value):
        return Decimal(repr(value))
    raise _Mismatch("decimal string", value)


def _s_decimal_coerce(value: Any, tp: Any) -> Decimal:
    return _s_decimal(value.strip() if isinstance(value, str) else value, tp)


def _add_note(exc: BaseException, note: str) -> None:
    # Works on 3.10 too, where BaseException.add_note does not exist.
    exc.__notes__ = [*getattr(exc, "__notes__", []), note]  # type: ignore[attr-defined,unused-ignore]


def _identity(value: Any) -> Any:
    return value


def _str_hook(value: Any) -> str:
    return str(value)


def _is_sequence_type(tp: Any) -> bool:
    origin = get_origin(tp) or tp
    return (
        isinstance(origin, type)
        and issubclass(origin, (Sequence, AbstractSet))
        and not issubclass(origin, (str, bytes, bytearray))
        and origin is not tuple  # tuples have their own strict guard below
    )


class _PrimitiveEnum(abc.ABC):  # noqa: B024 - a virtual base, no methods
    """Matches enums that are also str, int or float, for cattrs' singledispatch.

    singledispatch puts a virtual base like this one before the enum's ``str``
    base, so these members get the enum hook instead of ``str``'s identity.
    """

    @classmethod
    def __subclasshook__(cls, sub: type) -> bool:
        return (
            isinstance(sub, type)
            and issubclass(sub, enum.Enum)
            and issubclass(sub, (str, int, float))
        ) or NotImplemented


_HOOKS: dict[tuple[Any, str], bool] = {}


def _has_hook(tp: Any, name: str) -> bool:
    try:
        return _HOOKS[tp, name]
    except (KeyError, TypeError):
        pass
    origin = get_origin(tp) or tp
    found = isinstance(origin, type) and getattr(origin, name, None) is not None
    try:
        if len(_HOOKS) < 4096:
            _HOOKS[tp, name] = found
    except TypeError:
        pass
    return found


def _is_tuple_type(tp: Any) -> bool:
    return (get_origin(tp) or tp) is tuple


def _is_record(tp: Any) -> bool:
    origin = get_origin(tp) or tp
    return isinstance(origin, type) and (attrs.has(origin) or dataclasses.is_dataclass(origin))


def _escape_pointer(token: object) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def _record_fields(cl: Any) -> list[tuple[str, Mapping[str, Any], str | None]]:
    """(name, metadata, attrs alias) of each field of an attrs class or dataclass."""
    origin = get_origin(cl) or cl
    if attrs.has(origin):
        return [(a.name, a.metadata, a.alias) for a in attrs.fields(origin)]
    return [(f.name, f.metadata, None) for f in dataclasses.fields(origin)]


# --------------------------------------------------------------------------- record errors


class _CollectState(threading.local):
    """Per thread: > 0 while a record's fields are being checked one by one."""

    collecting = 0


_STATE = _CollectState()


class _FieldErrors(Exception):
    """Every bad field of one record, and its unknown keys.

    Each error is ``(escaped key, exception, type, value)``; the value is
    ``_MISSING`` for an absent key.
    """

    def __init__(self, errors: list[tuple[str, BaseException, Any, Any]], extra: list[str]) -> None:
        super().__init__(f"{len(errors) + len(extra)} field error(s)")
        self.errors = errors
        self.extra = extra


_Plan = tuple[
    tuple[tuple[str, str, str, Any, Callable[[Any, Any], Any], bool], ...], frozenset[str]
]
"""Per record class, each field's (key, escaped key, init name, type, hook, required),
and every key."""


def _collect_fields(
    value: Any,
    tp: Any,
    plan: _Plan | None,
    detailed: Callable[[Any, Any], Any],
    cl: Any,
    forbid_extra: bool,
) -> Any:
    """Structure *value* field by field, raising :class:`_FieldErrors` with every problem.

    Nested records met meanwhile go straight to their own collection (no fast
    attempt first), so a failure costs one fast pass plus one collecting pass.
    Valid fields are kept and the record is built from them, as cattrs'
    detailed hook does (an ``__init__`` failure is its ``ClassValidationError``).
    """
    if plan is None:
        _STATE.collecting += 1
        try:
            return detailed(value, tp)
        finally:
            _STATE.collecting -= 1
    fields, known = plan
    errors: list[tuple[str, BaseException, Any, Any]] = []
    kwargs: dict[str, Any] = {}
    _STATE.collecting += 1
    try:
        for key, escaped, init_name, field_type, hook, required in fields:
            if key in value:
                item = value[key]
                try:
                    kwargs[init_name] = hook(item, field_type)
                except Exception as exc:
                    errors.append((escaped, exc, field_type, item))
            elif required:
                errors.append((escaped, KeyError(key), field_type, _MISSING))
    finally:
        _STATE.collecting -= 1
    extra = sorted(k for k in value if k not in known) if forbid_extra else []
    if errors or extra:
        raise _FieldErrors(errors, extra)
    try:
        return cl(**kwargs)
    except Exception as exc:
        raise ClassValidationError(f"While structuring {cl.__name__}", [exc], cl) from None


# --------------------------------------------------------------------------- cattrs subclass


class _Cattrs(cattrs.Converter):
    """cattrs' Converter with rename policies, per-field options and strict containers."""

    def __init__(self, owner: Converter, **kwargs: Any) -> None:
        self._owner = owner
        super().__init__(**kwargs)

    def gen_structure_attrs_fromdict(self, cl: Any) -> Any:
        """Two hooks built once per class: a fast one, and one that finds every error.

        The fast hook (cattrs without detailed validation) stops at the first bad
        field; only when it fails does :func:`_collect_fields` look at every
        field, so valid input never pays for error collection.
        """
        overrides = self._owner._overrides(cl, structure=True)
        overrides = self._owner._direct_scalar_hooks(cl, overrides)
        fast = cast(
            Callable[[Any, Any], Any],
            make_dict_structure_fn(
                cl,
                self,
                _cattrs_forbid_extra_keys=self.forbid_extra_keys,
                _cattrs_detailed_validation=False,
                **overrides,
            ),
        )
        detailed = cast(
            Callable[[Any, Any], Any],
            make_dict_structure_fn(
                cl,
                self,
                _cattrs_forbid_extra_keys=self.forbid_extra_keys,
                _cattrs_detailed_validation=True,
                **overrides,
            ),
        )
        plan: list[Any] = []  # [fields or None], filled on the first failure

        def structure_record(value: Any, tp: Any) -> Any:
            if type(value) is not dict and not isinstance(value, Mapping):
                raise _Mismatch("object", value)
            if not _STATE.collecting:
                try:
                    return fast(value, tp)
                except Exception:  # found again, with every other error, below
                    pass
            if not plan:
                plan.append(self._owner._field_plan(cl, overrides))
            return _collect_fields(value, tp, plan[0], detailed, cl, self.forbid_extra_keys)

        return structure_record

    def gen_unstructure_attrs_fromdict(self, cl: Any) -> Any:
        overrides = self._owner._overrides(cl, structure=False)
        return make_dict_unstructure_fn(
            cl, self, _cattrs_omit_if_default=self.omit_if_default, **overrides
        )

    def gen_structure_mapping(self, cl: Any) -> Any:
        args = get_args(cl)
        key_type, val_type = (args[0], args[1]) if len(args) == 2 else (Any, Any)
        owner = self._owner
        str_keys = key_type is str
        key_hook: Callable[[Any, Any], Any] | None
        if key_type is Any:
            key_hook = None
        elif str_keys:  # YAML and msgpack can give {1: 2}: str keys are checked too
            key_hook = _s_str_coerce if owner.coerce else _s_str
        else:
            key_hook = owner._key_hook(key_type)
        val_hook = None if val_type is Any else self.get_structure_hook(val_type)

        exact = val_type if str_keys and val_type in (str, int, bool) else None

        def structure_mapping(value: Any, _: Any) -> dict[Any, Any]:
            if type(value) is not dict and not isinstance(value, Mapping):
                raise _Mismatch("object", value)
            if (
                exact is not None
                and all(type(k) is str for k in value)
                and all(type(v) is exact for v in value.values())
            ):  # str keys to exactly-typed scalars: nothing to convert
                return dict(value)
            if val_hook is None and (
                key_hook is None or (str_keys and all(type(k) is str for k in value))
            ):
                return dict(value)
            result: dict[Any, Any] = {}
            errors: list[Exception] = []
            for key, item in value.items():
                try:
                    if key_hook is None or (str_keys and type(key) is str):
                        new_key = key
                    else:
                        new_key = key_hook(key, key_type)
                except Exception as exc:
                    note = IterableValidationNote(f"mapping key {key!r}", key, key_type)
                    _add_note(exc, note)
                    exc.__pepperpy_key__ = True  # type: ignore[attr-defined]
                    errors.append(exc)
                    continue
                try:
                    result[new_key] = item if val_hook is None else val_hook(item, val_type)
                except Exception as exc:
                    note = IterableValidationNote(f"mapping value @ key {key!r}", key, val_type)
                    _add_note(exc, note)
                    errors.append(exc)
            if errors:
                raise IterableValidationError(f"While structuring {cl!r}", errors, cl)
            return result

        return structure_mapping


# --------------------------------------------------------------------------- the converter


class Converter:
    """A cattrs converter preconfigured for JSON-like data, with PepperPy errors.

    It (un)structures attrs classes, dataclasses, TypedDicts, enums, literals,
    unions (register tagged unions with :meth:`register_tagged_union`),
    generics, ``datetime``/``date``/``time``/``timedelta``, ``UUID``,
    ``Decimal``, ``Path`` and ``bytes`` (base64). Unstructured data is always
    JSON-like builtins, so every wire format gives the same values back.

    Args:
        rename: Key naming policy for record fields: ``"camel"``, ``"pascal"``,
            ``"kebab"``, ``"snake"``, a function, or ``None`` to keep names.
            A field's own :func:`field_options` ``rename`` wins.
        omit_defaults: Leave out fields equal to their default when unstructuring.
        forbid_extra: Reject unknown keys when structuring records.
        coerce: Accept strings for numbers and booleans (``"42"``, ``"true"``),
            numbers for strings; the default is strict typing.
        use_alias: Use each attrs field's ``alias`` (its ``__init__`` name, so
            ``_secret`` is ``secret``) as its key, before the rename policy.

    Structuring never stops at the first problem: :class:`StructureError`
    lists every one with its JSON-Pointer path.

    A class can teach every converter how to handle it by defining
    ``__pepperpy_structure__(cls, value, type_, structure)`` (a classmethod;
    ``structure(value, inner_type)`` structures nested values) and
    ``__pepperpy_unstructure__(self, unstructure)``. A truthy class attribute
    ``__pepperpy_redact__`` keeps its values out of error messages.
    """

    def __init__(
        self,
        *,
        rename: RenamePolicy = None,
        omit_defaults: bool = False,
        forbid_extra: bool = False,
        coerce: bool = False,
        use_alias: bool = False,
    ) -> None:
        self.use_alias = use_alias
        self.rename = rename
        self.omit_defaults = omit_defaults
        self.forbid_extra = forbid_extra
        self.coerce = coerce
        self._policy = _resolve_policy(rename)
        self._keymaps: dict[Any, dict[str, str]] = {}
        self._c = _Cattrs(
            self,
            omit_if_default=omit_defaults,
            forbid_extra_keys=forbid_extra,
            detailed_validation=True,
            unstruct_collection_overrides={AbstractSet: list, tuple: list, Sequence: list},
            structure_fallback_factory=self._no_structure_hook,
            unstructure_fallback_factory=self._no_unstructure_hook,
        )
        self._configure()
        from cattrs.strategies import configure_union_passthrough

        # bool is left out: with it, Union[int, str] would pass True through as an int.
        configure_union_passthrough(Union[str, int, float, None], self._c)

    def __repr__(self) -> str:
        return (
            f"Converter(rename={self.rename!r}, omit_defaults={self.omit_defaults}, "
            f"forbid_extra={self.forbid_extra}, coerce={self.coerce}, use_alias={self.use_alias})"
        )

    # ------------------------------------------------------------------ configuration

    def _configure(self) -> None:
        """Register every hook, in order (later registrations take precedence in cattrs)."""
        self._configure_scalars()
        self._configure_paths_and_enums()
        self._configure_mappings()
        self._configure_protocol()
        self._configure_sequences()

    def _configure_scalars(self) -> None:
        """Scalars, bytes, dates and times, UUID and Decimal (strict or coercing)."""
        c = self._c
        coerce = self.coerce
        # Subclasses of int/str/float (IntEnum, (str, Enum), ...) reach these hooks
        # through cattrs' singledispatch; _primitive() sends them on to theirs.
        self._exact_hooks = {
            int: _s_int_coerce if coerce else _s_int,
            float: _s_float_coerce if coerce else _s_float,
            str: _s_str_coerce if coerce else _s_str,
        }
        c.register_structure_hook(int, self._primitive(int, _s_int_coerce if coerce else _s_int))
        c.register_structure_hook(
            float, self._primitive(float, _s_float_coerce if coerce else _s_float)
        )
        c.register_structure_hook(str, self._primitive(str, _s_str_coerce if coerce else _s_str))
        c.register_structure_hook(bool, _s_bool_coerce if coerce else _s_bool)
        c.register_structure_hook(bytes, _s_bytes)
        c.register_unstructure_hook(bytes, _u_bytes)
        c.register_structure_hook(_dt.datetime, _s_datetime)
        c.register_structure_hook(_dt.date, _s_date)
        c.register_structure_hook(_dt.time, _s_time)
        c.register_structure_hook(_dt.timedelta, _s_timedelta)
        for kind in (_dt.datetime, _dt.date, _dt.time):
            c.register_unstructure_hook(kind, _u_isoformat)
        c.register_unstructure_hook(_dt.timedelta, _u_timedelta)
        c.register_structure_hook(uuid.UUID, _s_uuid)
        c.register_unstructure_hook(uuid.UUID, _str_hook)
        c.register_structure_hook(Decimal, _s_decimal_coerce if coerce else _s_decimal)
        c.register_unstructure_hook(Decimal, _str_hook)

    def _configure_paths_and_enums(self) -> None:
        """Paths, enums and ``Literal``: values checked against the type, not only converted."""
        c = self._c

        def is_path(tp: Any) -> bool:
            return isinstance(tp, type) and issubclass(tp, PurePath)

        def structure_path(value: Any, tp: Any) -> PurePath:
            if isinstance(value, (str, PurePath)):
                return cast(PurePath, (Path if tp is PurePath else tp)(value))
            raise _Mismatch("path string", value)

        c.register_structure_hook_func(is_path, structure_path)
        c.register_unstructure_hook_func(is_path, _str_hook)

        def is_enum(tp: Any) -> bool:
            return isinstance(tp, type) and issubclass(tp, enum.Enum)

        c.register_structure_hook_func(is_enum, self._structure_enum)
        # (str, Enum) members would otherwise reach cattrs' str identity hook first.
        c.register_unstructure_hook(_PrimitiveEnum, lambda member: self.unstructure(member.value))

        def is_literal(tp: Any) -> bool:
            return get_origin(tp) is Literal

        c.register_structure_hook_func(is_literal, self._structure_literal)
        c.register_unstructure_hook_func(is_enum, lambda member: self.unstructure(member.value))

    def _configure_mappings(self) -> None:
        """Mappings unstructure to ``dict[str, ...]``; keys that collide as strings are refused."""
        c = self._c

        # JSON object keys are strings: unstructure every mapping key to one.
        def mapping_factory(cl: Any) -> Callable[[Any], Any]:
            args = get_args(cl)
            val_type = args[1] if len(args) == 2 else Any
            key_type = args[0] if len(args) == 2 else Any
            val_hook = None if val_type is Any else c.get_unstructure_hook(val_type)
            key_str = self._key_to_str

            def unstructure_mapping(mapping: Any) -> dict[str, Any]:
                if val_hook is None:
                    result = {key_str(k): c.unstructure(v) for k, v in mapping.items()}
                else:
                    result = {key_str(k): val_hook(v) for k, v in mapping.items()}
                if len(result) != len(mapping):  # two keys became one string: a value is lost
                    _refuse_colliding_keys(mapping, key_str)
                return result

            if key_type is str and val_hook in (_identity, cattrs_identity):

                def copy_str_keyed(mapping: Any) -> dict[str, Any]:
                    try:
                        "".join(mapping)  # every key a str? (checked at C speed)
                    except TypeError:  # annotated str keys holding others (1 and "1")
                        return unstructure_mapping(mapping)
                    return dict(mapping)

                return copy_str_keyed
            return unstructure_mapping

        def is_mapping(tp: Any) -> bool:
            origin = get_origin(tp) or tp
            return (
                isinstance(origin, type)
                and issubclass(origin, Mapping)
                and not (attrs.has(origin) or dataclasses.is_dataclass(origin))
                and not _is_typeddict(origin)
            )

        c.register_unstructure_hook_factory(is_mapping, mapping_factory)

    def _configure_protocol(self) -> None:
        """Types with ``__pepperpy_structure__`` / ``__pepperpy_unstructure__`` hooks."""
        c = self._c

        # Types can teach the converter themselves (see Converter's docstring).
        def structure_protocol(tp: Any) -> Callable[[Any, Any], Any]:
            origin = get_origin(tp) or tp
            hook = origin.__pepperpy_structure__
            structure = c.structure

            def structure_self(value: Any, target: Any) -> Any:
                return hook(value, target, structure)

            return structure_self

        def unstructure_protocol(tp: Any) -> Callable[[Any], Any]:
            unstructure = c.unstructure
            return lambda obj: obj.__pepperpy_unstructure__(unstructure)

        c.register_structure_hook_factory(
            lambda tp: _has_hook(tp, "__pepperpy_structure__"), structure_protocol
        )
        c.register_unstructure_hook_factory(
            lambda tp: _has_hook(tp, "__pepperpy_unstructure__"), unstructure_protocol
        )

    def _configure_sequences(self) -> None:
        """Strict sequences and tuples: a string is not a list, a dict not a list of keys."""
        c = self._c

        # Strict containers: a string is not a list of characters, a dict not a list of keys.
        def sequence_factory(cl: Any) -> Callable[[Any, Any], Any]:
            origin = get_origin(cl) or cl
            is_set = issubclass(origin, AbstractSet)
            base = self._base_sequence_hook(cl)

            def structure_sequence(value: Any, tp: Any) -> Any:
                if type(value) is list:
                    return base(value, tp)
                if isinstance(value, (str, bytes, bytearray, Mapping)) or not isinstance(
                    value, (Sequence, AbstractSet)
                ):
                    raise _Mismatch("array", value)
                if isinstance(value, AbstractSet) and not is_set:
                    raise _Mismatch("array", value)
                return base(value, tp)

            args = get_args(cl)
            exact = args[0] if len(args) == 1 and args[0] in (str, int, bool) else None
            if exact is not None and origin in (list, Sequence):
                # Fast path: a list of exactly-typed scalars needs no per-item hook calls.
                def structure_scalars(value: Any, tp: Any) -> Any:
                    if type(value) is list and all(type(item) is exact for item in value):
                        return list(value)
                    return structure_sequence(value, tp)

                return structure_scalars
            return structure_sequence

        c.register_structure_hook_factory(_is_sequence_type, sequence_factory)

        def tuple_factory(cl: Any) -> Callable[[Any, Any], Any]:
            args = get_args(cl)
            fixed = bool(args) and not (len(args) == 2 and args[1] is Ellipsis)
            base = c.gen_structure_hetero_tuple(cl) if fixed else c._structure_tuple

            def structure_tuple(value: Any, tp: Any) -> Any:
                if isinstance(value, (str, bytes, bytearray, Mapping)) or not isinstance(
                    value, Sequence
                ):
                    raise _Mismatch("array", value)
                if fixed and len(value) != len(args):
                    raise _Mismatch(
                        f"array of {len(args)} items",
                        value,
                        f"expected {len(args)} items, got {len(value)}",
                    )
                return base(value, tp)

            return structure_tuple

        c.register_structure_hook_factory(_is_tuple_type, tuple_factory)

    def _primitive(self, base: type, hook: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        """*hook* for *base* itself; subclasses (enums above all) get their own handling."""

        def structure_primitive(value: Any, tp: Any) -> Any:
            if tp is base or tp is None:
                return hook(value, tp)
            if isinstance(tp, type) and issubclass(tp, enum.Enum):
                return self._structure_enum(value, tp)
            return tp(hook(value, base))  # class UserId(int): ...

        return structure_primitive

    def _structure_enum(self, value: Any, tp: Any) -> enum.Enum:
        """A member of *tp* by value; ``True`` is not ``1`` and ``1.0`` is not ``1``."""
        if isinstance(value, tp):
            return cast(enum.Enum, value)
        try:
            member = tp(value)  # by value, with _missing_ and Flag combinations
        except (ValueError, TypeError):
            member = None
        if isinstance(value, bool) and not any(isinstance(m.value, bool) for m in tp):
            member = None  # IntFlag(True) builds a member whose value is True
        if member is not None and _same_kind(member.value, value):
            return cast(enum.Enum, member)
        if self.coerce and isinstance(value, str):
            for member in tp:
                if str(member.value) == value.strip():
                    return cast(enum.Enum, member)
        values = [m.value for m in tp]
        raise _Mismatch(f"one of {values!r}", value)

    def _structure_literal(self, value: Any, tp: Any) -> Any:
        """One of a ``Literal``'s values, compared by kind and value (``True`` is not ``1``)."""
        for choice in get_args(tp):
            if isinstance(choice, enum.Enum):
                if value is choice or _same_value(choice.value, value):
                    return choice
            elif _same_value(choice, value):
                return choice
        choices = [c.value if isinstance(c, enum.Enum) else c for c in get_args(tp)]
        raise _Mismatch(f"one of {choices!r}", value, f"expected one of {choices!r}")

    def _base_sequence_hook(self, cl: Any) -> Callable[[Any, Any], Any]:
        from cattrs.cols import list_structure_factory

        origin = get_origin(cl) or cl
        c = self._c
        if issubclass(origin, AbstractSet):
            args = get_args(cl)
            elem = args[0] if args else Any
            elem_hook = c.get_structure_hook(elem)
            frozen = issubclass(origin, frozenset)

            def structure_set(value: Any, _: Any) -> Any:
                items: list[Any] = []
                errors: list[Exception] = []
                for index, item in enumerate(value):
                    try:
                        items.append(elem_hook(item, elem))
                    except Exception as exc:
                        note = IterableValidationNote(f"set item @ index {index}", index, elem)
                        _add_note(exc, note)
                        errors.append(exc)
                if errors:
                    raise IterableValidationError(f"While structuring {cl!r}", errors, cl)
                return frozenset(items) if frozen else set(items)

            return structure_set
        hook = list_structure_factory(cl, c)
        if origin in (list, Sequence) or not isinstance(origin, type):
            return hook
        from collections import deque

        if origin is deque:
            return lambda value, tp: deque(hook(value, tp))
        return hook

    def _no_structure_hook(self, tp: Any) -> Callable[[Any, Any], Any]:
        raise UnsupportedTypeError(
            f"no structure hook for type {_type_name(tp)}",
            context={"type": _type_name(tp)},
            hint=f"Register one: converter.register_hook({_type_name(tp)}, "
            "structure=lambda value, type_: ..., unstructure=lambda obj: ...), "
            "or make it an attrs class.",
        )

    def _no_unstructure_hook(self, tp: Any) -> Callable[[Any], Any]:
        if isinstance(tp, type) and issubclass(tp, (str, int, float, type(None))):
            return cattrs_identity  # the very function cattrs inlines in generated code
        name = _type_name(tp)

        def fail(value: Any) -> Any:
            raise UnsupportedTypeError(
                f"cannot unstructure a value of type {name}",
                context={"type": name},
                hint=f"Register one: converter.register_hook({name}, "
                "structure=lambda value, type_: ..., unstructure=lambda obj: ...), "
                "or make it an attrs class.",
            )

        if tp in (object, Any) or not isinstance(tp, type):
            # typing forms (Literal, unions, ...) dispatch on the runtime value;
            # a bare object() has nothing more specific to dispatch to.
            c = self._c

            def dispatch(value: Any) -> Any:
                if type(value) is object:
                    return fail(value)
                return c.unstructure(value)

            return dispatch
        return fail

    def _key_to_str(self, key: Any) -> str:
        if isinstance(key, str):
            return key
        if isinstance(key, enum.Enum):
            return str(key.value)
        if isinstance(key, bool):
            return "true" if key else "false"
        unstructured = self._c.unstructure(key)
        if isinstance(unstructured, (str, int, float)):
            return str(unstructured)
        raise UnsupportedTypeError(
            f"mapping key of type {type(key).__name__} cannot become a JSON object key",
            context={"type": type(key).__name__},
            hint="Use str, int, float, bool, enum, UUID, date or datetime keys.",
        )

    def _key_hook(self, key_type: Any) -> Callable[[Any, Any], Any]:
        c = self._c
        hook = c.get_structure_hook(key_type)
        if key_type is int:
            return _s_int_coerce
        if key_type is float:
            return _s_float_coerce
        if key_type is bool:
            return _s_bool_coerce
        if isinstance(key_type, type) and issubclass(key_type, enum.Enum):

            def enum_key(value: Any, tp: Any) -> Any:
                try:
                    return hook(value, tp)
                except TypeError:
                    for member in tp:
                        if str(member.value) == value:
                            return member
                    raise

            return enum_key
        return hook

    def _overrides(self, cl: Any, *, structure: bool) -> dict[str, Any]:
        overrides: dict[str, Any] = {}
        keymap: dict[str, str] = {}
        for name, metadata, alias in _record_fields(cl):
            options = metadata.get(META_KEY) or {}
            if options.get("rename"):
                key = options["rename"]
            elif self.use_alias and alias and alias != name:
                key = alias
            else:
                key = self._policy(name) if self._policy else name
            _refuse_shared_key(cl, keymap, name, key)
            keymap[name] = key
            omit = bool(options.get("omit"))
            omit_if_default = options.get("omit_if_default")
            if key != name or omit or omit_if_default is not None:
                overrides[name] = override(
                    rename=key if key != name else None,
                    omit=omit or None,
                    omit_if_default=omit_if_default,
                )
        self._keymaps[cl] = keymap
        return overrides

    def _direct_scalar_hooks(self, cl: Any, overrides: dict[str, Any]) -> dict[str, Any]:
        """Fields typed exactly ``int``, ``float`` or ``str`` call their checking hook directly.

        The hook registered for these types also serves their subclasses (enums
        above all) and so dispatches on the target type first; a field whose
        type is the builtin itself can skip that step.
        """
        if get_origin(cl) is not None:
            return overrides
        try:
            if attrs.has(cl):
                attrs.resolve_types(cl)
                types = {a.name: a.type for a in attrs.fields(cl) if a.converter is None}
            else:
                types = get_type_hints(cl)
        except Exception:
            return overrides
        result = dict(overrides)
        for name, field_type in types.items():
            hook = self._exact_hooks.get(field_type) if isinstance(field_type, type) else None
            if hook is None:
                continue
            current = result.get(name)
            if current is None:
                result[name] = override(struct_hook=hook)
            elif current.struct_hook is None:
                result[name] = attrs.evolve(current, struct_hook=hook)
        return result

    def _field_plan(self, cl: Any, overrides: Mapping[str, Any]) -> _Plan | None:
        """The fields :func:`_collect_fields` checks, or ``None`` to leave it to cattrs.

        Generic classes, fields with attrs converters or ``init=False``, and
        ``Annotated`` types keep cattrs' own detailed hook, which knows them.
        """
        if get_origin(cl) is not None or getattr(cl, "__parameters__", None):
            return None
        try:
            if attrs.has(cl):
                attrs.resolve_types(cl)
                specs = [
                    (
                        a.name,
                        a.alias or a.name,
                        a.type,
                        a.default is attrs.NOTHING,
                        a.init and a.converter is None,
                    )
                    for a in attrs.fields(cl)
                ]
            else:
                hints = get_type_hints(cl)
                specs = [
                    (
                        f.name,
                        f.name,
                        hints.get(f.name, f.type),
                        f.default is dataclasses.MISSING
                        and f.default_factory is dataclasses.MISSING,
                        f.init,
                    )
                    for f in dataclasses.fields(cl)
                ]
        except Exception:
            return None
        keymap = self._keymap(cl)
        fields = []
        for name, init_name, field_type, required, simple in specs:
            if name in overrides and overrides[name].omit:
                continue
            if not simple or isinstance(field_type, (str, TypeVar)):
                return None
            if get_origin(field_type) is Annotated:
                return None
            hook = overrides[name].struct_hook if name in overrides else None
            if hook is None:
                hook = self._c.get_structure_hook(field_type)
            key = keymap.get(name, name)
            fields.append((key, _escape_pointer(key), init_name, field_type, hook, required))
        return tuple(fields), frozenset(field[0] for field in fields)

    def _keymap(self, cl: Any) -> dict[str, str]:
        keymap = self._keymaps.get(cl)
        if keymap is None:
            if not _is_record(cl):
                return {}
            self._overrides(cl, structure=True)
            keymap = self._keymaps[cl]
        return keymap

    # ------------------------------------------------------------------ public API

    def register_hook(
        self,
        type_: Any,
        *,
        structure: Callable[[Any, Any], Any] | None = None,
        unstructure: Callable[[Any], Any] | None = None,
    ) -> None:
        """Teach the converter a type.

        Args:
            type_: The type (a class; subclasses are not included).
            structure: ``(value, type_) -> instance``; raise ``ValueError`` or
                ``TypeError`` for bad values and the error is reported at its path.
            unstructure: ``instance -> JSON-like builtins``.
        """
        if structure is None and unstructure is None:
            raise InvalidArgumentError(
                "register_hook needs structure=, unstructure= or both",
                context={"type": _type_name(type_)},
            )
        if structure is not None:
            self._c.register_structure_hook(type_, structure)
        if unstructure is not None:
            self._c.register_unstructure_hook(type_, unstructure)

    def register_tagged_union(
        self,
        union: Any,
        *,
        tag: str = "type",
        tag_value: Callable[[type], str] | Mapping[type, str] | None = None,
        default: type | None = None,
    ) -> None:
        """Serialize a union of records with a discriminator key.

        Args:
            union: ``Union[A, B, ...]`` (or ``A | B``) of attrs classes or dataclasses.
            tag: The key holding the discriminator.
            tag_value: The tag of each class: a mapping, a function, or the class
                name by default.
            default: The class used when the tag is absent.

        Example::

            converter.register_tagged_union(Cat | Dog, tag="kind")
            converter.dumps(Cat(lives=9))  # b'{"lives":9,"kind":"Cat"}'
        """
        from cattrs.strategies import configure_tagged_union

        generator: Callable[[type], str]
        if isinstance(tag_value, Mapping):
            generator = dict(tag_value).__getitem__
        elif tag_value is None:
            generator = _class_name
        else:
            generator = tag_value
        kwargs: dict[str, Any] = {"tag_generator": generator, "tag_name": tag}
        if default is not None:
            kwargs["default"] = default
        configure_tagged_union(union, self._c, **kwargs)

    def unstructure(self, obj: Any, type_: Any = None) -> Any:
        """Turn *obj* into JSON-like builtins (dicts with str keys, lists, scalars).

        Args:
            obj: Any supported value.
            type_: Unstructure as this type (e.g. a union or a base class)
                instead of ``type(obj)``.

        Raises:
            UnsupportedTypeError: no hook knows the type.
            EncodeError: two keys of a mapping become the same string key
                (``{1: "a", "1": "b"}``; code ``pepperpy.serialization.duplicate_key``),
                or *obj* is nested too deeply.
        """
        try:
            return self._c.unstructure(obj, unstructure_as=type_)
        except RecursionError:
            raise _too_deep_to_encode() from None

    def structure(self, data: Any, type_: type[T] | Any) -> T:
        """Build a *type_* value from JSON-like *data*.

        Raises:
            StructureError: the data does not fit; every problem is listed with
                its JSON-Pointer path, expected type and the (truncated) value.
            UnsupportedTypeError: *type_* (or a nested type) has no hook.
        """
        hook = self._structure_hook(type_)
        try:
            return cast(T, hook(data, type_))
        except UnsupportedTypeError:
            raise
        except StructureHandlerNotFoundError as exc:
            raise self._no_hook_error(exc.type_) from None
        except RecursionError:
            raise _too_deep_to_structure(type_) from None
        except Exception as exc:
            details: list[ErrorDetail] = []
            try:
                self._collect(exc, "", data, type_, details)
            except RecursionError:
                raise _too_deep_to_structure(type_) from None
            raise StructureError(
                errors=details,
                context={"type": _type_name(type_)},
                hint="Fix the values at the paths listed (JSON Pointer into the input).",
            ) from None

    def dumps(self, obj: Any, *, format: str = "json", type_: Any = None) -> bytes:
        """Serialize *obj* to bytes in *format* (``json``, ``toml``, ``msgpack``, ``yaml``).

        Raises:
            EncodeError: the format cannot represent the value.
            FormatUnavailableError: unknown format or its extra is not installed.
        """
        if format == "json":
            return _json_encode(self.unstructure(obj, type_))
        return get_format(format).encode(self.unstructure(obj, type_))

    @overload
    def loads(self, data: bytes | str, type_: type[T], *, format: str = ...) -> T: ...

    @overload
    def loads(self, data: bytes | str, type_: Any, *, format: str = ...) -> Any: ...

    def loads(self, data: bytes | str, type_: Any, *, format: str = "json") -> Any:
        """Parse *data* in *format* and structure it as *type_*.

        Raises:
            DecodeError: the bytes are malformed (with line and column when known).
            StructureError: the parsed data does not fit *type_* (every problem).
        """
        if format == "json":
            return self.structure(_json_decode(data), type_)
        return self.structure(get_format(format).decode(data), type_)

    def dump_file(self, obj: Any, path: str | PurePath, *, format: str | None = None) -> None:
        """Write *obj* to *path*, atomically (a temporary file is renamed over it).

        The format comes from the suffix unless *format* is given.
        """
        import os
        import tempfile

        target = _as_path(path)
        fmt = get_format(format) if format else format_for_path(str(target))
        payload = fmt.encode(self.unstructure(obj))
        try:
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        except OSError as exc:
            raise _file_error(target, exc, "write") from None
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
            os.replace(tmp, target)
        except BaseException as exc:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            if isinstance(exc, OSError):
                raise _file_error(target, exc, "write") from None
            raise

    def load_file(self, path: str | PurePath, type_: Any, *, format: str | None = None) -> Any:
        """Read *path* and structure it as *type_*; the format comes from the suffix.

        Errors carry ``source`` (the path) in their context.
        """
        from pepperpy.core.exceptions import PepperPyError

        target = _as_path(path)
        fmt = get_format(format) if format else format_for_path(str(target))
        try:
            data = target.read_bytes()
        except OSError as exc:
            raise _file_error(target, exc, "read") from None
        try:
            return self.structure(fmt.decode(data), type_)
        except PepperPyError as exc:
            exc.context.setdefault("source", str(target))
            raise

    # ------------------------------------------------------------------ errors

    def _structure_hook(self, type_: Any) -> Callable[[Any, Any], Any]:
        try:
            return self._c.get_structure_hook(type_)
        except UnsupportedTypeError:
            raise
        except StructureHandlerNotFoundError as exc:
            raise self._no_hook_error(exc.type_) from None
        except Exception as exc:
            name = _type_name(type_)
            raise UnsupportedTypeError(
                f"cannot build a structure hook for {name}: {exc}",
                context={"type": name},
                hint="Make sure every annotation resolves (classes referenced by string "
                "annotations must be importable from the class's module).",
            ) from exc

    def _no_hook_error(self, tp: Any) -> UnsupportedTypeError:
        name = _type_name(tp)
        return UnsupportedTypeError(
            f"no structure hook for type {name}",
            context={"type": name},
            hint=f"Register one: converter.register_hook({name}, structure=..., "
            "unstructure=...), or use register_tagged_union() for unions of records.",
        )

    def _collect(
        self, exc: BaseException, path: str, data: Any, tp: Any, out: list[ErrorDetail]
    ) -> None:
        if type(exc) is _Mismatch:  # the common leaf, first
            self._leaf(exc, path, data, tp, out)
            return
        if isinstance(exc, StructureHandlerNotFoundError):
            raise self._no_hook_error(exc.type_) from None
        if isinstance(exc, UnsupportedTypeError):
            raise exc
        if type(exc) is _FieldErrors:
            self._collect_fields(exc, path, data, out)
            return
        if isinstance(exc, ClassValidationError):
            self._collect_record(exc, path, data, out)
            return
        if isinstance(exc, IterableValidationError):
            self._collect_items(exc, path, data, out)
            return
        if isinstance(exc, BaseValidationError):
            for sub in exc.exceptions:
                self._collect(sub, path, data, tp, out)
            return
        self._leaf(exc, path, data, tp, out)

    def _collect_fields(
        self, exc: _FieldErrors, path: str, data: Any, out: list[ErrorDetail]
    ) -> None:
        """Errors from :func:`_collect_fields`: each field's at its key, then unknown keys."""
        for escaped, sub, field_type, sub_data in exc.errors:
            where = f"{path}/{escaped}"
            if type(sub) is _Mismatch:
                self._mismatch(sub, where, sub_data, field_type, out)
            else:
                self._collect(sub, where, sub_data, field_type, out)
        for key in exc.extra:
            out.append(
                ErrorDetail(
                    f"{path}/{_escape_pointer(key)}",
                    "unknown key is not allowed",
                    code="extra_forbidden",
                    value=safe_repr(data.get(key)) if isinstance(data, Mapping) else None,
                )
            )

    def _collect_record(
        self, exc: ClassValidationError, path: str, data: Any, out: list[ErrorDetail]
    ) -> None:
        """A record's errors: each field's at its key, unknown keys as extra_forbidden."""
        keymap = self._keymap(exc.cl)
        with_notes, without = exc.group_exceptions()
        for sub, note in with_notes:
            key = keymap.get(note.name, note.name)
            sub_data = data.get(key, _MISSING) if isinstance(data, Mapping) else _MISSING
            self._collect(sub, f"{path}/{_escape_pointer(key)}", sub_data, note.type, out)
        for sub in without:
            if isinstance(sub, ForbiddenExtraKeysError):
                for key in sorted(sub.extra_fields):
                    out.append(
                        ErrorDetail(
                            f"{path}/{_escape_pointer(key)}",
                            "unknown key is not allowed",
                            code="extra_forbidden",
                            value=safe_repr(data.get(key)) if isinstance(data, Mapping) else None,
                        )
                    )
            else:
                self._collect(sub, path, data, exc.cl, out)

    def _collect_items(
        self, exc: IterableValidationError, path: str, data: Any, out: list[ErrorDetail]
    ) -> None:
        """A collection's errors: each item's (or key's) at its index."""
        items, rest = exc.group_exceptions()
        for item_exc, item_note in items:
            index = item_note.index
            if getattr(item_exc, "__pepperpy_key__", False):
                out.append(
                    ErrorDetail(
                        f"{path}/{_escape_pointer(index)}",
                        f"invalid key, expected {_type_name(item_note.type)}",
                        code="key",
                        expected=_type_name(item_note.type),
                        value=safe_repr(index),
                    )
                )
                continue
            try:
                sub_data = data[index]
            except Exception:
                sub_data = _MISSING
            self._collect(
                item_exc, f"{path}/{_escape_pointer(index)}", sub_data, item_note.type, out
            )
        for sub in rest:
            self._collect(sub, path, data, exc.cl, out)

    def _leaf(
        self, exc: BaseException, path: str, data: Any, tp: Any, out: list[ErrorDetail]
    ) -> None:
        if type(exc) is _Mismatch and data is not _MISSING:  # the common case, first
            self._mismatch(exc, path, data, tp, out)
            return
        expected = _type_name(tp) if tp is not None else None
        if isinstance(exc, RecursionError):
            from pepperpy.serialization._limits import MAX_DEPTH

            message = f"nested too deeply to structure (decoders allow {MAX_DEPTH} levels)"
            out.append(ErrorDetail(path, message, code="depth", expected=expected))
            return
        if data is _MISSING or isinstance(exc, KeyError):
            out.append(
                ErrorDetail(path, "required key is missing", code="missing", expected=expected)
            )
            return
        if isinstance(exc, _Mismatch):  # a subclass of it
            self._mismatch(exc, path, data, tp, out)
            return
        value = "<redacted>" if _has_hook(tp, "__pepperpy_redact__") else safe_repr(data)
        if get_origin(tp) is Literal:
            choices = list(get_args(tp))
            out.append(
                ErrorDetail(
                    path,
                    f"expected one of {choices!r}",
                    code="type",
                    expected=f"one of {choices!r}",
                    value=value,
                )
            )
            return
        if _is_union(tp):
            out.append(
                ErrorDetail(
                    path,
                    f"value matches none of {expected}",
                    code="union",
                    expected=expected,
                    value=value,
                )
            )
            return
        detail = str(exc) or type(exc).__name__
        out.append(
            ErrorDetail(
                path,
                f"invalid value for {expected}: {detail}" if expected else detail,
                code="invalid",
                expected=expected,
                value=value,
            )
        )

    @staticmethod
    def _mismatch(exc: _Mismatch, path: str, data: Any, tp: Any, out: list[ErrorDetail]) -> None:
        """A value of the wrong type (or form): ``code="type"``."""
        value = "<redacted>" if _has_hook(tp, "__pepperpy_redact__") else safe_repr(data)
        expected = exc.expected
        if exc.reason:
            message = exc.reason
        elif (
            (type(data) is str or isinstance(data, str))
            and expected not in _PLAIN_KINDS
            and not expected.startswith("one of")
        ):
            message = f"not a valid {expected}"
        else:
            message = f"expected {expected}, got {_json_kind(data)}"
        out.append(ErrorDetail(path, message, code="type", expected=expected, value=value))


_PLAIN_KINDS = frozenset({"integer", "number", "boolean", "string", "object", "array"})


def _too_deep_to_structure(tp: Any) -> StructureError:
    from pepperpy.serialization._limits import MAX_DEPTH

    message = f"nested too deeply to structure (decoders allow {MAX_DEPTH} levels)"
    return StructureError(
        errors=[ErrorDetail("", message, code="depth", expected=_type_name(tp))],
        context={"type": _type_name(tp), "max_depth": MAX_DEPTH},
        hint="Flatten the data; recursive types must not nest without bound.",
    )


def _refuse_shared_key(cl: Any, keymap: Mapping[str, str], name: str, key: str) -> None:
    """Raise when field *name* would be written under the key of an earlier field."""
    for other, taken in keymap.items():
        if taken == key:
            type_name = _type_name(cl)
            raise UnsupportedTypeError(
                f"{type_name}: fields {other!r} and {name!r} are both written under the key "
                f"{key!r}; one value would be lost",
                code="pepperpy.serialization.duplicate_field_key",
                context={"type": type_name, "key": key},
                hint="Rename one of the fields, or give it field_options(rename=...) with "
                "another key.",
            )


def _refuse_colliding_keys(mapping: Any, key_str: Callable[[Any], str]) -> None:
    """Raise for the first two keys of *mapping* that become the same string key."""
    from pepperpy.serialization._errors import EncodeError

    seen: dict[str, Any] = {}
    for key in mapping:
        text = key_str(key)
        if text in seen:
            raise EncodeError(
                f"mapping keys {safe_repr(seen[text])} and {safe_repr(key)} both become the "
                f"object key {safe_repr(text)}; one value would be lost",
                code="pepperpy.serialization.duplicate_key",
                context={"key": text},
                hint="Keep a mapping's keys distinct as strings (e.g. all str or all int keys).",
            )
        seen[text] = key


def _too_deep_to_encode() -> Exception:
    from pepperpy.serialization._errors import EncodeError
    from pepperpy.serialization._limits import MAX_DEPTH

    return EncodeError(
        "the value is nested too deeply to unstructure",
        context={"max_depth": MAX_DEPTH},
        hint=f"Flatten the data; decoders refuse more than {MAX_DEPTH} levels anyway.",
    )


def _as_path(path: Any) -> Path:
    """*path* as a :class:`Path`; a non-path or a NUL byte is an InvalidArgumentError."""
    from pepperpy.core.exceptions import InvalidArgumentError

    try:
        target = Path(path)
    except TypeError:
        raise InvalidArgumentError(
            f"a file path must be a str or os.PathLike, not {type(path).__name__}",
            code="pepperpy.serialization.invalid_path",
            context={"type": type(path).__name__},
            hint="Pass a str or pathlib.Path.",
        ) from None
    if "\x00" in str(target):
        raise InvalidArgumentError(
            "a file path cannot hold a NUL byte",
            code="pepperpy.serialization.invalid_path",
            context={"path": repr(str(target))},
            hint="Remove the NUL character from the path.",
        )
    return target


def _file_error(path: Path, exc: OSError, action: str) -> Exception:
    """A PepperPy error naming *path* for an OS failure to read or write it."""
    from pepperpy.core.exceptions import NotFoundError

    reason = exc.strerror or type(exc).__name__
    context = {"source": str(path), "reason": reason}
    if isinstance(exc, FileNotFoundError) and action == "read":
        return NotFoundError(
            f"cannot read {path}: no such file", context=context, hint="Check the path."
        )
    return InvalidArgumentError(
        f"cannot {action} {path}: {reason}",
        context=context,
        hint="Pass the path of a regular file this process may "
        + ("read." if action == "read" else "write, in an existing directory."),
    )


def _kind(value: Any) -> Any:
    if isinstance(value, bool):
        return bool
    if isinstance(value, int):
        return int
    if isinstance(value, float):
        return float
    if isinstance(value, str):
        return str
    return type(value)


def _same_kind(expected: Any, value: Any) -> bool:
    """*value* is of *expected*'s JSON kind (an int may stand for a float)."""
    kind = _kind(expected)
    got = _kind(value)
    return got is kind or (kind is float and got is int)


def _same_value(expected: Any, value: Any) -> bool:
    """Equal and of the same JSON kind: ``True`` is not ``1``, ``1.0`` is not ``1``.

    An int is accepted where a float is expected (JSON writes ``2.0`` as ``2``
    in some encoders), as the strict ``float`` hook does.
    """
    if not _same_kind(expected, value):
        return False
    try:
        return bool(expected == value)
    except Exception:
        return False


def _class_name(cl: type) -> str:
    return cl.__name__


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    return type(value).__name__


def _is_union(tp: Any) -> bool:
    origin = get_origin(tp)
    if origin is Union:
        return True
    import types

    return origin is types.UnionType or isinstance(tp, types.UnionType)


def _is_typeddict(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__total__")
