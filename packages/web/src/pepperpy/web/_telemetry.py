"""The request metrics (only imported when a pepperpy-telemetry ``Metrics`` is given)."""

from __future__ import annotations

from typing import Any

from pepperpy.telemetry import Metrics

__all__ = ["request_metrics"]

_LABELS = ("method", "route", "status")


def request_metrics(metrics: Metrics) -> tuple[Any, Any, Any]:
    """Declare (once per registry) the request counter, latency histogram and in-flight gauge."""
    requests = metrics.counter(
        "http_server_requests_total",
        "HTTP requests served, by method, route template and status",
        labels=_LABELS,
        max_label_sets=2000,
        overflow="other",
    )
    latency = metrics.histogram(
        "http_server_request_duration_seconds",
        "Time to serve HTTP requests, by method, route template and status",
        labels=_LABELS,
        max_label_sets=2000,
        overflow="other",
    )
    in_flight = metrics.gauge(
        "http_server_requests_in_flight",
        "HTTP requests being served",
    )
    return requests, latency, in_flight
