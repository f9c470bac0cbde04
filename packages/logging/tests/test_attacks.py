"""Attacks on pepperpy.logging's promises (issue 20): never leak, never raise.

Each test names the finding it covers; each failed on the code before the fix.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import math
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from pepperpy import logging as plog
from pepperpy.logging import get_logger

SECRET = "hunter2-s3cret"


@dataclasses.dataclass
class Creds:
    user: str
    password: str


def strict_json(line: str) -> Any:
    """Parse like a strict parser: NaN/Infinity are not JSON (RFC 8259)."""

    def refuse(token: str) -> Any:
        raise ValueError(f"not JSON: {token}")

    return json.loads(line, parse_constant=refuse)


def both_sinks() -> tuple[io.StringIO, io.StringIO]:
    text, js = io.StringIO(), io.StringIO()
    plog.configure(
        console=False,
        capture_stdlib=False,
        sinks=[{"sink": text, "name": "text"}, {"sink": js, "name": "json", "json": True}],
    )
    return text, js


# --------------------------------------------------------------------------- #2


@pytest.mark.parametrize(
    "exc",
    [
        RuntimeError(f"password={SECRET}"),
        RuntimeError(f"cannot reach postgresql://app:{SECRET}@db/x"),
        RuntimeError(Creds("ada", SECRET)),
    ],
    ids=["key=value", "url-userinfo", "dataclass"],
)
def test_exceptions_never_leak_in_text_or_json_sinks(exc: BaseException) -> None:
    """issue 20 #2: logger.exception() in the text sink (the default console) and JSON."""
    text, js = both_sinks()
    try:
        raise exc
    except RuntimeError:
        get_logger("t").exception("failed")
    assert "failed" in text.getvalue() and "RuntimeError" in text.getvalue()
    assert SECRET not in text.getvalue()
    assert SECRET not in js.getvalue()
    strict_json(js.getvalue())


@pytest.mark.parametrize(
    "value",
    [f"postgresql://app:{SECRET}@db", Creds("ada", SECRET), {"nested": [Creds("a", SECRET)]}],
    ids=["url", "dataclass", "nested"],
)
def test_values_never_leak_in_any_position(value: object) -> None:
    """issue 20 #2: URL userinfo and dataclass fields as message, arg, kwarg and extra."""
    text, js = both_sinks()
    log = get_logger("t")
    log.info(value)
    log.info("arg {}", value)
    log.info("kwarg {v}", v=value)
    log.info("extra", extra={"value": value})
    for out in (text.getvalue(), js.getvalue()):
        assert out.count("\n") >= 4
        assert SECRET not in out


# --------------------------------------------------------------------------- #3


def test_import_leaves_no_diagnose_handler(tmp_path: Path) -> None:
    """issue 20 #3: before configure(), a traceback must not show local variables."""
    code = (
        "from pepperpy.logging import get_logger\n"
        "def check(p, t):\n"
        "    raise RuntimeError('boom')\n"
        "def handler(token):\n"
        "    password = 'hunter2-s3cret'\n"
        "    check(password, token)\n"
        "try:\n"
        "    payload = {'sub': 'ada', 'exp': 1}\n"
        "    handler(payload)\n"
        "except RuntimeError:\n"
        "    get_logger('app').exception('request failed')\n"
    )
    script = tmp_path / "secure_api.py"  # a file: loguru's diagnose needs the source lines
    script.write_text(code)
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=True, timeout=60
    )
    assert "request failed" in out.stderr
    assert "RuntimeError: boom" in out.stderr
    assert SECRET not in out.stderr
    assert "'sub': 'ada'" not in out.stderr


# --------------------------------------------------------------------------- #6


class Boom:
    def __str__(self) -> str:
        raise RuntimeError("str exploded")

    def __repr__(self) -> str:
        raise RuntimeError("repr exploded")

    def __format__(self, spec: str) -> str:
        raise RuntimeError("format exploded")


def test_raising_str_never_reaches_the_caller() -> None:
    """issue 20 #6: stdlib logging does not raise for a broken __str__; neither do we."""
    text, js = both_sinks()
    log = get_logger("t")
    log.info(Boom())
    log.info("arg {}", Boom())
    log.info("kwarg {b}", b=Boom())
    log.warning("extra", extra={"b": Boom()})
    log.error(Boom(), exc_info=RuntimeError(Boom()))  # type: ignore[arg-type]
    lines = js.getvalue().splitlines()
    assert len(lines) == 5
    for line in lines:
        strict_json(line)
    out = text.getvalue()
    assert out.count(" - ") == 5  # five records, one per call
    assert "<Boom object (str failed)>" in out
    assert "format_error=" in out  # the argument that could not be formatted is named


