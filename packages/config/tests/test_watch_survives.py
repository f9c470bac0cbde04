"""The watcher's polling loop runs user callbacks: it must survive anything they raise but
its own cancellation (review finding: a BaseException from a callback or from on_error,
or a CancelledError a callback raised itself, ended the loop for good)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from pepperpy.config import Config
from pepperpy.core.types import ManualClock


class Boom(BaseException):
    """A BaseException that is not a cancellation (a library's own control flow)."""


@pytest.fixture
def path(tmp_path: Path) -> Path:
    target = tmp_path / "config.toml"
    target.write_text("port = 1\n")
    return target


async def _until(clock: ManualClock, done: asyncio.Event) -> None:
    for _ in range(100):
        await clock.advance(1)
        if done.is_set():
            return
        await asyncio.sleep(0.01)
    await asyncio.wait_for(done.wait(), timeout=10)


async def _write(path: Path, text: str) -> None:
    """Replace the file at once, so a poll never reads it half written."""
    staged = path.with_suffix(".tmp")
    await asyncio.to_thread(staged.write_text, text)
    await asyncio.to_thread(os.replace, staged, path)


def _raising(kind: str) -> BaseException:
    return Boom("callback escaped") if kind == "base" else asyncio.CancelledError()


@pytest.mark.parametrize(
    "kind",
    [
        "base",
        pytest.param(
            "cancelled",
            marks=pytest.mark.skipif(
                sys.version_info < (3, 11),
                reason="Python 3.10 cannot tell a raised CancelledError from the loop's own",
            ),
        ),
    ],
)
async def test_the_watcher_survives_what_a_callback_raises(path: Path, kind: str) -> None:
    clock = ManualClock()
    config = Config.load(path)
    seen: list[int] = []
    first, second = asyncio.Event(), asyncio.Event()
    errors: list[BaseException] = []

    def callback(cfg: Config[object], keys: frozenset[str]) -> None:
        port = cfg.get("port")
        seen.append(port)
        if port == 2:
            first.set()
            raise _raising(kind)
        second.set()

    config.on_change(callback)
    async with config.watch(interval=1, clock=clock, on_error=errors.append) as watcher:
        await _write(path, "port = 2\n")
        await _until(clock, first)
        await _write(path, "port = 3\n")
        await _until(clock, second)  # the loop went on polling after the escape
        assert watcher.is_running
    assert seen == [2, 3]
    assert len(errors) == 1
    assert isinstance(errors[0], Boom if kind == "base" else asyncio.CancelledError)
    assert not watcher.is_running  # and stop() still ends it


async def test_the_watcher_survives_an_on_error_that_raises(path: Path) -> None:
    clock = ManualClock()
    config = Config.load(path)
    reported, second = asyncio.Event(), asyncio.Event()

    def callback(cfg: Config[object], keys: frozenset[str]) -> None:
        if cfg.get("port") == 2:
            raise RuntimeError("callback bug")
        second.set()

    def on_error(exc: BaseException) -> None:
        reported.set()
        raise Boom("on_error escaped")

    config.on_change(callback)
    async with config.watch(interval=1, clock=clock, on_error=on_error) as watcher:
        await _write(path, "port = 2\n")
        await _until(clock, reported)
        await _write(path, "port = 3\n")
        await _until(clock, second)
        assert watcher.is_running


async def test_without_on_error_the_escape_is_kept_and_polling_goes_on(path: Path) -> None:
    clock = ManualClock()
    config = Config.load(path)
    first, second = asyncio.Event(), asyncio.Event()

    def callback(cfg: Config[object], keys: frozenset[str]) -> None:
        if cfg.get("port") == 2:
            first.set()
            raise Boom("callback escaped")
        second.set()

    config.on_change(callback)
    async with config.watch(interval=1, clock=clock) as watcher:
        await _write(path, "port = 2\n")
        await _until(clock, first)
        for _ in range(200):  # the escape is recorded once the callback has raised
            if watcher.last_reload_error is not None:
                break
            await asyncio.sleep(0.01)
        assert isinstance(watcher.last_reload_error, Boom)
        await _write(path, "port = 3\n")
        await _until(clock, second)
        assert watcher.is_running
        assert watcher.reloads == 2
