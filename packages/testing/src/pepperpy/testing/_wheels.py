"""A fresh venv holding this checkout's packages installed from freshly built wheels.

Tests of an installed artefact (a console script, a ``pytest11`` entry point, the
files a wheel ships) must not run against the editable dev install. These helpers
build wheels of the monorepo's packages with uv, install them by file URL (as
``tools/ws.py install`` does: never a pepperpy-* distribution from an index) into
a new venv, and run commands there with a clean environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from pepperpy.core.exceptions import ExternalError, InvalidArgumentError

__all__ = ["WheelVenv", "find_uv", "wheel_venv"]

_BUILD_TIMEOUT = 600.0


def find_uv(root: Path | None = None) -> str | None:
    """The uv executable: ``PEPPERPY_UV``, else ``uv`` on PATH, else in ``<root>/.venv-tools``."""
    candidates = [os.environ.get("PEPPERPY_UV"), shutil.which("uv")]
    if root is not None:
        candidates.append(str(root / ".venv-tools" / "bin" / "uv"))
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def _run_checked(command: Sequence[str], what: str) -> None:
    try:
        result = subprocess.run(
            list(command), capture_output=True, text=True, timeout=_BUILD_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ExternalError(
            f"could not {what}: {exc}",
            hint="Check that uv works: run the command in the context by hand.",
            context={"command": list(command)},
        ) from exc
    if result.returncode != 0:
        raise ExternalError(
            f"could not {what} (exit {result.returncode}): {result.stderr.strip()[-2000:]}",
            hint="Run the command in the context by hand to see the whole output.",
            context={"command": list(command)},
        )


@dataclass(frozen=True)
class WheelVenv:
    """A venv made by :func:`wheel_venv`; :meth:`run` runs its commands."""

    path: Path
    """The venv's directory."""

    @property
    def python(self) -> Path:
        """The venv's interpreter."""
        return self.bin("python")

    def bin(self, name: str) -> Path:
        """The venv's executable *name* (a console script, ``python``, ``pytest``, ...)."""
        return self.path / "bin" / name

    def run(
        self,
        name: str,
        *args: str,
        cwd: Path | None = None,
        pythonpath: Path | None = None,
        drop_env_prefixes: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        timeout: float = 300.0,
    ) -> subprocess.CompletedProcess[str]:
        """Run the venv's executable *name* with *args*; the result holds stdout and stderr as text.

        The environment is this process's without ``PYTHONPATH``, ``VIRTUAL_ENV`` and
        any variable starting with one of *drop_env_prefixes*; then *pythonpath*
        (when given) becomes ``PYTHONPATH`` and *env* is added. *cwd* defaults to the
        venv's parent directory. A non-zero exit is returned, not raised.
        """
        clean = {
            key: value
            for key, value in os.environ.items()
            if key not in ("PYTHONPATH", "VIRTUAL_ENV")
            and not any(key.startswith(prefix) for prefix in drop_env_prefixes)
        }
        if pythonpath is not None:
            clean["PYTHONPATH"] = str(pythonpath)
        clean.update(env or {})
        return subprocess.run(
            [str(self.bin(name)), *args],
            env=clean,
            cwd=cwd if cwd is not None else self.path.parent,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def wheel_venv(
    base: Path,
    areas: Sequence[str],
    *,
    root: Path,
    extra: Sequence[str] = (),
    python: str | None = None,
) -> WheelVenv:
    """Build wheels of *areas* from the monorepo at *root* and install them in a new venv.

    Each ``packages/<area>`` is built into ``<base>/wheels``; the venv (``<base>/venv``,
    made for *python*, default this interpreter) gets ``pepperpy-<area>`` for each area,
    pinned to its wheel by a constraints file, and the *extra* requirements (third-party
    distributions, from the index). Meant for a module-scoped fixture::

        @pytest.fixture(scope="module")
        def venv(tmp_path_factory):
            return wheel_venv(tmp_path_factory.mktemp("installed"), ["core", "dev"], root=ROOT)

    Skips the calling test (``pytest.skip``) when *root* has no ``packages/<area>`` for
    an area (as in an unpacked sdist) or uv is not found (:func:`find_uv`).

    Raises:
        InvalidArgumentError: *areas* is empty.
        ExternalError: A build or install command failed (the message ends with its stderr).
    """
    if not areas or isinstance(areas, str):
        raise InvalidArgumentError(
            f"areas must be a non-empty sequence of area names, not {areas!r}",
            hint='Pass the areas to install, e.g. ["core", "dev"].',
        )
    if not all((root / "packages" / area / "pyproject.toml").is_file() for area in areas):
        pytest.skip("builds wheels from the monorepo's packages/ (absent in an unpacked sdist)")
    uv = find_uv(root)
    if uv is None:
        pytest.skip("uv is not available (set PEPPERPY_UV) to build a venv from the wheels")
    wheels = base / "wheels"
    pins = []
    for area in areas:
        source = root / "packages" / area
        _run_checked(
            [uv, "build", "-q", "--wheel", "--out-dir", str(wheels), str(source)],
            f"build the wheel of {source}",
        )
        [wheel] = wheels.glob(f"pepperpy_{area}-*.whl")
        pins.append(f"pepperpy-{area} @ {wheel.as_uri()}")
    constraints = base / "constraints.txt"
    constraints.write_text("\n".join(pins) + "\n", encoding="utf-8")
    venv = WheelVenv(base / "venv")
    interpreter = python if python is not None else sys.executable
    _run_checked([uv, "venv", "-q", "--python", interpreter, str(venv.path)], f"create {venv.path}")
    requirements = [*(f"pepperpy-{area}" for area in areas), *extra]
    _run_checked(
        [uv, "pip", "install", "-q", "--python", str(venv.python), "-c", str(constraints),
         *requirements],
        f"install {requirements} into {venv.path}",
    )  # fmt: skip
    return venv
