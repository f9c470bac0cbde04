"""issue 23: what a user's installer picks when the index already holds releases of our names.

The package index has older releases named ``pepperpy`` (1.8.0) and ``pepperpy-core``
(0.1.6 ... 0.5.7, Requires-Python >=3.12). This test builds a PEP 503 index served on
127.0.0.1 that holds our wheels (``tools/ws.py build``) beside *stand-ins* for those
releases: same names, versions and Requires-Python, each shipping a module
``_pepperpy_foreign_*`` that marks it as not ours. Then, with pip and with uv, on the oldest
and the newest supported Python, it runs the installs a user types:

    install pepperpy-net
    install "pepperpy[all]"
    install pepperpy-core
    install "pepperpy[storage,cache]"

After each one the environment must hold exactly the pepperpy distributions that
requirement needs, each byte for byte a wheel built here (its RECORD hashes match the
wheels copied from ``dist/`` when the index was made), no foreign marker may be
importable, and ``import pepperpy.<area>`` must work for every area installed. The same
installs run a second time with the index holding only the stand-ins and our wheels in a
``--find-links`` folder beside it (what the README's "install from a wheelhouse" does on a
machine that can reach the real index).

Third-party dependencies come only from the wheelhouse that ``nox -s index-proof``
downloads in its install step (``PEPPERPY_PROOF_WHEELHOUSE``); no configured index or
pip/uv configuration file is consulted. One venv per installer and Python; between
installs every pepperpy distribution is uninstalled (third-party ones stay, to save time).
"""

from __future__ import annotations

import base64
import glob
import hashlib
import html
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import ws

WHEELHOUSE = os.environ.get("PEPPERPY_PROOF_WHEELHOUSE", "")
PYTHONS = ("3.10", "3.13")  # the oldest and the newest supported
INSTALLS = ("pepperpy-net", "pepperpy[all]", "pepperpy-core", "pepperpy[storage,cache]")
LAYOUTS = ("one-index", "find-links")

pytestmark = pytest.mark.skipif(
    not WHEELHOUSE,
    reason="run by `nox -s index-proof`, whose install step downloads the wheelhouse",
)


def interpreter(version: str) -> str:
    """The real executable of python<version> (a pyenv shim may not run it)."""
    candidates = [shutil.which(f"python{version}")]
    candidates += sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python")))
    for candidate in filter(None, candidates):
        result = subprocess.run(
            [candidate, "-c", "import sys; print(sys.executable)"],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode == 0:
            return result.stdout.strip()
    pytest.fail(f"python{version} is not installed: the proof needs the oldest and newest Python")


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def stand_in(name: str, version: str, requires_python: str, out: Path) -> Path:
    """A wheel with the name, version and Requires-Python of a release on the index."""
    stem = name.replace("-", "_")
    marker = f"_pepperpy_foreign_{stem}_{version.replace('.', '_')}"
    info = f"{stem}-{version}.dist-info"
    files = {
        f"{marker}.py": f'"""Stand-in for the index\'s {name} {version}: not ours."""\n',
        f"{info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
            f"Summary: stand-in for the index's {name} {version}\n"
            f"Requires-Python: {requires_python}\n"
        ),
        f"{info}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: pepperpy-index-proof\n"
            "Root-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = "".join(
        f"{path},{_record_hash(text.encode())},{len(text.encode())}\n"
        for path, text in files.items()
    )
    files[f"{info}/RECORD"] = record + f"{info}/RECORD,,\n"
    wheel = out / f"{stem}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
    return wheel


