"""Issue 25, bad input and the problem mapping, below the servers.

Real HTTP/1.1 parsers (h11/httptools under uvicorn, aiohttp's) already refuse
a CR or LF inside a header value before any application code runs; the
middleware checks again (CR, LF and NUL) for servers and proxies that pass
them through, so the ASGI cases here call the middleware in-process.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pepperpy.core import (
    ConflictError,
    ExternalError,
    InvalidArgumentError,
    NotFoundError,
    OperationTimeoutError,
    PepperPyError,
    SecurityError,
    ValidationError,
)
from pepperpy.security import (
    AuthenticationError,
    AuthFailure,
    AuthorizationError,
    Policy,
    Principal,
)
from pepperpy.web import (
    BadRequestError,
    HTTPError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
    Web,
    default_status,
    problem_for,
)
from pepperpy.web.asgi import PepperPyMiddleware


async def _ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def call(
    app: Any, headers: list[tuple[bytes, bytes]], path: str = "/"
) -> tuple[int, dict[bytes, bytes], bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "headers": headers}
    await app(scope, receive, send)
    return sent[0]["status"], dict(sent[0]["headers"]), sent[1]["body"]


@pytest.mark.parametrize(
    "value", [b"a\r\nX-Injected: 1", b"a\rb", b"a\nb", b"a\x00b"], ids=["crlf", "cr", "lf", "nul"]
)
async def test_control_characters_in_header_values(value: bytes) -> None:
    """issue 25 (bad input): CR/LF/NUL in a header value -> 400 pepperpy.web.bad_header."""
    app = PepperPyMiddleware(_ok, web=Web())
    status, headers, body = await call(app, [(b"x-custom", value)])
    assert status == 400
    assert headers[b"content-type"] == b"application/problem+json"
    problem = json.loads(body)
    assert problem["code"] == "pepperpy.web.bad_header"
    assert b"\r" not in b"".join(headers.values()) and b"\n" not in b"".join(headers.values())


async def test_a_request_id_with_crlf_is_never_echoed() -> None:
    """issue 25 (bad input): a bad X-Request-ID is replaced, never written back raw."""
    app = PepperPyMiddleware(_ok, web=Web())
    status, headers, _ = await call(app, [(b"x-request-id", b"evil\r\nSet-Cookie: a=b")])
    assert status == 400
    rid = headers[b"x-request-id"]
    assert len(rid) == 32 and rid.isalnum()


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.binary(max_size=40))
def test_any_request_id_header_gives_a_safe_echo(value: bytes) -> None:
    """issue 25 (bad input): whatever X-Request-ID arrives, the echoed one is header-safe."""
    app = PepperPyMiddleware(_ok, web=Web())
    _, headers, _ = asyncio.run(call(app, [(b"x-request-id", value)]))
    rid = headers[b"x-request-id"]
    assert rid and all(0x21 <= c <= 0x7E for c in rid)


async def test_real_parsers_refuse_crlf_before_the_app(kit: Any) -> None:
    """issue 25 (bad input): on the real servers, a raw CR in a header never reaches a handler."""
    for framework in kit.frameworks:
        stack = kit.make_stack()
        url, stop = await kit.serve(framework, stack)
        try:
            host, port = url.removeprefix("http://").split(":")
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(b"GET /users/1 HTTP/1.1\r\nHost: x\r\nX-Request-ID: a\rb\r\n\r\n")
            await writer.drain()
            head = await reader.read(65536)
            writer.close()
            assert head.split(b" ", 2)[1] == b"400", (framework, head[:80])
            assert b"a\rb" not in head
            spans = [s for s in stack.spans.spans if s.name.startswith("GET /users")]
            assert spans == [], framework  # no handler ran
        finally:
            await stop()


# ----------------------------------------------------------------- status mapping


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ValidationError("bad"), 422),
        (NotFoundError("gone"), 404),
        (ConflictError("clash"), 409),
        (AuthenticationError(AuthFailure.BAD_SIGNATURE), 401),
        (AuthorizationError(Policy().authorize(Principal("ann"), "x")), 403),
        (OperationTimeoutError("slow"), 504),
        (ExternalError("down"), 500),
        (SecurityError("other"), 500),
        (InvalidArgumentError("bug"), 500),
        (PepperPyError("plain"), 500),
        (RuntimeError("boom"), 500),
        (BadRequestError("x"), 400),
        (PayloadTooLargeError("x"), 413),
        (UnsupportedMediaTypeError("x"), 415),
        (HTTPError("x", status=429, code="app.slow_down"), 429),
    ],
)
def test_default_statuses(error: BaseException, status: int) -> None:
    """issue 25 (errors): the documented default status per error class."""
    assert type(default_status(error)) is int
    assert default_status(error) == status
    assert problem_for(error).status == status


def test_statuses_override_by_class() -> None:
    """issue 25 (errors): an application maps its own classes; the most derived wins."""

    class Gone(NotFoundError):
        pass

    class Closed(ExternalError):
        pass

    statuses = {NotFoundError: 410, Closed: 503}
    assert problem_for(Gone("x"), statuses=statuses).status == 410
    assert problem_for(Closed("x"), statuses=statuses).status == 503
    assert problem_for(ExternalError("x"), statuses=statuses).status == 500
    with pytest.raises(InvalidArgumentError):
        Web(statuses={NotFoundError: 200})
    with pytest.raises(InvalidArgumentError):
        Web(max_body_size=-1)


def test_problem_for_non_pepperpy_errors_hides_everything() -> None:
    """issue 25 (errors): a crash is a 500 with a fixed sentence and the request id."""
    body = problem_for(KeyError("api_key=sk-live-123"), request_id="r1").to_dict()
    assert body == {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "The server could not complete the request.",
        "code": "pepperpy.web.internal",
        "request_id": "r1",
    }


# --------------------------------------------------------- framework-neutral bodies


async def test_read_json_from_raw_parts() -> None:
    """issue 25 (bodies): the neutral helper the adapters share, for any other framework."""
    import attrs

    from pepperpy.validation import ValidationError as SchemaViolations
    from pepperpy.web.validation import read_json

    @attrs.define
    class Point:
        x: int
        y: int

    assert await read_json(b'{"x": 1, "y": 2}', "application/json; charset=utf-8", Point) == Point(
        1, 2
    )
    assert await read_json(b"[1, 2]", "application/vnd.api+json") == [1, 2]
    with pytest.raises(SchemaViolations) as caught:
        await read_json(b'{"x": "a"}', "application/json", Point)
    assert sorted(caught.value.paths) == ["/x", "/y"]
    with pytest.raises(UnsupportedMediaTypeError):
        await read_json(b"{}", "application/json; charset=latin-1", Point)
    with pytest.raises(UnsupportedMediaTypeError):
        await read_json(b"{}", None, Point)
    with pytest.raises(BadRequestError) as bad:
        await read_json(b"\xff", "application/json")
    assert bad.value.code == "pepperpy.web.malformed_json"
    with pytest.raises(BadRequestError):
        await read_json(b"[" * 100_000, "application/json")
    with pytest.raises(PayloadTooLargeError):
        await read_json(b" " * (1024 * 1024 + 1), "application/json")
