"""Tests for pepperpy.net._client: the basics of HttpClient against a real server."""

from __future__ import annotations

import gc
import warnings
from typing import Any

import pytest

from pepperpy.core import ClosedError, InvalidArgumentError
from pepperpy.net import (
    HeaderInjectionError,
    HttpClient,
    HTTPStatusError,
    InvalidURLError,
    Limits,
    Request,
    Response,
    Timeout,
    TooManyRedirectsError,
)


async def test_get_relative_to_base_url(client: HttpClient, no_leaks: Any) -> None:
    response = await client.get("/json")
    assert response.status == 200
    assert response.is_success
    assert await response.json() == {"id": 1, "name": "ada", "tags": ["x"]}
    assert response.closed
    no_leaks(client)


async def test_base_url_with_path_joins_like_a_prefix(servers: Any) -> None:
    async with HttpClient(f"{servers.url}/", timeout=2) as client:
        response = await client.get("echo", params={"a": "1"})
        data = await response.json()
        assert data["path"] == "/echo"
        assert data["query"] == {"a": "1"}


async def test_default_headers_and_overrides(servers: Any) -> None:
    async with HttpClient(servers.url, headers={"X-App": "demo", "X-Keep": "1"}) as client:
        data = await (await client.get("/echo", headers={"X-App": "override"})).json()
    assert data["headers"]["X-App"] == "override"
    assert data["headers"]["X-Keep"] == "1"
    assert data["headers"]["User-Agent"].startswith("pepperpy-net/")


async def test_post_json_and_form_bodies(client: HttpClient) -> None:
    data = await client.post_json("/echo", {"a": [1, 2]})
    assert data["method"] == "POST"
    assert data["body"] == '{"a":[1,2]}'
    assert data["headers"]["Content-Type"] == "application/json"
    form = await (await client.post("/echo", data={"q": "a b"})).json()
    assert form["body"] == "q=a+b"


async def test_only_one_body_kind_is_accepted(client: HttpClient) -> None:
    with pytest.raises(InvalidArgumentError, match="only one of"):
        await client.post("/echo", json={}, content=b"x")


async def test_raise_for_status(client: HttpClient) -> None:
    response = await client.get("/status/404")
    assert response.status == 404
    with pytest.raises(HTTPStatusError) as info:
        response.raise_for_status()
    assert info.value.status == 404
    assert info.value.context["status"] == 404
    with pytest.raises(HTTPStatusError):
        await client.get_json("/status/418")


async def test_requests_need_a_running_client(servers: Any) -> None:
    client = HttpClient(servers.url)
    with pytest.raises(ClosedError, match="start"):
        await client.get("/json")
    async with client:
        assert (await client.get("/json")).status == 200
    with pytest.raises(ClosedError):
        await client.get("/json")


async def test_client_can_restart(servers: Any) -> None:
    client = HttpClient(servers.url)
    for _ in range(2):
        async with client:
            assert (await client.get("/json")).status == 200


async def test_unclosed_client_warns_once_with_creation_site(servers: Any) -> None:
    client = HttpClient(servers.url)
    await client.start()
    await client.get("/json")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del client
        gc.collect()
    messages = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert len(messages) == 1
    assert "test_client.py" in messages[0]
    assert "never closed" in messages[0]


async def test_closed_client_does_not_warn(servers: Any) -> None:
    client = HttpClient(servers.url)
    async with client:
        await client.get("/json")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del client
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


@pytest.mark.parametrize(
    ("headers", "match"),
    [
        pytest.param({"X-A": "ok\r\nX-Evil: 1"}, "header injection", id="crlf-value"),
        pytest.param({"X-A": "a\nb"}, "header injection", id="lf-value"),
        pytest.param({"X-A": "a\x00b"}, "header injection", id="nul-value"),
        pytest.param({"Bad Name": "v"}, "invalid request header name", id="space-name"),
        pytest.param({"X:A": "v"}, "invalid request header name", id="colon-name"),
    ],
)
async def test_header_injection_is_refused(
    client: HttpClient, headers: dict[str, str], match: str
) -> None:
    with pytest.raises(HeaderInjectionError, match=match):
        await client.get("/echo", headers=headers)


def test_unsafe_default_headers_are_refused() -> None:
    with pytest.raises(HeaderInjectionError):
        HttpClient(headers={"X": "a\r\nb"})


async def test_idempotency_key_is_checked_and_sent(client: HttpClient) -> None:
    data = await (await client.post("/echo", idempotency_key="abc-1")).json()
    assert data["headers"]["Idempotency-Key"] == "abc-1"
    with pytest.raises(HeaderInjectionError):
        await client.post("/echo", idempotency_key="a\r\nb")


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("ftp://example.org/x", id="ftp"),
        pytest.param("file:///etc/passwd", id="file"),
    ],
)
async def test_unsupported_schemes_are_refused(client: HttpClient, url: str) -> None:
    with pytest.raises(InvalidURLError, match="scheme"):
        await client.get(url)


