"""The issue's acceptance test: a small app with concurrent tasks and a thread pool.

Every span (and, when pepperpy-logging is installed, every log line) carries
the request id of the request that produced it; a secret never appears in any
sink file; /metrics is scraped over real HTTP on 127.0.0.1 and parsed with
prometheus_client's parser.
"""

from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from pepperpy import context
from pepperpy.telemetry import JsonLinesExporter, Metrics, TelemetryServer, Tracer

SECRET_TEXT = "s3cr3t-NEVER-IN-FILES"


class Secret:
    """Shaped like pepperpy-config's Secret."""

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:  # careless on purpose: redaction must not rely on it
        return self._value


async def run_app(tmp_path: Path, log: Any | None) -> tuple[list[dict[str, Any]], str]:
    metrics = Metrics(namespace="app")
    requests = metrics.counter("requests", "Handled requests", labels=("route",))
    latency = metrics.histogram("request_seconds", "Latency", labels=("route",))
    spans_file = tmp_path / "spans.jsonl"
    exporter = JsonLinesExporter(spans_file)
    tracer = Tracer("app", exporters=[exporter], metrics=metrics)
    secret = Secret(SECRET_TEXT)

    def blocking_io(i: int) -> None:
        with tracer.span("db.query", {"query": "select 1", "password": SECRET_TEXT}):
            if log is not None:
                log.info("query done for {}", i, extra={"db_password": secret})
            logging.getLogger("thirdparty.driver").info("driver call %s", i)

    async def handler(i: int, pool: ThreadPoolExecutor) -> None:
        route = "/orders" if i % 2 else "/users"
        async with context.scope(request_id=f"req-{i}"), tracer.span("request", {"i": i}):
            with latency.labels(route=route).time():
                if log is not None:
                    await log.info("start {}", i, extra={"token": secret})
                await asyncio.sleep(0)
                await context.to_thread(blocking_io, i)
                await asyncio.get_running_loop().run_in_executor(pool, context.wrap(blocking_io), i)
                requests.labels(route=route).inc()
                if log is not None:
                    log.info("end {}", i, api_key=SECRET_TEXT)

    with ThreadPoolExecutor(max_workers=4) as pool:
        await asyncio.gather(*(handler(i, pool) for i in range(10)))
    tracer.shutdown()

    async with TelemetryServer(metrics) as server, aiohttp.ClientSession() as http:
        assert server.host == "127.0.0.1"
        async with http.get(f"{server.url}/metrics") as resp:
            assert resp.status == 200
            text = await resp.text()
    spans = [json.loads(line) for line in spans_file.read_text().splitlines()]
    return spans, text


def check_spans_and_metrics(spans: list[dict[str, Any]], text: str, spans_file: Path) -> None:
    assert len(spans) == 10 * 3
    requests = {s["span_id"]: s for s in spans if s["name"] == "request"}
    for span in spans:
        if span["name"] == "request":
            assert span["request_id"] == f"req-{span['attributes']['i']}"
        else:
            parent = requests[span["parent_id"]]
            assert span["request_id"] == parent["request_id"]
            assert span["trace_id"] == parent["trace_id"]
    assert SECRET_TEXT not in spans_file.read_text()

    families = {f.name: f for f in text_string_to_metric_families(text)}
    handled = {
        s.labels["route"]: s.value
        for s in families["app_requests"].samples
        if s.name == "app_requests_total"
    }
    assert handled == {"/orders": 5.0, "/users": 5.0}
    counts = [s for s in families["app_request_seconds"].samples if s.name.endswith("_count")]
    assert sum(s.value for s in counts) == 10
    span_counts = [
        s for s in families["app_span_duration_seconds"].samples if s.name.endswith("_count")
    ]
    assert sum(s.value for s in span_counts) == 30


async def test_spans_carry_request_ids_and_metrics_are_scraped(tmp_path: Path) -> None:
    spans, text = await run_app(tmp_path, None)
    check_spans_and_metrics(spans, text, tmp_path / "spans.jsonl")


async def test_logs_and_spans_carry_request_ids_and_no_secret_leaks(tmp_path: Path) -> None:
    plog = pytest.importorskip("pepperpy.logging", reason="needs pepperpy-logging installed")
    log_json = tmp_path / "app.jsonl"
    log_text = tmp_path / "app.log"
    plog.configure(
        console=False,
        level="INFO",
        files=[{"path": str(log_json), "enqueue": True}, {"path": str(log_text)}],
    )
    try:
        spans, text = await run_app(tmp_path, plog.get_logger("app"))
        await plog.complete()
    finally:
        plog.shutdown()
    check_spans_and_metrics(spans, text, tmp_path / "spans.jsonl")
    records = [json.loads(line) for line in log_json.read_text().splitlines()]
    records = [r for r in records if r["logger"] in ("app", "thirdparty.driver")]
    assert len(records) == 10 * 6
    span_ids = {s["span_id"]: s for s in spans}
    for record in records:
        number = record["message"].rsplit(" ", 1)[-1]
        assert record["request_id"] == f"req-{number}"
        # every line is also tied to the span it was written in
        assert span_ids[record["span_id"]]["request_id"] == record["request_id"]
    for sink in (log_json, log_text, tmp_path / "spans.jsonl"):
        assert SECRET_TEXT not in sink.read_text()
