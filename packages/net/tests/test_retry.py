"""Tests for pepperpy.net._retry: the policy, the budget and Retry-After parsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pepperpy.core import InvalidArgumentError, ManualClock, RetryPolicy
from pepperpy.net import IDEMPOTENT_METHODS, Retry, RetryBudget
from pepperpy.net._retry import parse_retry_after

NOW = 1_700_000_000.0  # Tue, 14 Nov 2023 22:13:20 GMT


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("0", 0.0, id="zero"),
        pytest.param("120", 120.0, id="seconds"),
        pytest.param(" 7 ", 7.0, id="spaces"),
        pytest.param("Tue, 14 Nov 2023 22:13:30 GMT", 10.0, id="date-future"),
        pytest.param("Tue, 14 Nov 2023 22:00:00 GMT", 0.0, id="date-past"),
        # RFC 5322: -0000 is "no zone information", so the moment is unknown
        # (issue 24)
        pytest.param("Tue, 14 Nov 2023 22:13:30 -0000", None, id="date-unknown-zone"),
        pytest.param("soon", None, id="garbage"),
        pytest.param("-5", None, id="negative"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="missing"),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


@given(st.text(max_size=40))
def test_parse_retry_after_never_raises(value: str) -> None:
    result = parse_retry_after(value, NOW)
    assert result is None or result >= 0


def test_retry_policy_comes_from_core() -> None:
    retry = Retry(attempts=4, delay=0.5, backoff=3, jitter=0, max_delay=2)
    assert isinstance(retry.policy, RetryPolicy)
    assert [retry.backoff_delay(n) for n in (1, 2, 3)] == [0.5, 1.5, 2.0]


def test_retry_defaults_are_safe() -> None:
    retry = Retry()
    assert retry.methods == IDEMPOTENT_METHODS
    assert "POST" not in retry.methods
    assert "PATCH" not in retry.methods
    assert retry.statuses == {429, 502, 503, 504}
    assert Retry(methods=["get"]).methods == {"GET"}


def test_retry_is_validated() -> None:
    with pytest.raises(InvalidArgumentError, match="attempts"):
        Retry(attempts=0)
    with pytest.raises(InvalidArgumentError):
        Retry(delay=-1)


def test_budget_reserve_refills_with_time() -> None:
    clock = ManualClock()
    budget = RetryBudget(ratio=0.0, min_per_second=2, clock=clock)
    assert budget.try_withdraw()
    assert budget.try_withdraw()
    assert not budget.try_withdraw()
    clock.advance_sync(0.5)
    assert budget.try_withdraw()
    assert not budget.try_withdraw()


@given(st.integers(0, 500), st.floats(0, 1), st.integers(0, 10))
def test_budget_bounds_retries_by_traffic(requests: int, ratio: float, reserve: int) -> None:
    budget = RetryBudget(ratio=ratio, min_per_second=reserve, clock=ManualClock())
    for _ in range(requests):
        budget.deposit()
    retries = 0
    while budget.try_withdraw():
        retries += 1
    assert retries <= ratio * requests + reserve + 1e-9


def test_budget_is_validated() -> None:
    with pytest.raises(InvalidArgumentError):
        RetryBudget(ratio=-1)
