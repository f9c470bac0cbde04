"""issue 24: loading cases the suite did not pin down (found measuring branch coverage)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pepperpy.plugin import PluginInfo, PluginLoadError, PluginManager


def test_a_plugin_info_built_by_hand_loads_the_object_its_value_names() -> None:
    """A PluginInfo without an entry point imports ``module:attr.attr`` itself."""
    info = PluginInfo(name="join", value="os.path:join", group="tests.plugins")
    from os.path import join

    assert info.load() is join
    assert info.module == "os.path"


def test_a_plugin_info_that_cannot_load_names_the_plugin() -> None:
    info = PluginInfo(
        name="ghost", value="os.path:no_such_thing", group="tests.plugins", distribution="d"
    )
    with pytest.raises(PluginLoadError, match="'ghost' from distribution 'd'") as caught:
        info.load()
    assert caught.value.context["entry_point"] == "os.path:no_such_thing"
    assert isinstance(caught.value.__cause__, AttributeError)


def test_a_directory_without_init_is_a_load_error_under_raise(tmp_path: Path) -> None:
    folder = tmp_path / "not_a_package"
    folder.mkdir()
    (folder / "plugin.py").write_text("VALUE = 1\n", encoding="utf-8")
    manager = PluginManager([], policy="raise")
    with pytest.raises(PluginLoadError, match=r"directory without __init__\.py"):
        manager.load_path(folder)


def test_a_directory_without_init_is_recorded_and_skipped_under_skip(tmp_path: Path) -> None:
    folder = tmp_path / "not_a_package"
    folder.mkdir()
    manager = PluginManager([], policy="skip")
    assert manager.load_path(folder) is None
    assert [type(f.error) for f in manager.failures] == [PluginLoadError]
