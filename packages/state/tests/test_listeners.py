"""A listener that raises must not skip the listeners after it (review finding: the
first failing listener ended the loop, so a later listener, such as the one ``attach()``
adds to persist the machine, never ran and the new state was lost on restart)."""

from __future__ import annotations

import enum

import pytest

from pepperpy.state import Machine, MemoryStateStore, StateManager, Transition, TransitionEvent


class Light(enum.Enum):
    OFF = "off"
    ON = "on"


class Switch(Machine[Light]):
    initial = Light.OFF

    flip = Transition(Light.OFF, Light.ON)


async def test_every_listener_runs_and_the_first_error_propagates() -> None:
    switch = Switch()
    heard: list[str] = []

    def first(event: TransitionEvent[Light]) -> None:
        heard.append("first")
        raise LookupError("first listener failed")

    async def second(event: TransitionEvent[Light]) -> None:
        heard.append("second")
        raise ValueError("second listener failed")

    def third(event: TransitionEvent[Light]) -> None:
        heard.append("third")

    for listener in (first, second, third):
        switch.add_listener(listener)
    with pytest.raises(LookupError, match="first listener failed") as info:
        await switch.flip()
    assert heard == ["first", "second", "third"]
    assert switch.state is Light.ON  # the new state stands, as after a failing enter hook
    assert any("second listener failed" in note for note in getattr(info.value, "__notes__", []))


async def test_a_failing_listener_does_not_stop_the_snapshot_being_saved() -> None:
    store = MemoryStateStore()
    async with StateManager(store) as state:
        switch = Switch()

        def broken(event: TransitionEvent[Light]) -> None:
            raise RuntimeError("a user's listener failed")

        switch.add_listener(broken)  # added before attach(): runs before the save
        await switch.attach(state, "switch")
        with pytest.raises(RuntimeError, match="a user's listener failed"):
            await switch.flip()
        assert state.get("switch")["state"] == "ON"
    async with StateManager(store) as state:
        again = Switch()
        await again.attach(state, "switch")
        assert again.state is Light.ON
