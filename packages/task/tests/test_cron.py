"""Tests for pepperpy.task._cron: parsing and next fire times."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pepperpy.core import InvalidArgumentError
from pepperpy.task import CronExpression

D = dt.datetime


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("* * * * *", D(2026, 1, 1, 0, 0, 30), D(2026, 1, 1, 0, 1)),
        ("*/15 * * * *", D(2026, 1, 1, 10, 7), D(2026, 1, 1, 10, 15)),
        ("*/15 * * * *", D(2026, 1, 1, 10, 45), D(2026, 1, 1, 11, 0)),
        ("0 9 * * *", D(2026, 1, 1, 9, 0), D(2026, 1, 2, 9, 0)),
        ("30 9 * * mon-fri", D(2026, 11, 27, 10, 0), D(2026, 11, 30, 9, 30)),  # Fri -> Mon
        ("0 0 1 * *", D(2026, 1, 31, 12, 0), D(2026, 2, 1, 0, 0)),
        ("0 0 29 feb *", D(2026, 3, 1), D(2028, 2, 29, 0, 0)),
        ("0 12 * jan,jul *", D(2026, 2, 1), D(2026, 7, 1, 12, 0)),
        ("5/20 * * * *", D(2026, 1, 1, 0, 6), D(2026, 1, 1, 0, 25)),
        ("0-10/5 8 * * *", D(2026, 1, 1, 8, 6), D(2026, 1, 1, 8, 10)),
        ("0 0 * * 7", D(2026, 11, 26), D(2026, 11, 29, 0, 0)),  # 7 is Sunday
        ("0 0 13 * fri", D(2026, 11, 26), D(2026, 11, 27, 0, 0)),  # day OR weekday
        ("@hourly", D(2026, 1, 1, 10, 59), D(2026, 1, 1, 11, 0)),
        ("@daily", D(2026, 12, 31, 23, 0), D(2027, 1, 1, 0, 0)),
        ("@weekly", D(2026, 11, 26), D(2026, 11, 29, 0, 0)),
        ("@monthly", D(2026, 12, 15), D(2027, 1, 1, 0, 0)),
        ("@yearly", D(2026, 6, 1), D(2027, 1, 1, 0, 0)),
    ],
)
def test_next_after(expression, after, expected):
    assert CronExpression(expression).next_after(after) == expected


def test_timezone_is_kept():
    after = dt.datetime(2026, 1, 1, 8, 59, tzinfo=dt.timezone.utc)
    nxt = CronExpression("0 9 * * *").next_after(after)
    assert nxt == dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("* * * *", "5 fields"),
        ("60 * * * *", "outside"),
        ("* 24 * * *", "outside"),
        ("* * 0 * *", "outside"),
        ("* * * 13 *", "outside"),
        ("* * * * 8", "outside"),
        ("*/0 * * * *", "step"),
        ("5-1 * * * *", "backwards"),
        ("x * * * *", "not a number"),
        ("1,,2 * * * *", "empty"),
        ("0 0 30 feb *", "never fires"),
    ],
)
def test_bad_expressions(expression, message):
    with pytest.raises(InvalidArgumentError, match=message) as info:
        cron = CronExpression(expression)
        cron.next_after(dt.datetime(2026, 1, 1))
    assert info.value.hint


def test_equality_and_repr():
    assert CronExpression("0 0 * * *") == CronExpression("@daily")
    assert hash(CronExpression("0 0 * * 0")) == hash(CronExpression("0 0 * * 7"))
    assert "@daily" in repr(CronExpression("@daily"))


minutes = st.integers(0, 59)
hours = st.integers(0, 23)
moments = st.datetimes(min_value=D(2000, 1, 1), max_value=D(2090, 1, 1))


@settings(deadline=None)
@given(minutes, hours, moments)
def test_next_fire_matches_and_is_the_first(minute, hour, after):
    cron = CronExpression(f"{minute} {hour} * * *")
    nxt = cron.next_after(after)
    assert nxt > after
    assert (nxt.hour, nxt.minute, nxt.second) == (hour, minute, 0)
    assert nxt - after <= dt.timedelta(days=1)


@settings(deadline=None)
@given(st.integers(1, 30), moments)
def test_step_fires_on_multiples(step, after):
    nxt = CronExpression(f"*/{step} * * * *").next_after(after)
    assert nxt.minute % step == 0
    assert dt.timedelta(0) < nxt - after <= dt.timedelta(minutes=60)


@settings(deadline=None)
@given(moments)
def test_iter_after_is_increasing(after):
    cron = CronExpression("*/7 3-5 * * mon,wed")
    times = []
    for when in cron.iter_after(after):
        times.append(when)
        if len(times) == 5:
            break
    assert times == sorted(times)
    assert all(t.weekday() in (0, 2) and 3 <= t.hour <= 5 for t in times)
