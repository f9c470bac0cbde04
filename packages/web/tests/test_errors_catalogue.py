"""issue 24: every code pepperpy-web raises is in ``pepperpy.web.ERRORS``.

A client reading a problem-details response, or a program catching a web
error, looks the code up in the catalogue to learn what it means and what to
do; the entry names a class the error is an instance of.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from pepperpy import web as pweb
from pepperpy.core import InvalidArgumentError, PepperPyError
from pepperpy.net import HttpClient
from pepperpy.web.validation import read_json


def _assert_catalogued(error: PepperPyError) -> None:
    entry = pweb.ERRORS[error.code]
    assert entry.code == error.code
    assert isinstance(error, entry.error)
    assert entry.meaning.strip() and entry.action.strip()


async def test_refused_bodies_carry_catalogued_codes() -> None:
    with pytest.raises(pweb.BadRequestError) as malformed:
        await read_json(b'{"a": ', "application/json")
    assert malformed.value.code == "pepperpy.web.malformed_json"
    _assert_catalogued(malformed.value)
    with pytest.raises(pweb.UnsupportedMediaTypeError) as media:
        await read_json(b"a=1", "application/x-www-form-urlencoded")
    assert media.value.code == "pepperpy.web.unsupported_media_type"
    _assert_catalogued(media.value)


def test_bad_configuration_carries_catalogued_codes() -> None:
    for kwargs, code in (
        ({"max_body_size": -1}, "pepperpy.web.max_body_size"),
        ({"statuses": {KeyError: 200}}, "pepperpy.web.statuses"),
        ({"observe_builtins": 1}, "pepperpy.web.flag"),
    ):
        with pytest.raises(InvalidArgumentError) as info:
            pweb.Web(**kwargs)
        assert info.value.code == code
        _assert_catalogued(info.value)


async def test_problem_responses_carry_catalogued_codes(served: Any, client: HttpClient) -> None:
    """The codes a client sees in problem details are the catalogue's, with the entry's status."""
    r = await client.get("/me", headers={"Authorization": "Basic abc"})
    first = json.loads(await r.text())
    r = await client.get("/me")
    second = json.loads(await r.text())
    for body in (first, second):
        entry = pweb.ERRORS[body["code"]]
        assert body["status"] == 401
        assert issubclass(entry.error, pweb.HTTPError)
    assert [first["code"], second["code"]] == [
        "pepperpy.web.bad_authorization",
        "pepperpy.web.missing_credentials",
    ]
