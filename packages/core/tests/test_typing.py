"""A user's code importing from pepperpy.core type-checks under mypy --strict."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mypy")

USER_CODE = """
from pepperpy.core import Lifecycle, ManualClock, NotFoundError, RetryPolicy, parse_duration, retry


class Service(Lifecycle):
    async def _on_start(self) -> None:
        pass


@retry(attempts=2)
async def fetch(key: str) -> bytes:
    raise NotFoundError(key)


seconds: float = parse_duration("1m")
policy: RetryPolicy = RetryPolicy(clock=ManualClock())
"""

BAD_CODE = """
from pepperpy.core import parse_duration

seconds: str = parse_duration("1m")
"""


def _mypy(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "user_code.py"
    path.write_text(code)
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_names_are_exported_for_type_checkers(tmp_path):
    """Every name used comes through pepperpy.core with its real type."""
    result = _mypy(tmp_path, USER_CODE)
    assert 0 == result.returncode, result.stdout


def test_wrong_types_are_caught(tmp_path):
    """The lazily exported names are not Any: a wrong annotation is an error."""
    result = _mypy(tmp_path, BAD_CODE)
    assert 1 == result.returncode
    assert "Incompatible types in assignment" in result.stdout
