"""The pepperpy namespace holds together however the portions are installed.

Runs in the ``namespace`` nox session after ``tools/ws.py build``: the built wheels
are unpacked (a pure-Python wheel install is an unzip) into one directory or into
one directory each, and a fresh interpreter imports every portion from there. The
same is checked for source trees on separate paths, the way editable installs
put them on ``sys.path``. Each case runs with and without the meta-package.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import ws

PACKAGES = ws.load_packages()
PORTIONS = sorted(a for a in PACKAGES if a != ws.META)

_PROBE = r"""
import importlib, json, sys
import pepperpy
portions = json.loads(sys.argv[1])
for area in portions:
    importlib.import_module(f"pepperpy.{area}")
facade = getattr(pepperpy, "__file__", None)
names = {}
if facade:
    names["PepperPyError"] = pepperpy.PepperPyError.__module__
print(json.dumps({"facade": facade, "path": list(pepperpy.__path__), "names": names}))
"""


def probe(paths: list[Path]) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in paths)}
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(PORTIONS)],
        env=env,
        cwd="/",
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def unpack(area: str, target: Path) -> Path:
    wheel = ws.wheel_path(PACKAGES[area])
    assert wheel.exists(), f"{wheel.name} not built: run 'python tools/ws.py build'"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return target


@pytest.mark.parametrize("with_meta", [False, True], ids=["portions", "with-meta"])
def test_one_site_packages(tmp_path: Path, with_meta: bool) -> None:
    """All wheels unpacked into one directory: every portion imports."""
    for area in PORTIONS + ([ws.META] if with_meta else []):
        unpack(area, tmp_path)
    result = probe([tmp_path])
    if with_meta:
        assert str(result["facade"]).endswith("pepperpy/__init__.py")
        assert result["names"] == {"PepperPyError": "pepperpy.core.exceptions"}
    else:
        assert result["facade"] is None  # a PEP 420 namespace package


@pytest.mark.parametrize("meta_position", ["absent", "first", "last"])
@pytest.mark.parametrize("reverse", [False, True], ids=["sorted", "reversed"])
def test_split_paths(tmp_path: Path, meta_position: str, reverse: bool) -> None:
    """One directory per wheel on sys.path, in either order, with the facade anywhere."""
    dirs = [unpack(area, tmp_path / area) for area in PORTIONS]
    if reverse:
        dirs.reverse()
    if meta_position != "absent":
        meta = unpack(ws.META, tmp_path / ws.META)
        dirs = [meta, *dirs] if meta_position == "first" else [*dirs, meta]
    result = probe(dirs)
    assert len(result["path"]) == len(dirs)  # type: ignore[arg-type]
    assert (result["facade"] is None) == (meta_position == "absent")


@pytest.mark.parametrize("with_meta", [False, True], ids=["portions", "with-meta"])
def test_source_trees_like_editable_installs(with_meta: bool) -> None:
    """packages/*/src on separate paths, as editable installs put them."""
    srcs = [PACKAGES[a].path / "src" for a in PORTIONS]
    if with_meta:
        srcs.append(PACKAGES[ws.META].path / "src")
    result = probe(srcs)
    assert (result["facade"] is not None) == with_meta


def test_portion_pairs_import_alone(tmp_path: Path) -> None:
    """Any two portions side by side (with core) import without the others."""
    for a, b in itertools.combinations(PORTIONS[:6], 2):
        needed = ws.closure(PACKAGES, [a, b])
        env_dirs = [unpack(x, tmp_path / f"{a}-{b}" / x) for x in needed]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, env_dirs))}
        code = f"import pepperpy.{a}, pepperpy.{b}, pepperpy.core"
        subprocess.run([sys.executable, "-c", code], env=env, cwd="/", check=True)


def test_wheel_contents() -> None:
    """Portions ship only pepperpy/<area>/ (py.typed inside); the meta ships the facade."""
    assert ws.wheel_check() == []
