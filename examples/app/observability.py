"""The service's own metrics (pepperpy-telemetry).

The HTTP metrics (count, latency and in-flight requests by method, route template
and status) come from pepperpy-web; see app/api.py.
"""

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
