"""Tests for build-time validation (missing, cycles, lifetimes) on generated graphs."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pepperpy.core.exceptions import StartupError
from pepperpy.registry import Lifetime, Registry, RegistryValidationError


class Cfg:
    pass


class Db:
    pass


class Repo:
    pass


class Svc:
    pass


class Api:
    pass


class Session:
    pass


class Unit:
    pass


def factory(log: list[str], name: str, **deps: Any) -> Any:
    """A factory whose keyword parameters are typed with the given keys."""

    def make(**kwargs: Any) -> str:
        log.append(name)
        return name

    params = [
        inspect.Parameter(param, inspect.Parameter.KEYWORD_ONLY, annotation=key)
        for param, key in deps.items()
    ]
    make.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    make.__annotations__ = dict(deps)
    make.__qualname__ = make.__name__ = f"make_{name}"
    return make


def test_every_problem_is_reported_with_its_chain() -> None:
    """Missing, cycle and lifetime problems are all listed, each with the full chain."""
    log: list[str] = []
    registry = Registry()
    registry.register(Api, factory(log, "api", svc=Svc))
    registry.register(Svc, factory(log, "svc", repo=Repo, unit=Unit))
    registry.register(Repo, factory(log, "repo", db=Db))  # Db missing
    registry.register(Unit, factory(log, "unit", session=Session), lifetime="transient")
    registry.register(Session, factory(log, "session"), lifetime="scoped")
    registry.register(Cfg, factory(log, "cfg", x=Cfg))  # self loop
    with pytest.raises(RegistryValidationError) as caught:
        registry.validate()
    details = {(d.code, d.path) for d in caught.value.errors}
    assert ("missing", "Api -> Svc -> Repo -> Db") in details
    assert ("cycle", "Cfg -> Cfg") in details
    assert ("lifetime", "Svc -> Unit -> Session") in details
    assert len(details) == 3  # Api holds the singleton Svc, which is the one at fault
    text = str(caught.value)
    assert "Db is not registered (needed by Repo, parameter 'db')" in text
    assert "singleton Svc depends on scoped Session (through Unit, transient)" in text
    assert log == []


def test_longer_cycle_names_every_member() -> None:
    """A cycle through several services shows the whole loop once."""
    registry = Registry()
    registry.register(Api, factory([], "api", svc=Svc))
    registry.register(Svc, factory([], "svc", repo=Repo))
    registry.register(Repo, factory([], "repo", api=Api))
    with pytest.raises(RegistryValidationError) as caught:
        registry.validate()
    assert [d.path for d in caught.value.errors] == ["Api -> Svc -> Repo -> Api"]


def test_scoped_depending_on_singleton_is_fine() -> None:
    """Shorter-lived services may depend on longer-lived ones."""
    registry = Registry()
    registry.register(Db, factory([], "db"))
    registry.register(Session, factory([], "session", db=Db), lifetime="scoped")
    registry.register(Unit, factory([], "unit", s=Session), lifetime="transient")
    registry.validate()


graphs = st.integers(1, 7).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=12),
        st.lists(st.sampled_from(list(Lifetime)), min_size=n, max_size=n),
    )
)


def has_cycle(n: int, edges: set[tuple[int, int]]) -> bool:
    state = [0] * n

    def visit(i: int) -> bool:
        state[i] = 1
        for a, b in edges:
            if a == i and (state[b] == 1 or (state[b] == 0 and visit(b))):
                return True
        state[i] = 2
        return False

    return any(state[i] == 0 and visit(i) for i in range(n))


@given(graphs)
@settings(max_examples=60, deadline=None)
async def test_generated_graphs(graph: tuple[int, list[tuple[int, int]], list[Lifetime]]) -> None:
    """Cycles are found exactly when present; valid singleton graphs start deps-first."""
    n, raw_edges, lifetimes = graph
    edges = set(raw_edges)
    keys = [type(f"S{i}", (), {}) for i in range(n)]
    log: list[str] = []
    registry = Registry()
    for i in range(n):
        deps = {f"d{b}": keys[b] for a, b in sorted(edges) if a == i}
        registry.register(keys[i], factory(log, f"S{i}", **deps), lifetime=Lifetime.SINGLETON)
    cyclic = has_cycle(n, edges)
    if cyclic:
        with pytest.raises(RegistryValidationError) as caught:
            registry.validate()
        assert {d.code for d in caught.value.errors} == {"cycle"}
        for detail in caught.value.errors:
            names = detail.path.split(" -> ")
            assert names[0] == names[-1]
        with pytest.raises(StartupError):
            await registry.start()
        assert log == []
        return
    async with registry:
        assert sorted(log) == sorted(f"S{i}" for i in range(n))
        position = {name: index for index, name in enumerate(log)}
        for a, b in edges:
            assert position[f"S{b}"] < position[f"S{a}"]
    # with the generated lifetimes, validation flags exactly the captive chains
    mixed = Registry()
    for i in range(n):
        deps = {f"d{b}": keys[b] for a, b in sorted(edges) if a == i}
        mixed.register(keys[i], factory([], f"S{i}", **deps), lifetime=lifetimes[i])
    errors = []
    try:
        mixed.validate()
    except RegistryValidationError as exc:
        errors = exc.errors
    assert {d.code for d in errors} <= {"lifetime"}
    problems = [d.path for d in errors]

    def captures(i: int) -> bool:
        stack, seen = [i], {i}
        while stack:
            for a, b in edges:
                if a == stack[-1] and b not in seen:
                    seen.add(b)
                    if lifetimes[b] is Lifetime.SCOPED:
                        return True
                    if lifetimes[b] is Lifetime.TRANSIENT:
                        stack.insert(0, b)
            stack.pop()
        return False

    expected_roots = {
        f"S{i}" for i in range(n) if lifetimes[i] is Lifetime.SINGLETON and captures(i)
    }
    assert {p.split(" -> ")[0] for p in problems} == expected_roots
