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


def test_reload_runs_the_callbacks(path: Path) -> None:
    """reload() runs on_change callbacks, sync and async, once per reload with changes."""
    config = Config.load(path, schema=Settings)
    calls: list[tuple[str, int, frozenset[str]]] = []

    @config.on_change
    def sync_changed(cfg: Config[Settings], keys: frozenset[str]) -> None:
        calls.append(("sync", cfg.settings.port, keys))

    @config.on_change
    async def async_changed(cfg: Config[Settings], keys: frozenset[str]) -> None:
        await asyncio.sleep(0)
        calls.append(("async", cfg.settings.port, keys))

    assert config.reload() == frozenset()
    assert calls == []
    path.write_text("port = 2\n")
    assert config.reload() == {"port"}
    assert calls == [("sync", 2, {"port"}), ("async", 2, {"port"})]
    path.write_text('port = "bad"\n')
    with pytest.raises(ConfigError):
        config.reload()
    assert len(calls) == 2


async def test_reload_inside_a_running_loop_and_the_watcher(path: Path) -> None:
    """In a running loop async callbacks are scheduled; the watcher calls each once."""
    config = Config.load(path, schema=Settings)
    calls: list[tuple[str, frozenset[str]]] = []
    done = asyncio.Event()

    @config.on_change
    def sync_changed(cfg: Config[Settings], keys: frozenset[str]) -> None:
        calls.append(("sync", keys))

    @config.on_change
    async def async_changed(cfg: Config[Settings], keys: frozenset[str]) -> None:
        calls.append(("async", keys))
        done.set()

    await asyncio.to_thread(path.write_text, "port = 2\n")
    assert config.reload() == {"port"}
    assert calls == [("sync", {"port"})]
    await asyncio.wait_for(done.wait(), 5)
    assert calls == [("sync", {"port"}), ("async", {"port"})]
    done.clear()
    async with config.watch(interval=60) as watcher:
        await asyncio.to_thread(path.write_text, "port = 3\n")
        assert await watcher.check() is True
        assert await watcher.check() is False
    assert calls[2:] == [("sync", {"port"}), ("async", {"port"})]


async def test_failing_callbacks_after_reload(path: Path) -> None:
    """A sync callback's error propagates; a scheduled one goes to the loop's handler."""
    config = Config.load(path, schema=Settings)
    reported: list[BaseException] = []
    handled = asyncio.Event()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
        exc = context.get("exception")
        assert isinstance(exc, BaseException)
        reported.append(exc)
        handled.set()

    asyncio.get_running_loop().set_exception_handler(handler)

    @config.on_change
    async def broken(cfg: Config[Settings], keys: frozenset[str]) -> None:
        raise RuntimeError("async callback failed")

    await asyncio.to_thread(path.write_text, "port = 2\n")
    assert config.reload() == {"port"}
    await asyncio.wait_for(handled.wait(), 5)
    assert [str(e) for e in reported] == ["async callback failed"]

    config = Config.load(path, schema=Settings)

    @config.on_change
    def sync_broken(cfg: Config[Settings], keys: frozenset[str]) -> None:
        raise ValueError("sync callback failed")

    await asyncio.to_thread(path.write_text, "port = 3\n")
    with pytest.raises(ValueError, match="sync callback failed"):
        config.reload()
    assert config.settings.port == 3


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
