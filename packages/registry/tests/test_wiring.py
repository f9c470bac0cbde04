"""issue 24: wiring behaviours the suite did not pin down (found measuring branch coverage).

Each test asserts what a user relies on: which parameters are injected, what an
unreadable annotation raises, how overrides and scopes combine.
"""

from __future__ import annotations

import inspect
from typing import Any

import attrs
import pytest

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.registry import INJECT, Kind, Lifetime, Registry


class Config:
    def __init__(self, url: str = "sqlite://") -> None:
        self.url = url


class User:
    def __init__(self, config: Config) -> None:
        self.config = config


@attrs.define
class Cache:
    config: Config
    hits: int = attrs.field(init=False, default=0)


@attrs.define
class Broken:
    config: Undefined  # type: ignore[name-defined]  # noqa: F821


async def test_a_scoped_dependent_of_an_overridden_service_is_rebuilt_once_per_scope() -> None:
    registry = Registry()
    registry.register(Config)
    registry.register(User, lifetime="scoped")
    fake = Config("fake")
    async with registry.scope():
        real = await registry.get(User)
        with registry.override(Config, fake):
            inside = await registry.get(User)
            assert inside.config is fake
            assert await registry.get(User) is inside  # still one per scope
        assert await registry.get(User) is real


def test_attrs_fields_outside_init_are_not_injected() -> None:
    registry = Registry()
    registry.register(Config)
    registry.register(Cache)
    cache = registry.resolve(Cache)
    assert isinstance(cache.config, Config)
    assert cache.hits == 0
    info = registry.services()[-1]
    assert (info.dependencies, info.optional) == (("Config",), ())


def test_an_attrs_field_type_that_cannot_be_evaluated_is_a_hints_error() -> None:
    registry = Registry()
    with pytest.raises(InvalidArgumentError) as info:
        registry.register(Broken)
    assert info.value.code == "pepperpy.registry.hints"
    assert "Broken" in str(info.value)


def test_star_parameters_are_not_dependencies() -> None:
    registry = Registry()
    registry.register(Config)

    def make_user(config: Config, *args: Any, **kwargs: Any) -> User:
        assert args == ()
        assert kwargs == {}
        return User(config)

    registry.register(User, make_user)
    assert isinstance(registry.resolve(User).config, Config)


def test_a_builtin_without_a_signature_is_built_with_no_arguments() -> None:
    registry = Registry()
    registry.register(dict)  # inspect.signature(dict) raises ValueError
    assert registry.resolve(dict) == {}


def test_a_factory_return_annotation_that_cannot_be_evaluated_is_a_hints_error() -> None:
    registry = Registry()

    def make() -> Undefined:  # type: ignore[name-defined]  # noqa: F821
        return object()

    with pytest.raises(InvalidArgumentError) as info:
        registry.factory()(make)
    assert info.value.code == "pepperpy.registry.hints"


def test_inject_refuses_a_callable_without_a_signature() -> None:
    registry = Registry()
    with pytest.raises(InvalidArgumentError) as info:
        registry.inject(max)
    assert info.value.code == "pepperpy.registry.inject"


async def test_an_async_injected_function_uses_a_positional_argument_as_given() -> None:
    registry = Registry()
    registry.register(Config)

    @registry.inject
    async def url_of(config: Config = INJECT) -> str:
        return config.url

    assert await url_of(Config("given")) == "given"
    assert await url_of() == "sqlite://"


def test_a_missing_service_two_others_need_is_drawn_once() -> None:
    registry = Registry()
    registry.register(User)
    registry.register(Cache)
    chart = registry.to_mermaid()
    assert chart.count("Config (missing)") == 1
    assert chart.count("|config|") == 2  # both edges point at the one missing node


def test_lifetimes_kinds_and_the_inject_marker_print_as_users_write_them() -> None:
    @Registry().inject
    def handle(config: Config = INJECT) -> None: ...

    assert str(Lifetime.SCOPED) == "scoped"
    assert str(Kind.ASYNC_GENERATOR) == "async generator"
    assert str(inspect.signature(handle)) == "(config: 'Config' = INJECT) -> 'None'"
