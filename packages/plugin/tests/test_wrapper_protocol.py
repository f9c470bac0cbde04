"""issue 24: the async wrapper protocol cases the suite did not pin down.

Found measuring branch coverage; each test asserts what a plugin author relies
on. pluggy defines the generator-wrapper protocol (a wrapper yields exactly once;
an exception before the yield propagates and the implementations do not run);
the async generator wrapper follows it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from typing import Any, Protocol

import pytest

from pepperpy.plugin import PluginManager, PluginValidationError, hookimpl, hookspec


class Spec(Protocol):
    @hookspec
    async def fetch(self, key: str) -> str: ...

    @hookspec(firstresult=True)
    async def resolve(self, key: str) -> str: ...


class Recorder:
    """Plain implementations that record that they ran."""

    def __init__(self, log: list[str], answer: str | None = "plain") -> None:
        self.log = log
        self.answer = answer

    @hookimpl
    def fetch(self, key: str) -> str:  # a plain function on an async hook
        self.log.append(f"fetch {key}")
        return f"{self.answer}:{key}"

    @hookimpl
    async def resolve(self, key: str) -> str | None:
        self.log.append(f"resolve {self.answer}")
        return self.answer


class Passthrough:
    @hookimpl(wrapper=True)
    async def fetch(self, key: str) -> AsyncGenerator[Any, Any]:
        yield

    @hookimpl(wrapper=True)
    async def resolve(self, key: str) -> AsyncGenerator[Any, Any]:
        yield


async def test_a_plain_implementation_runs_inside_an_async_wrapper() -> None:
    log: list[str] = []
    manager = PluginManager([Spec])
    manager.register(Recorder(log), name="plain")
    manager.register(Passthrough(), name="wrap")
    assert await manager.acall(Spec.fetch, key="k") == ["plain:k"]
    assert log == ["fetch k"]


async def test_acall_first_inside_a_wrapper_stops_at_the_first_answer() -> None:
    log: list[str] = []
    manager = PluginManager([Spec])
    manager.register(Recorder(log, "late"), name="late")
    manager.register(Recorder(log, None), name="silent")
    manager.register(Recorder(log, "early"), name="early")
    manager.register(Passthrough(), name="wrap")
    assert await manager.acall_first(Spec.resolve, key="k") == "early"
    assert log == ["resolve early"]  # LIFO: the later registrations never ran


async def test_a_generator_wrapper_that_never_yields_on_an_async_hook_is_reported() -> None:
    class NoYield:
        @hookimpl(wrapper=True)
        def fetch(self, key: str) -> Generator[None, Any, Any]:
            if key == "never":
                return []
            return (yield)

    log: list[str] = []
    manager = PluginManager([Spec])
    manager.register(Recorder(log), name="plain")
    manager.register(NoYield(), name="bad")
    with pytest.raises(PluginValidationError, match="did not yield"):
        await manager.acall(Spec.fetch, key="never")
    assert log == []


async def test_a_generator_wrapper_raising_before_its_yield_stops_the_call() -> None:
    class Refuse:
        @hookimpl(wrapper=True)
        def fetch(self, key: str) -> Generator[None, Any, Any]:
            if key == "secret":
                raise PermissionError(key)
            return (yield)

    log: list[str] = []
    manager = PluginManager([Spec])
    manager.register(Recorder(log), name="plain")
    manager.register(Refuse(), name="guard")
    with pytest.raises(PermissionError, match="secret"):
        await manager.acall(Spec.fetch, key="secret")
    assert log == []


async def test_an_async_wrapper_raising_before_its_yield_stops_the_call() -> None:
    class Refuse:
        @hookimpl(wrapper=True)
        async def fetch(self, key: str) -> AsyncGenerator[Any, Any]:
            if key == "secret":
                raise PermissionError(key)
            yield

    log: list[str] = []
    manager = PluginManager([Spec])
    manager.register(Recorder(log), name="plain")
    manager.register(Refuse(), name="guard")
    with pytest.raises(PermissionError, match="secret"):
        await manager.acall(Spec.fetch, key="secret")
    assert log == []


class Sync(Protocol):
    @hookspec(firstresult=True)
    def pick(self, options: list[str]) -> str: ...


class Picker:
    def __init__(self, index: int) -> None:
        self.index = index

    @hookimpl
    def pick(self, options: list[str]) -> str:
        return options[self.index]


async def test_a_subset_skips_excluded_plugins_for_first_result_hooks() -> None:
    """pluggy's subset_hook_caller: the excluded plugin's answer is never taken."""
    log: list[str] = []
    manager = PluginManager([Spec, Sync])
    manager.register(Recorder(log, "kept"), name="kept")
    manager.register(Recorder(log, "excluded"), name="excluded")
    manager.register(Picker(0), name="first")
    manager.register(Picker(1), name="second")
    assert manager.call_first(Sync.pick, options=["a", "b"]) == "b"
    assert await manager.acall_first(Spec.resolve, key="k") == "excluded"
    subset = manager.subset(exclude=["excluded", "second"])
    assert subset.call_first(Sync.pick, options=["a", "b"]) == "a"
    log.clear()
    assert await subset.acall_first(Spec.resolve, key="k") == "kept"
    assert log == ["resolve kept"]
