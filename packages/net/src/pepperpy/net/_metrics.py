"""Optional pepperpy-telemetry metrics for a client (duck-typed: no import needed)."""

from __future__ import annotations

from typing import Any

from pepperpy.core.exceptions import InvalidArgumentError

__all__ = ["ClientMetrics"]


class ClientMetrics:
    """The metrics a client records into a ``pepperpy.telemetry.Metrics`` registry.

    * ``http_client_requests_total{host, method, status}``: attempts, by
      outcome (the status code, or the error class name).
    * ``http_client_request_duration_seconds{host}``: time to the response headers.
    * ``http_client_retries_total{host}``: retries made.
    * ``http_client_in_flight{host}``: requests holding a connection slot.
    """

    __slots__ = ("duration", "in_flight", "requests", "retries")

    def __init__(self, registry: Any) -> None:
        for method in ("counter", "histogram", "gauge"):
            if not callable(getattr(registry, method, None)):
                raise InvalidArgumentError(
                    "metrics= must be a pepperpy.telemetry.Metrics registry",
                    code="pepperpy.net.invalid_metrics",
                    context={"type": type(registry).__name__},
                    hint="Pass pepperpy.telemetry.Metrics() (pip install pepperpy-telemetry).",
                )
        self.requests = registry.counter(
            "http_client_requests",
            "HTTP client attempts by host, method and outcome",
            labels=("host", "method", "status"),
        )
        self.duration = registry.histogram(
            "http_client_request_duration",
            "Seconds from sending a request to its response headers",
            unit="seconds",
            labels=("host",),
        )
        self.retries = registry.counter(
            "http_client_retries", "HTTP client retries by host", labels=("host",)
        )
        self.in_flight = registry.gauge(
            "http_client_in_flight", "HTTP requests holding a connection slot", labels=("host",)
        )

    def response(self, host: str, method: str, status: int, seconds: float) -> None:
        """Record an attempt that got a response."""
        self.requests.labels(host=host, method=method, status=str(status)).inc()
        self.duration.labels(host=host).observe(seconds)

    def error(self, host: str, method: str, error: BaseException) -> None:
        """Record an attempt that failed without a response."""
        self.requests.labels(host=host, method=method, status=type(error).__name__).inc()

    def retry(self, host: str) -> None:
        """Record a retry."""
        self.retries.labels(host=host).inc()

    def slots(self, host: str, in_flight: int) -> None:
        """Record the requests in flight to *host*."""
        self.in_flight.labels(host=host).set(in_flight)
