"""Tests for discovery: entry points (real dist-info on sys.path), paths and directories."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.plugin import (
    PluginLoadError,
    clear_entry_point_cache,
    discover_entry_points,
)

MakeDist = Callable[..., Path]

GREETER = """
    from pepperpy.plugin import hookimpl

    class Greeter:
        @hookimpl
        def greet(self, name):
            return f"hello {name}"

    plugin = Greeter()
"""


def test_discovers_third_party_distribution_without_importing(make_dist: MakeDist) -> None:
    """An entry point of an installed distribution is listed, and listing imports nothing."""
    make_dist(
        "acme-greeter",
        version="2.3.0",
        entry_points={"demoapp.plugins": {"greeter": "acme_greeter:plugin"}},
        modules={"acme_greeter": GREETER},
    )
    infos = discover_entry_points("demoapp.plugins")
    assert [i.name for i in infos] == ["greeter"]
    info = infos[0]
    assert (info.distribution, info.version) == ("acme-greeter", "2.3.0")
    assert info.value == "acme_greeter:plugin"
    assert info.module == "acme_greeter"
    assert "acme_greeter" not in sys.modules
    plugin = info.load()
    assert plugin.greet("x") == "hello x"
    assert "acme_greeter" in sys.modules


def test_scan_is_cached_until_refresh(make_dist: MakeDist) -> None:
    """The scan runs once per group; refresh=True sees distributions installed later."""
    make_dist(
        "first-dist",
        entry_points={"cachedapp.plugins": {"one": "first_mod:plugin"}},
        modules={"first_mod": "plugin = object()\n"},
    )
    first = discover_entry_points("cachedapp.plugins")
    assert first is discover_entry_points("cachedapp.plugins")
    make_dist(
        "second-dist",
        entry_points={"cachedapp.plugins": {"two": "second_mod:plugin"}},
        modules={"second_mod": "plugin = object()\n"},
    )
    # make_dist clears the cache like an installer hook would; prime it again
    discover_entry_points("cachedapp.plugins")
    assert [i.name for i in discover_entry_points("cachedapp.plugins")] == ["one", "two"]
    clear_entry_point_cache("cachedapp.plugins")
    assert [i.name for i in discover_entry_points("cachedapp.plugins", refresh=True)] == [
        "one",
        "two",
    ]


def test_stale_cache_until_refresh(make_dist: MakeDist, tmp_path: Path) -> None:
    """Without refresh a cached (empty) scan is reused; refresh=True rescans."""
    assert discover_entry_points("lateapp.plugins") == ()
    make_dist(
        "late-dist",
        entry_points={"otherapp.plugins": {"x": "late_mod:plugin"}},
        modules={"late_mod": "plugin = object()\n"},
    )
    # write a second dist by hand without clearing the cache
    info = tmp_path / "site" / "late_two-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: late-two\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[lateapp.plugins]\nlate = late_mod:plugin\n")
    discover_entry_points("lateapp.plugins")
    assert [i.name for i in discover_entry_points("lateapp.plugins", refresh=True)] == ["late"]


def test_load_failure_names_plugin_and_distribution(make_dist: MakeDist) -> None:
    """A plugin whose import raises gives a PluginLoadError naming it and its distribution."""
    make_dist(
        "broken-dist",
        entry_points={"brokenapp.plugins": {"broken": "broken_mod:plugin"}},
        modules={"broken_mod": "raise RuntimeError('boom at import')\n"},
    )
    (info,) = discover_entry_points("brokenapp.plugins")
    with pytest.raises(PluginLoadError, match="boom at import") as caught:
        info.load()
    assert caught.value.context["plugin"] == "broken"
    assert caught.value.context["distribution"] == "broken-dist"
    assert isinstance(caught.value.__cause__, RuntimeError)


def test_group_must_be_a_name() -> None:
    """An empty group is a programming error."""
    with pytest.raises(InvalidArgumentError, match="group"):
        discover_entry_points("")
