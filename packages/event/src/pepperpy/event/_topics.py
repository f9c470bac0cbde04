"""Topic names and wildcard patterns (``*`` one segment, ``#`` any number)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from pepperpy.core.exceptions import InvalidArgumentError, safe_repr

__all__ = ["compile_pattern", "matches", "topic", "topic_of", "validate_topic"]

C = TypeVar("C", bound=type)


def topic(name: str) -> Callable[[C], C]:
    """Class decorator giving an event class its topic (``__topic__``).

    Example::

        @topic("orders.created")
        @attrs.frozen
        class OrderCreated:
            order_id: int

    Without it, an event class's topic is its class name.
    """
    validate_topic(name)

    def decorate(cls: C) -> C:
        setattr(cls, "__topic__", name)  # noqa: B010
        return cls

    return decorate


def topic_of(cls: type[Any]) -> str:
    """Return the topic of an event class: its ``__topic__`` or its name."""
    name = cls.__dict__.get("__topic__")
    return name if isinstance(name, str) else cls.__name__


def _check(name: object, *, wildcards: bool) -> tuple[str, ...]:
    if not isinstance(name, str) or not name:
        raise InvalidArgumentError(
            f"a topic must be a non-empty string, got {safe_repr(name)}",
            code="pepperpy.event.topic",
            hint="Use dotted names such as 'orders.created'.",
        )
    parts = tuple(name.split("."))
    for part in parts:
        if not part:
            raise InvalidArgumentError(
                f"topic {name!r} has an empty segment",
                code="pepperpy.event.topic",
                context={"topic": name},
                hint="Separate non-empty segments with single dots: 'orders.created'.",
            )
        if ("*" in part or "#" in part) and (not wildcards or part not in ("*", "#")):
            raise InvalidArgumentError(
                f"topic {name!r}: wildcards are only allowed as whole segments of a pattern",
                code="pepperpy.event.topic",
                context={"topic": name, "segment": part},
                hint="Publish on concrete topics; subscribe with 'orders.*' or 'orders.#'.",
            )
    return parts


def validate_topic(name: str) -> str:
    """Check a concrete topic (no wildcards) and return it."""
    _check(name, wildcards=False)
    return name


@functools.lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> tuple[str, ...]:
    """Check a subscription pattern and split it into segments."""
    return _check(pattern, wildcards=True)


def _match(pattern: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    if not pattern:
        return not parts
    head = pattern[0]
    if head == "#":
        rest = pattern[1:]
        return any(_match(rest, parts[i:]) for i in range(len(parts) + 1))
    if not parts:
        return False
    if head != "*" and head != parts[0]:
        return False
    return _match(pattern[1:], parts[1:])


def matches(pattern: str, name: str) -> bool:
    """Return whether topic *name* matches *pattern*.

    ``*`` matches exactly one segment and ``#`` matches zero or more, so
    ``orders.*`` matches ``orders.created`` but not ``orders.eu.created``,
    and ``orders.#`` matches ``orders``, ``orders.created`` and ``orders.eu.created``.
    """
    return _match(compile_pattern(pattern), tuple(name.split(".")))
