from __future__ import annotations

import asyncio

import prometheus_client
import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from pepperpy import context
from pepperpy.core.exceptions import ConflictError, InvalidArgumentError
from pepperpy.core.types import ManualClock
from pepperpy.telemetry import (
    Counter,
    Histogram,
    LabelCardinalityError,
    Metrics,
    MetricSet,
    counter,
    gauge,
    histogram,
    summary,
)


class ShopMetrics(MetricSet):
    orders = counter("orders", "Orders placed", labels=("channel",))
    in_flight = gauge("in_flight", "Requests being handled")
    latency = histogram("checkout", "Checkout latency", unit="seconds", buckets=(0.1, 1, 10))
    sizes = summary("payload_bytes", "Payload sizes")


class TestDeclarations:
    def test_metric_set_gives_typed_live_metrics(self) -> None:
        metrics = Metrics(namespace="shop")
        shop = ShopMetrics(metrics)
        assert isinstance(shop.orders, Counter)
        assert isinstance(shop.latency, Histogram)
        assert shop.latency.name == "shop_checkout_seconds"
        shop.orders.labels(channel="web").inc()
        shop.orders.labels(channel="web").inc(2)
        assert metrics.sample("shop_orders_total", {"channel": "web"}) == 3
        again = ShopMetrics(metrics)
        assert again.orders is shop.orders  # same registry, same metric
        assert isinstance(ShopMetrics.orders, type(counter("x")))  # class access: the spec

    def test_conflicting_declarations(self) -> None:
        metrics = Metrics()
        metrics.counter("jobs", labels=("queue",))
        assert metrics.counter("jobs", labels=("queue",)) is metrics.get("jobs")
        with pytest.raises(ConflictError, match="declared differently"):
            metrics.gauge("jobs")
        with pytest.raises(ConflictError, match="declared differently"):
            metrics.counter("jobs", labels=("other",))

    def test_registries_are_isolated(self) -> None:
        a, b = Metrics(), Metrics()
        a.counter("hits").inc()
        b.counter("hits").inc(5)
        assert a.sample("hits_total") == 1
        assert b.sample("hits_total") == 5

    def test_default_registry(self) -> None:
        default = Metrics.default()
        assert default is Metrics.default()
        assert default.registry is prometheus_client.REGISTRY
        c = default.counter("pepperpy_test_default_hits")
        c.inc()
        assert prometheus_client.REGISTRY.get_sample_value("pepperpy_test_default_hits_total") == 1
        default.unregister(c)
        assert default.get("pepperpy_test_default_hits") is None

    @pytest.mark.parametrize("name", ["1bad", "has-dash", "", "sp ace"])
    def test_bad_metric_names(self, name: str) -> None:
        with pytest.raises(InvalidArgumentError, match="invalid metric name"):
            counter(name)

    def test_bad_label_names_and_limits(self) -> None:
        with pytest.raises(InvalidArgumentError, match="invalid label name"):
            counter("x", labels=("__reserved",))
        with pytest.raises(InvalidArgumentError):
            counter("x", max_label_sets=0)
        with pytest.raises(InvalidArgumentError):
            Metrics(max_label_sets=0)
        with pytest.raises(InvalidArgumentError):
            Metrics(overflow="drop")  # type: ignore[arg-type]

    def test_spec_outside_a_metric_set(self) -> None:
        class NotASet:
            hits = counter("hits")

        with pytest.raises(InvalidArgumentError, match="MetricSet"):
            _ = NotASet().hits


