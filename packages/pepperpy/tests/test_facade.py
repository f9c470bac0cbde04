"""Tests for the facade pepperpy/__init__.py."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

import pepperpy


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


@pytest.mark.parametrize("name", sorted(pepperpy._EXPORTS))
def test_every_name_resolves_or_says_what_to_install(name):
    """A name resolves when its distribution is installed, else names the pip command."""
    module, attribute = pepperpy._EXPORTS[name]
    if _installed(module):
        value = getattr(pepperpy, name)
        assert value is getattr(importlib.import_module(module), attribute)
    else:
        dist = "pepperpy-" + module.split(".")[1]
        with pytest.raises(ImportError, match=f"pip install {dist}"):
            getattr(pepperpy, name)


def test_missing_distribution_hint(monkeypatch):
    """The ImportError names the distribution and the extra."""
    monkeypatch.setitem(pepperpy._EXPORTS, "Teleporter", ("pepperpy.teleport", "Teleporter"))
    with pytest.raises(ImportError) as info:
        pepperpy.Teleporter  # noqa: B018
    assert "pip install pepperpy-teleport" in str(info.value)
    assert "pepperpy[teleport]" in str(info.value)


def test_a_dependency_missing_inside_a_portion_is_not_blamed_on_the_portion(monkeypatch, tmp_path):
    """An installed portion whose own import fails keeps the real ModuleNotFoundError.

    Only a missing portion gets "pip install pepperpy-x"; a library the portion
    imports (here ``issue24_no_such_driver``) is named as it is, so the user
    installs the right thing.
    """
    (tmp_path / "issue24_broken_portion.py").write_text("import issue24_no_such_driver\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(pepperpy._EXPORTS, "Broken", ("issue24_broken_portion", "Broken"))
    with pytest.raises(ModuleNotFoundError) as info:
        pepperpy.Broken  # noqa: B018
    assert info.value.name == "issue24_no_such_driver"
    assert "pip install" not in str(info.value)


def test_unknown_name_is_attribute_error():
    """Names the facade does not export raise AttributeError."""
    with pytest.raises(AttributeError):
        pepperpy.NoSuchThing  # noqa: B018


def test_dir_lists_headline_names():
    """dir(pepperpy) shows the headline names without importing them."""
    assert {"Config", "Storage", "Pipeline", "PepperPyError"} <= set(dir(pepperpy))


def test_import_is_lazy():
    """Importing pepperpy imports no portion; a name imports only its own."""
    code = (
        "import sys, pepperpy\n"
        "def areas():\n"
        "    names = [m for m in sys.modules if m.startswith('pepperpy.')]\n"
        "    return {m.split('.')[1] for m in names if m != 'pepperpy._version'}\n"
        "assert areas() == set(), areas()\n"
        "pepperpy.retry\n"
        "assert areas() == {'core'}, areas()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_namespace_stays_open():
    """The facade extends __path__, so every portion directory is searched."""
    assert pepperpy.__file__ is not None
    assert len(list(pepperpy.__path__)) >= 1
    core = importlib.import_module("pepperpy.core")
    assert core.__name__ == "pepperpy.core"
