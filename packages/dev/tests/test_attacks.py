"""Attacks on pepperpy-dev (issue 20 #1, #9, #16) and hostile arguments.

Each test names the finding it covers; each failed on the code before the fix.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import math
import sys
import warnings

import pytest

from pepperpy.dev import debug, format_exception, profile, progress

SECRET = "hunter2-s3cret"


@dataclasses.dataclass
class Creds:
    user: str
    password: str


class Secret:
    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return self._value


class Boom:
    def __repr__(self) -> str:
        raise RuntimeError("repr exploded")

    __str__ = __repr__


# --------------------------------------------------------------------------- #1


def test_debug_masks_secrets_in_every_shape() -> None:
    """issue 20 #1: debug() uses the one redactor (dataclass fields, URLs, secret objects)."""
    out = io.StringIO()
    creds = Creds("ada", SECRET)
    dsn = f"postgresql://app:{SECRET}@db/x"
    token = Secret(SECRET)
    nested = {"db": {"pin": SECRET}, "list": [creds]}
    assert debug(creds, dsn, token, nested, file=out) == (creds, dsn, token, nested)
    text = out.getvalue()
    assert SECRET not in text
    assert "ada" in text and "creds = " in text


def test_debug_and_format_exception_never_raise() -> None:
    """issue 20 close the class: hostile values and exceptions; NaN/inf print plainly."""
    out = io.StringIO()
    debug(Boom(), math.nan, -math.inf, file=out)
    assert "repr failed" in out.getvalue()
    assert "nan" in out.getvalue() and "-inf" in out.getvalue()
    try:
        raise RuntimeError(f"connect postgresql://app:{SECRET}@db password={SECRET}")
    except RuntimeError as exc:
        text = format_exception(exc)
    assert "RuntimeError" in text and SECRET not in text
    with pytest.raises(RuntimeError) as info:
        raise RuntimeError(Boom())
    assert "RuntimeError" in format_exception(info.value)
    with pytest.raises(RuntimeError) as info:
        raise RuntimeError(Secret(SECRET), Creds("ada", SECRET))
    text = format_exception(info.value)
    assert "RuntimeError" in text and "ada" in text and SECRET not in text


# --------------------------------------------------------------------------- #16


def test_debug_shows_output_after_logging_configured_at_info(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """issue 20 #16: debug() after Logging.configure() at INFO printed nothing."""
    from pepperpy import logging as plog

    sink = io.StringIO()
    plog.configure(level="INFO", console=False, sinks=[sink], capture_stdlib=False)
    try:
        value = 41 + 1
        debug(value)
    finally:
        plog.shutdown()
    assert "value = 42" in capsys.readouterr().err + sink.getvalue()


def test_debug_goes_to_logging_when_it_shows_debug() -> None:
    """issue 20 #16: with logging at DEBUG the line is a log record (one destination)."""
    from pepperpy import logging as plog

    sink = io.StringIO()
    plog.configure(level="DEBUG", console=False, sinks=[sink], capture_stdlib=False)
    try:
        answer = 42
        debug(answer)
    finally:
        plog.shutdown()
    assert "answer = 42" in sink.getvalue()


def test_progress_off_tty_with_logging_imported_but_not_configured() -> None:
    """issue 20 #16: progress() printed nothing, not even its final summary."""
    import logging

    import pepperpy.logging  # noqa: F401 - imported, never configured

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    root.handlers[:] = []
    root.setLevel(logging.WARNING)
    stream = io.StringIO()
    try:
        bar = progress(range(5), desc="import", tty=False)
        bar.file = stream  # stderr stand-in; not an explicit file= (logging would win)
        for _ in bar:
            pass
    finally:
        root.handlers[:], _ = saved[0], root.setLevel(saved[1])
    assert "import" in stream.getvalue() and "(done)" in stream.getvalue()


def test_tty_redraw_leaves_no_stale_characters() -> None:
    """issue 20 #16: a shrinking line is padded over on a TTY."""
    out = io.StringIO()
    bar = progress(total=None, desc="x" * 40, file=out, tty=True)
    bar.update()
    bar.desc = "y"
    bar._draw()
    screen = ""
    for chunk in out.getvalue().split("\r")[1:]:  # emulate a terminal line
        screen = chunk + screen[len(chunk) :]
    assert screen.startswith("y ")
    assert "x" not in screen


# --------------------------------------------------------------------------- #9


def test_overlapping_async_profile_calls_never_raise_into_the_app() -> None:
    """issue 20 #9: two overlapping calls of an @profile() handler (3.12: ValueError)."""
    decorated = profile()

    @decorated
    async def handler(n: int) -> int:
        await asyncio.sleep(0.01)
        return n

    async def main() -> list[int]:
        return list(await asyncio.gather(handler(1), handler(2)))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert asyncio.run(main()) == [1, 2]
    assert decorated.report is not None  # the call that ran profiled produced a report
    skipped = [w for w in caught if "not profiling" in str(w.message)]
    assert len(skipped) == 1
    assert sys.getprofile() is None  # nothing left enabled


def test_profile_calls_are_profiled_each_on_their_own() -> None:
    """issue 20 #9: per call: sequential calls each get a fresh report."""
    decorated = profile()

    @decorated
    def work(n: int) -> int:
        return sum(range(n))

    work(10)
    first = decorated.report
    work(20)
    assert decorated.report is not None and decorated.report is not first