class TestCounter:
    @given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), max_size=20))
    def test_value_is_the_sum(self, amounts: list[float]) -> None:
        c = Metrics().counter("c")
        for amount in amounts:
            c.inc(amount)
        assert c.value == pytest.approx(sum(amounts))

    def test_counter_cannot_go_down(self) -> None:
        with pytest.raises(InvalidArgumentError, match="cannot go down"):
            Metrics().counter("c").inc(-1)

    def test_labels_by_name_position_and_order(self) -> None:
        c = Metrics().counter("req", labels=("method", "status"))
        a = c.labels(method="GET", status=200)
        assert c.labels(status="200", method="GET") is a
        assert c.labels("GET", "200") is a
        assert c.labels("GET", status=200) is a
        assert c.series_count == 1

    @pytest.mark.parametrize(
        ("args", "kwargs", "message"),
        [
            ((), {"method": "GET"}, "missing"),
            ((), {"method": "GET", "status": 1, "x": 2}, "unknown"),
            (("a", "b", "c"), {}, "positional"),
            (("GET",), {"method": "POST", "status": 1}, "twice"),
        ],
    )
    def test_bad_labels(
        self, args: tuple[str, ...], kwargs: dict[str, object], message: str
    ) -> None:
        c = Metrics().counter("req", labels=("method", "status"))
        with pytest.raises(InvalidArgumentError, match=message):
            c.labels(*args, **kwargs)

    def test_unhashable_label_values_use_their_text(self) -> None:
        metrics = Metrics()
        c = metrics.counter("tagged", labels=("tags",))
        c.labels(tags=["a", "b"]).inc()
        c.labels(tags="['a', 'b']").inc()
        assert metrics.sample("tagged_total", {"tags": "['a', 'b']"}) == 2

    def test_labelled_family_needs_labels(self) -> None:
        c = Metrics().counter("req", labels=("method",))
        with pytest.raises(InvalidArgumentError, match=r"req.labels\(method=...\)"):
            c.inc()
        with pytest.raises(InvalidArgumentError):
            c.count_exceptions()
        with pytest.raises(InvalidArgumentError, match="no labels"):
            Metrics().counter("plain").labels(x=1)

    def test_cardinality_guard_raises_clearly(self) -> None:
        c = Metrics(max_label_sets=3, overflow="raise").counter("by_user", labels=("user",))
        for user in ("a", "b", "c"):
            c.labels(user=user).inc()
        with pytest.raises(LabelCardinalityError, match="limit of 3") as info:
            c.labels(user="d")
        assert "unbounded" in (info.value.hint or "")
        c.labels(user="a").inc()  # existing series keep working
        c.remove(user="a")
        c.labels(user="d").inc()  # a freed slot can be reused
        assert c.series_count == 3
        c.clear()
        assert c.series_count == 0

    def test_cardinality_overflow_folds_into_other(self) -> None:
        metrics = Metrics()
        c = metrics.counter("paths", labels=("path",), max_label_sets=2, overflow="other")
        for path in ("/a", "/b", "/c", "/d", "/c"):
            c.labels(path=path).inc()
        assert metrics.sample("paths_total", {"path": "/a"}) == 1
        assert metrics.sample("paths_total", {"path": "__other__"}) == 3
        assert c.series_count == 3

    def test_context_labels(self) -> None:
        metrics = Metrics()
        c = metrics.counter("tenant_requests", context_labels=("tenant",))
        with context.scope(tenant="acme"):
            c.inc()
            c.labels().inc()
        c.inc()
        assert metrics.sample("tenant_requests_total", {"tenant": "acme"}) == 2
        assert metrics.sample("tenant_requests_total", {"tenant": "unknown"}) == 1

    async def test_count_exceptions_sync_async_and_block(self) -> None:
        c = Metrics().counter("errors")

        @c.count_exceptions(ValueError)
        def sync_fail(kind: type[Exception]) -> None:
            raise kind("x")

        @c.count_exceptions()
        async def async_fail() -> None:
            raise RuntimeError("y")

        @c.count_exceptions()
        async def async_ok() -> int:
            return 1

        with pytest.raises(ValueError):
            sync_fail(ValueError)
        with pytest.raises(KeyError):
            sync_fail(KeyError)  # not counted: other type
        with pytest.raises(RuntimeError):
            await async_fail()
        assert await async_ok() == 1
        with pytest.raises(ZeroDivisionError), c.count_exceptions():
            _ = 1 / 0
        with pytest.raises(LookupError):
            async with c.count_exceptions(LookupError):
                raise KeyError("z")
        assert c.value == 4


