"""ResourceManager at its edges (written with the coverage floor, issue 24).

Each test states a promise of the ResourceManager docstring: what gets started and
closed for each kind of resource, and what a failing close does to the error a
caller sees. contextlib.AsyncExitStack is the peer for letting a KeyboardInterrupt
or SystemExit from a closer propagate after the rest were closed.
"""

from __future__ import annotations

from typing import Any

import pytest

from pepperpy.core import LifecycleState, StartupError
from pepperpy.resources import CleanupError, ResourceManager


class DuckComponent:
    """Has async start()/stop() but is no context manager and no core Lifecycle."""

    def __init__(self, events: list[str], name: str) -> None:
        self.events = events
        self.name = name

    async def start(self) -> None:
        self.events.append(f"start {self.name}")

    async def stop(self) -> None:
        self.events.append(f"stop {self.name}")


class AClosing:
    def __init__(self, events: list[str]) -> None:
        self.events = events

    async def aclose(self) -> None:
        self.events.append("aclose")


class FlagNamedClose:
    """``close`` is a data attribute here, not a method: nothing to call."""

    close = True


async def test_each_kind_of_resource_is_started_and_closed_its_way() -> None:
    events: list[str] = []
    manager = ResourceManager()
    manager.register(DuckComponent(events, "duck"), name="duck")
    manager.register(
        AClosing(events), name="aclosing", start=lambda _: events.append("start callback")
    )
    manager.register(  # a start callback replaces start(); stop() still closes it
        DuckComponent(events, "custom"),
        name="custom",
        start=lambda c: events.append(f"custom start {c.name}"),
    )
    manager.register(FlagNamedClose(), name="flag")
    manager.register(42, name="plain")
    async with manager:
        assert events == ["start duck", "start callback", "custom start custom"]
        assert manager.get("plain") == 42
    assert events[3:] == ["stop custom", "aclose", "stop duck"]


async def test_a_callback_added_while_running_runs_at_stop_first() -> None:
    events: list[str] = []
    manager = ResourceManager()
    manager.register(AClosing(events), name="a")
    async with manager:
        manager.callback(events.append, "late callback")
    assert events == ["late callback", "aclose"]


async def test_repr_and_len_name_the_resources() -> None:
    manager = ResourceManager(name="app")
    manager.register(1, name="one")
    manager.register(2, name="two")
    assert len(manager) == 2
    assert "name='app'" in repr(manager) and "['one', 'two']" in repr(manager)


async def test_close_and_aclose_are_stop() -> None:
    for method in ("close", "aclose"):
        events: list[str] = []
        manager = ResourceManager()
        manager.register(AClosing(events), name="a")
        await manager.start()
        await getattr(manager, method)()
        assert events == ["aclose"]
        assert manager.state is LifecycleState.STOPPED


async def test_without_a_cleanup_timeout_a_close_is_awaited_to_its_end() -> None:
    events: list[str] = []
    manager = ResourceManager(cleanup_timeout=None)
    manager.register(AClosing(events), name="a")
    await manager.start()
    await manager.stop()
    assert events == ["aclose"]


async def test_a_clean_body_gets_the_cleanup_error() -> None:
    """With no error from the ``async with`` body, a failing close raises CleanupError."""

    def failing(_: Any) -> None:
        raise OSError("disk gone")

    manager = ResourceManager()
    manager.register(object(), name="db", close=failing)
    with pytest.raises(CleanupError) as info:
        async with manager:
            pass
    assert [name for name, _ in info.value.errors] == ["db"]


async def test_a_failed_start_notes_what_failed_to_close_while_undoing_it() -> None:
    def failing_close(_: Any) -> None:
        raise OSError("close failed")

    def broken() -> None:
        raise ConnectionError("cannot connect")

    manager = ResourceManager()
    manager.register(object(), name="first", close=failing_close)
    manager.register_factory(broken, name="broken")
    with pytest.raises(StartupError) as info:
        await manager.start()
    cause = info.value.__cause__
    assert isinstance(cause, ConnectionError)
    assert any("'first' failed to close" in note for note in getattr(cause, "__notes__", []))


async def test_a_system_exit_from_a_closer_propagates_after_the_rest_are_closed() -> None:
    closed: list[str] = []

    def exiting(_: Any) -> None:
        raise SystemExit(3)

    manager = ResourceManager()
    manager.register(object(), name="a", close=lambda _: closed.append("a"))
    manager.register(object(), name="b", close=exiting)
    manager.register(object(), name="c", close=exiting)
    await manager.start()
    with pytest.raises(SystemExit) as info:
        await manager.stop()
    assert closed == ["a"]  # closed after the two closers that raised
    assert any("'b' failed to close" in note for note in getattr(info.value, "__notes__", []))


async def test_a_system_exit_while_undoing_a_failed_start_is_raised_from_it() -> None:
    def exiting(_: Any) -> None:
        raise SystemExit(3)

    def broken() -> None:
        raise ConnectionError("cannot connect")

    manager = ResourceManager()
    manager.register(object(), name="first", close=exiting)
    manager.register_factory(broken, name="broken")
    with pytest.raises(SystemExit) as info:
        await manager.start()
    assert isinstance(info.value.__cause__, ConnectionError)  # the start failure it interrupted
    assert manager.state is LifecycleState.STOPPED
