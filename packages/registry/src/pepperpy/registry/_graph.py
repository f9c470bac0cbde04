"""Build-time checks of the dependency graph, and its export (Mermaid)."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from pepperpy.core.exceptions import ErrorDetail
from pepperpy.registry._keys import Dependency, Lifetime, describe

__all__ = ["chain_text", "dependents_of", "find_problems", "to_mermaid", "topological_order"]


class _Node(Protocol):
    lifetime: Lifetime
    deps: tuple[Dependency, ...]


Graph = Mapping[Hashable, _Node]


def chain_text(chain: Iterable[Hashable]) -> str:
    """Render a chain of keys as ``"A -> B -> C"``."""
    return " -> ".join(describe(key) for key in chain)


def _edges(graph: Graph, key: Hashable, implicit: frozenset[Hashable]) -> list[Dependency]:
    node = graph.get(key)
    if node is None:
        return []
    return [d for d in node.deps if d.key in graph or not d.optional or d.key in implicit]


def find_problems(
    graph: Graph,
    implicit: frozenset[Hashable] = frozenset(),
    *,
    scoped: frozenset[Hashable] = frozenset(),
) -> list[ErrorDetail]:
    """Every missing dependency, cycle and lifetime violation, each with its full chain.

    Chains start at a root (a service nothing else depends on) so they read
    like the path resolution would take. *implicit* keys (the registry itself)
    are always available.
    """
    problems: list[ErrorDetail] = []
    depended = {d.key for node in graph.values() for d in node.deps}
    roots = [k for k in graph if k not in depended]
    roots += [k for k in graph if k in depended]  # nodes only reachable through cycles
    seen_missing: set[tuple[Hashable, Hashable]] = set()
    seen_cycles: set[frozenset[Hashable]] = set()
    done: set[Hashable] = set()

    def visit(key: Hashable, path: list[Hashable], on_path: set[Hashable]) -> None:
        for dep in _edges(graph, key, implicit):
            if dep.key not in graph:
                if dep.key in implicit:
                    continue
                if (key, dep.key) not in seen_missing:
                    seen_missing.add((key, dep.key))
                    chain = [*path, dep.key]
                    problems.append(
                        ErrorDetail(
                            chain_text(chain),
                            f"{describe(dep.key)} is not registered (needed by "
                            f"{describe(key)}, parameter {dep.param!r})",
                            code="missing",
                            expected=f"a registration for {describe(dep.key)}",
                        )
                    )
                continue
            if dep.key in on_path:
                start = path.index(dep.key)
                loop = [*path[start:], dep.key]
                signature = frozenset(loop)
                if signature not in seen_cycles:
                    seen_cycles.add(signature)
                    problems.append(
                        ErrorDetail(
                            chain_text(loop),
                            f"dependency cycle: {chain_text(loop)}",
                            code="cycle",
                            expected="an acyclic graph; break the loop with a factory that "
                            "resolves lazily",
                        )
                    )
                continue
            if dep.key in done:
                continue
            path.append(dep.key)
            on_path.add(dep.key)
            visit(dep.key, path, on_path)
            on_path.discard(dep.key)
            path.pop()
        done.add(key)

    for root in roots:
        if root not in done:
            visit(root, [root], {root})
    problems.extend(_lifetime_problems(graph, implicit, scoped))
    return problems


_RANK = {Lifetime.SINGLETON: 0, Lifetime.SCOPED: 1, Lifetime.TRANSIENT: 2}


def _lifetime_problems(
    graph: Graph, implicit: frozenset[Hashable], scoped: frozenset[Hashable]
) -> list[ErrorDetail]:
    """A singleton must not capture a scoped service, directly or through transients."""
    problems: list[ErrorDetail] = []
    for key, node in graph.items():
        if node.lifetime is not Lifetime.SINGLETON:
            continue
        stack: list[tuple[Hashable, list[Hashable]]] = [(key, [key])]
        seen: set[Hashable] = {key}
        while stack:
            current, path = stack.pop()
            for dep in _edges(graph, current, implicit):
                target = graph.get(dep.key)
                if dep.key in seen or (target is None and dep.key not in scoped):
                    continue
                seen.add(dep.key)
                chain = [*path, dep.key]
                if target is None or target.lifetime is Lifetime.SCOPED:
                    via = (
                        ""
                        if len(chain) == 2
                        else f" (through {chain_text(chain[1:-1])}, transient)"
                    )
                    problems.append(
                        ErrorDetail(
                            chain_text(chain),
                            f"singleton {describe(key)} depends on scoped "
                            f"{describe(dep.key)}{via}: the singleton would keep the first "
                            "scope's instance forever",
                            code="lifetime",
                            expected=f"{describe(key)} scoped or transient, or "
                            f"{describe(dep.key)} a singleton",
                        )
                    )
                elif target.lifetime is Lifetime.TRANSIENT:
                    stack.append((dep.key, chain))
    return problems


def topological_order(graph: Graph, keys: Sequence[Hashable] | None = None) -> list[Hashable]:
    """Return *keys* (default: all) with every dependency before its dependents.

    Registration order is kept where the graph allows. Cycles must have been
    rejected before.
    """
    order: list[Hashable] = []
    placed: set[Hashable] = set()

    def place(key: Hashable, guard: set[Hashable]) -> None:
        if key in placed or key in guard or key not in graph:
            return
        guard.add(key)
        for dep in graph[key].deps:
            place(dep.key, guard)
        guard.discard(key)
        placed.add(key)
        order.append(key)

    for key in keys if keys is not None else list(graph):
        place(key, set())
    return order


def dependents_of(graph: Graph, key: Hashable) -> set[Hashable]:
    """Every key that depends on *key*, directly or transitively."""
    reverse: dict[Hashable, set[Hashable]] = {}
    for k, node in graph.items():
        for dep in node.deps:
            reverse.setdefault(dep.key, set()).add(k)
    found: set[Hashable] = set()
    stack = [key]
    while stack:
        for parent in reverse.get(stack.pop(), ()):
            if parent not in found:
                found.add(parent)
                stack.append(parent)
    return found


def _label(text: str) -> str:
    return text.replace('"', "#quot;").replace("<", "&lt;").replace(">", "&gt;")


def to_mermaid(graph: Graph, kinds: Mapping[Hashable, Any], *, direction: str = "TD") -> str:
    """Render the graph as a Mermaid flowchart (edges point from a service to what it needs)."""
    ids: dict[Hashable, str] = {}

    def node_id(key: Hashable) -> str:
        if key not in ids:
            ids[key] = f"n{len(ids)}"
        return ids[key]

    lines = [f"graph {direction}"]
    for key, node in graph.items():
        lines.append(
            f'    {node_id(key)}["{_label(describe(key))}<br/><small>{node.lifetime.value}, '
            f'{_label(str(kinds.get(key, "")))}</small>"]'
        )
    missing: list[str] = []
    for key, node in graph.items():
        for dep in node.deps:
            if dep.key not in graph:
                if dep.optional:
                    continue
                if dep.key not in ids:
                    missing.append(node_id(dep.key))
                    lines.append(f'    {ids[dep.key]}["{_label(describe(dep.key))} (missing)"]')
            arrow = "-.->" if dep.optional else "-->"
            lines.append(f"    {node_id(key)} {arrow}|{dep.param}| {ids[dep.key]}")
    if missing:
        lines.append("    classDef missing stroke:#d33,stroke-dasharray: 4 2")
        lines.append(f"    class {','.join(missing)} missing")
    return "\n".join(lines) + "\n"