class TestGaugeHistogramSummary:
    async def test_gauge(self) -> None:
        clock = ManualClock()
        g = Metrics(clock=clock).gauge("g")
        g.set(5)
        g.inc(2)
        g.dec()
        assert g.value == 6
        g.set_to_current_time()
        assert g.value == clock.time()
        with g.time():
            clock.advance_sync(2.5)
        assert g.value == 2.5

        busy = Metrics().gauge("busy")
        seen: list[float] = []

        @busy.track_inprogress()
        async def work() -> None:
            seen.append(busy.value)
            await asyncio.sleep(0)

        await asyncio.gather(work(), work())
        assert seen == [1.0, 2.0]
        assert busy.value == 0
        with busy.track_inprogress():
            assert busy.value == 1

    async def test_histogram_timing_with_a_manual_clock(self) -> None:
        clock = ManualClock()
        metrics = Metrics(clock=clock)
        h = metrics.histogram("op", buckets=(1, 5), labels=("kind",))

        @h.labels(kind="sync").time()
        def sync_op() -> str:
            clock.advance_sync(0.5)
            return "done"

        @h.labels(kind="async").time()
        async def async_op() -> None:
            await clock.sleep(0)
            clock.advance_sync(3)

        assert sync_op() == "done"
        await async_op()
        async with h.labels(kind="block").time():
            clock.advance_sync(7)
        with pytest.raises(RuntimeError), h.labels(kind="fail").time():
            clock.advance_sync(0.25)
            raise RuntimeError
        assert metrics.sample("op_bucket", {"kind": "sync", "le": "1.0"}) == 1
        assert metrics.sample("op_bucket", {"kind": "async", "le": "1.0"}) == 0
        assert metrics.sample("op_bucket", {"kind": "async", "le": "5.0"}) == 1
        assert metrics.sample("op_sum", {"kind": "block"}) == 7
        assert metrics.sample("op_sum", {"kind": "fail"}) == 0.25
        with pytest.raises(InvalidArgumentError):
            h.observe(1)

    def test_summary(self) -> None:
        metrics = Metrics()
        s = metrics.summary("size")
        for value in (1, 2, 3):
            s.observe(value)
        assert metrics.sample("size_count") == 3
        assert metrics.sample("size_sum") == 6


class TestRendering:
    async def test_render_and_arender(self) -> None:
        metrics = Metrics(namespace="app")
        metrics.counter("hits", "Hits", labels=("path",)).labels(path="/").inc(3)
        text = metrics.render().decode()
        families = {f.name: f for f in text_string_to_metric_families(text)}
        assert families["app_hits"].samples[0].value == 3
        body, ctype = await metrics.arender()
        assert ctype.startswith("text/plain")
        assert body == metrics.render()
        body, ctype = await metrics.arender("application/openmetrics-text; version=1.0.0")
        assert ctype.startswith("application/openmetrics-text")
        assert body.rstrip().endswith(b"# EOF")

    def test_process_metrics(self) -> None:
        metrics = Metrics(process_metrics=True)
        assert b"python_info" in metrics.render()
        assert [m.name for m in metrics] == []


class TestCollectHooks:
    async def test_hooks_run_before_each_async_render(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        metrics = Metrics()
        depth = metrics.gauge("queue_depth")
        temperature = metrics.gauge("temperature")
        calls: list[str] = []

        @metrics.on_collect
        async def read_queue() -> None:
            calls.append("async")
            await asyncio.sleep(0)
            depth.set(len(calls))

        @metrics.on_collect(timeout=1)
        def read_sensor() -> None:
            calls.append("sync")
            temperature.set(21.5)

        @metrics.on_collect(timeout=0.05)
        async def hangs() -> None:
            await asyncio.Event().wait()

        @metrics.on_collect
        def broken() -> None:
            raise ConnectionError("sensor offline")

        with caplog.at_level("WARNING", logger="pepperpy.telemetry"):
            body, _ = await metrics.arender()
        text = body.decode()
        assert "temperature 21.5" in text
        assert metrics.sample("queue_depth") is not None
        assert sorted(calls) == ["async", "sync"]
        messages = " ".join(r.getMessage() for r in caplog.records)
        assert "sensor offline" in messages
        assert "hangs" in messages
        metrics.render()  # the sync render does not run hooks
        assert len(calls) == 2
        with pytest.raises(InvalidArgumentError):
            metrics.on_collect(42)  # type: ignore[arg-type]


class TestInfoAndEnum:
    def test_info(self) -> None:
        metrics = Metrics()
        build = metrics.info("build", "Build information")
        build.info({"version": "1.2.3", "commit": "abc"})
        assert metrics.sample("build_info", {"version": "1.2.3", "commit": "abc"}) == 1
        per_service = metrics.info("component", labels=("service",))
        per_service.labels(service="api").info({"version": 2})  # type: ignore[dict-item]
        assert metrics.sample("component_info", {"service": "api", "version": "2"}) == 1

    def test_enum(self) -> None:
        from pepperpy.telemetry import enum

        class Phases(MetricSet):
            phase = enum("phase", "Lifecycle phase", states=["starting", "running", "stopped"])

        metrics = Metrics()
        phases = Phases(metrics)
        assert metrics.sample("phase", {"phase": "starting"}) == 1
        phases.phase.state("running")
        assert metrics.sample("phase", {"phase": "running"}) == 1
        assert metrics.sample("phase", {"phase": "starting"}) == 0
        with pytest.raises(InvalidArgumentError, match="unknown state"):
            phases.phase.state("exploded")
        with pytest.raises(InvalidArgumentError, match="states"):
            enum("bad", states=[])
