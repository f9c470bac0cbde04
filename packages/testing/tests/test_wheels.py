"""pepperpy.testing.wheel_venv and WheelVenv: the shared builder of installed-artefact venvs.

It replaced the copies in packages/dev/tests/test_installed.py and
packages/testing/tests/test_installed.py (review finding: duplicated test
scaffolding); those tests cover the real build. These cover the edges: where uv
is looked for, when the caller is skipped, what a failed command raises, and the
environment a command runs in.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from pepperpy.core.exceptions import ExternalError, InvalidArgumentError
from pepperpy.testing import WheelVenv, find_uv, wheel_venv


def _script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    """A tree shaped like the monorepo, with packages/core and packages/dev."""
    for area in ("core", "dev"):
        (tmp_path / "packages" / area).mkdir(parents=True)
        (tmp_path / "packages" / area / "pyproject.toml").write_text("[project]\n")
    return tmp_path


@pytest.fixture
def no_uv(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PEPPERPY_UV", raising=False)
    monkeypatch.setenv("PATH", "")


def test_find_uv_prefers_the_env_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = _script(tmp_path / "my-uv", "exit 0")
    _script(tmp_path / "path" / "uv", "exit 0")
    monkeypatch.setenv("PEPPERPY_UV", str(chosen))
    monkeypatch.setenv("PATH", str(tmp_path / "path"))
    assert find_uv() == str(chosen)
    monkeypatch.setenv("PEPPERPY_UV", str(tmp_path / "missing"))
    assert find_uv() == str(tmp_path / "path" / "uv")


@pytest.mark.usefixtures("no_uv")
def test_find_uv_falls_back_to_the_tools_venv(monorepo: Path) -> None:
    assert find_uv(monorepo) is None
    assert find_uv() is None
    tools_uv = _script(monorepo / ".venv-tools" / "bin" / "uv", "exit 0")
    assert find_uv(monorepo) == str(tools_uv)


@pytest.mark.parametrize("areas", [[], (), "core"])
def test_wheel_venv_needs_areas(areas: list[str], tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="areas"):
        wheel_venv(tmp_path, areas, root=tmp_path)


def test_wheel_venv_skips_outside_the_monorepo(tmp_path: Path) -> None:
    with pytest.raises(pytest.skip.Exception, match="unpacked sdist"):
        wheel_venv(tmp_path / "base", ["core"], root=tmp_path)


@pytest.mark.usefixtures("no_uv")
def test_wheel_venv_skips_without_uv(monorepo: Path, tmp_path: Path) -> None:
    with pytest.raises(pytest.skip.Exception, match="PEPPERPY_UV"):
        wheel_venv(tmp_path / "base", ["core", "dev"], root=monorepo)


def test_a_failed_build_is_an_external_error(
    monorepo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = _script(tmp_path / "uv", "echo 'no build backend' >&2; exit 3")
    monkeypatch.setenv("PEPPERPY_UV", str(broken))
    with pytest.raises(ExternalError, match=r"build the wheel .* \(exit 3\): no build backend"):
        wheel_venv(tmp_path / "base", ["core"], root=monorepo)


def test_an_unrunnable_uv_is_an_external_error(
    monorepo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_executable = tmp_path / "uv"
    not_executable.write_text("not a program")
    monkeypatch.setenv("PEPPERPY_UV", str(not_executable))
    with pytest.raises(ExternalError, match="could not build") as info:
        wheel_venv(tmp_path / "base", ["core"], root=monorepo)
    assert info.value.context["command"][0] == str(not_executable)


def test_run_cleans_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    venv = WheelVenv(tmp_path / "venv")
    venv.python.parent.mkdir(parents=True)
    venv.python.symlink_to(sys.executable)
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    monkeypatch.setenv("VIRTUAL_ENV", "/some/venv")
    monkeypatch.setenv("PEPPERPY_REDIS_URL", "redis://x")
    monkeypatch.setenv("KEEP_ME", "1")
    show = "import json, os; print(json.dumps({'env': dict(os.environ), 'cwd': os.getcwd()}))"

    result = venv.run("python", "-c", show)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert "PYTHONPATH" not in seen["env"] and "VIRTUAL_ENV" not in seen["env"]
    assert seen["env"]["PEPPERPY_REDIS_URL"] == "redis://x" and seen["env"]["KEEP_ME"] == "1"
    assert os.path.samefile(seen["cwd"], tmp_path)

    result = venv.run(
        "python",
        "-c",
        show,
        cwd=tmp_path / "venv",
        pythonpath=tmp_path,
        drop_env_prefixes=["PEPPERPY_"],
        env={"ADDED": "yes"},
    )
    seen = json.loads(result.stdout)
    assert "PEPPERPY_REDIS_URL" not in seen["env"]
    assert seen["env"]["PYTHONPATH"] == str(tmp_path) and seen["env"]["ADDED"] == "yes"
    assert os.path.samefile(seen["cwd"], tmp_path / "venv")


def test_run_returns_a_failure(tmp_path: Path) -> None:
    venv = WheelVenv(tmp_path)
    _script(venv.bin("tool"), "echo out; echo err >&2; exit 4")
    result = venv.run("tool")
    assert (result.returncode, result.stdout, result.stderr) == (4, "out\n", "err\n")
