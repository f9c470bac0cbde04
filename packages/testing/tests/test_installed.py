"""The pytest plugin as an installed artefact (issue 20 #17, "close the class").

pepperpy-core and pepperpy-testing wheels are built from this checkout and
installed by file URL (as ``tools/ws.py install`` does: never a pepperpy-* from
an index) into a fresh venv made with uv (``pepperpy.testing.wheel_venv``). pytest
in that venv loads the plugin through its ``pytest11`` entry point, in a project
that has its own ``tools/services.py``: the plugin must never execute it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pepperpy.testing import WheelVenv, wheel_venv

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> WheelVenv:
    """A venv with pepperpy-core, pepperpy-testing (wheels) and the redis client."""
    base = tmp_path_factory.mktemp("installed")
    return wheel_venv(base, ["core", "testing"], root=ROOT, extra=["redis"])


def test_entry_point_plugin_never_runs_the_projects_files(venv: WheelVenv, tmp_path: Path) -> None:
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
    result = venv.run(
        "python",
        *("-m", "pytest", "-p", "no:cacheprovider", "-rs", "-q"),
        cwd=project,
        drop_env_prefixes=["PEPPERPY_"],
    )
    output = result.stdout + result.stderr
    assert not executed.exists(), output
    assert "the plugin ran me" not in output
    assert "1 passed" in output or "2 passed" in output, output
    if shutil.which("redis-server"):
        assert "2 passed" in output, output  # started from the package's own code
    else:
        assert "redis-server is not installed" in output, output
