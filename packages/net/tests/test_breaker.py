"""Tests for pepperpy.net._breaker: closed, open and half-open, per host."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pepperpy.core import InvalidArgumentError, ManualClock
from pepperpy.net import (
    CircuitBreaker,
    CircuitBreakerConfig,
    CircuitOpenError,
    CircuitState,
    HttpClient,
    Timeout,
)


def test_opens_after_threshold_and_recovers() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(
        CircuitBreakerConfig(failure_threshold=3, recovery_time=10), clock=clock
    )
    for _ in range(2):
        assert breaker.allow()
        breaker.record(False)
    assert breaker.state is CircuitState.CLOSED
    assert breaker.allow()
    breaker.record(False)
    assert breaker.state is CircuitState.OPEN
    assert not breaker.allow()
    assert breaker.retry_in == 10
    clock.advance_sync(10)
    assert breaker.state is CircuitState.HALF_OPEN
    assert breaker.allow()
    assert not breaker.allow()  # one trial at a time
    breaker.record(True)
    assert breaker.state is CircuitState.CLOSED
    assert breaker.opened_count == 1


def test_half_open_failure_reopens() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(
        CircuitBreakerConfig(failure_threshold=1, recovery_time=5), clock=clock
    )
    breaker.allow()
    breaker.record(False)
    clock.advance_sync(5)
    assert breaker.allow()
    breaker.record(False)
    assert breaker.state is CircuitState.OPEN
    assert breaker.opened_count == 2


def test_success_resets_the_failure_count() -> None:
    breaker = CircuitBreaker(CircuitBreakerConfig(failure_threshold=2))
    for _ in range(5):
        breaker.record(False)
        breaker.record(True)
    assert breaker.state is CircuitState.CLOSED


def test_released_trial_frees_the_slot() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(
        CircuitBreakerConfig(failure_threshold=1, recovery_time=1), clock=clock
    )
    breaker.record(False)
    clock.advance_sync(1)
    assert breaker.allow()
    breaker.release()
    assert breaker.allow()


@given(st.lists(st.booleans(), max_size=60), st.integers(1, 5))
def test_never_opens_below_threshold_consecutive_failures(
    outcomes: list[bool], threshold: int
) -> None:
    breaker = CircuitBreaker(CircuitBreakerConfig(failure_threshold=threshold), clock=ManualClock())
    run = 0
    for ok in outcomes:
        if breaker.state is CircuitState.OPEN:
            break
        breaker.record(ok)
        run = 0 if ok else run + 1
        assert (breaker.state is CircuitState.OPEN) == (run >= threshold)


def test_config_is_validated() -> None:
    with pytest.raises(InvalidArgumentError):
        CircuitBreakerConfig(failure_threshold=0)


async def test_client_opens_the_circuit_per_host(servers: Any, no_leaks: Any) -> None:
    clock = ManualClock()
    config = CircuitBreakerConfig(failure_threshold=2, recovery_time=30)
    async with HttpClient(
        servers.url, circuit_breaker=config, retry=None, clock=clock, timeout=Timeout(10)
    ) as client:
        for _ in range(2):
            assert (await client.get("/status/503")).status == 503
        assert client.circuit_state("/json") is CircuitState.OPEN
        with pytest.raises(CircuitOpenError) as info:
            await client.get("/json")
        assert info.value.context["retry_in"] == 30
        # another host is unaffected
        assert (await client.get(f"{servers.other_url}/json")).status == 200
        stats = client.stats()
        assert stats.hosts[f"http://127.0.0.1:{servers.port}"].rejected_by_breaker == 1
        await clock.advance(30)
        assert client.circuit_state("/json") is CircuitState.HALF_OPEN
        assert (await client.get("/json")).status == 200
        assert client.circuit_state("/json") is CircuitState.CLOSED
        no_leaks(client)


async def test_connection_failures_count_as_failures(servers: Any) -> None:
    config = CircuitBreakerConfig(failure_threshold=1)
    async with HttpClient(circuit_breaker=config, retry=None, timeout=Timeout(10)) as client:
        with pytest.raises(Exception, match="closed"):
            await client.get(f"{servers.raw_url}/close")
        assert client.circuit_state(f"{servers.raw_url}/") is CircuitState.OPEN


async def test_4xx_does_not_open_the_circuit(servers: Any) -> None:
    config = CircuitBreakerConfig(failure_threshold=1)
    async with HttpClient(servers.url, circuit_breaker=config) as client:
        await asyncio.gather(*(client.get("/status/404") for _ in range(3)))
        assert client.circuit_state("/") is CircuitState.CLOSED
