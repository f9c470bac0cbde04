"""Tests for the optional siblings: pepperpy.serialization (typed JSON) and pepperpy.context."""

from __future__ import annotations

import builtins
from typing import Any

import attrs
import pytest

from pepperpy.core import ValidationError
from pepperpy.net import HttpClient, MissingDependencyError, _serial


@attrs.frozen
class User:
    id: int
    name: str
    tags: list[str]


@attrs.frozen
class Wrong:
    id: str
    missing: int


async def test_get_json_into_attrs_type(client: HttpClient) -> None:
    pytest.importorskip("pepperpy.serialization")
    user = await client.get_json("/json", type_=User)
    assert user == User(id=1, name="ada", tags=["x"])


async def test_structuring_errors_list_every_path(client: HttpClient) -> None:
    pytest.importorskip("pepperpy.serialization")
    with pytest.raises(ValidationError) as info:
        await client.get_json("/json", type_=Wrong)
    assert "/missing" in info.value.paths


async def test_post_attrs_instance_as_json(client: HttpClient) -> None:
    pytest.importorskip("pepperpy.serialization")
    data = await client.post_json("/echo", User(id=2, name="bo", tags=[]))
    assert data["body"] == '{"id":2,"name":"bo","tags":[]}'


async def test_missing_serialization_names_the_package(
    client: HttpClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = builtins.__import__

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("pepperpy.serialization"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    monkeypatch.delitem(__import__("sys").modules, "pepperpy.serialization", raising=False)
    with pytest.raises(MissingDependencyError, match="pepperpy-serialization") as info:
        await client.get_json("/json", type_=User)
    assert info.value.hint == "pip install pepperpy-serialization"


async def test_invalid_json_body(client: HttpClient) -> None:
    response = await client.get("/bytes/10")
    with pytest.raises(ValidationError, match="not valid JSON"):
        await response.json()


async def test_request_id_is_propagated(client: HttpClient) -> None:
    context = pytest.importorskip("pepperpy.context")
    async with context.scope(request_id="req-42"):
        data = await (await client.get("/echo")).json()
    assert data["headers"]["X-Request-ID"] == "req-42"
    data = await (await client.get("/echo")).json()
    assert "X-Request-ID" not in data["headers"]


async def test_explicit_header_wins_and_propagation_can_be_off(servers: Any) -> None:
    context = pytest.importorskip("pepperpy.context")
    async with HttpClient(servers.url) as client, context.scope(request_id="ctx"):
        data = await (await client.get("/echo", headers={"X-Request-ID": "mine"})).json()
        assert data["headers"]["X-Request-ID"] == "mine"
    async with (
        HttpClient(servers.url, propagate_context=False) as client,
        context.scope(request_id="ctx"),
    ):
        data = await (await client.get("/echo")).json()
        assert "X-Request-ID" not in data["headers"]


def test_context_absent_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_serial, "_context_module", None)
    headers: dict[str, str] = {}
    _serial.context_headers(headers)
    assert headers == {}


async def test_telemetry_metrics_are_recorded(servers: Any) -> None:
    telemetry = pytest.importorskip("pepperpy.telemetry")
    registry = telemetry.Metrics(namespace="app")
    async with HttpClient(servers.url, metrics=registry, retry=None) as client:
        await client.get("/json")
        await client.get("/status/404")
        with pytest.raises(Exception, match="closed"):
            await client.get(f"{servers.raw_url}/close")
    host = f"http://127.0.0.1:{servers.port}"
    requests = registry.get("app_http_client_requests")
    assert requests.labels(host=host, method="GET", status="200").value == 1
    assert requests.labels(host=host, method="GET", status="404").value == 1
    raw_host = f"http://127.0.0.1:{servers.raw_port}"
    closed = requests.labels(host=raw_host, method="GET", status="ConnectionClosedError")
    assert closed.value == 1
    assert registry.get("app_http_client_in_flight").labels(host=host).value == 0


def test_metrics_must_be_a_registry() -> None:
    from pepperpy.core import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="Metrics registry"):
        HttpClient(metrics=object())


async def test_client_is_owned_by_a_resource_manager(servers: Any) -> None:
    resources = pytest.importorskip("pepperpy.resources")
    manager = resources.ResourceManager()
    client = manager.register(HttpClient(servers.url), name="api")
    async with manager:
        assert manager.get("api") is client
        assert (await client.get("/json")).status == 200
    assert not client.is_running
