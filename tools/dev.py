#!/usr/bin/env python3
"""The README's two commands; each installs what it needs itself.

    python3 tools/dev.py demo [args]   run the example application (SQLite, in-memory)
    python3 tools/dev.py test [nox args]
                                       run every test: all packages, lint, type
                                       checks, isolated installs, namespace checks

Only python3 (3.10+) with venv and pip is required. The tools (nox, uv) go into
.venv-tools/; nox then makes one small venv per session with uv. No pepperpy-*
distribution is ever taken from a package index: each session installs ours
from this checkout and verifies it (tools/ws.py verify-env).
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS_VENV = ROOT / ".venv-tools"
TOOLS = ["nox>=2024.10.9", "uv>=0.5"]


def _bin(name: str) -> Path:
    return TOOLS_VENV / "bin" / name


def bootstrap() -> None:
    """Create .venv-tools with nox and uv, once."""
    if _bin("nox").exists() and _bin("uv").exists():
        return
    print(f"dev: creating {TOOLS_VENV.name} with {', '.join(TOOLS)}", flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(TOOLS_VENV)
    pip = [str(_bin("python")), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, *TOOLS], check=True)


def environment() -> dict[str, str]:
    """PATH with the tools and every installed CPython 3.10-3.13 (pyenv's included)."""
    paths = [str(TOOLS_VENV / "bin")]
    for version in ("3.10", "3.11", "3.12", "3.13"):
        found = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin")))
        paths.extend(found[-1:])
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([*paths, env.get("PATH", "")])
    env.setdefault("UV_PYTHON_DOWNLOADS", "never")
    env.pop("VIRTUAL_ENV", None)
    return env


def nox(args: list[str]) -> int:
    report = ROOT / ".nox" / "report.json"
    report.parent.mkdir(exist_ok=True)
    cmd = [str(_bin("nox")), "-f", str(ROOT / "noxfile.py"), "--report", str(report), *args]
    code = subprocess.run(cmd, cwd=ROOT, env=environment(), check=False).returncode
    if report.exists():
        sessions = json.loads(report.read_text()).get("sessions", [])
        passed = sum(1 for s in sessions if s.get("result") == "success")
        failed = [s["name"] for s in sessions if s.get("result") == "failed"]
        skipped = sum(1 for s in sessions if s.get("result") == "skipped")
        for name in failed:
            print(f"FAILED session: {name}")
        print(f"sessions: {passed} passed, {len(failed)} failed, {skipped} skipped")
    return code


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test", "nox"):
        print(__doc__)
        return 2
    bootstrap()
    command, rest = argv[0], argv[1:]
    if command == "demo":
        return nox(["-s", "demo", "--", *rest])
    if command == "test":
        return nox(rest or ["-t", "ci"])
    return nox(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
