"""Extension point: plugins add fields to every accepted record (pepperpy-plugin).

The host declares the contract as a typed Protocol; the built-in ``Segments``
plugin implements it, and any installed distribution can add its own through
the ``pepperpy_example.plugins`` entry point group, without touching the app.
"""

from __future__ import annotations

from typing import Any, Protocol

from pepperpy.plugin import PluginManager, hookimpl, hookspec

ENTRY_POINT_GROUP = "pepperpy_example.plugins"


class RecordHooks(Protocol):
    """The contract between the service and its plugins."""

    @hookspec
    def enrich(self, record: dict[str, Any]) -> dict[str, Any] | None:
        """Return extra fields for *record* (or None); must not change it."""


class Segments(RecordHooks):
    """Built-in: a marketing segment from age and plan."""

    requires_api = ">=1.0,<2"

    @hookimpl
    def enrich(self, record: dict[str, Any]) -> dict[str, Any] | None:
        age = record["age"]
        band = "18-29" if age < 30 else "30-49" if age < 50 else "50+"
        return {"segment": f"{record['plan']}/{band}"}


def make_plugins() -> PluginManager:
    """The plugin manager: the built-in plugin, then any installed ones."""
    manager = PluginManager([RecordHooks], api_version="1.0", entry_point_group=ENTRY_POINT_GROUP)
    manager.register(Segments())
    manager.load_entry_points()
    return manager


def enrich(manager: PluginManager, record: dict[str, Any]) -> dict[str, Any]:
    """Merge every plugin's extra fields into a copy of *record*."""
    out = dict(record)
    for extra in manager.call(RecordHooks.enrich, record=record):
        if extra:
            out.update(extra)
    return out
