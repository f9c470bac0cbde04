"""Fixtures every PepperPy package's tests may use, shipped at the root of each sdist.

The monorepo's root conftest.py provides the same fixtures; this copy has no
dependency on the repository (tools/ws.py), so an unpacked sdist runs its tests
on its own. tools/tests/test_sdist_support.py keeps the two in step.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def readme_code(readme: Path) -> str:
    """Return every ```python block of *readme*, joined in order."""
    return "\n\n".join(_BLOCK.findall(readme.read_text(encoding="utf-8")))


@pytest.fixture
def run_readme(tmp_path: Path) -> Callable[[str], subprocess.CompletedProcess[str]]:
    """Run the README examples of the package owning a test file, in a fresh interpreter."""

    def run(test_file: str) -> subprocess.CompletedProcess[str]:
        readme = Path(test_file).resolve().parent.parent / "README.md"
        code = readme_code(readme)
        assert code.strip(), f"{readme} has no ```python example"
        script = tmp_path / "readme_example.py"
        script.write_text(code, encoding="utf-8")
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        result = subprocess.run(
            [sys.executable, str(script)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=False,
        )
        assert result.returncode == 0, (
            f"README example of {readme.parent.name} failed:\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
        return result

    return run
