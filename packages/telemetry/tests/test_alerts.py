from __future__ import annotations

import logging

import pytest

from pepperpy.core.exceptions import ConflictError, InvalidArgumentError
from pepperpy.core.types import ManualClock
from pepperpy.telemetry import (
    Absence,
    Alert,
    AlertManager,
    Metrics,
    Rate,
    Threshold,
    log_alert,
)


def make(clock: ManualClock) -> tuple[Metrics, AlertManager, list[str]]:
    metrics = Metrics(clock=clock)
    events: list[str] = []
    manager = AlertManager(
        metrics,
        interval=10,
        clock=clock,
        on_fire=lambda alert: events.append(f"fire:{alert.name}"),
        on_resolve=lambda alert: events.append(f"resolve:{alert.name}"),
    )
    return metrics, manager, events


async def test_threshold_with_for_and_dedup() -> None:
    clock = ManualClock()
    metrics, manager, events = make(clock)
    queue = metrics.gauge("queue_depth", labels=("queue",))
    manager.add_rule(
        Threshold("backlog", queue, ">", 100, labels={"queue": "mail"}, for_=20, severity="page")
    )
    queue.labels(queue="mail").set(500)
    queue.labels(queue="other").set(1000)  # other series: not selected
    async with manager:
        assert manager.alerts["backlog"].state == "pending"
        await clock.advance(10)
        assert events == []
        await clock.advance(10)
        assert events == ["fire:backlog"]
        await clock.advance(60)  # still firing: no duplicate notifications
        assert events == ["fire:backlog"]
        assert [a.name for a in manager.firing] == ["backlog"]
        assert manager.alerts["backlog"].value == 500
        queue.labels(queue="mail").set(3)
        await clock.advance(10)
        assert events == ["fire:backlog", "resolve:backlog"]
        alert = manager.alerts["backlog"]
        assert alert.resolved_at == clock.time()
        assert alert.to_dict()["severity"] == "page"
        queue.labels(queue="mail").set(500)
        await clock.advance(10)  # pending again, no flapping notification
        queue.labels(queue="mail").set(0)
        await clock.advance(10)
        assert events == ["fire:backlog", "resolve:backlog"]
    assert manager.state.value == "stopped"


async def test_rate_over_window_and_counter_reset() -> None:
    clock = ManualClock()
    metrics, manager, events = make(clock)
    errors = metrics.counter("errors", labels=("route",))
    manager.add_rule(Rate("error-rate", errors, ">", 1.0, window=30))
    await manager.evaluate()  # no series yet
    errors.labels(route="/a").inc()
    await manager.evaluate()  # one point: no rate yet
    for _ in range(3):
        await clock.advance(10)
        errors.labels(route="/a").inc(15)
        errors.labels(route="/b").inc(5)
        await manager.evaluate()
    assert events == ["fire:error-rate"]
    assert manager.alerts["error-rate"].value == pytest.approx(2.0)
    errors.clear()  # a reset: the rate is computed from the new values
    errors.labels(route="/a").inc(1)
    await clock.advance(10)
    await manager.evaluate()
    for _ in range(4):
        await clock.advance(10)
        await manager.evaluate()
    assert events == ["fire:error-rate", "resolve:error-rate"]


async def test_absence_and_staleness() -> None:
    clock = ManualClock()
    metrics, manager, events = make(clock)
    heartbeat = metrics.counter("heartbeat", labels=("worker",))
    manager.add_rule(Absence("worker-missing", heartbeat, labels={"worker": "w1"}, for_=10))
    manager.add_rule(Absence("worker-stuck", "heartbeat_total", stale_after=30))
    await manager.evaluate()
    await clock.advance(10)
    await manager.evaluate()
    assert events == ["fire:worker-stuck", "fire:worker-missing"]
    heartbeat.labels(worker="w1").inc()
    await manager.evaluate()
    assert events[-2:] == ["resolve:worker-missing", "resolve:worker-stuck"]
    for _ in range(3):
        await clock.advance(10)
        heartbeat.labels(worker="w1").inc()
        await manager.evaluate()
    assert manager.firing == []
    for _ in range(4):  # the counter stops moving
        await clock.advance(10)
        await manager.evaluate()
    assert events[-1] == "fire:worker-stuck"


async def test_callbacks_async_and_failing(caplog: pytest.LogCaptureFixture) -> None:
    clock = ManualClock()
    metrics = Metrics()
    gauge = metrics.gauge("temp")
    received: list[Alert] = []
    manager = AlertManager(metrics, clock=clock)

    @manager.on_fire
    async def remember(alert: Alert) -> None:
        received.append(alert)

    @manager.on_fire
    def explode(alert: Alert) -> None:
        raise RuntimeError("webhook down")

    manager.on_resolve(log_alert)
    manager.on_fire(log_alert)
    manager.add_rule(Threshold("hot", gauge, ">=", 30, description="too hot"))
    gauge.set(35)
    with caplog.at_level(logging.INFO, logger="pepperpy.telemetry.alerts"):
        fired = await manager.evaluate()
        gauge.set(20)
        resolved = await manager.evaluate()
    assert [a.name for a in fired] == ["hot"] == [a.name for a in resolved]
    assert received[0].notifications == 1
    messages = [r.getMessage() for r in caplog.records]
    assert any("webhook down" in m for m in messages)
    assert any("alert hot firing (value=35.0) too hot" in m for m in messages)
    assert any("alert hot resolved" in m for m in messages)


def test_rule_validation() -> None:
    metrics = Metrics()
    with pytest.raises(InvalidArgumentError):
        Threshold("x", "m", "~", 1)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        Rate("x", "m", ">", 1, window=0)
    with pytest.raises(InvalidArgumentError):
        Absence("x", 42)
    manager = AlertManager(metrics)
    manager.add_rule(Threshold("x", "m", ">", 1))
    with pytest.raises(ConflictError):
        manager.add_rule(Threshold("x", "m", ">", 2))
    with pytest.raises(InvalidArgumentError):
        manager.add_rule("rule")  # type: ignore[arg-type]
    manager.remove_rule("x")
    assert manager.alerts == {}
    with pytest.raises(InvalidArgumentError):
        AlertManager(metrics, interval=0)
