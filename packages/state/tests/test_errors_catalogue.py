"""The error-code catalogue (issue 24): real failures carry codes that ERRORS documents."""

from __future__ import annotations

import enum

import pytest

from pepperpy.core import ConfigurationError, ErrorCatalogue, InvalidArgumentError, PepperPyError
from pepperpy.state import (
    ERRORS,
    Machine,
    SliceNotFoundError,
    StateManager,
    Transition,
    TransitionNotAllowedError,
)


class Light(enum.Enum):
    OFF = "off"
    ON = "on"


class Switch(Machine[Light]):
    initial = Light.OFF
    turn_on = Transition(Light.OFF, Light.ON)


def _documented(error: PepperPyError) -> None:
    """A caught error's code is catalogued, under a class the error is an instance of."""
    assert error.code in ERRORS
    entry = ERRORS[error.code]
    assert isinstance(error, entry.error)
    assert entry.meaning and entry.action


def test_errors_is_the_package_catalogue() -> None:
    assert isinstance(ERRORS, ErrorCatalogue)
    assert ERRORS.package == "pepperpy.state"
    assert all(code.startswith("pepperpy.state.") for code in ERRORS)


async def test_missing_slice_and_bad_path_are_documented() -> None:
    async with StateManager() as state:
        with pytest.raises(SliceNotFoundError) as missing:
            state.get("nothing")
        assert missing.value.code == "pepperpy.state.slice_not_found"
        _documented(missing.value)
        with pytest.raises(PepperPyError) as bad:
            state.select("user..name")
        assert bad.value.code == "pepperpy.state.invalid_path"
        _documented(bad.value)


def test_bad_option_is_documented() -> None:
    """snapshot_every=0 and a store that is no StateStore share one code: a bad option."""
    for kwargs in ({"snapshot_every": 0}, {"store": object()}):
        with pytest.raises(PepperPyError) as info:
            StateManager(**kwargs)  # type: ignore[arg-type]
        assert info.value.code == "pepperpy.state.invalid_option"
        _documented(info.value)


async def test_machine_refusals_are_documented() -> None:
    switch = Switch()
    with pytest.raises(TransitionNotAllowedError) as unknown:
        await switch.send("explode")
    assert unknown.value.code == "pepperpy.state.unknown_event"
    _documented(unknown.value)
    await switch.send("turn_on")
    with pytest.raises(TransitionNotAllowedError) as refused:
        await switch.send("turn_on")
    assert refused.value.code == "pepperpy.state.transition_not_allowed"
    _documented(refused.value)


def test_machine_definition_errors_are_documented() -> None:
    """A bare Machine, a foreign start state, a non-callable guard: each names its code.

    A guard or action that is neither callable nor a method name (``guard=42``)
    used to escape as a raw TypeError from Transition(); it is a ConfigurationError
    of the class definition, like a guard naming a missing method.
    """
    with pytest.raises(ConfigurationError) as bare:
        Machine()
    assert bare.value.code == "pepperpy.state.invalid_machine"
    _documented(bare.value)

    class Other(enum.Enum):
        X = "x"

    with pytest.raises(InvalidArgumentError) as foreign:
        Switch(state=Other.X)  # type: ignore[arg-type]
    assert foreign.value.code == "pepperpy.state.invalid_state"
    _documented(foreign.value)
    with pytest.raises(ConfigurationError) as guard:

        class Guarded(Machine[Light]):
            initial = Light.OFF
            turn_on = Transition(Light.OFF, Light.ON, guard=42)  # type: ignore[arg-type]

    assert guard.value.code == "pepperpy.state.invalid_machine"
    assert "not callable" in str(guard.value)
    with pytest.raises(ConfigurationError, match="not callable"):

        class InList(Machine[Light]):
            initial = Light.OFF
            turn_on = Transition(Light.OFF, Light.ON, action=[print, 42])  # type: ignore[list-item]


async def test_a_removed_listener_hears_no_more_transitions() -> None:
    heard: list[Light] = []
    switch = Switch()
    remove = switch.add_listener(lambda event: heard.append(event.target))
    await switch.send("turn_on")
    remove()
    remove()  # removing twice is harmless
    switch_back = Switch(state=Light.OFF)
    switch_back.add_listener(lambda event: heard.append(event.target))
    await switch_back.send("turn_on")
    assert heard == [Light.ON, Light.ON]  # one from each machine, none after removal
