from __future__ import annotations

import asyncio
import threading

import pytest

from pepperpy import context
from pepperpy.core.exceptions import ConflictError, InvalidArgumentError, NotFoundError
from pepperpy.telemetry import CheckResult, Health


async def test_all_ok_and_ready() -> None:
    health = Health()
    health.register_check("none", lambda: None)
    health.register_check("true", lambda: True)

    async def async_ok() -> str:
        return "ok"

    health.register_check("async", async_ok)
    report = await health.run()
    assert report.status == "ok"
    assert report.http_status == 200
    assert set(report.checks) == {"none", "true", "async"}
    assert not report.ready  # not declared ready yet
    health.set_ready()
    assert (await health.readiness()).ready
    assert report.to_dict()["checks"]["true"]["status"] == "ok"


async def test_aggregation_rules() -> None:
    health = Health()
    health.register_check("cache", lambda: False, critical=False)
    health.register_check("queue", lambda: ("degraded", "backlog 900"))
    report = await health.run()
    assert report.status == "degraded"
    assert report.checks["cache"].status == "failing"
    assert report.checks["queue"].detail == "backlog 900"
    assert report.http_status == 200

    def db() -> None:
        raise ConnectionError("refused")

    health.register_check("db", db)
    health.set_ready()
    report = await health.run()
    assert report.status == "failing"
    assert report.http_status == 503
    assert report.checks["db"].detail == "ConnectionError: refused"
    assert not report.ready


async def test_timeouts_and_odd_results() -> None:
    health = Health(default_timeout=0.05)

    async def hangs() -> None:
        await asyncio.Event().wait()

    health.register_check("hangs", hangs)
    health.register_check("odd", lambda: 42)
    health.register_check("explicit", lambda: CheckResult("ignored", "degraded", "warming up"))
    report = await health.run()
    assert report.checks["hangs"].status == "failing"
    assert "timed out" in (report.checks["hangs"].detail or "")
    assert report.checks["odd"].status == "failing"
    assert "expected" in (report.checks["odd"].detail or "")
    assert report.checks["explicit"].name == "explicit"
    assert report.checks["explicit"].status == "degraded"


async def test_sync_checks_run_in_a_thread_with_context() -> None:
    health = Health()
    seen: dict[str, object] = {}

    @health.check("probe")
    def probe() -> bool:
        seen["thread"] = threading.current_thread() is not threading.main_thread()
        seen["request_id"] = context.get("request_id")
        return True

    with context.scope(request_id="hc"):
        await health.run()
    assert seen == {"thread": True, "request_id": "hc"}


def test_registration_errors() -> None:
    health = Health()
    health.register_check("a", lambda: True)
    with pytest.raises(ConflictError):
        health.register_check("a", lambda: True)
    health.register_check("a", lambda: False, replace=True)
    with pytest.raises(InvalidArgumentError):
        health.register_check("b", "not callable")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        health.register_check("c", lambda: True, timeout=0)
    health.unregister_check("a")
    with pytest.raises(NotFoundError):
        health.unregister_check("a")
    assert health.names == []


async def test_no_checks_is_ok() -> None:
    assert (await Health().run()).status == "ok"


async def test_concurrent_runs_share_one_evaluation_and_cache() -> None:
    from pepperpy.core.types import ManualClock

    clock = ManualClock()
    health = Health(cache_ttl=10, clock=clock)
    calls: list[int] = []
    gate = asyncio.Event()

    async def db() -> bool:
        calls.append(1)
        await gate.wait()
        return True

    health.register_check("db", db)
    runs = [asyncio.create_task(health.run()) for _ in range(5)]
    await asyncio.sleep(0)
    gate.set()
    reports = await asyncio.gather(*runs)
    assert len(calls) == 1
    assert all(r.status == "ok" for r in reports)
    await health.run()
    assert len(calls) == 1  # cached
    health.set_ready()
    assert (await health.run()).ready  # readiness is never stale
    await clock.advance(10)
    await health.run()
    assert len(calls) == 2
    health.invalidate()
    await health.run()
    assert len(calls) == 3
