"""Tests for pepperpy.cache._metrics: Prometheus export of cache stats."""

from __future__ import annotations

import pytest

from pepperpy.cache import Cache, CacheMetricsCollector

prometheus_client = pytest.importorskip("prometheus_client")


def test_collector_reports_every_cache() -> None:
    """Hits, misses, evictions by reason and size appear with the cache's name as label."""
    registry = prometheus_client.CollectorRegistry()
    users: Cache[str, int] = Cache(1, name="users")
    users.set("a", 1)
    users.get("a")
    users.get("b")
    users.set("b", 2)  # evicts 'a'
    collector = users.metrics_collector(prefix="app_cache")
    other: Cache[str, int] = Cache(5, name="other")
    collector.add(other)
    registry.register(collector)
    value = registry.get_sample_value
    assert 1.0 == value("app_cache_hits_total", {"cache": "users"})
    assert 1.0 == value("app_cache_misses_total", {"cache": "users"})
    assert 1.0 == value("app_cache_evictions_total", {"cache": "users", "reason": "size"})
    assert 0.0 == value("app_cache_evictions_total", {"cache": "users", "reason": "expired"})
    assert 1.0 == value("app_cache_size", {"cache": "users"})
    assert 0.5 == value("app_cache_hit_ratio", {"cache": "users"})
    assert 0.0 == value("app_cache_size", {"cache": "other"})
    assert isinstance(collector, CacheMetricsCollector)
    text = prometheus_client.generate_latest(registry).decode()
    assert 'app_cache_hits_total{cache="users"} 1.0' in text


def test_export_metrics_to_a_registry_and_telemetry() -> None:
    """export_metrics shares one collector per registry and works with telemetry Metrics."""
    registry = prometheus_client.CollectorRegistry()
    a: Cache[str, int] = Cache(5, name="a")
    b: Cache[str, int] = Cache(5, name="b")
    first = a.export_metrics(registry)
    assert first is b.export_metrics(registry)
    assert first is a.export_metrics(registry)  # idempotent
    a.get("x")
    assert 1.0 == registry.get_sample_value("pepperpy_cache_misses_total", {"cache": "a"})
    assert 0.0 == registry.get_sample_value("pepperpy_cache_misses_total", {"cache": "b"})

    telemetry = pytest.importorskip("pepperpy.telemetry")
    metrics = telemetry.Metrics()
    c: Cache[str, int] = Cache(5, name="c")
    c.set("k", 1)
    c.get("k")
    c.export_metrics(metrics, prefix="svc_cache")
    assert 1.0 == metrics.registry.get_sample_value("svc_cache_hits_total", {"cache": "c"})