async def test_relative_url_without_base_is_refused() -> None:
    async with HttpClient() as client:
        with pytest.raises(InvalidURLError, match="base_url"):
            await client.get("/json")


def test_bad_base_url_is_refused() -> None:
    with pytest.raises(InvalidURLError):
        HttpClient("not a url")


async def test_redirects_are_followed_with_history(client: HttpClient, servers: Any) -> None:
    response = await client.get("/redirect", params={"to": "/json"})
    assert response.status == 200
    assert [r.status for r in response.history] == [302]
    assert str(response.url).endswith("/json")


async def test_redirect_303_turns_post_into_get(client: HttpClient) -> None:
    data = await (await client.post("/redirect-method", json={"a": 1})).json()
    assert data["method"] == "GET"
    assert data["body"] == ""


async def test_redirect_307_keeps_method_and_body(client: HttpClient) -> None:
    response = await client.post("/redirect-method", params={"status": "307"}, content=b"keep")
    data = await response.json()
    assert data["method"] == "POST"
    assert data["body"] == "keep"


async def test_redirect_can_be_disabled(client: HttpClient) -> None:
    response = await client.get("/redirect", params={"to": "/json"}, follow_redirects=False)
    assert response.status == 302
    assert response.is_redirect


async def test_redirect_loop_raises(client: HttpClient, no_leaks: Any) -> None:
    with pytest.raises(TooManyRedirectsError) as info:
        await client.get("/loop")
    assert info.value.context["max_redirects"] == 10
    no_leaks(client)


async def test_authorization_is_not_sent_to_another_origin(servers: Any) -> None:
    async with HttpClient(servers.url, auth=("ada", "secret")) as client:
        target = f"{servers.other_url}/echo?key=cross-origin"
        await client.get("/redirect", params={"to": target})
        await client.get("/echo", params={"key": "same-origin"})
    assert "Authorization" not in servers.seen_headers["cross-origin"]
    assert servers.seen_headers["same-origin"]["Authorization"].startswith("Basic ")


async def test_middleware_sees_requests_and_responses_in_order(servers: Any) -> None:
    calls: list[str] = []

    async def outer(request: Request, call_next: Any) -> Response:
        calls.append(f"outer>{request.method}")
        request.headers["X-Outer"] = "1"
        response: Response = await call_next(request)
        calls.append(f"outer<{response.status}")
        return response

    async def inner(request: Request, call_next: Any) -> Response:
        calls.append(f"inner>{request.attempt}")
        response: Response = await call_next(request)
        calls.append("inner<")
        return response

    async with HttpClient(servers.url, middleware=[outer, inner]) as client:
        data = await (await client.get("/echo")).json()
    assert data["headers"]["X-Outer"] == "1"
    assert calls == ["outer>GET", "inner>1", "inner<", "outer<200"]


async def test_stats_count_per_host(client: HttpClient) -> None:
    await client.get("/json")
    await client.get("/status/404")
    stats = client.stats()
    assert stats.requests == 2
    assert stats.responses == 2
    (host,) = stats.hosts.values()
    assert host.statuses == {200: 1, 404: 1}
    assert stats.connections_open >= 1


async def test_per_request_timeout_object_and_number(client: HttpClient) -> None:
    assert (await client.get("/json", timeout=Timeout(read=1, total=2))).status == 200
    assert (await client.get("/json", timeout=1.5)).status == 200


async def test_keepalive_zero_still_works(servers: Any) -> None:
    async with HttpClient(servers.url, limits=Limits(keepalive=0, dns_cache_ttl=0)) as client:
        for _ in range(3):
            assert (await client.get("/json")).status == 200


async def test_head_options_put_patch_delete(client: HttpClient) -> None:
    assert (await client.head("/echo")).status == 200
    for verb in (client.options, client.put, client.patch, client.delete):
        data = await (await verb("/echo")).json()
        assert data["method"] == verb.__name__.upper()


async def test_cookies_are_off_by_default(servers: Any) -> None:
    async with HttpClient(servers.url) as client:
        await client.get("/set-cookie")
        data = await (await client.get("/echo")).json()
    assert "Cookie" not in data["headers"]


async def test_cookies_can_be_kept(servers: Any) -> None:
    async with HttpClient(servers.url, cookies=True) as client:
        await client.get("/set-cookie")
        data = await (await client.get("/echo")).json()
    assert data["headers"]["Cookie"] == "session=abc123"


async def test_json_helpers_do_not_mutate_caller_headers(client: HttpClient) -> None:
    headers = {"X-Trace": "1"}
    data = await client.get_json("/echo", headers=headers)
    assert headers == {"X-Trace": "1"}
    assert data["headers"]["Accept"] == "application/json"
    assert data["headers"]["X-Trace"] == "1"
