"""Fixtures shared by every package's tests (loaded from the repository root)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "tools"))
from ws import readme_code


@pytest.fixture
def run_readme(tmp_path: Path) -> Callable[[str], subprocess.CompletedProcess[str]]:
    """Run the README examples of the package owning a test file, in a fresh interpreter.

    The blocks run in a temporary directory with the test's own interpreter, so
    they see exactly the packages the test session installed.
    """

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
