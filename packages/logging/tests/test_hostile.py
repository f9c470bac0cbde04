"""Every public logging call with hostile arguments (issue 20, "close the class").

Values whose ``__str__``/``__repr__``/``__format__``/``__getattr__`` raise, NaN and
infinities, cycles, huge values (``pepperpy.testing.hostile.HOSTILE_OBJECTS``), and a
secret in every position (message, args, kwargs, extra, bound values, context values,
exception args, URL userinfo, nested dataclass/attrs fields, secret objects). Nothing
may raise into the caller and the secret may reach no sink: text, JSON, stdlib
forwarding, stdlib capture.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest

from pepperpy import context
from pepperpy import logging as plog
from pepperpy.logging import get_logger
from pepperpy.testing.hostile import HOSTILE_OBJECTS, Unprintable

SECRET = "hunter2-s3cret"


@dataclasses.dataclass
class Creds:
    user: str
    password: str


@attrs.define
class Db:
    host: str
    creds: Creds
    token: str


class Secret:
    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return self._value

    __str__ = __repr__


SECRETS: dict[str, Callable[[], Any]] = {
    "url": lambda: f"postgresql://app:{SECRET}@db:5432/x",
    "pair": lambda: f"password={SECRET}",
    "bearer": lambda: f"Authorization: Bearer {SECRET}",
    "dataclass": lambda: Creds("ada", SECRET),
    "attrs-nested": lambda: Db("h", Creds("ada", SECRET), SECRET),
    "secret-object": lambda: Secret(SECRET),
    "mapping": lambda: {"nested": {"api_key": SECRET}},
    "list": lambda: [{"pin": SECRET}, (Secret(SECRET),)],
}

HOSTILE: dict[str, Callable[[], Any]] = {
    **HOSTILE_OBJECTS,  # str/repr/format or getattr raise, NaN, infinities, a cycle, huge, odd keys
    "bytes": lambda: b"\xff\xfe password=" + SECRET.encode(),
}


@pytest.fixture
def sinks() -> Iterator[dict[str, io.StringIO]]:
    """Text and JSON sinks, stdlib forwarding into a handler, stdlib capture on."""
    text, js, std = io.StringIO(), io.StringIO(), io.StringIO()
    handler = logging.StreamHandler(std)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s %(foo)s", defaults={"foo": ""}))
    target = logging.getLogger("hostile")
    target.addHandler(handler)
    plog.configure(
        level="DEBUG",
        console=False,
        to_stdlib=True,
        sinks=[{"sink": text, "name": "text"}, {"sink": js, "name": "json", "json": True}],
    )
    try:
        yield {"text": text, "json": js, "stdlib": std}
    finally:
        plog.shutdown()
        target.removeHandler(handler)


def _check(sinks: dict[str, io.StringIO], *, records: int) -> None:
    for name, stream in sinks.items():
        assert SECRET not in stream.getvalue(), f"the secret reached the {name} sink"
    lines = sinks["json"].getvalue().splitlines()
    assert len(lines) == records, sinks["json"].getvalue()
    for line in lines:
        json.loads(line, parse_constant=lambda token: pytest.fail(f"bare {token} in JSON"))


def _every_position(value: Any) -> int:
    log = get_logger("hostile")
    log.info(value)
    log.info("arg {}", value)
    log.info("kwarg {v}", v=value)
    log.info("extra", extra={"value": value})
    log.bind(bound=value).info("bound")
    with context.scope(ctx=value):
        log.info("context")
    log.log("WARNING", "log {}", value, extra={"k": value})
    try:
        raise RuntimeError(value)
    except RuntimeError:
        log.exception("exception args")
    log.error("exc_info", exc_info=ValueError(value))
    return 9


@pytest.mark.parametrize("make", SECRETS.values(), ids=SECRETS.keys())
def test_a_secret_in_every_position_reaches_no_sink(
    make: Callable[[], Any], sinks: dict[str, io.StringIO]
) -> None:
    """issue 20 #1/#2: message, args, kwargs, extra, bound, context, exception args."""
    _check(sinks, records=_every_position(make()))


@pytest.mark.parametrize("make", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_values_in_every_position_never_raise(
    make: Callable[[], Any], sinks: dict[str, io.StringIO]
) -> None:
    """issue 20 #6/#7: nothing raises into the caller; JSON stays strict."""
    _check(sinks, records=_every_position(make()))


def test_stdlib_capture_with_secret_arguments(sinks: dict[str, io.StringIO]) -> None:
    """issue 20 #1: records from stdlib loggers go through the same redaction.

    The logger is outside the "hostile" tree: stdlib hands its raw records to its
    own handlers directly (no PepperPy code in between); our sinks must be clean.
    """
    std = logging.getLogger("lib.elsewhere")
    std.warning("connect %s", f"postgresql://app:{SECRET}@db")
    std.warning("creds %s", Creds("ada", SECRET))
    std.warning("%s", Secret(SECRET))
    std.warning("token=%s", SECRET)
    try:
        raise RuntimeError(f"api_key={SECRET}")
    except RuntimeError:
        std.exception("failed")
    _check(sinks, records=5)


def test_catch_with_hostile_exceptions(sinks: dict[str, io.StringIO]) -> None:
    """issue 20 #6: logger.catch renders hostile and secret-bearing exceptions safely."""
    log = get_logger("hostile")
    for value in (Unprintable(), Creds("ada", SECRET), f"postgresql://a:{SECRET}@h"):
        with log.catch("caught", reraise=False):
            raise RuntimeError(value)
    _check(sinks, records=3)
