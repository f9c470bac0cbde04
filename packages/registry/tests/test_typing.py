"""mypy sees the registry's resolution results and injected signatures (verified by running it)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SNIPPET = """
    from pepperpy.registry import INJECT, Registry


    class Database: ...


    async def main(registry: Registry) -> None:
        a: Database = registry.resolve(Database)
        b: Database = await registry.get(Database)
        c: int = registry.resolve(Database)  # error
        d: int = await registry.get(Database)  # error

        @registry.inject
        def handler(x: int, db: Database = INJECT) -> str:
            return str(x)

        e: str = handler(1)
        handler("x")  # error
"""


def test_mypy_sees_resolved_types(tmp_path: Path) -> None:
    """resolve()/get() return the key's type; @inject keeps the signature."""
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
    assert len(expected) == 3
    assert found == expected, result.stdout
