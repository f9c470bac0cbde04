"""Shared fixtures for the pepperpy-storage tests."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture
def read_only() -> Iterator[Callable[[Path], None]]:
    """Make a file or directory unwritable, even for root (chattr +i), undone afterwards."""
    undo: list[Callable[[], None]] = []

    def make(path: Path) -> None:
        if os.geteuid() != 0:
            mode = path.stat().st_mode
            path.chmod(0o555 if path.is_dir() else 0o444)
            undo.append(lambda: path.chmod(mode))
            return
        result = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
        if result.returncode != 0:
            pytest.skip("cannot make a path read-only for root here (no chattr)")
        undo.append(lambda: subprocess.run(["chattr", "-i", str(path)], check=False))

    yield make
    for fn in reversed(undo):
        fn()


@pytest.fixture(params=["sqlite", "memory", "filesystem"])
def backend_name(request: pytest.FixtureRequest) -> str:
    """Every built-in backend."""
    return str(request.param)
