"""Tests for progress()."""

from __future__ import annotations

import io

import pytest

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.dev import progress


def test_sync_iterable_on_tty():
    """On a TTY the bar is redrawn with \\r and ends with the full count."""
    out = io.StringIO()
    items = list(progress(range(10), desc="load", file=out, tty=True, refresh=0))
    assert list(range(10)) == items
    text = out.getvalue()
    assert "\r" in text
    assert "load" in text and "10/10 100%" in text


async def test_async_iterable_off_tty():
    """Off a TTY it writes whole lines, and a final one marked done."""

    async def gen():
        for i in range(5):
            yield i

    out = io.StringIO()
    seen = [x async for x in progress(gen(), file=out, tty=False, log_every=0)]
    assert [0, 1, 2, 3, 4] == seen
    lines = out.getvalue().splitlines()
    assert lines[-1].endswith("(done)")
    assert "\r" not in out.getvalue()


def test_manual_updates_with_total():
    """Without an iterable, update() counts and close() draws once."""
    out = io.StringIO()
    with progress(total=4, file=out, tty=False, log_every=100) as bar:
        for _ in range(4):
            bar.update()
    assert 4 == bar.count
    assert "4/4" in out.getvalue()
    assert 1 == out.getvalue().count("(done)")


def test_async_source_refuses_sync_iteration():
    """Iterating an async source synchronously is a clear InvalidArgumentError."""

    async def gen():
        yield 1

    with pytest.raises(InvalidArgumentError, match="async for"):
        list(progress(gen(), file=io.StringIO()))


def test_off_tty_lines_go_to_exactly_one_place(caplog, monkeypatch):
    """Without an explicit file and with logging set up, lines are logged, not also printed."""
    import logging
    import sys

    printed = io.StringIO()
    monkeypatch.setattr(sys, "stderr", printed)
    root = logging.getLogger()
    handler = logging.StreamHandler(io.StringIO())
    root.addHandler(handler)
    try:
        with caplog.at_level(logging.INFO, logger="pepperpy.dev.progress"):
            list(progress(range(3), tty=False, log_every=0))
    finally:
        root.removeHandler(handler)
    assert "" == printed.getvalue()
    assert any("(done)" in r.getMessage() for r in caplog.records)
