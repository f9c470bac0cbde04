from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from pepperpy.core.exceptions import ExternalError, InvalidArgumentError
from pepperpy.core.types import ManualClock
from pepperpy.telemetry import Metrics, PeriodicPush, PushGateway


class Stub:
    """A Pushgateway look-alike recording every request."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, str]] = []
        self.fail = False

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((request.method, request.path, await request.text()))
        if self.fail:
            return web.Response(status=500, text="broken")
        return web.Response(status=200 if request.method == "PUT" else 202)


@pytest.fixture
async def gateway() -> AsyncIterator[tuple[Stub, str]]:
    stub = Stub()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", stub.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield stub, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_push_pushadd_delete(gateway: tuple[Stub, str]) -> None:
    stub, url = gateway
    metrics = Metrics()
    metrics.counter("rows_imported", "Rows").inc(1234)
    pusher = PushGateway(url, "nightly-import", metrics=metrics, grouping_key={"instance": "w1"})
    await pusher.push()
    await pusher.pushadd()
    await pusher.delete()
    methods = [(m, p) for m, p, _ in stub.requests]
    path = "/metrics/job/nightly-import/instance/w1"
    assert methods == [("PUT", path), ("POST", path), ("DELETE", path)]
    body = stub.requests[0][2]
    (family,) = [f for f in text_string_to_metric_families(body) if f.name == "rows_imported"]
    assert family.samples[0].value == 1234


async def test_push_failure_is_an_external_error(gateway: tuple[Stub, str]) -> None:
    stub, url = gateway
    stub.fail = True
    with pytest.raises(ExternalError, match="Pushgateway push") as info:
        await PushGateway(url, "job", metrics=Metrics()).push()
    assert info.value.retryable


def test_push_arguments_are_checked() -> None:
    with pytest.raises(InvalidArgumentError, match="http"):
        PushGateway("pushgateway:9091", "job")
    with pytest.raises(InvalidArgumentError, match="job"):
        PushGateway("http://127.0.0.1:1", "")


async def until(condition: Callable[[], bool]) -> None:
    """Wait (bounded) for work done in a worker thread; never a timing assertion."""
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.002)
    raise AssertionError("condition not reached")


async def test_periodic_push_on_a_manual_clock(gateway: tuple[Stub, str]) -> None:
    stub, url = gateway
    clock = ManualClock()
    periodic = PeriodicPush(PushGateway(url, "worker", metrics=Metrics()), interval=30, clock=clock)
    async with periodic:
        assert stub.requests == []
        for expected in (1, 2):
            await clock.advance(30)
            await until(lambda n=expected: periodic.pushes == n)  # type: ignore[misc]
        assert periodic.pushes == 2
        stub.fail = True
    assert periodic.failures == 1  # the final push on stop failed, and did not raise
    assert isinstance(periodic.last_push_error, ExternalError)
    assert len(stub.requests) == 3
    with pytest.raises(InvalidArgumentError):
        PeriodicPush(PushGateway(url, "w"), interval=0)
