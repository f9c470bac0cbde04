"""Hostile review of issue 22 #1 (every started plugin is stopped exactly once).

A plugin's own ``start``/``stop`` may raise ``CancelledError`` without anyone cancelling
the manager: the common ``self._task.cancel(); await self._task`` in ``stop()`` does.
That is the plugin's failure, isolated by the policy like any other.
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import pytest

from pepperpy.plugin import PluginManager


class Worker:
    """A plugin with a background task; ``stop`` can await its own cancelled task."""

    def __init__(self, log: list[tuple[str, str]], name: str, *, sloppy: bool = False) -> None:
        self.log = log
        self.name = name
        self.sloppy = sloppy
        self.task: asyncio.Task[Any] | None = None

    async def start(self) -> None:
        self.log.append(("start", self.name))
        self.task = asyncio.ensure_future(asyncio.Event().wait())

    async def stop(self) -> None:
        self.log.append(("stop", self.name))
        assert self.task is not None
        self.task.cancel()
        if self.sloppy:
            await self.task  # raises CancelledError: the plugin's own bug
        else:
            await asyncio.gather(self.task, return_exceptions=True)


async def test_a_stop_raising_its_own_cancelled_error_does_not_skip_the_others() -> None:
    """Issue 22 #1: a plugin whose stop() re-raised its own task's CancelledError made the
    manager's stop() raise CancelledError (nobody cancelled it) and left the plugins
    registered before it running for good."""
    log: list[tuple[str, str]] = []
    manager = PluginManager(policy="warn")
    first, second = Worker(log, "a"), Worker(log, "b", sloppy=True)
    manager.register(first, name="a")
    manager.register(second, name="b")
    await manager.start()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        await manager.stop()
    assert log.count(("stop", "a")) == 1 and log.count(("stop", "b")) == 1
    assert first.task is not None and first.task.cancelled()
    assert [f.phase for f in manager.failures] == ["stop"]


async def test_a_start_raising_cancelled_error_is_isolated_not_a_cancellation() -> None:
    """Issue 22 #1: a plugin whose start() raises CancelledError is a failing plugin; the
    manager's start() used to raise CancelledError, as if the caller had been cancelled."""
    log: list[tuple[str, str]] = []

    class Broken:
        async def start(self) -> None:
            raise asyncio.CancelledError

        async def stop(self) -> None:
            log.append(("stop", "broken"))

    manager = PluginManager(policy="warn")
    good = Worker(log, "a")
    manager.register(good, name="a")
    manager.register(Broken(), name="broken")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        await manager.start()
    assert [f.phase for f in manager.failures] == ["start"]
    await manager.stop()
    assert log == [("start", "a"), ("stop", "a")]  # the broken one never started


async def test_cancelling_the_manager_stop_still_cancels() -> None:
    """The fix above must not swallow a real cancellation of stop() itself."""
    gate = asyncio.Event()

    class Slow:
        async def stop(self) -> None:
            await gate.wait()

    manager = PluginManager(policy="warn")
    manager.register(Slow(), name="slow")
    await manager.start()
    stopping = asyncio.ensure_future(manager.stop())
    for _ in range(20):
        await asyncio.sleep(0)
    stopping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopping


# -- loading: a plugin's import must not end the host (issue 22: isolation holds) -------------

from pathlib import Path  # noqa: E402

from pepperpy.core.exceptions import InvalidArgumentError, PepperPyError  # noqa: E402


def _write(directory: Path, name: str, body: str) -> Path:
    path = directory / name
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize("policy", ["warn", "skip"])
def test_a_plugin_file_calling_sys_exit_at_import_is_isolated(tmp_path: Path, policy: str) -> None:
    """Plugin isolation: a plugin file that runs ``argparse``/``sys.exit()`` at import raised
    SystemExit out of load_path()/load_directory(): the host exited, and the plugins after
    it in the directory were never loaded."""
    _write(tmp_path, "a_exits.py", "import sys\nsys.exit(2)\n")
    _write(tmp_path, "b_fine.py", "plugin_name = 'fine'\n")
    manager = PluginManager(policy=policy)  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = manager.load_directory(tmp_path)
    assert loaded == ["b_fine"] or loaded == ["fine"]
    assert [f.phase for f in manager.failures] == ["load"]


def test_a_plugin_file_calling_sys_exit_is_a_plugin_error_under_raise(tmp_path: Path) -> None:
    """With policy="raise" the exit is a PluginError, not a SystemExit."""
    path = _write(tmp_path, "exits.py", "raise SystemExit(3)\n")
    manager = PluginManager(policy="raise")
    with pytest.raises(PepperPyError):
        manager.load_path(path)


def test_load_path_refuses_a_target_that_is_not_a_path() -> None:
    """Only PepperPyError subclasses escape: load_path(5) raised a raw TypeError."""
    manager = PluginManager(policy="raise")
    with pytest.raises(InvalidArgumentError):
        manager.load_path(5)  # type: ignore[arg-type]
