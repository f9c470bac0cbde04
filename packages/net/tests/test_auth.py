"""Tests for pepperpy.net._auth: bearer and basic hooks."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from pepperpy.core import InvalidArgumentError
from pepperpy.net import Auth, BasicAuth, BearerAuth, HeaderInjectionError, HttpClient


async def _authorization(client: HttpClient, **kwargs: Any) -> str | None:
    data = await (await client.get("/echo", **kwargs)).json()
    value: str | None = data["headers"].get("Authorization")
    return value


async def test_bearer_token(servers: Any) -> None:
    async with HttpClient(servers.url, auth=BearerAuth("t0k3n")) as client:
        assert await _authorization(client) == "Bearer t0k3n"


async def test_bearer_provider_is_called_per_request(servers: Any) -> None:
    tokens = iter(["one", "two"])

    async def provider() -> str:
        return next(tokens)

    async with HttpClient(servers.url, auth=BearerAuth(provider)) as client:
        assert await _authorization(client) == "Bearer one"
        assert await _authorization(client) == "Bearer two"


async def test_sync_provider_and_bad_return(servers: Any) -> None:
    async with HttpClient(servers.url, auth=BearerAuth(lambda: "sync")) as client:
        assert await _authorization(client) == "Bearer sync"
    async with HttpClient(servers.url, auth=BearerAuth(lambda: 42)) as client:  # type: ignore[arg-type,return-value]
        with pytest.raises(InvalidArgumentError, match="must return a str"):
            await client.get("/echo")


async def test_bearer_token_cannot_inject_headers(servers: Any) -> None:
    with pytest.raises(HeaderInjectionError):
        BearerAuth("x\r\nX-Evil: 1")
    async with HttpClient(servers.url, auth=BearerAuth(lambda: "x\nEvil: 1")) as client:
        with pytest.raises(HeaderInjectionError):
            await client.get("/echo")


async def test_basic_auth_and_tuple_shortcut(servers: Any) -> None:
    expected = "Basic " + base64.b64encode(b"ada:s3cret").decode()
    async with HttpClient(servers.url, auth=BasicAuth("ada", "s3cret")) as client:
        assert await _authorization(client) == expected
    async with HttpClient(servers.url, auth=("ada", "s3cret")) as client:
        assert await _authorization(client) == expected
        assert await _authorization(client, auth=None) is None
        assert await _authorization(client, auth=BearerAuth("other")) == "Bearer other"


def test_basic_auth_rejects_colon_in_user() -> None:
    with pytest.raises(InvalidArgumentError, match="':'"):
        BasicAuth("a:b", "pw")


def test_reprs_hide_secrets() -> None:
    assert "s3cret" not in repr(BasicAuth("ada", "s3cret"))
    assert "t0k3n" not in repr(BearerAuth("t0k3n"))


def test_auth_protocol_and_bad_auth() -> None:
    assert isinstance(BearerAuth("x"), Auth)
    with pytest.raises(InvalidArgumentError, match="Auth hook"):
        HttpClient(auth="token")  # type: ignore[arg-type]
