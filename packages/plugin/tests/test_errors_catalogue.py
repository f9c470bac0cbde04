"""issue 24: every code pepperpy-plugin raises is in ``pepperpy.plugin.ERRORS``.

A program that catches a plugin error looks its code up in the catalogue to
learn what it means and what to do; the entry names a class the error is an
instance of.
"""

from __future__ import annotations

from typing import Protocol

import pytest

from pepperpy.core.exceptions import PepperPyError
from pepperpy.plugin import ERRORS, PluginHookError, PluginManager, hookimpl, hookspec


class Spec(Protocol):
    @hookspec
    def greet(self, name: str) -> str: ...


class Broken:
    @hookimpl
    def greet(self, name: str) -> str:
        raise RuntimeError(f"cannot greet {name}")


class Plain:
    @hookimpl
    def greet(self, name: str) -> str:
        return name


def _assert_catalogued(error: PepperPyError) -> None:
    entry = ERRORS[error.code]
    assert entry.code == error.code
    assert isinstance(error, entry.error)
    assert entry.meaning.strip()
    assert entry.action.strip()


def test_a_failing_hook_under_raise_is_a_catalogued_hook_error() -> None:
    manager = PluginManager([Spec], policy="raise")
    manager.register(Broken(), name="broken")
    with pytest.raises(PluginHookError) as info:
        manager.call(Spec.greet, name="ada")
    assert info.value.code == "pepperpy.plugin.hook"
    _assert_catalogued(info.value)


def test_host_mistakes_carry_catalogued_codes() -> None:
    manager = PluginManager([Spec])
    manager.register(Plain(), name="plain")
    with pytest.raises(PepperPyError) as duplicate:
        manager.register(Plain(), name="plain")
    with pytest.raises(PepperPyError) as arguments:
        manager.call(Spec.greet, nom="ada")  # type: ignore[call-arg]
    with pytest.raises(PepperPyError) as policy:
        PluginManager([Spec], policy="ignore")  # type: ignore[arg-type]
    errors = [duplicate.value, arguments.value, policy.value]
    assert [e.code for e in errors] == [
        "pepperpy.plugin.duplicate",
        "pepperpy.plugin.hook_arguments",
        "pepperpy.plugin.invalid_policy",
    ]
    for error in errors:
        _assert_catalogued(error)


def test_the_catalogue_only_holds_plugin_codes() -> None:
    assert ERRORS.package == "pepperpy.plugin"
    assert all(code.startswith("pepperpy.plugin.") for code in ERRORS)
