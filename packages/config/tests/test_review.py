"""Hostile review of pepperpy-config after issue 19 #8-11.

Attacks the loops that run user code on a reload: an ``on_change`` callback
that raised used to stop the loop, so the callbacks after it never heard of
that change (the new values were already in place and the watcher had
already recorded the new file signature, so no later poll repeated it), in
``Config.reload()`` and in ``ConfigWatcher.check()`` alike. Also attacks the
watcher's ``interval`` with NaN, infinity, a str and a bool (NaN passed the
``interval <= 0`` check).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import attrs
import pytest

from pepperpy.config import Config, ConfigWatcher
from pepperpy.core.exceptions import InvalidArgumentError


@attrs.define
class Settings:
    port: int


class Boom(Exception):
    """A failing callback's error."""


def _config(tmp_path: Path) -> tuple[Path, Config[Settings], list[frozenset[str]]]:
    path = tmp_path / "config.toml"
    path.write_text("port = 1\n")
    config = Config.load(path, schema=Settings)
    seen: list[frozenset[str]] = []

    @config.on_change
    def broken(cfg: Config[Settings], keys: frozenset[str]) -> None:
        raise Boom("first callback fails")

    @config.on_change
    def later(cfg: Config[Settings], keys: frozenset[str]) -> None:
        seen.append(keys)

    return path, config, seen


def test_reload_runs_every_callback_when_one_fails(tmp_path: Path) -> None:
    """reload(): the failing callback's error propagates after the others ran."""
    path, config, seen = _config(tmp_path)
    path.write_text("port = 2\n")
    with pytest.raises(Boom):
        config.reload()
    assert seen == [frozenset({"port"})]
    assert config.settings.port == 2


async def test_watcher_check_runs_every_callback_when_one_fails(tmp_path: Path) -> None:
    """check(): the same; the error propagates after every callback ran."""
    path, config, seen = _config(tmp_path)
    watcher = ConfigWatcher(config)
    async with watcher:
        path.write_text("port = 22\n")
        with pytest.raises(Boom):
            await watcher.check()
        assert seen == [frozenset({"port"})]
        assert await watcher.check() is False  # nothing new: not delivered twice
    assert seen == [frozenset({"port"})]


@pytest.mark.parametrize("interval", [math.nan, math.inf, -math.inf, "1", True, None], ids=repr)
def test_watcher_interval_must_be_a_finite_positive_number(tmp_path: Path, interval: Any) -> None:
    """NaN, infinity, strings and bools are InvalidArgumentErrors (NaN was accepted)."""
    path = tmp_path / "config.toml"
    path.write_text("port = 1\n")
    config = Config.load(path, schema=Settings)
    with pytest.raises(InvalidArgumentError):
        ConfigWatcher(config, interval=interval)
    with pytest.raises(InvalidArgumentError):
        config.watch(interval=interval)


async def test_a_cancelled_check_still_runs_every_callback(tmp_path: Path) -> None:
    """check() cancelled while an async callback awaited: the later callbacks still run.

    The reload had swapped the values and recorded the new file signature, so
    no later poll would repeat the change: the callbacks after the cancelled
    one never heard of it.
    """
    import asyncio

    path = tmp_path / "config.toml"
    path.write_text("port = 1\n")
    config = Config.load(path, schema=Settings)
    entered = asyncio.Event()
    gate = asyncio.Event()
    seen: list[frozenset[str]] = []

    @config.on_change
    async def slow(cfg: Config[Settings], keys: frozenset[str]) -> None:
        entered.set()
        await gate.wait()

    @config.on_change
    def later(cfg: Config[Settings], keys: frozenset[str]) -> None:
        seen.append(keys)

    watcher = ConfigWatcher(config)
    async with watcher:
        path.write_text("port = 2\n")
        checking = asyncio.ensure_future(watcher.check())
        await asyncio.wait_for(entered.wait(), 30)
        checking.cancel()
        with pytest.raises(asyncio.CancelledError):
            await checking
        gate.set()
        for _ in range(1000):  # until the delivery finishes (a state, not a timing)
            if seen:
                break
            await asyncio.sleep(0)
        assert seen == [frozenset({"port"})]


def _bounded(fn: Any) -> Any:
    """Run *fn* in a daemon thread; fail (not hang) if it blocks (a bound, not a timing)."""
    import threading

    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the test below
            box["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(30)
    assert not worker.is_alive(), "blocked reading a FIFO"
    if "error" in box:
        raise box["error"]
    return box["value"]


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="needs FIFOs")
def test_a_fifo_where_a_file_is_expected_is_a_config_error(tmp_path: Path) -> None:
    """A config file, .env file or secret that is a FIFO blocked the load forever.

    (Opening a FIFO waits for a writer.) Like a directory, it is now a
    ConfigError naming the file.
    """
    import os

    from pepperpy.config import ConfigError

    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match=r"config\.toml"):
        _bounded(lambda: Config.load(fifo, schema=Settings))
    good = tmp_path / "good.toml"
    good.write_text("port = 1\n")
    env = tmp_path / ".env"
    os.mkfifo(env)
    with pytest.raises(ConfigError, match=r"\.env"):
        _bounded(lambda: Config.load(good, schema=Settings, dotenv=env))
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    os.mkfifo(secrets / "port")
    with pytest.raises(ConfigError, match="port"):
        _bounded(lambda: Config.load(good, schema=Settings, secrets_dir=secrets))
