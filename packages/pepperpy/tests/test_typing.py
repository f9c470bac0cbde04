"""The facade is typed for checkers: mypy sees every exported name's real type (issue 22 #7)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import mypy  # the test group installs it: this test must run, never skip

import pepperpy

SNIPPET = """
    from pepperpy import PluginManager, Registry, Storage

    registry: Registry = Registry()
    registry.register_value(int, 1)
    manager: PluginManager = PluginManager()

    Registry().no_such_method()  # error
    count: int = PluginManager()  # error
    name: str = Storage  # error
"""


def test_mypy_strict_sees_the_real_types_of_facade_names(tmp_path: Path) -> None:
    """Three misused facade names are three mypy errors (each was Any before)."""
    assert mypy.__file__
    source = tmp_path / "snippet.py"
    source.write_text(textwrap.dedent(SNIPPET).lstrip("\n"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--cache-dir",
            str(tmp_path / "cache"),
            str(source),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    expected = {
        number
        for number, text in enumerate(source.read_text().splitlines(), start=1)
        if text.endswith("# error")
    }
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    found = {int(line.split(":")[1]) for line in errors if line.startswith("snippet.py:")}
    assert len(expected) == 3
    assert found == expected, result.stdout + result.stderr
    assert len(errors) == 3, result.stdout


def test_every_exported_name_is_typed() -> None:
    """The TYPE_CHECKING block imports each name of _EXPORTS from its module (no drift)."""
    source = Path(pepperpy.__file__).read_text(encoding="utf-8")
    block = source.split("# BEGIN TYPES", 1)[1].split("# END TYPES", 1)[0]
    imported = {
        name.strip().strip(",()").split(" as ")[-1]
        for line in block.splitlines()
        for name in (line.split(" import ", 1)[1] if " import " in line else line).split(",")
        if name.strip().strip(",()")
    }
    assert set(pepperpy._EXPORTS) <= imported
