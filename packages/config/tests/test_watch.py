"""Tests for pepperpy.config._watch and reload."""

from __future__ import annotations

import asyncio
from pathlib import Path

import attrs
import pytest

from pepperpy.config import Config, ConfigError, ConfigWatcher
from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.core.types import ManualClock


@attrs.define
class Settings:
    port: int
    name: str = "svc"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    target = tmp_path / "config.toml"
    target.write_text("port = 1\n")
    return target


def test_reload_returns_changed_keys(path: Path) -> None:
    """reload() swaps in the new values and reports what changed."""
    config = Config.load(path, schema=Settings)
    assert config.reload() == frozenset()
    path.write_text('port = 2\nname = "new"\n')
    assert config.reload() == {"port", "name"}
    assert config.settings == Settings(2, "new")


def test_invalid_reload_keeps_the_old_config(path: Path) -> None:
    """A reload that fails validation raises and leaves everything as it was."""
    config = Config.load(path, schema=Settings)
    path.write_text('port = "not a number"\n')
    with pytest.raises(ConfigError):
        config.reload()
    assert config.settings == Settings(1)
    path.write_text("port = [\n")
    with pytest.raises(ConfigError):
        config.reload()
    assert config.get("port") == 1


async def test_watcher_check(path: Path) -> None:
    """check() reloads on change, runs callbacks, and rejects invalid configs."""
    config = Config.load(path, schema=Settings)
    events: list[frozenset[str]] = []
    errors: list[BaseException] = []

    @config.on_change
    async def changed(cfg: Config[Settings], keys: frozenset[str]) -> None:
        events.append(keys)

    async with config.watch(interval=60, on_error=errors.append) as watcher:
        assert isinstance(watcher, ConfigWatcher)
        assert await watcher.check() is False
        await asyncio.to_thread(path.write_text, "port = 2\n")
        assert await watcher.check() is True
        assert config.settings.port == 2
        await asyncio.to_thread(path.write_text, 'port = "bad"\n')
        assert await watcher.check() is False
        assert config.settings.port == 2
        assert isinstance(watcher.last_reload_error, ConfigError)
        assert watcher.rejected == 1
    assert events == [frozenset({"port"})]
    assert len(errors) == 1


async def test_watcher_polls_with_the_clock(path: Path) -> None:
    """The polling loop reloads after the clock advances past the interval."""
    clock = ManualClock()
    config = Config.load(path, schema=Settings)
    changed = asyncio.Event()
    config.on_change(lambda cfg, keys: changed.set())
    async with config.watch(interval=5, clock=clock) as watcher:
        await asyncio.to_thread(path.write_text, "port = 3\n")
        for _ in range(50):
            await clock.advance(5)
            if changed.is_set():
                break
            await asyncio.sleep(0.01)
        await asyncio.wait_for(changed.wait(), timeout=10)
        assert watcher.reloads >= 1
    assert config.settings.port == 3
    assert not watcher.is_running


def test_watch_interval_must_be_positive(path: Path) -> None:
    """A zero interval is refused."""
    with pytest.raises(InvalidArgumentError):
        Config.load(path).watch(interval=0)


async def test_broken_callback_does_not_stop_the_watcher(path: Path) -> None:
    """A callback that raises is reported to on_error; polling goes on."""
    clock = ManualClock()
    config = Config.load(path, schema=Settings)
    seen: list[BaseException] = []
    reported = asyncio.Event()

    def on_error(exc: BaseException) -> None:
        seen.append(exc)
        reported.set()

    def broken(cfg: Config[Settings], keys: frozenset[str]) -> None:
        raise RuntimeError("callback bug")

    config.on_change(broken)
    async with config.watch(interval=1, clock=clock, on_error=on_error) as watcher:
        await asyncio.to_thread(path.write_text, "port = 4\n")
        for _ in range(50):
            await clock.advance(1)
            if reported.is_set():
                break
            await asyncio.sleep(0.01)
        await asyncio.wait_for(reported.wait(), timeout=10)
        assert watcher.is_running
        assert isinstance(seen[0], RuntimeError)
    assert config.settings.port == 4