# --------------------------------------------------------------------------- #7


def test_json_is_valid_for_strict_parsers() -> None:
    """issue 20 #7: NaN/Infinity are written as strings (documented), never bare."""
    _, js = both_sinks()
    get_logger("t").info(
        "ratios", extra={"nan": math.nan, "inf": math.inf, "list": [-math.inf, 1.5]}
    )
    record = strict_json(js.getvalue())
    assert record["nan"] == "NaN"
    assert record["inf"] == "Infinity"
    assert record["list"] == ["-Infinity", 1.5]


# --------------------------------------------------------------------------- #11


def test_catch_on_generators_logs_and_reraises() -> None:
    """issue 20 #11: @logger.catch on a (sync) generator function logs its failure."""
    _, js = both_sinks()
    log = get_logger("t")

    @log.catch("gen failed")
    def gen() -> Iterator[int]:
        yield 1
        raise RuntimeError("late")

    with pytest.raises(RuntimeError, match="late"):
        list(gen())
    assert [json.loads(x)["message"] for x in js.getvalue().splitlines()] == ["gen failed"]


async def test_catch_on_async_generators_logs_and_reraises() -> None:
    """issue 20 #11: @logger.catch on an async generator function logs its failure."""
    _, js = both_sinks()
    log = get_logger("t")

    @log.catch("agen failed")
    async def agen() -> AsyncIterator[int]:
        yield 1
        raise RuntimeError("late")

    seen = []
    with pytest.raises(RuntimeError, match="late"):
        async for item in agen():
            seen.append(item)
    assert seen == [1]
    assert [json.loads(x)["message"] for x in js.getvalue().splitlines()] == ["agen failed"]


async def test_catch_on_async_generator_passes_asend_and_swallows() -> None:
    """issue 20 #11: the wrapper is a real async generator (asend reaches the body)."""
    _, js = both_sinks()
    log = get_logger("t")
    got: list[Any] = []

    @log.catch("agen failed", reraise=False)
    async def echo() -> Any:
        while True:
            value = yield len(got)
            got.append(value)
            if value == "stop":
                raise RuntimeError("stopped")

    gen = echo()
    assert await gen.__anext__() == 0
    assert await gen.asend("a") == 1
    with pytest.raises(StopAsyncIteration):
        await gen.asend("stop")
    assert got == ["a", "stop"]
    assert len(js.getvalue().splitlines()) == 1


# --------------------------------------------------------------------------- #12


def test_stdlib_record_reaches_stdlib_handlers_once() -> None:
    """issue 20 #12: to_stdlib=True with the default stdlib capture: no duplicate."""
    seen: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    handler = Collect()
    std = logging.getLogger("issue20.dup")
    std.addHandler(handler)
    try:
        plog.configure(console=False, to_stdlib=True)
        std.warning("from stdlib")
        get_logger("issue20.dup").warning("from pepperpy")
    finally:
        std.removeHandler(handler)
    assert seen == ["from stdlib", "from pepperpy"]


def test_stdlib_forwarding_masks_exceptions() -> None:
    """issue 20 #1/#2: the stdlib sink gets the redacted traceback text."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    std = logging.getLogger("issue20.fwd")
    std.addHandler(handler)
    std.propagate = False
    try:
        plog.configure(console=False, to_stdlib=True, capture_stdlib=False)
        try:
            raise RuntimeError(f"token={SECRET}")
        except RuntimeError:
            get_logger("issue20.fwd").exception("failed")
    finally:
        std.removeHandler(handler)
        std.propagate = True
    assert "failed" in stream.getvalue() and "RuntimeError" in stream.getvalue()
    assert SECRET not in stream.getvalue()


def test_file_text_sink_masks_exceptions(tmp_path: Path) -> None:
    """issue 20 #2: a text file sink (loguru's file sink) gets the redacted traceback."""
    path = tmp_path / "app.log"
    plog.configure(console=False, files=[{"path": str(path)}], capture_stdlib=False)
    try:
        raise RuntimeError(f"api_key={SECRET}")
    except RuntimeError:
        get_logger("t").exception("failed")
    plog.shutdown()
    assert "RuntimeError" in path.read_text()
    assert SECRET not in path.read_text()


