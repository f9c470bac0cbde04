"""issue 24: every code pepperpy-registry raises is in ``pepperpy.registry.ERRORS``.

A program that catches a registry error looks its code up in the catalogue to
learn what it means and what to do; the entry names a class the error is an
instance of.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pepperpy.core.exceptions import PepperPyError
from pepperpy.registry import ERRORS, Registry, ServiceNotFoundError


class Repo:
    pass


class Service:
    def __init__(self, repo: Repo) -> None:
        self.repo = repo


def _caught(action: Callable[[], object]) -> PepperPyError:
    with pytest.raises(PepperPyError) as info:
        action()
    return info.value


def _assert_catalogued(error: PepperPyError) -> None:
    entry = ERRORS[error.code]
    assert entry.code == error.code
    assert isinstance(error, entry.error)
    assert entry.meaning.strip()
    assert entry.action.strip()


async def test_a_missing_dependency_is_a_catalogued_not_found() -> None:
    registry = Registry()
    registry.register(Service)
    with pytest.raises(ServiceNotFoundError) as info:
        await registry.get(Service)
    assert info.value.code == "pepperpy.registry.not_found"
    _assert_catalogued(info.value)


def test_registration_mistakes_carry_catalogued_codes() -> None:
    registry = Registry()
    registry.register(Repo)
    duplicate = _caught(lambda: registry.register(Repo))
    bad_lifetime = _caught(lambda: registry.register(Service, lifetime="forever"))
    scoped = Registry()
    scoped.register(Repo, lifetime="scoped")
    outside = _caught(lambda: scoped.resolve(Repo))
    codes = [duplicate.code, bad_lifetime.code, outside.code]
    assert codes == [
        "pepperpy.registry.duplicate",
        "pepperpy.registry.lifetime_name",
        "pepperpy.registry.scope",
    ]
    for error in (duplicate, bad_lifetime, outside):
        _assert_catalogued(error)


def test_the_catalogue_only_holds_registry_codes() -> None:
    assert ERRORS.package == "pepperpy.registry"
    assert all(code.startswith("pepperpy.registry.") for code in ERRORS)
