"""Tests for the package fixtures and helpers (event, storage, logging, telemetry, config)."""

from __future__ import annotations

import attrs
import pytest

from pepperpy.testing import metrics_snapshot

pytest.importorskip("pepperpy.event")


@attrs.frozen
class OrderCreated:
    order_id: int


async def test_event_recorder(event_recorder):
    """Every topic is recorded; assert_published matches fields and reports misses."""
    events = event_recorder.events
    await events.publish("orders.created", {"order_id": 1})
    await events.publish(OrderCreated(order_id=2))
    await events.publish("users.signed_up", {"name": "ada"})
    assert {"order_id": 1} == event_recorder.assert_published("orders.created", order_id=1)
    assert OrderCreated(2) == event_recorder.assert_published("OrderCreated", order_id=2)
    assert 3 == len(event_recorder.published())
    assert 1 == len(event_recorder.published("users.#"))
    with pytest.raises(AssertionError, match=r"no event on 'orders\.created'"):
        event_recorder.assert_published("orders.created", order_id=99)
    event_recorder.assert_not_published("payments.#")
    event_recorder.clear()
    assert [] == event_recorder.published()


async def test_tmp_storage(tmp_storage, tmp_path):
    """tmp_storage is a started SQLite store in a temporary directory."""
    await tmp_storage.put("k", {"v": 1})
    assert {"v": 1} == await tmp_storage.get("k")
    assert list(tmp_path.glob("*.sqlite3"))


async def test_log_capture(log_capture):
    """Records are captured as parsed JSON, with extras and redaction."""
    from pepperpy.logging import Logging

    logger = Logging.get_logger("test.capture")
    await logger.info("user {} logged in", "ada", extra={"user": 7, "password": "hunter2"})
    await Logging.complete()
    record = log_capture.assert_logged("logged in", level="INFO", user=7)
    assert "***" == record["password"]
    with pytest.raises(AssertionError, match="no log record"):
        log_capture.assert_logged("never said")


def test_metrics_registry_snapshot(metrics_registry):
    """A private registry per test; the snapshot holds every sample."""
    requests = metrics_registry.counter("requests", "requests served", labels=["method"])
    requests.labels("GET").inc()
    requests.labels("GET").inc()
    snapshot = metrics_snapshot(metrics_registry)
    assert any(
        k.startswith("requests_total") and 'method="GET"' in k and v == 2.0
        for k, v in snapshot.items()
    )


def test_config_builder(config_builder):
    """Files and environment are layered through Config.load."""
    config_builder.file("app.toml", {"db": {"host": "localhost", "port": 5432}})
    config_builder.env(APP__DB__PORT="6543")
    config = config_builder.load(env_prefix="APP")
    assert "localhost" == config.get("db.host")
    assert 6543 == int(config.get("db.port"))
