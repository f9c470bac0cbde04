"""Tests for pepperpy.net._config: timeouts, limits and TLS (against a real HTTPS server)."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiohttp import web

from pepperpy.core import InvalidArgumentError
from pepperpy.net import HttpClient, Limits, Timeout, TLSConfig, TLSError


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"connect": 0}, id="zero"),
        pytest.param({"read": -1}, id="negative"),
        pytest.param({"total": float("inf")}, id="infinite"),
        pytest.param({"pool": float("nan")}, id="nan"),
    ],
)
def test_timeouts_are_always_finite_and_positive(kwargs: dict[str, float]) -> None:
    with pytest.raises(InvalidArgumentError, match="never waits forever"):
        Timeout(**kwargs)


def test_timeout_helpers() -> None:
    assert Timeout.all(3) == Timeout(connect=3, read=3, total=3, pool=3, write=3)
    assert Timeout.coerce(2.5) == Timeout.all(2.5)
    assert Timeout.coerce(Timeout(read=1)).read == 1
    with pytest.raises(InvalidArgumentError):
        Timeout.coerce("5s")  # type: ignore[arg-type]
    default = Timeout()
    assert (default.connect, default.read, default.total, default.pool) == (10, 30, 30, 10)


def test_limits_are_validated() -> None:
    with pytest.raises(InvalidArgumentError):
        Limits(max_connections=0)
    with pytest.raises(InvalidArgumentError):
        Limits(keepalive=-1)


def test_bad_client_arguments() -> None:
    with pytest.raises(InvalidArgumentError):
        HttpClient(max_response_size=0)
    with pytest.raises(InvalidArgumentError):
        HttpClient(max_redirects=-1)
    with pytest.raises(InvalidArgumentError):
        HttpClient(limits={"max_connections": 1})  # type: ignore[arg-type]


def test_tls_config_builds_contexts(tmp_path: Path) -> None:
    assert TLSConfig().build() is True
    assert TLSConfig(verify=False).build() is False
    ctx = ssl.create_default_context()
    assert TLSConfig(context=ctx).build() is ctx
    with pytest.raises(InvalidArgumentError, match="cannot load TLS material"):
        TLSConfig(ca_file=tmp_path / "missing.pem").build()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def https_url(ca: trustme.CA) -> AsyncIterator[str]:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="secure")

    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ctx)
    await site.start()
    port = runner.addresses[0][1]
    yield f"https://127.0.0.1:{port}/"
    await runner.cleanup()


async def test_tls_verification_is_on_by_default(https_url: str) -> None:
    async with HttpClient(retry=None, timeout=Timeout(10)) as client:
        with pytest.raises(TLSError, match="TLS failed"):
            await client.get(https_url)


async def test_custom_ca_bundle_file(https_url: str, ca: trustme.CA, tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    async with HttpClient(tls=TLSConfig(ca_file=bundle), timeout=Timeout(10)) as client:
        assert await (await client.get(https_url)).text() == "secure"


async def test_custom_ca_data(https_url: str, ca: trustme.CA) -> None:
    tls = TLSConfig(ca_data=ca.cert_pem.bytes().decode())
    async with HttpClient(tls=tls, timeout=Timeout(10)) as client:
        assert (await client.get(https_url)).status == 200


async def test_verification_can_be_turned_off_explicitly(https_url: str) -> None:
    async with HttpClient(tls=TLSConfig(verify=False), timeout=Timeout(10)) as client:
        assert (await client.get(https_url)).status == 200


async def test_session_escape_hatch(https_url: Any) -> None:
    async with HttpClient() as client:
        assert not client.session.closed
