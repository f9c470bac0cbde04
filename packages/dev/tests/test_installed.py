"""The ``pepperpy`` console script as an installed artefact (issue 20 #15).

Wheels of pepperpy-core and pepperpy-dev are built from this checkout and
installed by file URL (as ``tools/ws.py install`` does: never a pepperpy-* from
an index) into a fresh venv made with uv (``pepperpy.testing.wheel_venv``); the
tests run the console script the venv got, not the module.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pepperpy.testing import WheelVenv, wheel_venv

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> WheelVenv:
    """A venv holding pepperpy-core and pepperpy-dev installed from freshly built wheels."""
    return wheel_venv(tmp_path_factory.mktemp("installed"), ["core", "dev"], root=ROOT)


def test_console_script_in_a_sound_venv(venv: WheelVenv) -> None:
    """issue 20 #15: the installed command reports a sound installation and exits 0."""
    result = venv.run("pepperpy", "doctor", timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no problems found" in result.stdout
    assert "pepperpy-dev" in result.stdout


def test_console_script_with_a_broken_namespace(venv: WheelVenv, tmp_path: Path) -> None:
    """issue 20 #15: a stray pepperpy/__init__.py first on sys.path: the command still reports."""
    stray = tmp_path / "stray"
    (stray / "pepperpy").mkdir(parents=True)
    (stray / "pepperpy" / "__init__.py").write_text('"""Someone else\'s pepperpy."""\n')
    info = stray / "pepperpy_core-0.5.7.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: pepperpy-core\nVersion: 0.5.7\n")
    (info / "RECORD").write_text("pepperpy/__init__.py,,\n")
    result = venv.run("pepperpy", "doctor", pythonpath=stray, timeout=120)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1, result.stdout + result.stderr
    assert "pepperpy-core 0.5.7 is not a PepperPy distribution" in result.stdout
    assert "does not extend its __path__" in result.stdout
    assert "pip install pepperpy-" not in result.stdout


def test_console_script_info_names_the_wheels_not_the_index(venv: WheelVenv) -> None:
    """issue 20 #15: until release, never suggest 'pip install pepperpy-<area>'."""
    result = venv.run("pepperpy", "info", "nothere", timeout=120)
    assert result.returncode == 1
    assert "pip install pepperpy-nothere" not in result.stdout
    assert "tools/ws.py" in result.stdout
