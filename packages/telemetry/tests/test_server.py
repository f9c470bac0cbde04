from __future__ import annotations

import gzip
import urllib.request

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from pepperpy import context
from pepperpy.telemetry import Health, Metrics, TelemetryServer, create_app, start_http_server


def families(text: str) -> dict[str, object]:
    return {f.name: f for f in text_string_to_metric_families(text)}


async def test_metrics_scraped_over_http_and_parsed() -> None:
    metrics = Metrics(namespace="shop")
    orders = metrics.counter("orders", "Orders", labels=("channel",))
    orders.labels(channel="web").inc(3)
    metrics.histogram("latency_seconds", "Latency", buckets=(0.1, 1)).observe(0.5)
    async with TelemetryServer(metrics) as server, aiohttp.ClientSession() as http:
        assert server.url.startswith("http://127.0.0.1:")
        assert server.port > 0
        async with http.get(f"{server.url}/metrics") as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"].startswith("text/plain")
            text = await resp.text()
        parsed = families(text)
        (sample,) = parsed["shop_orders"].samples  # type: ignore[attr-defined]
        assert sample.name == "shop_orders_total"
        assert sample.labels == {"channel": "web"}
        assert sample.value == 3
        hist = parsed["shop_latency_seconds"]
        count = [s for s in hist.samples if s.name.endswith("_count")]  # type: ignore[attr-defined]
        assert count[0].value == 1

        headers = {"Accept": "application/openmetrics-text; version=1.0.0"}
        async with http.get(f"{server.url}/metrics", headers=headers) as resp:
            assert resp.headers["Content-Type"].startswith("application/openmetrics-text")
            assert (await resp.text()).rstrip().endswith("# EOF")

        async with http.get(
            f"{server.url}/metrics", headers={"Accept-Encoding": "gzip"}, auto_decompress=False
        ) as resp:
            assert resp.headers.get("Content-Encoding") == "gzip"
            assert b"shop_orders_total" in gzip.decompress(await resp.read())


async def test_health_and_readiness_endpoints() -> None:
    health = Health()
    state = {"db": True}
    health.register_check("db", lambda: state["db"])
    app = create_app(Metrics(), health)
    assert app.router is not None
    async with TelemetryServer(Metrics(), health) as server, aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/ready") as resp:
            assert resp.status == 503  # not declared ready yet
        health.set_ready()
        async with http.get(f"{server.url}/ready") as resp:
            assert resp.status == 200
            assert await resp.json() == {"ready": True, "status": "ok"}
        state["db"] = False
        async with http.get(f"{server.url}/health") as resp:
            assert resp.status == 503
            body = await resp.json()
            assert body["status"] == "failing"
            assert body["checks"]["db"]["status"] == "failing"
        async with http.get(f"{server.url}/ready") as resp:
            assert resp.status == 503


async def test_prometheus_http_server_without_aiohttp() -> None:
    metrics = Metrics()
    metrics.gauge("temperature").set(21.5)
    server, thread = start_http_server(metrics)
    try:
        url = f"http://127.0.0.1:{server.server_port}/metrics"

        def scrape() -> str:
            with urllib.request.urlopen(url, timeout=10) as resp:
                return resp.read().decode()

        text = await context.to_thread(scrape)
    finally:
        server.shutdown()
        thread.join(timeout=10)
    assert families(text)["temperature"].samples[0].value == 21.5  # type: ignore[attr-defined]
