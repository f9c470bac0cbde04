"""Tests for ExtensionPoint: built-ins, lazy import strings and third-party entry points."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from pepperpy.core.exceptions import ConflictError, InvalidArgumentError, PluginError
from pepperpy.plugin import (
    EntryPointRegistry,
    ExtensionNotFoundError,
    ExtensionPoint,
    PluginLoadError,
)

MakeDist = Callable[..., Path]


class MemoryBackend:
    def __init__(self, size: int = 10) -> None:
        self.size = size


def test_builtins_and_lazy_import_strings(make_dist: MakeDist) -> None:
    """Built-in objects and import strings are listed; strings import on first get()."""
    make_dist(
        "lazy-dist",
        entry_points={"unrelated.group": {}},
        modules={"lazy_backend_mod": "class Lazy:\n    pass\n"},
    )
    point: ExtensionPoint[Callable[..., object]] = ExtensionPoint(
        "demo.storage.backends",
        kind="storage backend",
        builtins={"memory": MemoryBackend, "lazy": "lazy_backend_mod:Lazy"},
    )
    assert point.names() == ["lazy", "memory"]
    assert "lazy" in point
    assert len(point) == 2
    assert list(point) == ["lazy", "memory"]
    assert point.info("lazy").loaded is False
    assert "lazy_backend_mod" not in sys.modules
    assert point.get("lazy").__name__ == "Lazy"
    assert point.info("lazy").loaded is True
    backend = point.create("memory", size=3)
    assert isinstance(backend, MemoryBackend)
    assert backend.size == 3


def test_third_party_backend_through_entry_point(make_dist: MakeDist) -> None:
    """A distribution adds a backend through the group; info names the distribution."""
    make_dist(
        "storage-dynamo",
        version="3.1.0",
        entry_points={"demo2.storage.backends": {"dynamo": "dynamo_backend:Dynamo"}},
        modules={
            "dynamo_backend": "class Dynamo:\n    def __init__(self, table):\n"
            "        self.table = table\n"
        },
    )
    point: ExtensionPoint[type] = EntryPointRegistry("demo2.storage.backends", builtins={})
    assert point.names() == ["dynamo"]
    info = point.info("dynamo")
    assert (info.source, info.distribution, info.version, info.loaded) == (
        "entry point",
        "storage-dynamo",
        "3.1.0",
        False,
    )
    assert "dynamo_backend" not in sys.modules
    assert point.create("dynamo", "events").table == "events"
    assert point.get("dynamo") is point.get("dynamo")


def test_builtin_wins_and_replace() -> None:
    """Re-registering needs replace=True; a built-in replaces the cached object."""
    point: ExtensionPoint[object] = ExtensionPoint("demo3.backends", builtins={"a": 1})
    with pytest.raises(ConflictError, match="already registered"):
        point.register("a", 2)
    point.register("a", 2, replace=True)
    assert point.get("a") == 2
    with pytest.raises(InvalidArgumentError):
        point.register("", 3)


def test_unknown_name_lists_available() -> None:
    """An unknown name says what exists and how to add one."""
    point: ExtensionPoint[object] = ExtensionPoint(
        "demo4.cache.backends", kind="cache tier", builtins={"memory": object}
    )
    with pytest.raises(
        ExtensionNotFoundError, match="unknown cache tier 'redis'; available: memory"
    ):
        point.get("redis")
    with pytest.raises(LookupError):
        point.info("redis")


def test_failures_name_the_distribution(make_dist: MakeDist) -> None:
    """Import failures and non-callables are PluginErrors with context."""
    make_dist(
        "bad-transport",
        entry_points={"demo5.event.transports": {"bad": "bad_transport_mod:T", "val": "val_mod:V"}},
        modules={"bad_transport_mod": "import no_such_dependency_qq\n", "val_mod": "V = 42\n"},
    )
    point: ExtensionPoint[object] = ExtensionPoint("demo5.event.transports", kind="transport")
    with pytest.raises(PluginLoadError, match="bad-transport") as caught:
        point.get("bad")
    assert caught.value.context["distribution"] == "bad-transport"
    with pytest.raises(PluginError, match="not callable"):
        point.create("val")
    assert "demo5" in repr(point)
