"""Hostile review of ``progress()`` (issue 20 #16: a dev helper always shows its output, and
"dev tools that work when things are broken").

Bad arguments get an InvalidArgumentError when the bar is made, not a raw error (or a
multi-gigabyte bar) in the middle of the user's loop; a broken output stream never
breaks the loop the bar is watching.
"""

from __future__ import annotations

import io
import math
from typing import Any

import pytest

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.dev import progress


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no str")

    __repr__ = __str__


@pytest.mark.parametrize(
    "kwargs",
    [
        {"total": -1},
        {"total": -1e-12},  # 3 items of -1e-12: a bar of 9e13 dots
        {"total": math.nan},
        {"total": math.inf},
        {"total": "10"},
        {"width": 10**12},
        {"width": -5},
        {"width": True},
        {"refresh": math.nan},
        {"log_every": -1.0},
        {"desc": Unprintable()},
        {"desc": 42},
    ],
    ids=lambda kwargs: "-".join(f"{k}={type(v).__name__}" for k, v in kwargs.items()),
)
def test_bad_arguments_are_refused_when_the_bar_is_made(kwargs: dict[str, Any]) -> None:
    """Issue 20 #16 neighbour: progress() took any total/width/desc; the bar then raised a
    raw TypeError at the first draw, or tried to build a bar billions of characters long."""
    with pytest.raises(InvalidArgumentError):
        progress(range(3), file=io.StringIO(), **kwargs)


def test_an_async_only_source_in_a_for_loop_is_a_pepperpy_error() -> None:
    """Only PepperPyError subclasses escape a public API: ``for`` over an async source."""

    async def numbers() -> Any:
        yield 1

    with pytest.raises(InvalidArgumentError):
        list(progress(numbers(), file=io.StringIO()))


async def test_async_for_over_nothing_is_a_pepperpy_error() -> None:
    """``async for`` over ``progress()`` without a source raised a raw TypeError."""
    with pytest.raises(InvalidArgumentError):
        async for _ in progress(file=io.StringIO()):
            pass


def test_a_broken_output_stream_never_breaks_the_loop() -> None:
    """Dev tools work when things are broken: a closed stderr (a pipe whose reader went
    away) made the bar's write raise ValueError/OSError into the user's loop."""
    stream = io.StringIO()
    stream.close()
    seen = [n for n in progress(range(5), file=stream, tty=True, refresh=0)]
    assert seen == [0, 1, 2, 3, 4]


def test_a_file_that_cannot_encode_the_line_never_breaks_the_loop() -> None:
    """A strict ASCII log file and a non-ASCII description: UnicodeEncodeError at each draw."""
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii", errors="strict")
    seen = [n for n in progress(range(3), file=stream, desc="caf\u00e9", refresh=0, tty=True)]
    assert seen == [0, 1, 2]


class _BrokenPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError


@pytest.mark.parametrize("kind", ["closed", "ascii", "broken-pipe"])
def test_debug_never_raises_on_a_broken_stream(kind: str) -> None:
    """debug() promises "Never raises": a closed stream, one that cannot encode the line,
    or a broken pipe raised ValueError/UnicodeEncodeError/BrokenPipeError into the caller."""
    from pepperpy.dev import debug

    stream: Any
    if kind == "closed":
        stream = io.StringIO()
        stream.close()
    elif kind == "ascii":
        stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii", errors="strict")
    else:
        stream = _BrokenPipe()
    assert debug("caf\u00e9", file=stream) == "caf\u00e9"
