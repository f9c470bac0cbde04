"""The optional OpenTelemetry bridge: hand our spans to an OTel SDK exporter."""

from __future__ import annotations

import json
from typing import Any

from pepperpy.core import safe_str
from pepperpy.core.exceptions import ConfigurationError
from pepperpy.telemetry._tracing import Span, _clean_attributes, _QueuedExporter

__all__ = ["OTelExporter"]


def _otel_value(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, list) and all(isinstance(v, (str, bool, int, float)) for v in value):
        kinds = {type(v) for v in value}
        return value if len(kinds) <= 1 else [str(v) for v in value]
    return json.dumps(value, default=str, sort_keys=True)


def _attributes(raw: dict[str, Any]) -> dict[str, Any]:
    cleaned = _clean_attributes(raw)
    return {k: _otel_value(v) for k, v in cleaned.items() if v is not None}


class OTelExporter(_QueuedExporter):
    """Hands ended spans to an OpenTelemetry SDK span exporter (OTLP, Jaeger, ...).

    Spans keep their ids: the OTel span has the same trace id, span id and
    parent id, so traces started here and continued by OTel-instrumented
    services (through ``traceparent``) join up. Attributes are masked like
    in every exporter; nested values are sent as JSON strings. Export runs in
    a background thread in batches.

    Requires the ``otel`` extra (``opentelemetry-sdk``).

    Args:
        exporter: An ``opentelemetry.sdk.trace.export.SpanExporter``.
        service: ``service.name`` of the OTel resource (default: each span's service).
    """

    _thread_name = "pepperpy-otel-exporter"

    def __init__(self, exporter: Any, *, service: str | None = None) -> None:
        try:
            from opentelemetry.sdk.resources import Resource
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ConfigurationError(
                "the OpenTelemetry bridge needs opentelemetry-sdk",
                code="pepperpy.telemetry.otel_missing",
                hint="Install the extra: pip install 'pepperpy-telemetry[otel]'.",
            ) from exc
        super().__init__()
        self.exporter = exporter
        self._service = service
        self._resources: dict[str, Any] = {}
        self._resource_type = Resource

    def _resource(self, service: str) -> Any:
        name = self._service or service
        found = self._resources.get(name)
        if found is None:
            found = self._resources[name] = self._resource_type.create({"service.name": name})
        return found

    def _convert(self, span: Span) -> Any:
        from opentelemetry.sdk.trace import Event, ReadableSpan
        from opentelemetry.trace import SpanContext, Status, StatusCode, TraceFlags

        flags = TraceFlags(TraceFlags.SAMPLED)
        trace_id = int(span.trace_id, 16)
        context = SpanContext(trace_id, int(span.span_id, 16), is_remote=False, trace_flags=flags)
        parent = (
            SpanContext(trace_id, int(span.parent_id, 16), is_remote=True, trace_flags=flags)
            if span.parent_id
            else None
        )
        attributes = _attributes(span.attributes)
        if span.request_id is not None:
            attributes.setdefault("request_id", span.request_id)
        if span.exception is not None:
            attributes["exception.type"] = span.exception["type"]
            attributes["exception.message"] = span.exception["message"]
        status = (
            Status(
                StatusCode.ERROR,
                None if span.status_message is None else safe_str(span.status_message, 2000),
            )
            if span.status == "error"
            else Status(StatusCode.OK)
        )
        return ReadableSpan(
            name=span.name,
            context=context,
            parent=parent,
            resource=self._resource(span.service),
            attributes=attributes,
            events=[
                Event(e.name, _attributes(e.attributes), int(e.time * 1e9)) for e in span.events
            ],
            status=status,
            start_time=int(span.start_time * 1e9),
            end_time=int((span.end_time or span.start_time) * 1e9),
        )

    def _write(self, batch: list[Any]) -> None:
        self.exporter.export([self._convert(span) for span in batch])

    def _close(self) -> None:
        shutdown = getattr(self.exporter, "shutdown", None)
        if callable(shutdown):
            shutdown()