# --------------------------------------------------------------------------- issue 26


def test_json_fast_path_keeps_subclasses_and_secrets_on_the_slow_path() -> None:
    """issue 26: render_json writes exact str/int/bool/None values as they are and
    sends everything else through the converter: a float subclass holding NaN is still
    strict JSON, a set is still a sorted list, bytes are still redacted, and a str
    subclass whose str() differs is rendered like any other object."""
    import enum

    class Ratio(float):
        pass

    class Shouty(str):
        def __str__(self) -> str:
            return "SHOUTY"

    class Color(enum.IntEnum):
        RED = 1

    _, js = both_sinks()
    get_logger("t").info(
        "values",
        extra={
            "ratio": Ratio(math.nan),
            "tags": {"b", "a"},
            "raw": f"password={SECRET}".encode(),
            "shouty": Shouty("quiet"),
            "color": Color.RED,
            "plain": 7,
            "none": None,
        },
    )
    record = strict_json(js.getvalue())
    assert record["ratio"] == "NaN"
    assert record["tags"] == ["a", "b"]
    assert SECRET not in js.getvalue()
    assert record["shouty"] == "SHOUTY"
    assert record["color"] == str(Color.RED)
    assert record["plain"] == 7
    assert record["none"] is None


def test_keyword_secrets_are_masked_with_and_without_a_template() -> None:
    """issue 26: keyword arguments are redacted for the message only when the message is
    a template; as extra values they are redacted by the patcher, like every extra. Both
    ways, the secret reaches neither sink, and a hostile value's raising __str__ cannot
    break the record."""

    class Hostile:
        def __str__(self) -> str:
            raise RuntimeError("no str")

        __repr__ = __format__ = __str__  # type: ignore[assignment]

    text, js = both_sinks()
    log = get_logger("t")
    log.info("plain message", password=SECRET, token=SECRET, user=42)
    log.info("templated {password} {0}", 5, password=SECRET, user=42)
    log.info("hostile", obj=Hostile())
    log.info("hostile {obj}", obj=Hostile())
    lines = [strict_json(line) for line in js.getvalue().splitlines()]
    assert SECRET not in js.getvalue() + text.getvalue()
    assert [r["message"] for r in lines[:3]] == ["plain message", lines[1]["message"], "hostile"]
    assert lines[0]["user"] == 42 and lines[0]["password"] != SECRET
    assert lines[1]["message"].startswith("templated ")
    assert "obj" in lines[2] and "format_error" in lines[3]


def test_json_keys_from_processors_keep_the_shape() -> None:
    """issue 26: render_json's single pass: a processor's non-str key is written as its
    str, a str-subclass key named like a reserved field is renamed (extra_time), a
    str-subclass private key is not written, and the fixed fields stay in place."""

    class Key(str):
        pass

    def add(record: Any) -> None:
        record["extra"][7] = "seven"
        record["extra"][Key("time")] = "shadow"
        record["extra"][Key("_pp_hidden")] = "hidden"
        record["extra"]["ratio"] = math.inf

    js = io.StringIO()
    plog.configure(
        console=False,
        capture_stdlib=False,
        processors=[add],
        sinks=[{"sink": js, "name": "json", "json": True}],
    )
    get_logger("t").info("shape")
    record = strict_json(js.getvalue())
    assert record["7"] == "seven"
    assert record["extra_time"] == "shadow"
    assert record["time"] != "shadow"
    assert "_pp_hidden" not in record and "hidden" not in js.getvalue()
    assert record["ratio"] == "Infinity"
    assert list(record)[:4] == ["time", "level", "logger", "message"]
    assert list(record)[-5:] == ["function", "line", "module", "process", "thread"]


def test_exc_info_still_attaches_the_exception() -> None:
    """issue 26: the prebuilt depth-2 logger is used only without exc_info."""
    _, js = both_sinks()
    try:
        raise ValueError(f"password={SECRET}")
    except ValueError as exc:
        get_logger("t").error("failed {n}", n=1, exc_info=exc)
    record = strict_json(js.getvalue())
    assert record["exception"]["type"] == "ValueError"
    assert record["message"] == "failed 1"
    assert SECRET not in js.getvalue()
