"""A small, strict cron expression parser (five fields, names, steps, macros)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from pepperpy.core.exceptions import InvalidArgumentError

__all__ = ["CronExpression"]

_MONTHS = {
    name: i
    for i, name in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_DAYS = {name: i for i, name in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# (name, low, high, names)
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)
_MAX_YEARS = 8  # Feb 29 on a given weekday can be years away; give up beyond that


def _bad(expression: str, message: str) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"invalid cron expression {expression!r}: {message}",
        code="pepperpy.task.cron",
        context={"expression": expression},
        hint="Use five fields 'minute hour day-of-month month day-of-week', "
        "e.g. '*/15 9-17 * * mon-fri', or a macro such as '@daily'.",
    )


def _value(token: str, names: dict[str, int], expression: str, field: str) -> int:
    lowered = token.lower()
    if lowered in names:
        return names[lowered]
    if not token.isdigit():
        raise _bad(expression, f"{field}: {token!r} is not a number or a known name")
    return int(token)


def _parse_field(text: str, index: int, expression: str) -> frozenset[int]:
    field, low, high, names = _FIELDS[index]
    values: set[int] = set()
    for part in text.split(","):
        if not part:
            raise _bad(expression, f"{field}: empty list item")
        step = 1
        has_step = "/" in part
        if has_step:
            part, _, step_text = part.partition("/")
            if not step_text.isdigit() or int(step_text) < 1:
                raise _bad(expression, f"{field}: step {step_text!r} must be a number >= 1")
            step = int(step_text)
        if part == "*":
            start, stop = low, high if index != 4 else 6
        elif "-" in part:
            first, _, last = part.partition("-")
            start = _value(first, names, expression, field)
            stop = _value(last, names, expression, field)
        else:
            start = _value(part, names, expression, field)
            stop = (high if index != 4 else 6) if has_step else start
        if not (low <= start <= high and low <= stop <= high):
            raise _bad(expression, f"{field}: {part!r} is outside {low}-{high}")
        if start > stop:
            raise _bad(expression, f"{field}: range {part!r} runs backwards")
        values.update(range(start, stop + 1, step))
    if index == 4 and 7 in values:  # 7 is Sunday too
        values.discard(7)
        values.add(0)
    return frozenset(values)


class CronExpression:
    """A parsed cron expression that computes its next fire times.

    Five fields (minute, hour, day of month, month, day of week) accept
    ``*``, numbers, names (``jan``, ``mon``), lists (``1,15``), ranges
    (``9-17``), and steps (``*/15``, ``0-30/10``, ``5/20``). Day of week
    0 and 7 are Sunday. As in Vixie cron, when both day fields are
    restricted a day matches if *either* does. Macros: ``@yearly``,
    ``@monthly``, ``@weekly``, ``@daily``, ``@hourly``.

    Example::

        >>> cron = CronExpression("30 9 * * mon-fri")
        >>> cron.next_after(dt.datetime(2026, 11, 27, 10, 0))  # a Friday
        datetime.datetime(2026, 11, 30, 9, 30)

    Raises:
        InvalidArgumentError: The expression is malformed (the message says
            which field and why).
    """

    __slots__ = (
        "_any_dom",
        "_any_dow",
        "days",
        "expression",
        "hours",
        "minutes",
        "months",
        "weekdays",
    )

    def __init__(self, expression: str) -> None:
        if not isinstance(expression, str):
            raise _bad(str(expression), "expected a string")
        self.expression = expression
        text = _MACROS.get(expression.strip().lower(), expression)
        fields = text.split()
        if len(fields) != 5:
            raise _bad(expression, f"expected 5 fields, got {len(fields)}")
        parsed = [_parse_field(text_field, i, expression) for i, text_field in enumerate(fields)]
        self.minutes, self.hours, self.days, self.months, self.weekdays = parsed
        self._any_dom = fields[2].startswith("*")
        self._any_dow = fields[4].startswith("*")

    def _day_matches(self, day: dt.date) -> bool:
        dom = day.day in self.days
        dow = (day.isoweekday() % 7) in self.weekdays
        if self._any_dom and self._any_dow:
            return True
        if self._any_dom:
            return dow
        if self._any_dow:
            return dom
        return dom or dow

    def next_after(self, when: dt.datetime) -> dt.datetime:
        """Return the first fire time strictly after *when* (same tzinfo, seconds zeroed).

        Raises:
            InvalidArgumentError: The expression never fires (e.g. ``0 0 31 2 *``).
        """
        t = when.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        limit = when.year + _MAX_YEARS
        while t.year <= limit:
            if t.month not in self.months:
                year, month = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
                t = t.replace(year=year, month=month, day=1, hour=0, minute=0)
                continue
            if not self._day_matches(t.date()):
                t = (t + dt.timedelta(days=1)).replace(hour=0, minute=0)
                continue
            if t.hour not in self.hours:
                t = (t + dt.timedelta(hours=1)).replace(minute=0)
                continue
            later = [m for m in self.minutes if m >= t.minute]
            if not later:
                t = (t + dt.timedelta(hours=1)).replace(minute=0)
                continue
            return t.replace(minute=min(later))
        raise _bad(self.expression, "it never fires")

    def iter_after(self, when: dt.datetime) -> Iterator[dt.datetime]:
        """Yield fire times after *when*, forever."""
        while True:
            when = self.next_after(when)
            yield when

    def __repr__(self) -> str:
        return f"CronExpression({self.expression!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CronExpression):
            return NotImplemented
        return (self.minutes, self.hours, self.days, self.months, self.weekdays) == (
            other.minutes,
            other.hours,
            other.days,
            other.months,
            other.weekdays,
        )

    def __hash__(self) -> int:
        return hash((self.minutes, self.hours, self.days, self.months, self.weekdays))
