"""HttpTestServer and the http_server fixture: a real aiohttp server on 127.0.0.1.

Issue 24 found the server untested (35% of its lines ran); these pin what a test
author relies on: canned JSON, successive responses for retry tests, 404 for
unknown routes and the request log.
"""

from __future__ import annotations

import aiohttp
import pytest

from pepperpy.core.exceptions import ClosedError, InvalidArgumentError
from pepperpy.testing import HttpTestServer


async def test_a_json_route_answers_with_its_body_and_content_type(http_server) -> None:
    """route(json=...) serves the JSON with a JSON content type; headers are kept."""
    http_server.route("get", "/users/1", json={"id": 1}, headers={"X-Trace": "abc"})
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{http_server.url}/users/1") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("application/json")
            assert response.headers["X-Trace"] == "abc"
            assert await response.json() == {"id": 1}


async def test_a_sequence_answers_in_order_and_repeats_the_last(http_server) -> None:
    """sequence=[...] gives successive responses, the last one repeated (retry tests)."""
    http_server.route("POST", "/jobs", sequence=[(503, {"error": "busy"}), (201, b"made")])
    async with aiohttp.ClientSession() as session:
        seen = []
        for _ in range(3):
            async with session.post(f"{http_server.url}/jobs", data=b"payload") as response:
                seen.append((response.status, await response.read()))
    assert seen == [(503, b'{"error": "busy"}'), (201, b"made"), (201, b"made")]
    assert [(r.method, r.path, r.body) for r in http_server.requests] == [
        ("POST", "/jobs", b"payload")
    ] * 3


async def test_unknown_routes_answer_404_and_are_recorded(http_server) -> None:
    """A request no route matches gets a 404 naming it, and is still in the log."""
    async with aiohttp.ClientSession() as session:
        url = f"{http_server.url}/missing?page=2"
        async with session.put(url, json={"a": 1}) as response:
            assert response.status == 404
            assert "no route for PUT /missing" in await response.text()
    (request,) = http_server.requests
    assert (request.method, request.path, request.query) == ("PUT", "/missing", {"page": "2"})
    assert request.json() == {"a": 1}


async def test_a_text_body_route_and_a_replaced_route(http_server) -> None:
    """body= may be str; routing the same method and path again replaces the answer."""
    http_server.route("GET", "/health", body="starting", status=503)
    http_server.route("GET", "/health", body="ok")
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{http_server.url}/health") as response:
            assert (response.status, await response.text()) == (200, "ok")


def test_json_and_body_together_are_refused() -> None:
    """A route with both json= and body= is ambiguous and refused."""
    with pytest.raises(InvalidArgumentError, match="json= or body="):
        HttpTestServer().route("GET", "/", json={"a": 1}, body=b"x")


async def test_the_url_of_a_server_not_started_is_refused() -> None:
    """url needs a running server (no port yet); after stop() it is refused again."""
    server = HttpTestServer()
    with pytest.raises(ClosedError):
        _ = server.url
    async with server:
        assert server.url.startswith("http://127.0.0.1:")
    with pytest.raises(ClosedError):
        _ = server.url
