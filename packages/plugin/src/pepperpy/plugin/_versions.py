"""Host API version ranges: ``">=1.2,<2"`` style specifiers without extra dependencies."""

from __future__ import annotations

import re
from collections.abc import Callable

from pepperpy.core.exceptions import InvalidArgumentError

__all__ = ["ApiRange", "is_compatible", "parse_version"]

_VERSION = re.compile(r"^\s*v?(\d+(?:\.\d+)*)\s*$")
_CLAUSE = re.compile(r"^\s*(~=|==|!=|>=|<=|>|<)?\s*(v?\d+(?:\.\d+)*)(\.\*)?\s*$")

Version = tuple[int, ...]


def parse_version(text: str) -> Version:
    """Parse a dotted numeric version (``"1.4"``, ``"2.0.1"``) into a tuple of ints.

    Trailing zeros are dropped so that ``"1.0"`` equals ``"1"``.

    Raises:
        InvalidArgumentError: *text* is not a dotted numeric version.
    """
    match = _VERSION.match(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidArgumentError(
            f"invalid API version {text!r}",
            code="pepperpy.plugin.invalid_version",
            context={"version": str(text)},
            hint="Use a dotted numeric version such as '1.4' or '2.0.1'.",
        )
    return _normalise(tuple(int(part) for part in match.group(1).split(".")))


def _normalise(version: Version) -> Version:
    parts = list(version)
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def _prefix_match(version: Version, prefix: Version) -> bool:
    padded = version + (0,) * max(0, len(prefix) - len(version))
    return padded[: len(prefix)] == prefix


def _clause(op: str, target: Version, wildcard: bool) -> Callable[[Version], bool]:
    if wildcard:
        if op == "==":
            return lambda v: _prefix_match(v, target)
        return lambda v: not _prefix_match(v, target)
    norm = _normalise(target)
    if op == "~=":
        prefix = target[:-1]
        return lambda v: v >= norm and _prefix_match(v, prefix)
    comparisons: dict[str, Callable[[Version], bool]] = {
        "==": lambda v: v == norm,
        "!=": lambda v: v != norm,
        ">=": lambda v: v >= norm,
        "<=": lambda v: v <= norm,
        ">": lambda v: v > norm,
        "<": lambda v: v < norm,
    }
    return comparisons[op]


class ApiRange:
    """A set of host API versions, written like a PEP 440 specifier.

    Clauses are separated by commas and must all hold: ``">=1.2,<2"``,
    ``"==1.*"``, ``"~=1.4"`` (``>=1.4,==1.*``), ``"!=1.3"``. A bare version
    means ``==``. Only numeric release segments are supported.

    Args:
        text: The specifier.

    Raises:
        InvalidArgumentError: the specifier cannot be parsed.
    """

    __slots__ = ("_checks", "text")

    def __init__(self, text: str) -> None:
        if not isinstance(text, str) or not text.strip():
            raise InvalidArgumentError(
                f"invalid API range {text!r}: it is empty",
                code="pepperpy.plugin.invalid_range",
                hint="Use a specifier such as '>=1.0,<2'.",
            )
        self.text = text.strip()
        checks: list[Callable[[Version], bool]] = []
        for raw in self.text.split(","):
            match = _CLAUSE.match(raw)
            if match is None:
                raise InvalidArgumentError(
                    f"invalid API range {text!r}: cannot read clause {raw.strip()!r}",
                    code="pepperpy.plugin.invalid_range",
                    context={"range": text, "clause": raw.strip()},
                    hint="Use comparisons such as '>=1.0,<2', '==1.*' or '~=1.4'.",
                )
            op, version_text, star = match.group(1) or "==", match.group(2), match.group(3)
            if star and op not in ("==", "!="):
                raise InvalidArgumentError(
                    f"invalid API range {text!r}: '.*' only works with '==' or '!='",
                    code="pepperpy.plugin.invalid_range",
                    context={"range": text, "clause": raw.strip()},
                    hint="Write '==1.*' or '>=1,<2'.",
                )
            target = tuple(int(p) for p in version_text.lstrip("v").split("."))
            if op == "~=" and len(target) < 2:
                raise InvalidArgumentError(
                    f"invalid API range {text!r}: '~=' needs at least two parts",
                    code="pepperpy.plugin.invalid_range",
                    context={"range": text, "clause": raw.strip()},
                    hint="Write '~=1.4' (meaning >=1.4,==1.*).",
                )
            checks.append(_clause(op, target, bool(star)))
        self._checks = tuple(checks)

    def __contains__(self, version: object) -> bool:
        if isinstance(version, str):
            parsed = parse_version(version)
        elif isinstance(version, tuple):
            parsed = _normalise(version)
        else:
            return False
        return all(check(parsed) for check in self._checks)

    def __repr__(self) -> str:
        return f"ApiRange({self.text!r})"

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ApiRange) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def is_compatible(required: str | ApiRange, version: str) -> bool:
    """Return whether host API *version* satisfies the range *required*.

    >>> is_compatible(">=1.2,<2", "1.4")
    True
    """
    api_range = required if isinstance(required, ApiRange) else ApiRange(required)
    return version in api_range
