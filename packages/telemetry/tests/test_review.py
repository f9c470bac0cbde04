"""Hostile review of Health (issue 20 #1 "never leak" and #13 "never raise into the caller").

Health reports leave the process (the /health endpoint), so every text in them goes
through pepperpy-core's redactor, and nothing a check returns or raises escapes run().
"""

from __future__ import annotations

import asyncio
import json
import math
import sys
from typing import Any

import pytest

from pepperpy.telemetry import CheckResult, Health

DSN = "postgresql://app:hunter2@db:5432/app"


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no str")

    __repr__ = __str__


async def _report(fn: Any) -> dict[str, Any]:
    health = Health(default_timeout=5)
    health.register_check("db", fn)
    body = (await health.run()).to_dict()
    json.dumps(body)  # the endpoint's body stays JSON
    return body["checks"]["db"]


@pytest.mark.parametrize(
    "value",
    [
        ("degraded", f"cannot reach {DSN}"),
        CheckResult("db", "degraded", f"slow: {DSN}"),
        {"dsn": DSN},  # a wrong return value is shown in the detail
    ],
    ids=["tuple-detail", "check-result", "wrong-value"],
)
async def test_check_details_are_redacted(value: Any) -> None:
    """Issue 20 #1: exceptions were redacted, but a detail a check returned (a tuple's
    second item, a CheckResult, the repr of a wrong value) reached /health verbatim."""
    result = await _report(lambda: value)
    assert "hunter2" not in json.dumps(result)


async def test_a_detail_whose_str_raises_does_not_escape_run() -> None:
    """Hostile value: ``("degraded", obj)`` with a raising ``__str__`` escaped run()."""
    result = await _report(lambda: ("degraded", Unprintable()))
    assert result["status"] == "degraded"


async def test_a_sync_check_raising_stop_iteration_is_failing_not_timed_out() -> None:
    """A sync check raising StopIteration (``next(iter([]))``) could not be set on the
    asyncio future, so the check hung to its timeout and was reported as timed out."""
    health = Health(default_timeout=30)
    health.register_check("db", lambda: next(iter([])))
    report = await asyncio.wait_for(health.run(), 60)  # a guard against a hang, not a timing
    assert report.checks["db"].status == "failing"
    assert "StopIteration" in (report.checks["db"].detail or "")


async def test_a_sync_check_calling_sys_exit_is_a_failing_check() -> None:
    """A sync check calling sys.exit() raised SystemExit into the code awaiting run()."""

    def check() -> None:
        sys.exit(3)

    result = await _report(check)
    assert result["status"] == "failing"
    assert "SystemExit" in result["detail"]


@pytest.mark.skipif(
    sys.version_info < (3, 11),
    reason="Python 3.10 has no Task.cancelling() to tell the check's own CancelledError apart",
)
async def test_an_async_check_raising_its_own_cancelled_error_is_failing() -> None:
    """An async check that awaited something cancelled raised CancelledError out of run()
    into a caller nobody cancelled."""

    async def check() -> None:
        raise asyncio.CancelledError

    result = await _report(check)
    assert result["status"] == "failing"


async def test_cancelling_run_still_cancels() -> None:
    """The fix above must keep a real cancellation of run() a cancellation."""
    gate = asyncio.Event()

    async def check() -> None:
        await gate.wait()

    health = Health(default_timeout=30)
    health.register_check("db", check)
    running = asyncio.ensure_future(health.run())
    for _ in range(10):
        await asyncio.sleep(0)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running


# -- metrics: one hostile label value must not break /metrics for good (issue 20 #6/#10) -------

from pepperpy.telemetry import Metrics  # noqa: E402

LONE = "/files/\udcff.txt"  # a request path decoded with surrogateescape


def _render_ok(metrics: Metrics) -> str:
    return metrics.render().decode("utf-8")


def test_a_label_value_with_a_lone_surrogate_does_not_poison_the_registry() -> None:
    """Issue 20 #10 neighbour: labels(path="/files/\\udcff.txt") stored the value as given and
    every later render() raised UnicodeEncodeError: one hostile request broke /metrics for
    good."""
    metrics = Metrics()
    requests = metrics.counter("req_total", "Requests", labels=["path"])
    requests.labels(path=LONE).inc()
    requests.labels("/ok").inc()
    text = _render_ok(metrics)
    assert 'path="/ok"' in text


def test_info_with_hostile_values_does_not_raise_or_poison() -> None:
    """Issue 20 #6 (never raise into the caller): Info.info() called str() on each key and
    value (raising for a broken __str__) and kept lone surrogates."""

    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no str")

    metrics = Metrics()
    build = metrics.info("build", "Build")
    build.info({"version": LONE, "commit": Unprintable()})  # type: ignore[dict-item]
    _render_ok(metrics)


