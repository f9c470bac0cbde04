"""Assertions with readable failures."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import attrs

from pepperpy.core.exceptions import PepperPyError, safe_repr

__all__ = ["RaisedInfo", "assert_attrs_equal", "assert_raises_pepperpy", "attrs_diff"]

E = TypeVar("E", bound=PepperPyError)


def attrs_diff(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Return one line per differing field between two attrs objects (recursively)."""
    if type(expected) is not type(actual):
        return [f"{path or '/'}: type {type(expected).__name__} != {type(actual).__name__}"]
    if attrs.has(type(expected)):
        lines = []
        for field in attrs.fields(type(expected)):
            lines += attrs_diff(
                getattr(expected, field.name), getattr(actual, field.name), f"{path}/{field.name}"
            )
        return lines
    if isinstance(expected, (list, tuple)) and len(expected) == len(actual):
        lines = []
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            lines += attrs_diff(e, a, f"{path}/{i}")
        return lines
    if isinstance(expected, dict) and expected.keys() == actual.keys():
        lines = []
        for key in expected:
            lines += attrs_diff(expected[key], actual[key], f"{path}/{key}")
        return lines
    if expected != actual:
        return [f"{path or '/'}: expected {safe_repr(expected)}, got {safe_repr(actual)}"]
    return []


def assert_attrs_equal(expected: Any, actual: Any) -> None:
    """Assert two attrs objects are equal, listing every differing field by path."""
    if expected == actual:
        return
    lines = attrs_diff(expected, actual) or [f"expected {expected!r}, got {actual!r}"]
    raise AssertionError(f"{len(lines)} field(s) differ:\n  " + "\n  ".join(lines))


class RaisedInfo:
    """Holds the error caught by :func:`assert_raises_pepperpy` (``.value``)."""

    value: PepperPyError


@contextmanager
def assert_raises_pepperpy(
    error: type[E] = PepperPyError,  # type: ignore[assignment]
    *,
    code: str | None = None,
    match: str | None = None,
    context: dict[str, Any] | None = None,
    hint: bool = False,
) -> Iterator[RaisedInfo]:
    """Assert the block raises *error* with the given code, message and context.

    Args:
        error: The PepperPyError subclass expected.
        code: The exact ``code`` expected.
        match: A regex searched in ``str(error)``.
        context: Key/value pairs that must be in ``error.context``.
        hint: Require a non-empty hint.
    """
    info = RaisedInfo()
    try:
        yield info
    except error as exc:
        info.value = exc
        problems = []
        if code is not None and exc.code != code:
            problems.append(f"code is {exc.code!r}, expected {code!r}")
        if match is not None and not re.search(match, str(exc)):
            problems.append(f"message {str(exc)!r} does not match {match!r}")
        for key, value in (context or {}).items():
            if exc.context.get(key) != value:
                got = safe_repr(exc.context.get(key))
                problems.append(f"context[{key!r}] is {got}, expected {safe_repr(value)}")
        if hint and not exc.hint:
            problems.append("it has no hint")
        if problems:
            raise AssertionError(
                f"{type(exc).__name__} was raised but " + "; ".join(problems)
            ) from exc
        return
    except BaseException as exc:
        raise AssertionError(
            f"expected {error.__name__}, but {type(exc).__name__} was raised: {exc}"
        ) from exc
    raise AssertionError(f"expected {error.__name__}, but nothing was raised")
