"""The service's metrics (pepperpy-telemetry) and health checks."""

from __future__ import annotations

from pepperpy.telemetry import MetricSet, counter, histogram

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


class AppMetrics(MetricSet):
    """Declared once; ``AppMetrics(registry)`` binds them to one Metrics registry."""

    records = counter("ingest_records", "Records read from the data set", labels=("outcome",))
    record_seconds = histogram(
        "ingest_record_seconds",
        "Time to take one record through the pipeline",
        buckets=LATENCY_BUCKETS,
    )
    events = counter("events_handled", "customers.stored events applied to the totals")
    http_requests = counter("http_requests", "HTTP requests served", labels=("route", "status"))
    http_seconds = histogram(
        "http_request_seconds", "HTTP request latency", labels=("route",), buckets=LATENCY_BUCKETS
    )