def test_documentation_with_a_lone_surrogate_does_not_poison_the_registry() -> None:
    """Issue 20 #10 neighbour: HELP text with a lone surrogate broke every render()."""
    metrics = Metrics()
    metrics.counter("jobs_total", "Jobs from " + LONE).inc()
    _render_ok(metrics)


# -- tracing: one hostile span must not drop the others (issue 20 "never raise", data loss) ----

from pathlib import Path  # noqa: E402

from pepperpy.telemetry import JsonLinesExporter, Tracer  # noqa: E402


def test_one_span_with_a_lone_surrogate_does_not_drop_the_batch(tmp_path: Path) -> None:
    """Issue 20 neighbour (exporters never lose the app's data): a span whose attribute,
    event or status held a lone surrogate made the JSON-lines writer fail the whole batch,
    so every other request's span queued with it was lost."""
    path = tmp_path / "spans.jsonl"
    exporter = JsonLinesExporter(path)
    tracer = Tracer("svc", exporters=[exporter])
    with tracer.span("before", {"n": 1}):
        pass
    with tracer.span("hostile", {"path": "/f/\udcff"}) as span:
        span.add_event("ev\ud800", {"y": "\ud800"})
        span.set_status("error", "bad \ud800")
    with tracer.span("after", {"n": 2}):
        pass
    assert exporter.flush()
    exporter.shutdown()
    lines = path.read_text(encoding="utf-8").splitlines()  # strict: valid UTF-8
    names = [json.loads(line)["name"] for line in lines]
    assert names == ["before", "hostile", "after"]
    assert exporter.errors == 0
    hostile = json.loads(lines[1])
    assert hostile["attributes"]["path"] == "/f/\udcff"  # the JSON escape keeps the value


# -- exporters: a stuck destination must not grow the app's memory (issue 20 "never starve") -

import os  # noqa: E402
import threading  # noqa: E402


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a FIFO to stand for a stuck disk")
def test_a_stuck_exporter_drops_spans_beyond_its_queue(tmp_path: Path) -> None:
    """Issue 20 "never take resources the app needs": while the destination hangs (an NFS
    mount, an OTLP collector that stopped reading), every span was queued without limit.
    The queue is bounded (as OTel's BatchSpanProcessor's max_queue_size) and the overflow
    counted in ``dropped``."""
    fifo = tmp_path / "spans.jsonl"
    os.mkfifo(fifo)  # opening it for writing blocks until a reader comes: a stuck disk
    exporter = JsonLinesExporter(fifo)
    exporter.max_queue = 50
    tracer = Tracer("svc", exporters=[exporter])
    for n in range(500):
        with tracer.span("work", {"n": n}):
            pass
    assert exporter.dropped > 0
    assert exporter.pending <= 50
    # Unstick it: a reader drains the FIFO, the writer catches up, flush() returns.
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    stop = threading.Event()

    def drain() -> None:
        while not stop.is_set():
            try:
                if not os.read(reader, 65536):
                    stop.wait(0.01)
            except BlockingIOError:
                stop.wait(0.01)

    worker = threading.Thread(target=drain, daemon=True)
    worker.start()
    try:
        assert exporter.flush(timeout=60)
    finally:
        exporter.shutdown()
        stop.set()
        worker.join(10)
        os.close(reader)


# -- collect hooks: never starve the app, never break the scrape (issue 20 #13 sibling) ------

import asyncio as _asyncio  # noqa: E402


async def test_a_hung_sync_collect_hook_runs_at_most_once_at_a_time() -> None:
    """Issue 20 #13's class in a sibling: a sync on_collect hook that blocks forever was
    started again in the default executor at every scrape, so scrapes alone filled the
    executor the application's own ``to_thread`` calls need. A hook still running from an
    earlier scrape is skipped."""
    metrics = Metrics()
    gate = threading.Event()
    lock = threading.Lock()
    running = 0
    most = 0

    @metrics.on_collect(timeout=0.01)
    def hung() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            gate.wait(60)
        finally:
            with lock:
                running -= 1

    try:
        for _ in range(5):
            await metrics.arender()
        assert most == 1
    finally:
        gate.set()


async def test_a_collect_hook_error_whose_str_raises_does_not_break_the_scrape() -> None:
    """issue 20 #6 (never raise into the caller): the hook's error was logged with
    ``str(exc)``, which raised for a hostile exception and failed the whole scrape."""

    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no str")

    metrics = Metrics()

    @metrics.on_collect
    async def broken() -> None:
        raise Unprintable

    body, _ = await metrics.arender()
    assert isinstance(body, bytes)


