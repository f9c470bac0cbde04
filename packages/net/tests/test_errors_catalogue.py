"""issue 24: every code pepperpy-net raises is in ``pepperpy.net.ERRORS``, under its class.

A program that catches a ``PepperPyError`` can look its ``code`` up in the
catalogue to learn what happened and what to do; these failures are real
ones (a bad argument, a body over the size limit from a real server, a
redirect that would resend a streamed body).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from pepperpy.core.exceptions import PepperPyError
from pepperpy.net import ERRORS, HttpClient, Limits


def _assert_catalogued(error: PepperPyError) -> None:
    entry = ERRORS[error.code]
    assert entry.code == error.code
    assert isinstance(error, entry.error)
    assert entry.meaning and entry.action


async def _body() -> AsyncIterator[bytes]:
    yield b"streamed"


async def test_real_failures_carry_catalogued_codes(servers: Any) -> None:
    """issue 24: argument, size-limit and redirect failures name catalogued codes."""
    caught: list[PepperPyError] = []
    with pytest.raises(PepperPyError) as bad_limits:
        HttpClient(limits="many")  # type: ignore[arg-type]
    caught.append(bad_limits.value)
    async with HttpClient(servers.url, timeout=10.0, limits=Limits()) as client:
        with pytest.raises(PepperPyError) as bad_method:
            await client.request("GE T", "/json")
        caught.append(bad_method.value)
        with pytest.raises(PepperPyError) as too_large:
            await client.get("/bytes/4096", max_response_size=1024)
        caught.append(too_large.value)
        with pytest.raises(PepperPyError) as resend:
            await client.post("/redirect-method?status=307", content=_body())
        caught.append(resend.value)
    assert [e.code for e in caught] == [
        "pepperpy.net.invalid_limit",
        "pepperpy.net.invalid_method",
        "pepperpy.net.too_large",
        "pepperpy.net.redirect_body",
    ]
    for error in caught:
        _assert_catalogued(error)


def test_unknown_codes_are_not_in_the_catalogue() -> None:
    """issue 24: the catalogue holds pepperpy-net's codes only, not everything."""
    assert "pepperpy.net.invalid_method" in ERRORS
    assert "pepperpy.invalid_argument" not in ERRORS
    assert "pepperpy.net.no_such_code" not in ERRORS
