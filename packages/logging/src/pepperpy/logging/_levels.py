"""Level names, numbers and per-logger-name resolution."""

from __future__ import annotations

from collections.abc import Mapping

from pepperpy.core.exceptions import InvalidArgumentError, safe_repr

__all__ = ["LEVELS", "level_name", "level_no", "resolve"]

LEVELS: Mapping[str, int] = {
    "TRACE": 5,
    "DEBUG": 10,
    "INFO": 20,
    "SUCCESS": 25,
    "WARNING": 30,
    "ERROR": 40,
    "CRITICAL": 50,
}
"""Level names (loguru's) and their numbers (stdlib compatible)."""

_ALIASES = {"WARN": "WARNING", "FATAL": "CRITICAL", "NOTSET": "TRACE"}
_BY_NO = {no: name for name, no in LEVELS.items()}


def level_no(level: str | int) -> int:
    """Return the number of *level* (a name, any case, or a number >= 0).

    Raises:
        InvalidArgumentError: Unknown name or negative number.
    """
    if isinstance(level, bool):
        pass
    elif isinstance(level, int):
        if level >= 0:
            return level
    elif isinstance(level, str):
        key = level.strip().upper()
        key = _ALIASES.get(key, key)
        number = LEVELS.get(key)
        if number is not None:
            return number
        if key.isdigit():
            return int(key)
    raise InvalidArgumentError(
        f"unknown log level {safe_repr(level)}",
        code="pepperpy.logging.level",
        context={"level": safe_repr(level)},
        hint=f"Use one of {', '.join(LEVELS)} or a number >= 0.",
    )


def level_name(number: int) -> str:
    """Return the name of level *number*, or ``"Level <n>"`` for custom numbers."""
    return _BY_NO.get(number, f"Level {number}")


def resolve(name: str | None, levels: Mapping[str, int], default: int) -> int:
    """Return the threshold for logger *name*: its most specific entry in *levels*.

    ``levels`` maps dotted logger names to numbers; ``"a.b"`` applies to
    ``"a.b"`` and ``"a.b.c"`` but not to ``"a.bc"``.
    """
    if not levels or not name:
        return default
    candidate = name
    while True:
        found = levels.get(candidate)
        if found is not None:
            return found
        cut = candidate.rfind(".")
        if cut < 0:
            return default
        candidate = candidate[:cut]
