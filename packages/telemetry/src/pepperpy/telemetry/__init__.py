"""PepperPy telemetry: metrics, tracing, health checks and alerts.

* **Metrics** on prometheus-client, declared with types (:class:`MetricSet`,
  :func:`counter`, :func:`gauge`, :func:`histogram`, :func:`summary`) in a
  per-application :class:`Metrics` registry (or the default one), with
  timing/counting helpers for sync and async code and a guard against
  label-cardinality explosions.
* **Exposition**: :func:`create_app` / :class:`TelemetryServer` (aiohttp extra)
  serve ``/metrics`` rendered off the event loop, ``/health`` and ``/ready``;
  :func:`start_http_server` without aiohttp; :class:`PushGateway` for batch jobs.
* **Tracing**: :class:`Tracer` spans carried by :mod:`pepperpy.context`
  across tasks, threads, processes and HTTP, exported in memory, as JSON lines,
  or to an OpenTelemetry SDK exporter (:class:`OTelExporter`, ``otel`` extra).
* **Monitoring**: :class:`Health` checks with an aggregated ok/degraded/failing report.
* **Alerts**: :class:`Threshold`, :class:`Rate` and :class:`Absence` rules
  evaluated by an :class:`AlertManager` on a clock, with de-duplicated
  firing and resolving callbacks.
"""

from __future__ import annotations

from pepperpy.telemetry._alerts import (
    Absence,
    Alert,
    AlertManager,
    Rate,
    Threshold,
    log_alert,
)
from pepperpy.telemetry._errors import ERRORS
from pepperpy.telemetry._health import CheckResult, Health, HealthReport
from pepperpy.telemetry._metrics import (
    Counter,
    CounterChild,
    Enum,
    EnumChild,
    Gauge,
    GaugeChild,
    Histogram,
    HistogramChild,
    Info,
    InfoChild,
    LabelCardinalityError,
    Metrics,
    MetricSet,
    MetricSpec,
    Summary,
    SummaryChild,
    counter,
    enum,
    gauge,
    histogram,
    info,
    summary,
)
from pepperpy.telemetry._otel import OTelExporter
from pepperpy.telemetry._push import PeriodicPush, PushGateway
from pepperpy.telemetry._server import TelemetryServer, create_app, start_http_server
from pepperpy.telemetry._tracing import (
    InMemoryExporter,
    JsonLinesExporter,
    Span,
    SpanEvent,
    SpanExporter,
    Tracer,
    current_span,
)
from pepperpy.telemetry._version import __version__

__all__ = [
    "ERRORS",
    "Absence",
    "Alert",
    "AlertManager",
    "CheckResult",
    "Counter",
    "CounterChild",
    "Enum",
    "EnumChild",
    "Gauge",
    "GaugeChild",
    "Health",
    "HealthReport",
    "Histogram",
    "HistogramChild",
    "InMemoryExporter",
    "Info",
    "InfoChild",
    "JsonLinesExporter",
    "LabelCardinalityError",
    "MetricSet",
    "MetricSpec",
    "Metrics",
    "OTelExporter",
    "PeriodicPush",
    "PushGateway",
    "Rate",
    "Span",
    "SpanEvent",
    "SpanExporter",
    "Summary",
    "SummaryChild",
    "TelemetryServer",
    "Threshold",
    "Tracer",
    "__version__",
    "counter",
    "create_app",
    "current_span",
    "enum",
    "gauge",
    "histogram",
    "info",
    "log_alert",
    "start_http_server",
    "summary",
]
