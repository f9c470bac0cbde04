"""The ``pepperpy`` console script as an installed artefact (issue 20 #15).

Wheels of pepperpy-core and pepperpy-dev are built from this checkout and
installed by file URL (as ``tools/ws.py install`` does: never a pepperpy-* from
an index) into a fresh venv made with uv; the tests run the console script the
venv got, not the module.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
AREAS = ("core", "dev")


def _uv() -> str:
    for candidate in (
        os.environ.get("PEPPERPY_UV"),
        shutil.which("uv"),
        str(ROOT / ".venv-tools" / "bin" / "uv"),
    ):
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.skip("uv is not available (set PEPPERPY_UV) to build a venv from the wheels")


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv holding pepperpy-core and pepperpy-dev installed from freshly built wheels."""
    if not all((ROOT / "packages" / a / "pyproject.toml").is_file() for a in AREAS):
        pytest.skip("builds wheels from the monorepo's packages/ (absent in an unpacked sdist)")
    uv = _uv()
    base = tmp_path_factory.mktemp("installed")
    wheels = base / "wheels"
    lines = []
    for area in AREAS:
        subprocess.run(
            [uv, "build", "-q", "--wheel", "--out-dir", str(wheels), str(ROOT / "packages" / area)],
            check=True,
            timeout=600,
        )
        [wheel] = wheels.glob(f"pepperpy_{area}-*.whl")
        lines.append(f"pepperpy-{area} @ {wheel.as_uri()}")
    constraints = base / "constraints.txt"
    constraints.write_text("\n".join(lines) + "\n")
    env = base / "venv"
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(env)], check=True)
    subprocess.run(
        [uv, "pip", "install", "-q", "--python", str(env / "bin" / "python"), "-c",
         str(constraints), *(f"pepperpy-{a}" for a in AREAS)],
        check=True,
        timeout=600,
    )  # fmt: skip
    return env


def _run(
    venv: Path, *args: str, pythonpath: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [str(venv / "bin" / "pepperpy"), *args],
        env=env,
        cwd=venv.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_console_script_in_a_sound_venv(venv: Path) -> None:
    """issue 20 #15: the installed command reports a sound installation and exits 0."""
    result = _run(venv, "doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no problems found" in result.stdout
    assert "pepperpy-dev" in result.stdout


def test_console_script_with_a_broken_namespace(venv: Path, tmp_path: Path) -> None:
    """issue 20 #15: a stray pepperpy/__init__.py first on sys.path: the command still reports."""
    stray = tmp_path / "stray"
    (stray / "pepperpy").mkdir(parents=True)
    (stray / "pepperpy" / "__init__.py").write_text('"""Someone else\'s pepperpy."""\n')
    info = stray / "pepperpy_core-0.5.7.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: pepperpy-core\nVersion: 0.5.7\n")
    (info / "RECORD").write_text("pepperpy/__init__.py,,\n")
    result = _run(venv, "doctor", pythonpath=stray)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1, result.stdout + result.stderr
    assert "pepperpy-core 0.5.7 is not a PepperPy distribution" in result.stdout
    assert "does not extend its __path__" in result.stdout
    assert "pip install pepperpy-" not in result.stdout


def test_console_script_info_names_the_wheels_not_the_index(venv: Path) -> None:
    """issue 20 #15: until release, never suggest 'pip install pepperpy-<area>'."""
    result = _run(venv, "info", "nothere")
    assert result.returncode == 1
    assert "pip install pepperpy-nothere" not in result.stdout
    assert "tools/ws.py" in result.stdout