@pytest.mark.skipif(
    sys.version_info < (3, 11),
    reason="Python 3.10 has no Task.cancelling() to tell the hook's own CancelledError apart",
)
async def test_a_collect_hook_raising_its_own_cancelled_error_does_not_cancel_the_scrape() -> None:
    """A hook that awaited something cancelled raised CancelledError out of arender() into
    a scrape nobody cancelled."""
    metrics = Metrics()

    @metrics.on_collect
    async def broken() -> None:
        raise _asyncio.CancelledError

    body, _ = await metrics.arender()
    assert isinstance(body, bytes)


@pytest.mark.parametrize("timeout", [math.nan, -1.0, 0, "soon"])
def test_on_collect_refuses_a_bad_timeout(timeout: object) -> None:
    """A NaN/negative/str hook timeout was accepted and failed at every scrape."""
    from pepperpy.core.exceptions import InvalidArgumentError

    metrics = Metrics()
    with pytest.raises(InvalidArgumentError):
        metrics.on_collect(lambda: None, timeout=timeout)  # type: ignore[arg-type]


# -- metric values and limits: NaN must not corrupt a series for good (issue 20 #7/#10) ------


@pytest.mark.parametrize(
    "amount", [math.nan, math.inf, 10**400, "1", None], ids=["nan", "inf", "huge", "str", "none"]
)
def test_counter_inc_never_corrupts_the_series(amount: object) -> None:
    """Issue 20 #7 neighbour (never raise, and no series ruined): ``inc(nan)`` made the
    counter NaN for good (every rate() of the series NaN from then on) and ``inc(inf)``
    infinite; ``inc("1")`` and ``inc(10**400)`` raised raw TypeError and OverflowError.
    Such amounts are dropped (warned once); the counter keeps counting."""
    metrics = Metrics()
    plain = metrics.counter("jobs_total", "Jobs")
    labelled = metrics.counter("hits_total", "Hits", labels=["route"])
    for target in (plain, labelled.labels(route="/")):
        target.inc(1)
        target.inc(amount)  # type: ignore[arg-type]
        target.inc(1)
        assert target.value == 2.0


@pytest.mark.parametrize(
    "amount",
    [math.nan, math.inf, -math.inf, "0.5", None],
    ids=["nan", "inf", "-inf", "str", "none"],
)
def test_observe_never_corrupts_the_sum(amount: object) -> None:
    """Issue 20 #7 neighbour: ``observe(nan)`` turned the histogram's ``_sum`` into NaN for
    good (``-inf`` into -inf); a str raised a raw TypeError. Such values are dropped."""
    metrics = Metrics()
    latency = metrics.histogram("latency_seconds", "Latency")
    size = metrics.summary("size_bytes", "Size")
    for target in (latency, size):
        target.observe(0.5)
        target.observe(amount)  # type: ignore[arg-type]
    text = metrics.render().decode()
    assert "latency_seconds_sum 0.5" in text
    assert "latency_seconds_count 1.0" in text
    assert "size_bytes_sum 0.5" in text


@pytest.mark.parametrize("limit", [math.nan, 2.5, "10", True])
def test_max_label_sets_must_be_a_positive_int(limit: object) -> None:
    """Issue 20 #8/#10 neighbour: ``max_label_sets=nan`` passed the ``< 1`` check and made
    the cardinality guard never fire (``len >= nan`` is always false)."""
    from pepperpy.core.exceptions import InvalidArgumentError

    with pytest.raises(InvalidArgumentError):
        Metrics().counter("req_total", "Requests", labels=["path"], max_label_sets=limit)


# -- Health arguments (issue 20 #13 neighbour) ------------------------------------------------


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("timeout", math.nan),
        ("timeout", math.inf),
        ("timeout", "2"),
        ("default_timeout", math.nan),
        ("cache_ttl", math.nan),
        ("cache_ttl", -1.0),
        ("name", None),
        ("name", "db\udcff"),
        ("name", ""),
    ],
    ids=lambda v: str(v) if not isinstance(v, str) else repr(v),
)
def test_health_refuses_hostile_arguments(where: str, value: object) -> None:
    """Issue 20 #13 neighbour: ``timeout=nan`` passed ``<= 0`` (a NaN deadline in the event
    loop's timer heap), ``"2"`` raised a raw TypeError, a NaN ``cache_ttl`` or
    ``default_timeout`` was kept, and a check named None or with a lone surrogate made
    the /health body unencodable."""
    from pepperpy.core.exceptions import InvalidArgumentError

    with pytest.raises(InvalidArgumentError):
        if where in ("default_timeout", "cache_ttl"):
            Health(**{where: value})  # type: ignore[arg-type]
        elif where == "timeout":
            Health().register_check("db", lambda: True, timeout=value)  # type: ignore[arg-type]
        else:
            Health().register_check(value, lambda: True)  # type: ignore[arg-type]
