"""pepperpy.telemetry against raw prometheus_client.

Target (issue 4): Counter.inc, labelled inc and Histogram.observe within 1.2x of raw.
"""

from __future__ import annotations

import prometheus_client
from prometheus_client import CollectorRegistry

from harness import compare
from pepperpy.telemetry import Metrics

REQUIRES: list[str] = []


def _pair() -> tuple[Metrics, CollectorRegistry]:
    return Metrics(), CollectorRegistry()


def bench_counter_inc():
    ours_registry, raw_registry = _pair()
    ours = ours_registry.counter("hits", "Hits")
    raw = prometheus_client.Counter("hits", "Hits", registry=raw_registry)
    return compare(
        "telemetry: Counter.inc()",
        {"pepperpy": ours.inc, "prometheus_client": raw.inc},
        inner=5000,
    )


def bench_labelled_counter_inc():
    ours_registry, raw_registry = _pair()
    ours = ours_registry.counter("req", "Requests", labels=("method", "status"))
    raw = prometheus_client.Counter("req", "Requests", ["method", "status"], registry=raw_registry)
    return compare(
        "telemetry: labels(method, status).inc()",
        {
            "pepperpy": lambda: ours.labels(method="GET", status="200").inc(),
            "prometheus_client": lambda: raw.labels(method="GET", status="200").inc(),
        },
        inner=3000,
    )


def bench_histogram_observe():
    ours_registry, raw_registry = _pair()
    ours = ours_registry.histogram("lat", "Latency")
    raw = prometheus_client.Histogram("lat", "Latency", registry=raw_registry)
    return compare(
        "telemetry: Histogram.observe()",
        {"pepperpy": lambda: ours.observe(0.3), "prometheus_client": lambda: raw.observe(0.3)},
        inner=3000,
    )


def bench_histogram_time_block():
    ours_registry, raw_registry = _pair()
    ours = ours_registry.histogram("blk", "Block")
    raw = prometheus_client.Histogram("blk", "Block", registry=raw_registry)

    def ours_block() -> None:
        with ours.time():
            pass

    def raw_block() -> None:
        with raw.time():
            pass

    return compare(
        "telemetry: with histogram.time()",
        {"pepperpy": ours_block, "prometheus_client": raw_block},
        inner=2000,
    )
