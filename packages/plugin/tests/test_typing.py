"""mypy checks hook call sites against the spec (the typing promise, verified by running mypy)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SNIPPET = """
    from typing import Protocol

    from pepperpy.plugin import PluginManager, hookimpl, hookspec


    class Spec(Protocol):
        @hookspec
        def greet(self, name: str) -> str: ...

        @hookspec(firstresult=True)
        async def fetch(self, key: str) -> int: ...


    class Plugin(Spec):
        @hookimpl
        def greet(self, name: str) -> str:
            return name


    async def main(pm: PluginManager) -> None:
        ok: list[str] = pm.call(Spec.greet, name="x")
        first: int | None = await pm.acall_first(Spec.fetch, key="k")
        wrong_result: list[int] = pm.call(Spec.greet, name="x")  # error
        pm.call(Spec.greet, name=1)  # error
        pm.call(Spec.greet, nam="x")  # error


    class BadPlugin(Spec):
        @hookimpl
        def greet(self, name: int) -> str:  # error
            return str(name)
"""


def test_mypy_checks_calls_and_implementations(tmp_path: Path) -> None:
    """Wrong argument names/types, result types and impl signatures are mypy errors."""
    pytest.importorskip("mypy")
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
    found = {
        int(line.split(":")[1])
        for line in result.stdout.splitlines()
        if line.startswith("snippet.py:") and ": error:" in line
    }
    assert len(expected) == 4
    assert found == expected, result.stdout
