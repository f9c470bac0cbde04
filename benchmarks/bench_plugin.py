"""pepperpy.plugin: typed hook calls vs raw pluggy and a direct call."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any, Protocol

import pluggy

from harness import acompare, compare
from pepperpy.plugin import PluginManager, hookimpl, hookspec

REQUIRES = ["pluggy"]


class Spec(Protocol):
    @hookspec
    def greet(self, name: str) -> str: ...

    @hookspec
    async def fetch(self, key: str) -> str: ...


class Impl:
    @hookimpl
    def greet(self, name: str) -> str:
        return name

    @hookimpl
    async def fetch(self, key: str) -> str:
        return key


def _managers(count: int) -> tuple[PluginManager, pluggy.PluginManager, list[Impl]]:
    ours = PluginManager([Spec], policy="warn")
    raw = pluggy.PluginManager("pepperpy")
    raw.add_hookspecs(Spec)
    impls = [Impl() for _ in range(count)]
    for n, impl in enumerate(impls):
        ours.register(impl, name=f"p{n}")
        raw.register(impl, name=f"p{n}")
    return ours, raw, impls


def _sync_case(count: int):
    ours, raw, impls = _managers(count)
    hook = raw.hook.greet
    greet = Spec.greet

    def direct() -> list[str]:
        return [impl.greet("x") for impl in impls]

    return compare(
        f"plugin: sync hook call, {count} implementation{'s' if count > 1 else ''}",
        {
            "pepperpy": lambda: ours.call(greet, name="x"),
            "raw pluggy": lambda: hook(name="x"),
            "direct call": direct,
        },
        inner=2000,
    )


def bench_hook_call_1():
    return _sync_case(1)


def bench_hook_call_5():
    return _sync_case(5)


async def bench_async_hook_call_5():
    ours, _, impls = _managers(5)

    async def pepperpy() -> list[str]:
        return await ours.acall(Spec.fetch, key="x")

    async def manual() -> list[str]:
        return [await impl.fetch("x") for impl in impls]

    return await acompare(
        "plugin: async hook call, 5 implementations",
        {"pepperpy": pepperpy, "hand-written await loop": manual},
        inner=1000,
    )


class Wrapper:
    @hookimpl(wrapper=True)
    async def fetch(self, key: str) -> AsyncGenerator[Any, Any]:
        yield


async def bench_async_hook_call_5_wrapped():
    """The general path: a wrapper around the implementations (no precomputed plan)."""
    ours, _, impls = _managers(5)
    ours.register(Wrapper(), name="wrapper")

    async def pepperpy() -> list[str]:
        return await ours.acall(Spec.fetch, key="x")

    async def manual() -> list[str]:
        return [await impl.fetch("x") for impl in impls]

    return await acompare(
        "plugin: async hook call, 5 implementations and an async wrapper",
        {"pepperpy": pepperpy, "hand-written await loop": manual},
        inner=1000,
    )
