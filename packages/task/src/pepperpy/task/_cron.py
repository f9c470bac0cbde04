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
_ZERO = dt.timedelta(0)
_MAX_YEARS = 8  # Feb 29 on a given weekday can be years away; give up beyond that


def _bad(expression: str, message: str) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"invalid cron expression {expression!r}: {message}",
        code="pepperpy.task.cron",
        context={"expression": expression},
        hint="Use five fields 'minute hour day-of-month month day-of-week', "
        "e.g. '*/15 9-17 * * mon-fri', or a macro such as '@daily'.",
    )


def _is_number(token: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also accepts ``'²'``, which ``int()`` refuses."""
    return token.isascii() and token.isdigit()


def _value(token: str, names: dict[str, int], expression: str, field: str) -> int:
    lowered = token.lower()
    if lowered in names:
        return names[lowered]
    if not _is_number(token):
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
            if not _is_number(step_text) or int(step_text) < 1:
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


def _instants(wall: dt.datetime, tz: dt.tzinfo, *, hourly: bool) -> list[dt.datetime]:
    """The UTC instants at which the naive local time *wall* fires in *tz*, earliest first.

    One instant normally; two when clocks go back (the time repeats); for a
    time skipped when clocks go forward, the instant the gap ends, or none
    when the expression runs every hour anyway (*hourly*).
    """
    utc = dt.timezone.utc
    first = wall.replace(tzinfo=tz, fold=0).astimezone(utc)
    second = wall.replace(tzinfo=tz, fold=1).astimezone(utc)
    if first == second:
        return [first]
    if (
        first.astimezone(tz).replace(tzinfo=None) == wall
        and second.astimezone(tz).replace(tzinfo=None) == wall
    ):
        return sorted((first, second))
    if hourly:
        return []
    # Skipped: the change of offset lies between the two readings; find it.
    low, high = min(first, second), max(first, second)
    after = high.astimezone(tz).utcoffset()
    second_ = dt.timedelta(seconds=1)
    while high - low > second_:
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if middle.astimezone(tz).utcoffset() == after:
            high = middle
        else:
            low = middle
    return [high]


class CronExpression:
    """A parsed cron expression that computes its next fire times.

    Five fields (minute, hour, day of month, month, day of week) accept
    ``*``, numbers, names (``jan``, ``mon``), lists (``1,15``), ranges
    (``9-17``), and steps (``*/15``, ``0-30/10``, ``5/20``). Day of week
    0 and 7 are Sunday. As in Vixie cron, when both day fields are
    restricted a day matches if *either* does. Which fields are restricted
    follows croniter: a field is unrestricted when it is ``*``, or lists
    every value while the other day field contains a ``*``; so ``*/2``
    restricts day of month (Vixie cron's parser would read it as ``*`` for
    this rule and intersect the fields). Macros: ``@yearly``, ``@monthly``, ``@weekly``, ``@daily``,
    ``@hourly``. Daylight saving: see :meth:`next_after`.

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
        # Which day fields are unrestricted, as croniter decides it: "*" itself, or a
        # field listing every value while the other day field uses a "*" somewhere.
        dom_text, dow_text = fields[2], fields[4]
        self._any_dom = dom_text == "*" or (len(self.days) == 31 and "*" in dow_text)
        self._any_dow = dow_text == "*" or (len(self.weekdays) == 7 and "*" in dom_text)

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

        A naive *when* is read as wall-clock time without daylight saving.
        For an aware one the fire times are the instants whose local time
        matches, so they are strictly increasing across daylight-saving changes
        (the policy croniter follows): a local time repeated when clocks go
        back (``02:30`` on the autumn change in Europe) fires twice, once per
        occurrence. Local times skipped when clocks go forward fire once, at
        the first instant after the gap, when the hour field is restricted
        (``30 2 * * *`` and ``15,45 2 * * *`` fire at ``03:00`` on the spring
        change in Berlin); when it covers every hour, the expression runs
        hourly anyway and skipped times are skipped (``10 * * * *`` next
        fires at ``03:10``).

        Raises:
            InvalidArgumentError: The expression never fires (e.g. ``0 0 31 2 *``).
        """
        tz = when.tzinfo
        if tz is None or when.utcoffset() is None:
            return self._next_wall(when)
        utc = dt.timezone.utc
        instant = when.astimezone(utc)
        wall = when.replace(tzinfo=None)
        window = dt.timedelta(hours=3)  # longer than any daylight-saving shift
        offsets = {
            (instant + delta).astimezone(tz).utcoffset() for delta in (-window, _ZERO, window)
        }
        # Near a change of offset, a local time before *wall* can come again later
        # (clocks going back): look at the local times of the last hours too.
        candidate = self._next_wall(wall - window if len(offsets) > 1 else wall)
        best: dt.datetime | None = None
        while True:
            instants = _instants(candidate, tz, hourly=len(self.hours) == 24)
            for moment in instants:
                if moment > instant and (best is None or moment < best):
                    best = moment
            # The earliest instant of a local time never decreases as the local
            # time grows, so no later local time can fire earlier than this one.
            if instants and instants[0] > instant:
                break
            candidate = self._next_wall(candidate)
        assert best is not None
        return best.astimezone(tz)

    def _next_wall(self, when: dt.datetime) -> dt.datetime:
        """The first matching wall-clock time after *when* (naive arithmetic)."""
        tz = when.tzinfo
        t = when.replace(tzinfo=None, second=0, microsecond=0) + dt.timedelta(minutes=1)
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
            return t.replace(minute=min(later), tzinfo=tz)
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
