"""The basic path on each framework: a 200 with the request id and route bound."""

from __future__ import annotations

import json
from typing import Any

from pepperpy.net import HttpClient


async def test_request_id_and_route_are_bound(served: Any, client: HttpClient) -> None:
    """issue 25: request id read or made and returned; route template bound in context."""
    r = await client.get("/users/42", headers={"X-Request-ID": "abc-123"})
    assert r.status == 200
    body = json.loads(await r.text())
    assert body["request_id"] == "abc-123"
    assert r.headers["X-Request-ID"] == "abc-123"
    assert body["route"] == "/users/{user_id}"
    r = await client.get("/users/43")
    body = json.loads(await r.text())
    assert len(body["request_id"]) == 32
    assert r.headers["X-Request-ID"] == body["request_id"]