def write_index(root: Path, wheels: dict[Path, str]) -> None:
    """A PEP 503 simple index at *root*: one page per project, links to ../../files/."""
    projects: dict[str, list[tuple[Path, str]]] = {}
    for wheel, requires_python in wheels.items():
        name = ws.norm(wheel.name.split("-")[0])
        projects.setdefault(name, []).append((wheel, requires_python))
    root.mkdir(parents=True)
    (root / "index.html").write_text(
        "<!DOCTYPE html><html><body>\n"
        + "".join(f'<a href="{name}/">{name}</a>\n' for name in sorted(projects))
        + "</body></html>\n"
    )
    for name, files in projects.items():
        links = []
        for wheel, requires_python in files:
            sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
            attr = (
                f' data-requires-python="{html.escape(requires_python)}"' if requires_python else ""
            )
            links.append(
                f'<a href="../../../files/{wheel.name}#sha256={sha}"{attr}>{wheel.name}</a>'
            )
        (root / name).mkdir()
        (root / name / "index.html").write_text(
            "<!DOCTYPE html><html><body>\n" + "\n".join(links) + "\n</body></html>\n"
        )


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """Our wheels and the stand-ins, as two indexes and a find-links folder, on 127.0.0.1."""
    root = tmp_path_factory.mktemp("index")
    files, ours = root / "files", root / "ours"
    files.mkdir()
    ours.mkdir()
    packages = ws.load_packages()
    ws.build()
    our_wheels = {}
    for pkg in packages.values():
        wheel = ws.wheel_path(pkg)
        shutil.copy2(wheel, files / wheel.name)
        shutil.copy2(wheel, ours / wheel.name)
        our_wheels[files / wheel.name] = str(pkg.pyproject["project"]["requires-python"])
    foreign = {
        stand_in(name, version, ws.INDEX_REQUIRES_PYTHON[name], files): ws.INDEX_REQUIRES_PYTHON[
            name
        ]
        for name, versions in ws.INDEX_RELEASES.items()
        for version in versions
    }
    write_index(root / "one-index" / "simple", {**our_wheels, **foreign})
    write_index(root / "find-links" / "simple", foreign)
    handler = partial(Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield {"base": base, "ours": ours, "root": root, "packages": packages}
    finally:
        server.shutdown()
        server.server_close()


def clean_env(home: Path) -> dict[str, str]:
    """No pip or uv configuration from the machine: only the sources each command names."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIP_", "UV_", "VIRTUAL_ENV", "PYTHON"))
    }
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        UV_PYTHON_DOWNLOADS="never",
        UV_CACHE_DIR=str(home / "uv-cache"),
        NO_PROXY="127.0.0.1",
        no_proxy="127.0.0.1",
    )
    return env


_INSPECT = r"""
import importlib, json, pkgutil, sys
from importlib.metadata import distributions
dists = []
for dist in distributions():
    name = (dist.metadata["Name"] or "").lower().replace("_", "-").replace(".", "-")
    if name == "pepperpy" or name.startswith("pepperpy-"):
        record = dist.read_text("RECORD") or ""
        dists.append({"name": name, "version": dist.version, "record": record})
foreign = sorted(m.name for m in pkgutil.iter_modules() if m.name.startswith("_pepperpy_foreign"))
imports = {}
for module in sys.argv[1:]:
    try:
        importlib.import_module(module)
        imports[module] = "ok"
    except BaseException as exc:
        imports[module] = f"{type(exc).__name__}: {exc}"
print(json.dumps({"dists": dists, "foreign": foreign, "imports": imports}))
"""


def expected_areas(packages: dict[str, ws.Package], requirement: str) -> list[str]:
    name, _, extras = requirement.partition("[")
    area = ws.area_of(name)
    assert area is not None
    roots = [area]
    if extras:
        wanted = extras.rstrip("]").split(",")
        roots += [a for a in packages if a not in (ws.META, "core")] if "all" in wanted else wanted
    return ws.closure(packages, roots)


class Venv:
    def __init__(self, tool: str, python: str, home: Path, index: dict[str, object]) -> None:
        self.tool, self.home, self.index = tool, home, index
        self.env = clean_env(home)
        self.path = home / f"venv-{tool}"
        self.uv = ws._uv()
        if tool == "uv":
            assert self.uv, "uv is not installed"
            self.run([*self.uv, "venv", "-q", "--python", python, str(self.path)])
        else:
            self.run([python, "-m", "venv", str(self.path)])
        self.python = str(self.path / "bin" / "python")

    def run(self, cmd: list[str]) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            cmd, cwd=self.home, env=self.env, capture_output=True, text=True, check=False
        )
        if result.returncode:
            raise AssertionError(
                f"$ {' '.join(cmd)}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
            )
        return result

    def install(self, requirement: str, layout: str) -> None:
        url = f"{self.index['base']}/{layout}/simple/"
        sources = ["--index-url", url, "--find-links", WHEELHOUSE]
        if layout == "find-links":
            sources += ["--find-links", str(self.index["ours"])]
        if self.tool == "uv":
            assert self.uv
            cmd = [*self.uv, "pip", "install", "-q", "--no-config", "--python", self.python]
        else:
            cmd = [self.python, "-m", "pip", "install", "-q", "--no-input"]
        self.run([*cmd, *sources, requirement])

    def inspect(self, modules: list[str]) -> dict[str, object]:
        result = self.run([self.python, "-I", "-c", _INSPECT, *modules])
        return json.loads(result.stdout)  # type: ignore[no-any-return]

    def uninstall_ours(self) -> None:
        names = [d["name"] for d in self.inspect([])["dists"]]  # type: ignore[index]
        if not names:
            return
        if self.tool == "uv":
            assert self.uv
            self.run([*self.uv, "pip", "uninstall", "-q", "--python", self.python, *names])
        else:
            self.run([self.python, "-m", "pip", "uninstall", "-q", "-y", *names])


def problems_after(
    venv: Venv, packages: dict[str, ws.Package], requirement: str, wheels: Path
) -> list[str]:
    areas = expected_areas(packages, requirement)
    modules = ["pepperpy" if a == ws.META else f"pepperpy.{a}" for a in areas]
    found = venv.inspect(modules)
    problems = []
    expected = {ws.norm(packages[a].name) for a in areas}
    installed = {d["name"] for d in found["dists"]}  # type: ignore[index]
    if installed != expected:
        problems.append(
            f"installed {sorted(installed)}, expected {sorted(expected)} "
            f"(extra: {sorted(installed - expected)}, missing: {sorted(expected - installed)})"
        )
    for dist in found["dists"]:  # type: ignore[attr-defined]
        if not ws.is_ours(dist["name"], dist["version"], dist["record"], wheels):
            problems.append(f"{dist['name']} {dist['version']} is not a wheel built here")
    if found["foreign"]:
        problems.append(f"foreign modules importable: {found['foreign']}")
    for module, outcome in found["imports"].items():  # type: ignore[attr-defined]
        if outcome != "ok":
            problems.append(f"import {module}: {outcome}")
    return problems


@pytest.mark.parametrize("python", PYTHONS)
@pytest.mark.parametrize("tool", ["pip", "uv"])
def test_installs_pick_ours_over_the_index_releases(
    index: dict[str, object], tmp_path: Path, tool: str, python: str
) -> None:
    """issue 23: each install a user types gives our distributions, never the index's."""
    packages = index["packages"]
    assert isinstance(packages, dict)
    venv = Venv(tool, interpreter(python), tmp_path, index)
    failures = []
    passed = 0
    for layout in LAYOUTS:
        for requirement in INSTALLS:
            venv.uninstall_ours()
            try:
                venv.install(requirement, layout)
            except AssertionError as exc:
                failures.append(f"[{layout}] install {requirement}: failed\n{exc}")
                continue
            problems = problems_after(venv, packages, requirement, Path(str(index["ours"])))
            if problems:
                failures.append(f"[{layout}] install {requirement}:\n  " + "\n  ".join(problems))
            else:
                passed += 1
    print(f"{tool} on Python {python}: {passed}/{len(LAYOUTS) * len(INSTALLS)} installs ours")
    assert not failures, f"{tool} on Python {python}:\n" + "\n".join(failures)


def test_stand_ins_are_what_the_index_holds(index: dict[str, object]) -> None:
    """The stand-ins are valid wheels with the index releases' names, versions and
    Requires-Python, so the proof above fights the real hazard."""
    files = Path(str(index["root"])) / "files"
    for name, versions in ws.INDEX_RELEASES.items():
        for version in versions:
            wheel = files / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
            with zipfile.ZipFile(wheel) as zf:
                meta = zf.read(f"{name.replace('-', '_')}-{version}.dist-info/METADATA").decode()
            assert f"Name: {name}\n" in meta
            assert f"Version: {version}\n" in meta
            assert f"Requires-Python: {ws.INDEX_REQUIRES_PYTHON[name]}\n" in meta


def test_readme_wheelhouse_works_on_a_fresh_checkout(
    index: dict[str, object], tmp_path: Path
) -> None:
    """issue 23: the README's install lines on a fresh machine: a bare python3 (no packaging,
    no .venv-tools) runs `tools/ws.py build`, then `pip install --find-links dist/ pepperpy-net`
    beside an index holding the older releases gives ours."""
    packages = index["packages"]
    assert isinstance(packages, dict)
    checkout = tmp_path / "checkout"
    for area in ws.closure(packages, ["net"]):
        shutil.copytree(
            packages[area].path,
            checkout / "packages" / area,
            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", ".hypothesis"),
        )
    shutil.copytree(
        ws.ROOT / "tools", checkout / "tools", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy2(ws.ROOT / "LICENSE", checkout / "LICENSE")
    bare = tmp_path / "bare"
    subprocess.run([interpreter("3.10"), "-m", "venv", "--without-pip", str(bare)], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PEPPERPY_UV")}
    build = subprocess.run(
        [str(bare / "bin" / "python"), "tools/ws.py", "build", *ws.closure(packages, ["net"])],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    assert (checkout / ".venv-tools" / "bin" / "python").exists()  # made by the bootstrap
    venv = Venv("pip", interpreter("3.10"), tmp_path, index)
    url = f"{index['base']}/find-links/simple/"
    sources = [
        "--index-url",
        url,
        "--find-links",
        WHEELHOUSE,
        "--find-links",
        str(checkout / "dist"),
    ]
    venv.run([venv.python, "-m", "pip", "install", "-q", *sources, "pepperpy-net"])
    assert problems_after(venv, packages, "pepperpy-net", checkout / "dist") == []
