"""Argument checks shared by the public APIs: hostile input gets an ``InvalidArgumentError``.

Nothing here calls ``str()``/``repr()`` on the value it checks (an object whose
``__str__`` raises must not turn a refusal into a crash); errors name the type only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from pepperpy.core.exceptions import InvalidArgumentError

__all__ = ["instance", "number", "opt_str", "str_tuple", "text", "type_name"]


def type_name(value: Any) -> str:
    """The type name of *value*, safe for any object."""
    return type(value).__name__


def number(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    positive: bool = False,
    allow_inf: bool = False,
) -> float:
    """Return *value* as a float: a real number (not bool), not NaN, finite unless *allow_inf*."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidArgumentError(
            f"{name} must be a number, not {type_name(value)}",
            context={name: type_name(value)},
            hint=f"Pass {name} as an int or float (seconds).",
        )
    try:
        result = float(value)
    except OverflowError:
        result = math.inf if value > 0 else -math.inf
    bad = (
        math.isnan(result)
        or (math.isinf(result) and not (allow_inf and result > 0))
        or (minimum is not None and result < minimum)
        or (positive and result <= 0)
    )
    if bad:
        rule = "a positive" if positive else "a"
        limit = f" >= {minimum}" if minimum is not None else ""
        finite = "" if allow_inf else " finite"
        raise InvalidArgumentError(
            f"{name} must be {rule}{finite} number{limit}",
            context={name: repr(result)},
            hint=f"Pass a{finite} {name}{limit}.",
        )
    return result


def instance(value: Any, cls: type[Any], name: str) -> Any:
    """Return *value* if it is an instance of *cls*."""
    if not isinstance(value, cls):
        raise InvalidArgumentError(
            f"{name} must be a {cls.__name__}, not {type_name(value)}",
            context={name: type_name(value)},
        )
    return value


def text(value: Any, name: str, *, empty: bool = False) -> str:
    """Return *value* if it is a str (non-empty unless *empty*)."""
    if not isinstance(value, str) or (not value and not empty):
        raise InvalidArgumentError(
            f"{name} must be a {'' if empty else 'non-empty '}string, not {type_name(value)}",
            context={name: type_name(value)},
        )
    return value


def opt_str(value: Any, name: str) -> str | None:
    """Return *value* if it is ``None`` or a str."""
    if value is not None and not isinstance(value, str):
        raise InvalidArgumentError(
            f"{name} must be a string or None, not {type_name(value)}",
            context={name: type_name(value)},
        )
    return value


def str_tuple(value: Any, name: str) -> tuple[str, ...]:
    """Return a str, ``None`` or an iterable of str as a tuple of str."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    kind = type(value)
    if kind is tuple or kind is list:  # the common case, without the ABC checks below
        items = tuple(value)
        for item in items:
            if type(item) is not str:
                break
        else:
            return items
    if isinstance(value, (bytes, bytearray, memoryview, Mapping)) or not isinstance(
        value, Iterable
    ):
        raise InvalidArgumentError(
            f"{name} must be a string or an iterable of strings, not {type_name(value)}",
            context={name: type_name(value)},
        )
    try:
        items = tuple(value)
    except Exception as exc:  # a hostile iterable
        raise InvalidArgumentError(
            f"{name} could not be iterated", context={name: type_name(value)}
        ) from exc
    for item in items:
        if not isinstance(item, str):
            raise InvalidArgumentError(
                f"{name} must hold only strings, found {type_name(item)}",
                context={name: type_name(item)},
            )
    return items
