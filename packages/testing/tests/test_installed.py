"""The pytest plugin as an installed artefact (issue 20 #17, "close the class").

pepperpy-core and pepperpy-testing wheels are built from this checkout and
installed by file URL (as ``tools/ws.py install`` does: never a pepperpy-* from
an index) into a fresh venv made with uv. pytest in that venv loads the plugin
through its ``pytest11`` entry point, in a project that has its own
``tools/services.py``: the plugin must never execute it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
AREAS = ("core", "testing")


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
    """A venv with pepperpy-core, pepperpy-testing (wheels) and the redis client."""
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
         str(constraints), *(f"pepperpy-{a}" for a in AREAS), "redis"],
        check=True,
        timeout=600,
    )  # fmt: skip
    return env


def test_entry_point_plugin_never_runs_the_projects_files(venv: Path, tmp_path: Path) -> None:
    """issue 20 #17: the installed plugin, in a project with an unrelated tools/services.py."""
    project = tmp_path / "project"
    (project / "tools").mkdir(parents=True)
    executed = tmp_path / "EXECUTED"
    (project / "tools" / "services.py").write_text(
        f"open({str(executed)!r}, 'w').write('ran')\nraise SystemExit('the plugin ran me')\n"
    )
    (project / "test_app.py").write_text(
        "def test_plugin_loaded_by_entry_point(manual_clock):\n"
        "    assert type(manual_clock).__name__ == 'ManualClock'\n"
        "\n"
        "def test_uses_redis(redis_url):\n"
        "    assert redis_url.startswith('redis://127.0.0.1:')\n"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PEPPERPY_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pytest", "-p", "no:cacheprovider", "-rs", "-q"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert not executed.exists(), output
    assert "the plugin ran me" not in output
    assert "1 passed" in output or "2 passed" in output, output
    if shutil.which("redis-server"):
        assert "2 passed" in output, output  # started from the package's own code
    else:
        assert "redis-server is not installed" in output, output
