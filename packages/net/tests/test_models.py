"""Tests for pepperpy.net._models: header checks, progress, requests and responses."""

from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict
from yarl import URL

from pepperpy.net import HeaderInjectionError, HttpClient, Progress, Request
from pepperpy.net._models import check_headers

TOKEN_CHARS = set(string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~")
TOKEN = st.text(alphabet=string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~", min_size=1)
SAFE_VALUE = st.text(alphabet=st.characters(blacklist_characters="\r\n\x00"), max_size=40)


@given(TOKEN, SAFE_VALUE)
def test_tokens_with_safe_values_pass(name: str, value: str) -> None:
    check_headers({name: value})


@given(TOKEN, SAFE_VALUE, st.sampled_from(["\r", "\n", "\x00", "\r\n"]), SAFE_VALUE)
def test_values_with_line_breaks_or_nul_are_refused(
    name: str, head: str, bad: str, tail: str
) -> None:
    with pytest.raises(HeaderInjectionError) as info:
        check_headers({name: head + bad + tail})
    assert info.value.context["header"] == name


@given(st.text(min_size=1).filter(lambda s: any(c not in TOKEN_CHARS for c in s)))
def test_names_that_are_not_tokens_are_refused(name: str) -> None:
    with pytest.raises(HeaderInjectionError, match="invalid request header name"):
        check_headers({name: "v"})


def test_non_string_values_are_refused() -> None:
    with pytest.raises(HeaderInjectionError, match="must be a str"):
        check_headers({"X-Count": 3})  # type: ignore[dict-item]


@given(st.integers(0, 10_000), st.one_of(st.none(), st.integers(1, 10_000)))
def test_progress_fraction(done: int, total: int | None) -> None:
    fraction = Progress(done, total).fraction
    if total is None:
        assert fraction is None
    else:
        assert fraction is not None
        assert 0.0 <= fraction <= 1.0


def test_request_replayable_and_repr() -> None:
    async def body() -> Any:
        yield b"x"

    request = Request("GET", URL("http://127.0.0.1:1/a"), CIMultiDict())
    assert request.replayable
    assert request.host == "127.0.0.1"
    assert repr(request) == "<Request GET http://127.0.0.1:1/a>"
    streamed = Request("PUT", URL("http://127.0.0.1:1/a"), CIMultiDict(), body())
    assert not streamed.replayable


async def test_response_metadata_and_repr(client: HttpClient) -> None:
    response = await client.get("/json")
    assert response.content_type == "application/json"
    assert response.reason == "OK"
    assert response.elapsed >= 0
    assert response.raw.status == 200
    assert repr(response).startswith("<Response [200] GET http://127.0.0.1:")
    assert await response.text() == '{"id": 1, "name": "ada", "tags": ["x"]}'
    assert response.raise_for_status() is response
