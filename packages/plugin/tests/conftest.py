"""Fixtures: a throw-away third-party distribution that importlib.metadata really finds."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pepperpy.plugin import clear_entry_point_cache

MakeDist = Callable[..., Path]


@pytest.fixture(name="make_dist")
def _make_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MakeDist]:
    """Build ``<name>-<version>.dist-info`` plus modules on a fresh sys.path entry.

    This is exactly what an installed wheel leaves in site-packages, so
    :func:`importlib.metadata.entry_points` discovers it for real.
    """
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    created: list[str] = []

    def make(
        dist: str,
        *,
        version: str = "1.0.0",
        entry_points: dict[str, dict[str, str]],
        modules: dict[str, str],
    ) -> Path:
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8"
        )
        lines = []
        for group, entries in entry_points.items():
            lines.append(f"[{group}]")
            lines.extend(f"{name} = {value}" for name, value in entries.items())
            lines.append("")
        (info / "entry_points.txt").write_text("\n".join(lines), encoding="utf-8")
        for module, source in modules.items():
            (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
            created.append(module)
        clear_entry_point_cache()
        return info

    yield make
    for module in created:
        sys.modules.pop(module, None)
    clear_entry_point_cache()
