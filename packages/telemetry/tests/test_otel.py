from __future__ import annotations

import pytest

from pepperpy import context
from pepperpy.telemetry import OTelExporter, Tracer

otel_export = pytest.importorskip("opentelemetry.sdk.trace.export.in_memory_span_exporter")


class Secret:
    def reveal(self) -> str:
        return "HIDDEN"


def test_spans_reach_an_otel_exporter_with_their_ids() -> None:
    memory = otel_export.InMemorySpanExporter()
    bridge = OTelExporter(memory)
    tracer = Tracer("shop", exporters=[bridge])
    with (
        context.scope(request_id="r-otel"),
        tracer.span(
            "checkout", {"items": 3, "token": "HIDDEN", "tags": ["a", "b"], "meta": {"k": 1}}
        ) as outer,
    ):
        with pytest.raises(RuntimeError), tracer.span("charge", {"s": Secret()}) as inner:
            inner.add_event("retry", {"attempt": 2})
            raise RuntimeError("card declined")
    assert bridge.flush()
    bridge.shutdown()
    by_name = {s.name: s for s in memory.get_finished_spans()}
    checkout, charge = by_name["checkout"], by_name["charge"]
    assert format(checkout.context.trace_id, "032x") == outer.trace_id
    assert format(checkout.context.span_id, "016x") == outer.span_id
    assert checkout.parent is None
    assert format(charge.parent.span_id, "016x") == outer.span_id
    assert format(charge.context.span_id, "016x") == inner.span_id
    assert checkout.attributes["items"] == 3
    assert checkout.attributes["token"] == "***"
    assert tuple(checkout.attributes["tags"]) == ("a", "b")
    assert checkout.attributes["meta"] == '{"k": 1}'
    assert checkout.attributes["request_id"] == "r-otel"
    assert charge.attributes["s"] == "***"
    assert charge.attributes["exception.type"] == "RuntimeError"
    assert charge.status.status_code.name == "ERROR"
    assert charge.events[0].name == "retry"
    assert charge.resource.attributes["service.name"] == "shop"
    assert checkout.end_time >= checkout.start_time


def test_a_failing_otel_exporter_is_counted() -> None:
    class Broken:
        def export(self, spans: object) -> None:
            raise ConnectionError("collector down")

    bridge = OTelExporter(Broken(), service="override")
    tracer = Tracer("svc", exporters=[bridge])
    with tracer.span("x"):
        pass
    assert bridge.flush()
    bridge.shutdown()
    assert bridge.errors == 1
