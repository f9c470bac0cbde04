from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pepperpy import context
from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.core.types import ManualClock
from pepperpy.telemetry import (
    InMemoryExporter,
    JsonLinesExporter,
    Metrics,
    SpanExporter,
    Tracer,
    current_span,
)


@pytest.fixture
def exporter() -> InMemoryExporter:
    return InMemoryExporter()


@pytest.fixture
def tracer(exporter: InMemoryExporter) -> Tracer:
    return Tracer("svc", exporters=[exporter])


class Secret:
    def __init__(self, value: str) -> None:
        self.value = value

    def reveal(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return self.value


class TestSpans:
    def test_nesting_ids_and_context(self, tracer: Tracer, exporter: InMemoryExporter) -> None:
        with context.scope(request_id="r-1"):
            with tracer.span("outer", {"a": 1}) as outer:
                assert current_span() is outer
                assert context.get("trace_id") == outer.trace_id
                assert context.get("span_id") == outer.span_id
                with tracer.span("inner") as inner:
                    assert context.get("span_id") == inner.span_id
                assert context.get("span_id") == outer.span_id
            assert context.get("span_id") is None
            assert current_span() is None
        inner_span, outer_span = exporter.spans
        assert outer_span.parent_id is None
        assert inner_span.parent_id == outer_span.span_id
        assert inner_span.trace_id == outer_span.trace_id
        assert outer_span.request_id == "r-1"
        assert outer_span.status == "ok"
        assert outer_span.attributes == {"a": 1}
        assert outer_span.service == "svc"
        assert outer_span.ended

    def test_exception_marks_error_and_propagates(
        self, tracer: Tracer, exporter: InMemoryExporter
    ) -> None:
        with pytest.raises(ValueError, match="bad"), tracer.span("fails"):
            raise ValueError("bad")
        (span,) = exporter.spans
        assert span.status == "error"
        assert span.exception == {"type": "ValueError", "message": "bad"}
        assert span.status_message == "ValueError: bad"

    async def test_async_spans_and_decorator(
        self, tracer: Tracer, exporter: InMemoryExporter
    ) -> None:
        @tracer.traced("fetch")
        async def fetch(n: int) -> int:
            await asyncio.sleep(0)
            current = current_span()
            assert current is not None
            current.set_attribute("n", n)
            return n

        @tracer.traced()
        def compute() -> str:
            return "sync"

        async with tracer.span("request") as root:
            results = await asyncio.gather(*(fetch(i) for i in range(3)))
            assert compute() == "sync"
        assert results == [0, 1, 2]
        fetches = exporter.find("fetch")
        assert sorted(s.attributes["n"] for s in fetches) == [0, 1, 2]
        assert {s.parent_id for s in fetches} == {root.span_id}
        (computed,) = [s for s in exporter.spans if s.name.endswith("compute")]
        assert computed.parent_id == root.span_id

    def test_durations_come_from_the_clock(self, exporter: InMemoryExporter) -> None:
        clock = ManualClock()
        tracer = Tracer("svc", exporters=[exporter], clock=clock)
        with tracer.span("timed") as span:
            clock.advance_sync(1.5)
            span.add_event("halfway", {"step": 1})
        assert span.duration == 1.5
        assert span.start_time == clock.time() - 1.5
        assert span.end_time == clock.time()
        assert span.events[0].name == "halfway"
        assert span.events[0].time == clock.time()

    def test_manual_spans_and_status(self, tracer: Tracer, exporter: InMemoryExporter) -> None:
        span = tracer.start_span("manual")
        span.set_attributes({"k": "v"})
        span.set_status("error", "custom")
        span.end()
        span.end()  # idempotent
        assert exporter.spans == [span]
        assert span.status == "error"
        with pytest.raises(InvalidArgumentError):
            span.set_status("weird")  # type: ignore[arg-type]

    async def test_threads_and_tasks_keep_parents(
        self, tracer: Tracer, exporter: InMemoryExporter
    ) -> None:
        def blocking(i: int) -> None:
            with tracer.span("in-thread", {"i": i}):
                pass

        async def handler(i: int, pool: ThreadPoolExecutor) -> str:
            async with context.scope(request_id=f"req-{i}"), tracer.span("handler") as span:
                await context.to_thread(blocking, i)
                await asyncio.get_running_loop().run_in_executor(pool, context.wrap(blocking), i)
                return span.span_id

        with ThreadPoolExecutor(max_workers=3) as pool:
            ids = await asyncio.gather(*(handler(i, pool) for i in range(8)))
        handlers = {s.span_id: s for s in exporter.find("handler")}
        for span in exporter.find("in-thread"):
            parent = handlers[span.parent_id]  # type: ignore[index]
            assert span.request_id == parent.request_id == f"req-{span.attributes['i']}"
            assert span.trace_id == parent.trace_id
        assert sorted(handlers) == sorted(ids)
        assert len(exporter.find("in-thread")) == 16

    def test_remote_parent_and_outgoing_headers(
        self, tracer: Tracer, exporter: InMemoryExporter
    ) -> None:
        trace, parent = context.new_trace_id(), context.new_span_id()
        incoming = {"traceparent": f"00-{trace}-{parent}-01", "X-Request-ID": "remote-1"}
        with context.scope(context.extract_headers(incoming)), tracer.span("server") as span:
            outgoing: dict[str, str] = {}
            context.inject_headers(outgoing)
        assert span.trace_id == trace
        assert span.parent_id == parent
        assert span.request_id == "remote-1"
        assert outgoing["traceparent"] == f"00-{trace}-{span.span_id}-01"

    def test_sampling(self, exporter: InMemoryExporter) -> None:
        tracer = Tracer("svc", exporters=[exporter], sample_rate=0.0)
        with tracer.span("dropped") as span, tracer.span("child") as child:
            assert child.parent_id == span.span_id  # still propagates
        assert exporter.spans == []
        with pytest.raises(InvalidArgumentError):
            Tracer(sample_rate=1.5)
        half = Tracer("svc", exporters=[exporter], sample_rate=0.5)
        for _ in range(200):
            with half.span("s"):
                pass
        assert 40 < len(exporter.spans) < 160

    def test_span_metrics(self) -> None:
        metrics = Metrics()
        tracer = Tracer("svc", metrics=metrics)
        with tracer.span("db.query"):
            pass
        with pytest.raises(KeyError), tracer.span("db.query"):
            raise KeyError
        assert (
            metrics.sample("span_duration_seconds_count", {"span": "db.query", "status": "ok"}) == 1
        )
        assert (
            metrics.sample("span_duration_seconds_count", {"span": "db.query", "status": "error"})
            == 1
        )

    def test_failing_exporter_never_raises(
        self, exporter: InMemoryExporter, caplog: pytest.LogCaptureFixture
    ) -> None:
        class Broken:
            def export(self, span: object) -> None:
                raise OSError("disk full")

            def shutdown(self) -> None:
                raise OSError("still full")

        assert isinstance(Broken(), SpanExporter)
        tracer = Tracer("svc", exporters=[Broken()])
        tracer.add_exporter(exporter)
        with caplog.at_level(logging.WARNING, logger="pepperpy.telemetry"):
            for _ in range(3):
                with tracer.span("x"):
                    pass
            tracer.shutdown()
        assert len(exporter.spans) == 3
        assert sum("failed: disk full" in r.getMessage() for r in caplog.records) == 1
        assert len(tracer.exporters) == 2


class TestJsonLines:
    def test_spans_written_with_secrets_masked(self, tmp_path: Path) -> None:
        path = tmp_path / "spans" / "spans.jsonl"
        exporter = JsonLinesExporter(path)
        tracer = Tracer("svc", exporters=[exporter])
        with (
            context.scope(request_id="r-9"),
            tracer.span(
                "login",
                {
                    "user": "ada",
                    "password": "HIDE-1",
                    "db": {"apiKey": "HIDE-2"},
                    "s": Secret("HIDE-3"),
                },
            ) as span,
        ):
            span.add_event("token refreshed", {"refresh_token": "HIDE-4"})
        assert exporter.flush()
        exporter.shutdown()
        exporter.shutdown()
        text = path.read_text()
        assert "HIDE" not in text
        (record,) = [json.loads(line) for line in text.splitlines()]
        assert record["name"] == "login"
        assert record["request_id"] == "r-9"
        assert record["attributes"] == {
            "user": "ada",
            "password": "***",
            "db": {"apiKey": "***"},
            "s": "***",
        }
        assert record["events"][0]["attributes"] == {"refresh_token": "***"}

    def test_many_spans_from_threads(self, tmp_path: Path) -> None:
        exporter = JsonLinesExporter(tmp_path / "spans.jsonl")
        tracer = Tracer("svc", exporters=[exporter])

        def work(i: int) -> None:
            with tracer.span("w", {"i": i}):
                pass

        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(work, range(200)))
        tracer.shutdown()
        lines = (tmp_path / "spans.jsonl").read_text().splitlines()
        assert sorted(json.loads(line)["attributes"]["i"] for line in lines) == list(range(200))

    def test_unwritable_path_is_counted_not_raised(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        blocker = tmp_path / "file"
        blocker.write_text("not a directory")
        exporter = JsonLinesExporter(blocker / "spans.jsonl")
        tracer = Tracer("svc", exporters=[exporter])
        with caplog.at_level(logging.WARNING, logger="pepperpy.telemetry"):
            with tracer.span("a"):
                pass
            assert exporter.flush()
            with tracer.span("b"):
                pass
            exporter.shutdown()
        assert exporter.errors == 2
        assert sum("cannot write" in r.getMessage() for r in caplog.records) == 1
        assert JsonLinesExporter(tmp_path / "unused.jsonl").flush()
