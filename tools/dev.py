#!/usr/bin/env python3
"""The README's two commands; each installs what it needs itself.

    python3 tools/dev.py demo [args]   run the example application (SQLite, in-memory)
    python3 tools/dev.py test [nox args]
                                       run every test: all packages, lint, type
                                       checks, isolated installs, namespace checks,
                                       the release checks (index proof, twine, actionlint)
    python3 tools/dev.py bootstrap     only create (or update) .venv-tools
    python3 tools/dev.py coverage      print the coverage table of the last test run
                                       (package, branch coverage, floor)

Only python3 (3.10+) with venv and pip is required. The tools (nox, uv,
packaging) go into .venv-tools/; nox then makes one small venv per session with
uv. No pepperpy-* distribution is ever taken from a remote package index: each
session installs ours from this checkout and verifies it (tools/ws.py
verify-env); the index-proof session serves its own index on 127.0.0.1.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS_VENV = ROOT / ".venv-tools"
# packaging: tools/ws.py parses versions, specifiers and requirements with it.
TOOLS = [
    "nox>=2024.10.9",
    "uv>=0.5",
    "packaging>=24",
    "tomli>=1.1; python_version < '3.11'",
]
TOOLS_STAMP = TOOLS_VENV / "pepperpy-tools.txt"


def _bin(name: str) -> Path:
    return TOOLS_VENV / "bin" / name


def bootstrap() -> None:
    """Create .venv-tools with TOOLS once; install TOOLS again when the list changed."""
    wanted = "\n".join(TOOLS) + "\n"
    if _bin("python").exists() and TOOLS_STAMP.exists() and TOOLS_STAMP.read_text() == wanted:
        return
    if not (_bin("python").exists() and _bin("nox").exists()):
        print(f"dev: creating {TOOLS_VENV.name} with {', '.join(TOOLS)}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(TOOLS_VENV)
    else:
        print(f"dev: updating {TOOLS_VENV.name} to {', '.join(TOOLS)}", flush=True)
    pip = [str(_bin("python")), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, *TOOLS], check=True)
    TOOLS_STAMP.write_text(wanted)


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


SERVICES_ENV = ROOT / ".nox" / "services.env"
SUMMARY = ""  # the closing line, repeated last so it ends the output


def start_services() -> dict[str, str]:
    """Start redis-server and PostgreSQL on 127.0.0.1 for the backend tests.

    Returns the variables (PEPPERPY_REDIS_URL, PEPPERPY_POSTGRES_DSN) the sessions
    need. On CI (``CI=true``) the backend tests must not skip, so
    PEPPERPY_REQUIRE_SERVICES=1 is set: a server that cannot start fails them.
    """
    SERVICES_ENV.parent.mkdir(exist_ok=True)
    services = [str(_bin("python")), str(ROOT / "tools" / "services.py")]
    code = subprocess.run(
        [*services, "start", "--env-file", str(SERVICES_ENV)], cwd=ROOT, check=False
    ).returncode
    values: dict[str, str] = {}
    if code == 0 and SERVICES_ENV.exists():
        for line in SERVICES_ENV.read_text().splitlines():
            name, sep, value = line.partition("=")
            if sep and name.strip():
                values[name.strip()] = value.strip()
    else:
        print("dev: services did not start; backend tests will say why", flush=True)
    if os.environ.get("CI") == "true":
        values["PEPPERPY_REQUIRE_SERVICES"] = "1"
    return values


def stop_services() -> None:
    """Stop what start_services started (servers reused from the environment stay up)."""
    services = [str(_bin("python")), str(ROOT / "tools" / "services.py")]
    subprocess.run([*services, "stop", "--env-file", str(SERVICES_ENV)], cwd=ROOT, check=False)


def _nox_cmd(*args: str) -> list[str]:
    return [str(_bin("nox")), "-f", str(ROOT / "noxfile.py"), *args]


def _summary(reports: list[Path]) -> None:
    sessions = []
    for report in reports:
        if report.exists():
            sessions += json.loads(report.read_text()).get("sessions", [])
    passed = sum(1 for s in sessions if s.get("result") == "success")
    failed = [s["name"] for s in sessions if s.get("result") == "failed"]
    skipped = [s["name"] for s in sessions if s.get("result") == "skipped"]
    for name in failed:
        print(f"FAILED session: {name}")
    for name in skipped:
        print(f"SKIPPED session: {name}")
    global SUMMARY
    SUMMARY = f"sessions: {passed} passed, {len(failed)} failed, {len(skipped)} skipped"
    print(SUMMARY, flush=True)


def _coverage_table() -> None:
    """One table: package, branch coverage measured by its tests session, its floor."""
    import re

    results = sorted((ROOT / ".nox" / "coverage").glob("*.json"))
    if not results:
        return
    rows = []
    for result in results:
        area = result.stem
        measured = json.loads(result.read_text())["totals"]["percent_covered"]
        pyproject = (ROOT / "packages" / area / "pyproject.toml").read_text()
        found = re.search(r"^fail_under\s*=\s*([0-9.]+)", pyproject, re.MULTILINE)
        floor = found.group(1) if found else None
        rows.append((f"pepperpy-{area}" if area != "pepperpy" else area, measured, floor))
    print("| package | branch coverage | floor |", flush=True)
    print("|---|---:|---:|")
    for name, measured, floor in rows:
        print(f"| {name} | {measured:.1f}% | {'-' if floor is None else f'{floor}%'} |")
    print(flush=True)


def nox(args: list[str]) -> int:
    report = ROOT / ".nox" / "report.json"
    report.parent.mkdir(exist_ok=True)
    cmd = _nox_cmd("--report", str(report), *args)
    code = subprocess.run(cmd, cwd=ROOT, env=environment(), check=False).returncode
    _coverage_table()
    _summary([report])
    return code


def _weight(name: str) -> int:
    """Rough cost order, heaviest first: the main Python's tests (under coverage), the index
    proof, other tests, sdists, then the rest."""
    if name.startswith("tests-") and name.endswith("-3.12"):
        return 0
    for rank, prefix in enumerate(("index-proof", "tests-", "sdist-"), start=1):
        if name.startswith(prefix):
            return rank
    return 4


def nox_sharded(args: list[str], shards: int) -> int:
    """Run the selected sessions on *shards* parallel workers (one per core).

    Wheels are built once first, so parallel isolated installs never build the same
    wheel at once. Each worker takes the next session from one queue (heaviest
    first), so the workers finish together whatever each session costs; each
    session's output is printed whole when every session has finished.
    """
    import queue
    import threading

    env = environment()
    listing = subprocess.run(
        _nox_cmd(*args, "--json", "-l"),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    names = [s["session"] for s in json.loads(listing.stdout)]
    if not names:
        print("no sessions selected")
        return 1
    subprocess.run(
        [str(_bin("python")), str(ROOT / "tools" / "ws.py"), "build"], cwd=ROOT, env=env, check=True
    )
    shutil.rmtree(ROOT / ".nox" / "coverage", ignore_errors=True)  # this run's table only
    runs = ROOT / ".nox" / "runs"
    shutil.rmtree(runs, ignore_errors=True)
    runs.mkdir(parents=True)
    todo: queue.Queue[str] = queue.Queue()
    for name in sorted(names, key=lambda n: (_weight(n), n)):
        todo.put(name)
    codes: dict[str, int] = {}

    def worker() -> None:
        while True:
            try:
                name = todo.get_nowait()
            except queue.Empty:
                return
            report = runs / f"{name}.json"
            with (runs / f"{name}.log").open("w") as log:
                cmd = _nox_cmd("--report", str(report), "-s", name)
                code = subprocess.run(
                    cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, check=False
                ).returncode
            codes[name] = code
            print(f"{'ok    ' if code == 0 else 'FAILED'} {name}", flush=True)

    threads = [threading.Thread(target=worker) for _ in range(shards)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for name in names:
        print(f"===== {name} =====", flush=True)
        print((runs / f"{name}.log").read_text(errors="replace"), flush=True)
    _coverage_table()
    _summary([runs / f"{name}.json" for name in names])
    return max(codes.values(), default=1)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test", "nox", "bootstrap", "coverage"):
        print(__doc__)
        return 2
    if argv[0] == "coverage":  # the table from .nox/coverage/*.json (CI's summary job)
        _coverage_table()
        return 0
    bootstrap()
    command, rest = argv[0], argv[1:]
    if command == "bootstrap":
        return 0
    if command == "demo":
        return nox(["-s", "demo", "--", *rest])
    if command == "test":
        os.environ.update(start_services())
        try:
            if rest:
                return nox(rest)
            shards = int(os.environ.get("PEPPERPY_TEST_SHARDS", os.cpu_count() or 1))
            return nox_sharded(["-t", "ci"], max(1, min(shards, 4)))
        finally:
            stop_services()
            if SUMMARY:
                print(SUMMARY, flush=True)
    return nox(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
