"""Fixtures for the other PepperPy packages, defined only when those are installed."""

from __future__ import annotations

import importlib.util
from typing import Any


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def register_package_fixtures(namespace: dict[str, Any]) -> None:
    """Add package-specific fixtures to the plugin module's namespace."""
    # Filled in as packages land; each import stays inside the fixture body.
    del namespace
