#!/usr/bin/env python3
"""Workspace tool for the PepperPy monorepo.

    python tools/ws.py list                       packages, versions, sibling deps
    python tools/ws.py check                      layout, dependency DAG, ranges, imports,
                                                  publishing metadata
    python tools/ws.py bump AREA major|minor|patch
    python tools/ws.py release AREA major|minor|patch|X.Y.Z
                                                  version, changelog section, dependents,
                                                  the tag to push (--tag creates it)
    python tools/ws.py release-tag TAG            the area a release tag names (for CI)
    python tools/ws.py first-release              the one-off rewrite to the first public
                                                  versions (core 1.0.0, areas 1.0.0,
                                                  pepperpy 2.0.0, siblings >=1.0,<2)
    python tools/ws.py sync-metadata [--check]    project URLs, license files, classifiers,
                                                  absolute README links in every package
    python tools/ws.py build [AREA ...]           wheels + sdists into dist/ (rebuilt
                                                  whenever a source file's content changed)
    python tools/ws.py install --python PY AREA [AREA ...] [--extra EXTRA]
                                                  install built wheels; pepperpy-* never
                                                  comes from an index
    python tools/ws.py sdist-test AREA [--python PY]
                                                  unpack AREA's sdist, install it with its
                                                  test group, run its tests there
    python tools/ws.py verify-env --python PY     every pepperpy-* dist in that env is ours
    python tools/ws.py wheel-check                wheel contents respect the namespace
    python tools/ws.py closure AREA               AREA and its siblings, transitively

Versions, specifiers and requirements are parsed by ``packaging`` (the library
pip vendors). Run with a bare ``python3`` that lacks it, this script re-runs
itself with .venv-tools/bin/python (made by ``tools/dev.py bootstrap``).

The package index holds older releases named ``pepperpy`` (up to 1.8.0) and
``pepperpy-core`` (0.1.6 to 0.5.7); our first public versions are above them
(docs/packaging.md), and before a release every install here still names each
of our distributions by a local file.
"""

from __future__ import annotations

import argparse
import ast
import csv
import datetime as _dt
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS_PYTHON = ROOT / ".venv-tools" / "bin" / "python"

try:
    from packaging.requirements import InvalidRequirement
    from packaging.requirements import Requirement as _Requirement
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - 3.10
        import tomli as tomllib  # type: ignore[no-redef,import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - a bare python3 on a fresh machine
    if __name__ != "__main__" or Path(sys.prefix).resolve() == TOOLS_PYTHON.parent.parent.resolve():
        raise
    if (
        not TOOLS_PYTHON.exists()
        or subprocess.run(
            [str(TOOLS_PYTHON), "-c", "import packaging"], capture_output=True, check=False
        ).returncode
    ):
        subprocess.run([sys.executable, str(ROOT / "tools" / "dev.py"), "bootstrap"], check=True)
    os.execv(str(TOOLS_PYTHON), [str(TOOLS_PYTHON), str(Path(__file__).resolve()), *sys.argv[1:]])
PACKAGES = ROOT / "packages"
DIST = ROOT / "dist"
META = "pepperpy"

# The sibling dependencies docs/architecture.md allows (area -> areas it may depend on).
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "serialization": {"core"},
    "validation": {"core", "serialization"},
    "config": {"core", "serialization", "validation"},
    "context": {"core"},
    "logging": {"core", "context"},
    "telemetry": {"core", "context"},
    "io": {"core"},
    "resources": {"core"},
    "storage": {"core", "serialization", "io"},
    "cache": {"core", "serialization"},
    "state": {"core", "storage", "serialization"},
    "event": {"core", "context", "serialization"},
    "task": {"core", "context"},
    "pipeline": {"core"},
    "security": {"core", "serialization"},
    "net": {"core", "resources"},
    "plugin": {"core"},
    "registry": {"core"},
    "testing": {"core"},
    "dev": {"core"},
    "web": {"core", "context", "telemetry", "security", "validation", "registry"},
}
REQUIRED_FILES = ("pyproject.toml", "README.md", "CHANGELOG.md")
_IMPORT = re.compile(r"^\s*(?:from|import)\s+pepperpy\.([a-z_]+)", re.MULTILINE)
_SIBLING = re.compile(r"pepperpy\.([a-z_]+)(?:\.|$)")
# Calls that import a module named by a string, or probe whether it is importable.
_DYNAMIC = {
    "import_module": "imports",
    "__import__": "imports",
    "find_spec": "probes for",
    "find_loader": "probes for",
}
_VERSION = re.compile(r'^__version__\s*=\s*["\']([^"\']+)["\']', re.MULTILINE)


# --------------------------------------------------------------------------- model


def norm(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return str(canonicalize_name(name))


def area_of(dist: str) -> str | None:
    """Map a distribution name to its area (``pepperpy-net`` -> ``net``)."""
    dist = norm(dist)
    if dist == META:
        return META
    if dist.startswith("pepperpy-"):
        return dist[len("pepperpy-") :]
    return None


@dataclass
class Requirement:
    """A PEP 508 requirement, parsed by ``packaging`` (name normalised)."""

    name: str
    extras: str
    spec: str
    marker: str
    url: str = ""

    @classmethod
    def parse(cls, text: str) -> Requirement:
        try:
            req = _Requirement(text)
        except InvalidRequirement as exc:
            raise SystemExit(f"cannot parse requirement {text!r}: {exc}") from None
        return cls(
            norm(req.name),
            f"[{','.join(sorted(req.extras))}]" if req.extras else "",
            str(req.specifier),
            f"; {req.marker}" if req.marker else "",
            req.url or "",
        )


@dataclass
class Package:
    area: str
    path: Path
    pyproject: dict
    siblings: dict[str, str] = field(default_factory=dict)  # area -> specifier
    optional_siblings: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.pyproject["project"]["name"])

    @property
    def version_file(self) -> Path:
        rel = self.pyproject.get("tool", {}).get("hatch", {}).get("version", {}).get("path")
        if rel is None:
            raise SystemExit(f"{self.path}: [tool.hatch.version] path is missing")
        return self.path / rel

    @property
    def version(self) -> str:
        match = _VERSION.search(self.version_file.read_text())
        if match is None:
            raise SystemExit(f"{self.version_file}: no __version__")
        return match.group(1)

    @property
    def third_party(self) -> list[str]:
        out = []
        for req in self.pyproject["project"].get("dependencies", []):
            if area_of(Requirement.parse(req).name) is None:
                out.append(req)
        return out

    @property
    def test_requires(self) -> list[str]:
        return list(self.pyproject.get("dependency-groups", {}).get("test", []))

    @property
    def portion(self) -> Path:
        return self.path / "src" / "pepperpy" / self.area


def load_packages() -> dict[str, Package]:
    """Read every ``packages/*/pyproject.toml``."""
    packages: dict[str, Package] = {}
    for pyproject in sorted(PACKAGES.glob("*/pyproject.toml")):
        data = tomllib.loads(pyproject.read_text())
        pkg = Package(pyproject.parent.name, pyproject.parent, data)
        for req_text in data["project"].get("dependencies", []):
            req = Requirement.parse(req_text)
            area = area_of(req.name)
            if area is not None:
                pkg.siblings[area] = req.spec
        for reqs in data["project"].get("optional-dependencies", {}).values():
            for req_text in reqs:
                req = Requirement.parse(req_text)
                area = area_of(req.name)
                if area is not None and area != pkg.area:
                    pkg.optional_siblings.setdefault(area, req.spec)
        packages[pkg.area] = pkg
    return packages


def closure(packages: dict[str, Package], areas: list[str], *, optional: bool = False) -> list[str]:
    """Return *areas* and every sibling they need, dependencies first."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(area: str) -> None:
        if area in seen:
            return
        seen.add(area)
        pkg = packages[area]
        deps = dict(pkg.siblings)
        if optional:
            deps.update(pkg.optional_siblings)
        for dep in sorted(deps):
            if dep in packages:
                visit(dep)
        order.append(area)

    for area in areas:
        visit(area)
    return order


# --------------------------------------------------------------------------- versions


def admits(spec: str, version: str) -> bool:
    """Whether the PEP 440 specifier set *spec* admits *version*, as pip decides it.

    Pre-releases and dev releases are admitted only when the set names one
    (``packaging``'s rule): ``>=0.1,<0.2`` refuses ``0.1.0rc1``.
    """
    try:
        return SpecifierSet(spec).contains(Version(version))
    except (InvalidSpecifier, InvalidVersion):
        return False


# --------------------------------------------------------------------------- check


def check(root: Path = ROOT) -> list[str]:
    """Return every problem found in the workspace at *root* (empty when all is well)."""
    global PACKAGES
    saved = PACKAGES
    PACKAGES = root / "packages"
    try:
        return _check()
    finally:
        PACKAGES = saved


def _check() -> list[str]:
    problems: list[str] = []
    packages = load_packages()
    if "core" not in packages:
        problems.append("packages/core is missing")
    for area, pkg in packages.items():
        problems += _layout_problems(area, pkg)
        try:
            version = pkg.version
        except SystemExit as exc:
            problems.append(str(exc))
            continue
        problems += _version_problems(area, pkg, version)
        problems += _dependency_problems(area, pkg, packages)
        problems += _import_problems(area, pkg)
    problems += _workspace_problems(packages)
    problems += _cycle_problems(packages)
    return problems


def _layout_problems(area: str, pkg: Package) -> list[str]:
    """Files, names, the wheel layout and the namespace portion of one package."""
    problems = []
    where = f"packages/{area}"
    for name in REQUIRED_FILES:
        if not (pkg.path / name).is_file():
            problems.append(f"{where}: {name} is missing")
    if not (pkg.path / "tests").is_dir():
        problems.append(f"{where}: tests/ is missing")
    if norm(pkg.name) != (META if area == META else f"pepperpy-{area}"):
        problems.append(f"{where}: distribution is named {pkg.name!r}")
    tool = pkg.pyproject.get("tool", {})
    wheel = tool.get("hatch", {}).get("build", {})
    if wheel.get("targets", {}).get("wheel", {}).get("packages") != ["src/pepperpy"]:
        problems.append(
            f"{where}: [tool.hatch.build.targets.wheel] packages must be ['src/pepperpy']"
        )
    floor = tool.get("coverage", {}).get("report", {}).get("fail_under")
    if not isinstance(floor, (int, float)) or isinstance(floor, bool):
        problems.append(
            f"{where}: [tool.coverage.report] fail_under (the coverage floor) is missing"
        )
    init = pkg.path / "src" / "pepperpy" / "__init__.py"
    if area == META:
        if not init.is_file():
            problems.append(f"{where}: the meta-package must ship src/pepperpy/__init__.py")
        return problems
    if init.exists():
        problems.append(f"{where}: ships src/pepperpy/__init__.py (breaks the PEP 420 namespace)")
    if not (pkg.portion / "py.typed").is_file():
        problems.append(f"{where}: src/pepperpy/{area}/py.typed is missing")
    if not (pkg.portion / "__init__.py").is_file():
        problems.append(f"{where}: src/pepperpy/{area}/__init__.py is missing")
    if area not in ALLOWED:
        problems.append(f"{where}: area {area!r} is not in docs/architecture.md's table")
    return problems


def _version_problems(area: str, pkg: Package, version: str) -> list[str]:
    problems = []
    where = f"packages/{area}"
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        problems.append(f"{where}: version {version!r} is not MAJOR.MINOR.PATCH")
    changelog = pkg.path / "CHANGELOG.md"
    if changelog.is_file() and not re.search(
        rf"^## \[{re.escape(version)}\]", changelog.read_text(encoding="utf-8"), re.MULTILINE
    ):
        problems.append(f"{where}: CHANGELOG.md has no '## [{version}]' section")
    return problems


def _dependency_problems(area: str, pkg: Package, packages: dict[str, Package]) -> list[str]:
    """Direct references, and declared siblings: allowed, present, admitting their version."""
    problems = []
    where = f"packages/{area}"
    for text in pkg.pyproject["project"].get("dependencies", []):
        if "file:" in text or "@" in text:
            problems.append(f"{where}: dependency {text!r} is a direct reference")
    for dep, spec in {**pkg.optional_siblings, **pkg.siblings}.items():
        if area != META and dep not in ALLOWED.get(area, set()) and dep in pkg.siblings:
            problems.append(
                f"{where}: depends on pepperpy-{dep}, which docs/architecture.md does not allow"
            )
        if dep not in packages:
            problems.append(f"{where}: depends on pepperpy-{dep}, which is not in packages/")
        elif not spec:
            problems.append(f"{where}: pepperpy-{dep} has no version range")
        elif not admits(spec, packages[dep].version):
            problems.append(
                f"{where}: range {spec!r} for pepperpy-{dep} does not admit its version "
                f"{packages[dep].version}"
            )
    for text in pkg.test_requires:
        req = Requirement.parse(text)
        dep = area_of(req.name)
        if dep is not None and dep in packages and not admits(req.spec, packages[dep].version):
            problems.append(
                f"{where}: test group range {req.spec!r} for pepperpy-{dep} does not admit "
                f"its version {packages[dep].version}"
            )
    if area != META and "core" not in pkg.siblings and area != "core":
        problems.append(f"{where}: does not depend on pepperpy-core")
    return problems


def _import_problems(area: str, pkg: Package) -> list[str]:
    """Imports of siblings (static and by name at run time) must be declared."""
    if area == META:
        return []
    problems = []
    declared = set(pkg.siblings) | set(pkg.optional_siblings) | {area}
    for py in sorted((pkg.path / "src").rglob("*.py")):
        text = py.read_text(encoding="utf-8")
        where = py.relative_to(PACKAGES.parent)
        for imported in sorted(set(_IMPORT.findall(text)) - declared):
            problems.append(
                f"{where}: imports pepperpy.{imported} but pepperpy-{imported} is not declared"
            )
        for line, how, sibling in dynamic_siblings(text):
            if sibling not in declared:
                problems.append(
                    f"{where}:{line}: {how} pepperpy.{sibling} but pepperpy-{sibling} "
                    "is not declared"
                )
    return problems


def _workspace_problems(packages: dict[str, Package]) -> list[str]:
    """The facade, the index, publishing metadata, hatch.toml and the meta's extras."""
    problems = []
    if META in packages:
        problems.extend(facade_problems(packages[META]))
    problems.extend(index_problems(packages))
    problems.extend(sync_metadata(write=False))
    if PACKAGES == ROOT / "packages" and not sync_hatch(write=False):
        problems.append("hatch.toml: the environments are out of date (run tools/ws.py sync-hatch)")
    if META in packages and PACKAGES == ROOT / "packages" and not sync_meta(write=False):
        problems.append(
            "packages/pepperpy: extras or facade types are out of date (run tools/ws.py sync-meta)"
        )
    return problems


def _cycle_problems(packages: dict[str, Package]) -> list[str]:
    """The sibling graph is a DAG."""
    problems: list[str] = []
    state: dict[str, int] = {}

    def visit(area: str, stack: list[str]) -> None:
        state[area] = 1
        for dep in packages[area].siblings:
            if dep not in packages:
                continue
            if state.get(dep) == 1:
                cycle = " -> ".join([*stack[stack.index(dep) :], dep]) if dep in stack else dep
                problems.append(f"dependency cycle: {cycle}")
            elif state.get(dep) is None:
                visit(dep, [*stack, dep])
        state[area] = 2

    for area in packages:
        if state.get(area) is None:
            visit(area, [area])
    return problems


def _call_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _is_sys_modules(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "modules"
        and isinstance(node.value, ast.Name)
        and node.value.id == "sys"
    )


def dynamic_siblings(source: str) -> list[tuple[int, str, str]]:
    """Siblings a module reaches by name at run time: ``(line, how, area)``.

    Finds ``importlib.import_module("pepperpy.x")``, ``__import__(...)``,
    ``importlib.util.find_spec("pepperpy.x")`` (a probe that switches
    behaviour on whether a sibling is installed), ``sys.modules["pepperpy.x"]``
    and ``"pepperpy.x" in sys.modules``, and the same calls made through a
    helper of the module that passes its parameter on
    (``def _installed(name): return find_spec(name) is not None``).
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    callers = _importing_callers(tree)
    found: list[tuple[int, str, str]] = []
    for node in ast.walk(tree):
        hit = _dynamic_use(node, callers)
        if hit is not None:
            how, area = hit
            found.append((getattr(node, "lineno", 0), how, area))
    return sorted(set(found))


def _importing_callers(tree: ast.Module) -> dict[str, str]:
    """The import-by-name calls, plus the module's helpers passing a parameter on to one."""
    callers = dict(_DYNAMIC)
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef)
    functions = [n for n in ast.walk(tree) if isinstance(n, kinds)]
    changed = True
    while changed:  # transitively
        changed = False
        for fn in functions:
            if fn.name in callers:
                continue
            how = _passes_parameter_to(fn, callers)
            if how is not None:
                callers[fn.name] = how
                changed = True
    return callers


def _passes_parameter_to(
    fn: ast.FunctionDef | ast.AsyncFunctionDef, callers: dict[str, str]
) -> str | None:
    params = {a.arg for a in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]}
    for node in ast.walk(fn):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        how = callers.get(_call_name(node.func) or "")
        first = node.args[0]
        if how and isinstance(first, ast.Name) and first.id in params:
            return how
    return None


def _sibling_named(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        match = _SIBLING.match(node.value)
        if match:
            return match.group(1)
    return None


def _dynamic_use(node: ast.AST, callers: dict[str, str]) -> tuple[str, str] | None:
    """``(how, area)`` when *node* reaches a sibling by name, else ``None``."""
    if isinstance(node, ast.Call) and node.args:
        how = callers.get(_call_name(node.func) or "")
        area = _sibling_named(node.args[0])
        return (how, area) if how and area else None
    if isinstance(node, ast.Subscript) and _is_sys_modules(node.value):
        area = _sibling_named(node.slice)
        return ("looks up sys.modules for", area) if area else None
    if (
        isinstance(node, ast.Compare)
        and len(node.ops) == 1
        and isinstance(node.ops[0], (ast.In, ast.NotIn))
        and _is_sys_modules(node.comparators[0])
    ):
        area = _sibling_named(node.left)
        return ("probes sys.modules for", area) if area else None
    return None


# --------------------------------------------------------------------------- bump


def bump(area: str, part: str) -> str:
    packages = load_packages()
    if area not in packages:
        raise SystemExit(f"no package {area!r}; known: {', '.join(packages)}")
    pkg = packages[area]
    major, minor, patch = (int(x) for x in pkg.version.split("."))
    if part == "major":
        new = f"{major + 1}.0.0"
    elif part == "minor":
        new = f"{major}.{minor + 1}.0"
    elif part == "patch":
        new = f"{major}.{minor}.{patch + 1}"
    else:
        raise SystemExit("part must be major, minor or patch")
    text = pkg.version_file.read_text()
    pkg.version_file.write_text(_VERSION.sub(f'__version__ = "{new}"', text, count=1))
    changelog = pkg.path / "CHANGELOG.md"
    log = changelog.read_text() if changelog.exists() else "# Changelog\n"
    section = f"## [{new}] - {_dt.date.today().isoformat()}\n\n### Changed\n\n- \n\n"
    first = log.find("\n## ")
    log = log + "\n" + section if first == -1 else log[: first + 1] + section + log[first + 1 :]
    changelog.write_text(log)
    print(f"{pkg.name}: {pkg.version if False else ''}{major}.{minor}.{patch} -> {new}")
    for other in packages.values():
        spec = other.siblings.get(area) or other.optional_siblings.get(area)
        if spec is not None and not admits(spec, new):
            print(f"  dependent {other.name} requires pepperpy-{area}{spec}: widen its range")
    return new


# --------------------------------------------------------------------------- build / install


def _uv() -> list[str] | None:
    exe = os.environ.get("PEPPERPY_UV") or shutil.which("uv")
    if exe:
        return [exe]
    try:
        import uv  # type: ignore[import-not-found]

        return [uv.find_uv_bin()]
    except Exception:
        return None


def wheel_path(pkg: Package) -> Path:
    stem = norm(pkg.name).replace("-", "_")
    return DIST / f"{stem}-{pkg.version}-py3-none-any.whl"


def sdist_path(pkg: Package) -> Path:
    stem = norm(pkg.name).replace("-", "_")
    return DIST / f"{stem}-{pkg.version}.tar.gz"


_NOT_SOURCES = {
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    ".mypy_cache",
    ".ruff_cache",
    ".nox",
    "dist",
    "build",
}


def _is_source(rel: Path) -> bool:
    return not (
        any(part in _NOT_SOURCES or part.endswith(".egg-info") for part in rel.parts)
        or rel.suffix in (".pyc", ".pyo")
    )


def source_digest(pkg: Package) -> str:
    """A digest of every file a build of *pkg* may read: its tree and the sdist support files.

    Judged by content, never by modification times: a module deleted (or restored
    from an older commit) after a build changes the digest, so the wheel is rebuilt.
    """
    digest = hashlib.sha256()
    files = [
        (f"package/{p.relative_to(pkg.path).as_posix()}", p)
        for p in pkg.path.rglob("*")
        if p.is_file() and _is_source(p.relative_to(pkg.path))
    ]
    files += [(f"sdist/{p.name}", p) for p in SDIST_SUPPORT.glob("*") if p.is_file()]
    for name, path in sorted(files):
        digest.update(name.encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _stamp(pkg: Package) -> Path:
    return DIST / ".stamps" / f"{norm(pkg.name)}.sha256"


def build(areas: list[str] | None = None, *, force: bool = False) -> list[Path]:
    """Build wheels and sdists of *areas* (default: all) into dist/.

    A distribution is rebuilt unless its wheel and sdist exist and were built from
    sources with exactly the current content (``source_digest``).
    """
    packages = load_packages()
    DIST.mkdir(exist_ok=True)
    built = []
    uv = _uv()
    for area in areas or list(packages):
        pkg = packages[area]
        wheel, sdist, stamp = wheel_path(pkg), sdist_path(pkg), _stamp(pkg)
        current = f"{pkg.version} {source_digest(pkg)}"
        if (
            not force
            and wheel.exists()
            and sdist.exists()
            and stamp.exists()
            and stamp.read_text() == current
        ):
            built.append(wheel)
            continue
        for old in (wheel, sdist, stamp):
            old.unlink(missing_ok=True)
        if uv:
            cmd = [*uv, "build", "-q", "--sdist", "--wheel", "--out-dir", str(DIST), str(pkg.path)]
        else:
            cmd = [sys.executable, "-m", "build", "--outdir", str(DIST), str(pkg.path)]
        subprocess.run(cmd, check=True)
        stamp.parent.mkdir(exist_ok=True)
        stamp.write_text(current)
        built.append(wheel)
    return built


def constraints_file(areas: list[str], path: Path | None = None) -> Path:
    """Write a constraints file naming each of *areas* by its built wheel's file URL."""
    packages = load_packages()
    lines = [f"{packages[a].name} @ {wheel_path(packages[a]).as_uri()}" for a in areas]
    path = path or DIST / "local-constraints.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def install(python: str, areas: list[str], extras: list[str], *, bare: bool = False) -> None:
    """Install *areas* (with their sibling closure) from dist/ into *python*'s environment."""
    packages = load_packages()
    needed = closure(packages, areas)
    if META in areas:
        needed = closure(packages, list(packages))
        if not bare:
            extras = extras or ["all"]
    build(needed)
    constraints = constraints_file(needed)
    reqs = []
    for area in areas:
        name = packages[area].name
        reqs.append(f"{name}[{','.join(extras)}]" if extras and area == areas[0] else name)
    uv = _uv()
    if uv:
        cmd = [*uv, "pip", "install", "-q", "--python", python, "-c", str(constraints), *reqs]
    else:
        cmd = [python, "-m", "pip", "install", "-q", "-c", str(constraints), *reqs]
    subprocess.run(cmd, check=True)
    verify_env(python)


_VERIFY = r"""
import json, sys
from importlib.metadata import distributions
out = []
for dist in distributions():
    name = (dist.metadata["Name"] or "").lower().replace("_", "-")
    if name == "pepperpy" or name.startswith("pepperpy-"):
        url = dist.read_text("direct_url.json")
        record = dist.read_text("RECORD") or ""
        out.append({"name": name, "version": dist.version, "direct_url": url, "record": record})
print(json.dumps(out))
"""


def _record_files(record: str) -> dict[str, str]:
    """RECORD's ``path -> hash`` for the files a wheel ships (dist-info and bytecode left out)."""
    files = {}
    for row in csv.reader(io.StringIO(record)):
        if len(row) >= 2 and row[1]:
            path = row[0]
            if ".dist-info/" in path or "__pycache__" in path or path.endswith(".pyc"):
                continue
            files[path] = row[1]
    return files


def wheel_record(wheel: Path) -> dict[str, str]:
    """The ``path -> hash`` RECORD entries of a built wheel's files."""
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/RECORD"))
        return _record_files(zf.read(name).decode())


def is_ours(name: str, version: str, record: str, wheels: Path | None = None) -> bool:
    """Whether an installed distribution is a wheel built here: our version, byte for byte.

    Installs by name (``--find-links dist``, a local index) leave no direct URL,
    so the installed files are compared with the RECORD of the wheel in dist/ (or in
    *wheels*).
    """
    packages = {norm(p.name): p for p in load_packages().values()}
    pkg = packages.get(norm(name))
    if pkg is None or pkg.version != version:
        return False
    wheel = (wheels or DIST) / wheel_path(pkg).name
    if not wheel.exists():
        return False
    expected = wheel_record(wheel)
    installed = _record_files(record)
    return bool(expected) and all(installed.get(path) == h for path, h in expected.items())


def verify_env(python: str, *, local: tuple[Path, ...] = ()) -> list[dict[str, str]]:
    """Fail unless every pepperpy distribution in *python*'s environment came from this checkout.

    Ours: installed from a path or file in this checkout (or in *local*), or
    identical to the wheel of that version in dist/.
    """
    result = subprocess.run([python, "-c", _VERIFY], check=True, capture_output=True, text=True)
    found = json.loads(result.stdout)
    ours = {norm(p.name) for p in load_packages().values()}
    roots = [ROOT.as_uri(), DIST.as_uri(), *(Path(p).resolve().as_uri() for p in local)]
    bad = []
    for dist in found:
        url = json.loads(dist["direct_url"] or "{}").get("url", "")
        local_url = url.startswith("file://") and any(url.startswith(r) for r in roots)
        same_wheel = not url and is_ours(dist["name"], dist["version"], dist["record"])
        if dist["name"] not in ours or not (local_url or same_wheel):
            bad.append(f"{dist['name']} {dist['version']} from {url or 'a package index'}")
    if bad:
        raise SystemExit("foreign pepperpy distributions installed:\n  " + "\n  ".join(bad))
    print(f"verify-env: {len(found)} pepperpy distributions, all from this checkout")
    return found


ENTRY_MODULES: dict[str, tuple[str, ...]] = {"dev": ("_pepperpy_doctor.py",)}
"""Top-level modules a portion may ship: the ``pepperpy`` console script's entry,
which must load when the ``pepperpy`` namespace itself is broken."""


def wheel_check() -> list[str]:
    """Check built wheels: portions ship only pepperpy/<area>/ and dist-info, py.typed inside."""
    problems = []
    for pkg in load_packages().values():
        wheel = wheel_path(pkg)
        if not wheel.exists():
            problems.append(f"{wheel.name}: not built")
            continue
        names = zipfile.ZipFile(wheel).namelist()
        for name in names:
            top = name.split("/")[0]
            if top.endswith(".dist-info"):
                continue
            if pkg.area == META:
                if not name.startswith("pepperpy/") or name.count("/") != 1:
                    problems.append(f"{wheel.name}: unexpected file {name}")
            elif not name.startswith(f"pepperpy/{pkg.area}/") and name not in ENTRY_MODULES.get(
                pkg.area, ()
            ):
                problems.append(f"{wheel.name}: file outside pepperpy/{pkg.area}/: {name}")
        if pkg.area != META and f"pepperpy/{pkg.area}/py.typed" not in names:
            problems.append(f"{wheel.name}: pepperpy/{pkg.area}/py.typed missing")
        if pkg.area == META and "pepperpy/__init__.py" not in names:
            problems.append(f"{wheel.name}: the facade pepperpy/__init__.py is missing")
    return problems


def dist_license_problems(areas: list[str] | None = None) -> list[str]:
    """Every built wheel and sdist (of *areas*, default all) carries the root LICENSE and
    declares it (PEP 639)."""
    licence = (ROOT / "LICENSE").read_bytes()
    problems = []
    packages = load_packages()
    for pkg in [packages[a] for a in areas] if areas else packages.values():
        wheel, sdist = wheel_path(pkg), sdist_path(pkg)
        if not wheel.exists() or not sdist.exists():
            problems.append(f"{pkg.name} {pkg.version}: not built")
            continue
        with zipfile.ZipFile(wheel) as zf:
            names = zf.namelist()
            info = next(n.split("/")[0] for n in names if ".dist-info/" in n)
            shipped = f"{info}/licenses/LICENSE"
            if shipped not in names or zf.read(shipped) != licence:
                problems.append(f"{wheel.name}: {shipped} is missing or not the root LICENSE")
            meta = zf.read(f"{info}/METADATA").decode()
        for line in ("License-Expression: MIT", "License-File: LICENSE"):
            if line not in meta.splitlines():
                problems.append(f"{wheel.name}: METADATA lacks {line!r}")
        with tarfile.open(sdist) as tar:
            top = sdist.name.removesuffix(".tar.gz")
            try:
                member = tar.extractfile(f"{top}/LICENSE")
            except KeyError:
                member = None
            if member is None or member.read() != licence:
                problems.append(f"{sdist.name}: LICENSE is missing or not the root LICENSE")
    return problems


# --------------------------------------------------------------------------- readme

_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def readme_code(readme: Path) -> str:
    """Return every ```python block of *readme*, joined in order."""
    return "\n\n".join(_BLOCK.findall(readme.read_text(encoding="utf-8")))


# --------------------------------------------------------------------------- meta-package

BACKEND_EXTRAS = ("redis", "postgres")
"""Extras of several areas that the meta-package gathers under one name."""

_EXTRAS = re.compile(r"(# BEGIN EXTRAS\n)(.*?)(# END EXTRAS)", re.DOTALL)


def _compatible(version: str) -> str:
    """The range of releases compatible with *version*: ``>=0.1,<0.2`` for ``0.1.3``."""
    major, minor, _ = (int(x) for x in version.split("."))
    upper = f"{major}.{minor + 1}" if major == 0 else f"{major + 1}"
    return f">={major}.{minor},<{upper}"


def meta_extras(packages: dict[str, Package]) -> str:
    """The meta-package's extras block: one extra per area, and ``all``."""
    lines = ["[project.optional-dependencies]"]
    reqs = []
    for area, pkg in sorted(packages.items()):
        if area in (META, "core"):
            continue
        req = f"{pkg.name}{_compatible(pkg.version)}"
        reqs.append(req)
        lines.append(f'{area} = ["{req}"]')
    lines.append("all = [" + "".join(f'\n    "{r}",' for r in reqs) + ("\n]" if reqs else "]"))
    # Backend extras (``pepperpy[redis]``): every area's extra of that name, together.
    backends: dict[str, list[str]] = {}
    for area, pkg in sorted(packages.items()):
        if area in (META, "core"):
            continue
        for extra in pkg.pyproject["project"].get("optional-dependencies", {}):
            if extra in BACKEND_EXTRAS:
                req = f"{pkg.name}[{extra}]{_compatible(pkg.version)}"
                backends.setdefault(extra, []).append(req)
    for extra, extra_reqs in sorted(backends.items()):
        lines.append(f"{extra} = [" + "".join(f'\n    "{r}",' for r in extra_reqs) + "\n]")
    return "\n".join(lines) + "\n"


_FACADE_TYPES = re.compile(r"(    # BEGIN TYPES\n)(.*?)(    # END TYPES)", re.DOTALL)


def facade_init(meta: Package) -> Path:
    return meta.path / "src" / "pepperpy" / "__init__.py"


def facade_exports(init: Path) -> dict[str, tuple[str, str]]:
    """The facade's ``_EXPORTS`` (name -> (module, attribute)), read without importing it."""
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        target = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        if isinstance(target, ast.Name) and target.id == "_EXPORTS" and node.value is not None:
            exports = ast.literal_eval(node.value)
            return {str(k): (str(v[0]), str(v[1])) for k, v in exports.items()}
    raise SystemExit(f"{init}: no _EXPORTS dict")


def _import_order(name: str) -> tuple[int, str]:
    """ruff's (isort's) order of names in one import: CONSTANTS, Classes, functions."""
    bare = name.split(" as ")[0]
    kind = 0 if bare.isupper() and len(bare) > 1 else 1 if bare[:1].isupper() else 2
    return kind, bare


def facade_types(exports: dict[str, tuple[str, str]]) -> str:
    """The facade's ``TYPE_CHECKING`` imports: every exported name with its real type."""
    by_module: dict[str, list[str]] = {}
    for name, (module, attribute) in exports.items():
        # "X as X": an explicit re-export, which mypy --strict requires (no implicit ones)
        by_module.setdefault(module, []).append(f"{attribute} as {name}")
    lines = [
        f"    from {module} import {name}"  # one per line, as isort writes aliased imports
        for module in sorted(by_module)
        for name in sorted(by_module[module], key=_import_order)
    ]
    return "\n".join(lines) + "\n"


def _sync_facade(meta: Package, *, write: bool) -> bool:
    init = facade_init(meta)
    text = init.read_text(encoding="utf-8")
    block = facade_types(facade_exports(init))
    new = _FACADE_TYPES.sub(lambda m: m.group(1) + block + m.group(3), text)
    if write and new != text:
        init.write_text(new, encoding="utf-8")
    return new == text


def facade_problems(meta: Package) -> list[str]:
    """The facade's typing block must match ``_EXPORTS``; its test group must hold the areas."""
    init = facade_init(meta)
    where = "packages/pepperpy/src/pepperpy/__init__.py"
    if not init.is_file():
        return []
    text = init.read_text(encoding="utf-8")
    if not _FACADE_TYPES.search(text):
        return [f"{where}: no '# BEGIN TYPES' / '# END TYPES' block under TYPE_CHECKING"]
    problems = []
    if not _sync_facade(meta, write=False):
        problems.append(f"{where}: the TYPE_CHECKING imports do not match _EXPORTS (run sync-meta)")
    tested = {area_of(Requirement.parse(r).name) for r in meta.test_requires}
    for module, _ in sorted(set(facade_exports(init).values())):
        area = module.split(".")[1]
        if area != "core" and area not in tested:
            problems.append(
                f"packages/pepperpy: the facade exports pepperpy.{area} but the test group "
                f"lacks pepperpy-{area} (the facade's typing test needs it)"
            )
    return sorted(set(problems))


def sync_meta(*, write: bool) -> bool:
    """Regenerate the meta-package's extras and facade types; return whether all was current."""
    packages = load_packages()
    path = packages[META].path / "pyproject.toml"
    text = path.read_text()
    new = _EXTRAS.sub(lambda m: m.group(1) + meta_extras(packages) + m.group(3), text)
    if write and new != text:
        path.write_text(new)
    facade_current = _sync_facade(packages[META], write=write)
    return new == text and facade_current


# --------------------------------------------------------------------------- publishing

REPO_URL = "https://github.com/felipepimentel/pepperpy"
"""The project's home; the releases already on the package index name it too."""
SUPPORTED_PYTHONS = ("3.10", "3.11", "3.12", "3.13")
FIRST_RELEASE: dict[str, str] = {"core": "1.0.0", META: "2.0.0"}
"""The first public versions (every other area: 1.0.0), above every release on the index."""
FIRST_RELEASE_DEFAULT = "1.0.0"
PRE_RELEASE = "0.1.1"
"""The unpublished version most packages are at before ``first-release``."""
INDEX_RELEASES: dict[str, tuple[str, ...]] = {
    "pepperpy": ("1.8.0",),
    "pepperpy-core": ("0.1.6", "0.1.7", "0.2.0", "0.3.0", "0.4.0", "0.5.0", "0.5.7"),
}
"""Older releases of our names on the package index: pepperpy's highest, and pepperpy-core's
first, last and a sample in between (0.1.7 is what ``>=0.1,<0.2`` picked). No range of ours
may admit one, and each of our versions must be above all of them."""
INDEX_REQUIRES_PYTHON = {"pepperpy": ">=3.10,<4.0", "pepperpy-core": ">=3.12"}
"""Their Requires-Python, which the proof's stand-ins copy: pepperpy-core's releases all
declare >=3.12; for pepperpy, the value its 1.2.2 declares (1.8.0's could not be read
from here), which admits every Python we support, the harder case for the proof."""
SDIST_SUPPORT = ROOT / "tools" / "sdist"
"""What an sdist needs to run its tests alone: the root conftest's fixtures and pytest options."""
SDIST_FORCE_INCLUDE = {
    "../../tools/sdist/conftest.py": "conftest.py",
    "../../tools/sdist/pytest.ini": "pytest.ini",
}
TEST_TOOLS = ["pytest>=8", "pytest-asyncio>=0.24", "hypothesis>=6.100", "pytest-timeout>=2.2"]
"""The test runner every package's tests use (besides its own ``test`` group)."""
_URL_KEYS = ("Homepage", "Documentation", "Source", "Changelog", "Issues")


def first_version(area: str) -> str:
    return FIRST_RELEASE.get(area, FIRST_RELEASE_DEFAULT)


def project_urls(pkg: Package) -> dict[str, str]:
    """The ``[project.urls]`` a distribution publishes."""
    docs = "index" if pkg.area == META else pkg.area
    return {
        "Homepage": REPO_URL,
        "Documentation": f"{REPO_URL}/blob/main/docs/{docs}.md",
        "Source": f"{REPO_URL}/tree/main/packages/{pkg.area}",
        "Changelog": f"{REPO_URL}/blob/main/packages/{pkg.area}/CHANGELOG.md",
        "Issues": f"{REPO_URL}/issues",
    }


def python_classifiers() -> list[str]:
    return [f"Programming Language :: Python :: {v}" for v in SUPPORTED_PYTHONS]


_LINK = re.compile(r"(\]\()([^)\s]+)(\))|^(\[[^\]]+\]:[ \t]+)(\S+)", re.MULTILINE)
_ABSOLUTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|#)", re.IGNORECASE)


def absolute_links(pkg: Package, text: str) -> tuple[str, list[str]]:
    """*text* (a package README) with every relative link made absolute, and the links it
    could not resolve (outside the repository)."""
    unresolved: list[str] = []

    def fix(target: str) -> str:
        if _ABSOLUTE.match(target):
            return target
        path, sep, anchor = target.partition("#")
        resolved = (pkg.path / path).resolve()
        try:
            rel = resolved.relative_to(pkg.path.parent.parent.resolve()).as_posix()
        except ValueError:
            unresolved.append(target)
            return target
        kind = "tree" if resolved.is_dir() else "blob"
        return f"{REPO_URL}/{kind}/main/{rel}{sep}{anchor}"

    def sub(match: re.Match[str]) -> str:
        if match.group(1):
            return match.group(1) + fix(match.group(2)) + match.group(3)
        return match.group(4) + fix(match.group(5))

    in_code = False
    out = []
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith("```"):
            in_code = not in_code
        out.append(line if in_code else _LINK.sub(sub, line))
    return "".join(out), unresolved


def _set_classifiers(text: str) -> str:
    match = re.search(r"^classifiers = \[\n(.*?)^\]\n", text, re.MULTILINE | re.DOTALL)
    if match is None:
        return text
    items = re.findall(r'"([^"]+)"', match.group(1))
    wanted = python_classifiers()
    items = [c for c in items if not re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
    at = next((i + 1 for i, c in enumerate(items) if c.endswith(":: 3 :: Only")), len(items))
    items[at:at] = wanted
    body = "".join(f'    "{c}",\n' for c in items)
    return text[: match.start(1)] + body + text[match.end(1) :]


def _table_text(header: str, values: dict[str, str], *, quote_keys: bool = False) -> str:
    lines = [f"[{header}]"]
    for key, value in values.items():
        lines.append(f'{json.dumps(key) if quote_keys else key} = "{value}"')
    return "\n".join(lines) + "\n"


def _set_table(text: str, header: str, table: str, *, after_project: bool) -> str:
    """Replace the TOML table *header* in *text* by *table*, or insert it."""
    pattern = re.compile(rf"^\[{re.escape(header)}\]\n(?:(?!\[).*\n?)*", re.MULTILINE)
    match = pattern.search(text)
    if match:
        trailing = "\n" if match.group(0).endswith("\n\n") else ""
        return text[: match.start()] + table + trailing + text[match.end() :]
    if not after_project:
        return text.rstrip("\n") + "\n\n" + table
    # right after [project]'s own keys, before the comments that introduce the next table
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == "[project]")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines))
    while end > start + 1 and (lines[end - 1].startswith("#") or not lines[end - 1].strip()):
        end -= 1
    return "".join([*lines[:end], "\n", table, *lines[end:]])


def sync_metadata(*, write: bool) -> list[str]:
    """Publishing metadata of every package: return what is out of date (fix it if *write*).

    Licence file and ``license-files``, ``[project.urls]``, Python classifiers,
    absolute links in the README (the index renders it out of context), and the
    files an sdist needs to run its tests on its own.
    """
    licence = (ROOT / "LICENSE").read_bytes() if (ROOT / "LICENSE").is_file() else None
    problems: list[str] = []
    if licence is None:
        problems.append("LICENSE is missing at the repository root")
    for area, pkg in load_packages().items():
        problems += _package_metadata(area, pkg, licence, write=write)
        problems += _readme_links(area, pkg, write=write)
    return problems


def _package_metadata(area: str, pkg: Package, licence: bytes | None, *, write: bool) -> list[str]:
    """One package's licence, URLs, classifiers and sdist includes."""
    problems: list[str] = []
    where = f"packages/{area}"
    project = pkg.pyproject["project"]
    pyproject = pkg.path / "pyproject.toml"
    text = new = pyproject.read_text()
    if project.get("license") != "MIT":
        problems.append(f"{where}: license must be 'MIT' (the root LICENSE)")
    if project.get("license-files") != ["LICENSE"]:
        problems.append(f'{where}: license-files must be ["LICENSE"]')
        if "license-files" not in project:
            new = re.sub(
                r'^(license = "MIT"\n)', r'\1license-files = ["LICENSE"]\n', new, flags=re.M
            )
    own = pkg.path / "LICENSE"
    if licence is not None and (not own.is_file() or own.read_bytes() != licence):
        problems.append(f"{where}: LICENSE is missing or differs from the root LICENSE")
        if write:
            (pkg.path / "LICENSE").write_bytes(licence)
    if project.get("urls") != project_urls(pkg):
        problems.append(f"{where}: [project.urls] must list {', '.join(_URL_KEYS)}")
        new = _set_table(
            new,
            "project.urls",
            _table_text("project.urls", project_urls(pkg)),
            after_project=True,
        )
    if not set(python_classifiers()) <= set(project.get("classifiers", [])):
        problems.append(f"{where}: classifiers lack Python {', '.join(SUPPORTED_PYTHONS)}")
        new = _set_classifiers(new)
    sdist = pkg.pyproject.get("tool", {}).get("hatch", {}).get("build", {})
    sdist = sdist.get("targets", {}).get("sdist", {})
    if sdist.get("force-include") != SDIST_FORCE_INCLUDE:
        problems.append(
            f"{where}: the sdist must force-include tools/sdist/ (conftest.py, pytest.ini) "
            "so its tests run on their own"
        )
        new = _set_table(
            new,
            "tool.hatch.build.targets.sdist.force-include",
            _table_text(
                "tool.hatch.build.targets.sdist.force-include",
                SDIST_FORCE_INCLUDE,
                quote_keys=True,
            ),
            after_project=False,
        )
    if write and new != text:
        tomllib.loads(new)  # never write a file that does not parse
        pyproject.write_text(new)
    return problems


def _readme_links(area: str, pkg: Package, *, write: bool) -> list[str]:
    """Absolute links in the README (the index renders it out of context)."""
    problems: list[str] = []
    where = f"packages/{area}"
    readme = pkg.path / "README.md"
    if readme.is_file():
        old = readme.read_text(encoding="utf-8")
        fixed, unresolved = absolute_links(pkg, old)
        for target in unresolved:
            problems.append(f"{where}/README.md: link {target!r} leaves the repository")
        if fixed != old:
            problems.append(f"{where}/README.md: relative links (the index cannot follow them)")
            if write:
                readme.write_text(fixed, encoding="utf-8")
    return problems


def index_problems(packages: dict[str, Package]) -> list[str]:
    """Our versions must supersede the index's old releases, and no range may admit one."""
    problems = []
    for area, pkg in packages.items():
        old = INDEX_RELEASES.get(norm(pkg.name), ())
        if old and Version(pkg.version) <= max(Version(v) for v in old):
            problems.append(
                f"packages/{area}: version {pkg.version} is not above the index's "
                f"{pkg.name} {max(old, key=Version)}: a resolver could pick theirs"
            )
        texts = [
            *pkg.pyproject["project"].get("dependencies", []),
            *(
                r
                for reqs in pkg.pyproject["project"].get("optional-dependencies", {}).values()
                for r in reqs
            ),
            *(
                r
                for reqs in pkg.pyproject.get("dependency-groups", {}).values()
                for r in reqs
                if isinstance(r, str)
            ),
        ]
        for text in texts:
            req = Requirement.parse(text)
            admitted = [v for v in INDEX_RELEASES.get(req.name, ()) if admits(req.spec, v)]
            if admitted:
                problems.append(
                    f"packages/{area}: {text!r} admits the index's {req.name} {', '.join(admitted)}"
                )
    return problems


def _set_version(pkg: Package, new: str) -> None:
    text = pkg.version_file.read_text()
    pkg.version_file.write_text(_VERSION.sub(f'__version__ = "{new}"', text, count=1))


_SIBLING_REQ = re.compile(r'"(pepperpy(?:-[a-z_]+)?)(\[[^\]"]*\])?([<>=!~][^";]*)(;[^"]*)?"')


def set_sibling_ranges(pkg: Package, versions: dict[str, str]) -> bool:
    """Rewrite every range on a sibling in *pkg*'s pyproject to the compatible range of
    the version in *versions* (area -> version); return whether anything changed."""
    path = pkg.path / "pyproject.toml"
    text = path.read_text()

    def sub(match: re.Match[str]) -> str:
        area = area_of(match.group(1))
        if area is None or area not in versions:
            return match.group(0)
        spec = _compatible(versions[area])
        return f'"{match.group(1)}{match.group(2) or ""}{spec}{match.group(4) or ""}"'

    new = _SIBLING_REQ.sub(sub, text)
    if new != text:
        tomllib.loads(new)
        path.write_text(new)
    return new != text


def first_release() -> None:
    """The one-off rewrite to the first public versions (docs/packaging.md).

    pepperpy-core 1.0.0, every area 1.0.0, the meta-package 2.0.0: each above
    the index's releases of that name. Every sibling range becomes the new
    major (``>=1.0,<2``), the meta-package's extras are regenerated, each
    ``## [0.1.1]`` changelog heading is renamed, and the publishing metadata
    (URLs, licence, classifiers, README links, sdist test support) is written.
    Running it again changes nothing.
    """
    packages = load_packages()
    versions = {area: first_version(area) for area in packages}
    for area, pkg in packages.items():
        new, old = versions[area], pkg.version
        if Version(old) > Version(new):
            raise SystemExit(f"{pkg.name} is already at {old}, above {new}")
        if old != new:
            print(f"{pkg.name}: {old} -> {new}")
            _set_version(pkg, new)
        changelog = pkg.path / "CHANGELOG.md"
        log = changelog.read_text(encoding="utf-8")
        # the unpublished version's section (0.1.1 for most packages) becomes the release's
        heading = re.compile(rf"^## \[{re.escape(old)}\]", re.MULTILINE)
        if heading.search(log):
            changelog.write_text(heading.sub(f"## [{new}]", log, count=1), encoding="utf-8")
    for pkg in load_packages().values():
        set_sibling_ranges(pkg, versions)
    sync_meta(write=True)
    sync_metadata(write=True)
    sync_hatch(write=True)
    problems = check(PACKAGES.parent)
    for problem in problems:
        print(f"error: {problem}")
    if problems:
        raise SystemExit(1)
    print(f"first release prepared: {len(packages)} packages; next: commit, then tag each")


def tag_name(pkg: Package) -> str:
    """The git tag that releases *pkg*: ``net-v1.2.0``, ``pepperpy-v2.0.0``."""
    return f"{pkg.area}-v{pkg.version}"


def release_tag(tag: str) -> Package:
    """The package a release tag names; its version must be the checked-out one."""
    match = re.fullmatch(r"([a-z_]+)-v(\d+\.\d+\.\d+)", tag.removeprefix("refs/tags/"))
    if match is None:
        raise SystemExit(f"{tag!r} is not a release tag (<area>-v<X.Y.Z> or pepperpy-v<X.Y.Z>)")
    packages = load_packages()
    area, version = match.groups()
    if area not in packages:
        raise SystemExit(f"{tag}: no package {area!r} in packages/")
    if packages[area].version != version:
        raise SystemExit(f"{tag}: {packages[area].name} is at {packages[area].version} here")
    return packages[area]


_UNRELEASED = re.compile(r"^## \[Unreleased\][^\n]*\n", re.MULTILINE | re.IGNORECASE)


def release(area: str, part: str, *, today: str | None = None) -> str:
    """Prepare *area*'s next release: version, changelog section, dependents' ranges.

    *part* is ``major``, ``minor``, ``patch`` or an explicit ``X.Y.Z``. The
    changelog's ``## [Unreleased]`` section (which must list something) becomes
    ``## [X.Y.Z] - date``. A major release widens every sibling's range to the new
    major and notes it under their own ``[Unreleased]``; the meta-package's extras
    are regenerated. Prints the tag that publishes it.
    """
    packages = load_packages()
    if area not in packages:
        raise SystemExit(f"no package {area!r}; known: {', '.join(packages)}")
    pkg = packages[area]
    major, minor, patch = Version(pkg.version).release[:3]
    new = {
        "major": f"{major + 1}.0.0",
        "minor": f"{major}.{minor + 1}.0",
        "patch": f"{major}.{minor}.{patch + 1}",
    }.get(part, part)
    if not re.fullmatch(r"\d+\.\d+\.\d+", new) or Version(new) <= Version(pkg.version):
        raise SystemExit(f"{part!r}: give major, minor, patch or a version above {pkg.version}")
    changelog = pkg.path / "CHANGELOG.md"
    log = changelog.read_text(encoding="utf-8")
    match = _UNRELEASED.search(log)
    if match is None:
        raise SystemExit(f"{changelog}: no '## [Unreleased]' section: write the changes first")
    following = log.find("\n## ", match.end())
    body = log[match.end() : following if following != -1 else len(log)]
    if not re.search(r"^\s*[-*] \S", body, re.MULTILINE):
        raise SystemExit(f"{changelog}: the [Unreleased] section lists no change")
    date = today or _dt.date.today().isoformat()
    log = log[: match.start()] + f"## [{new}] - {date}\n" + log[match.end() :]
    changelog.write_text(log, encoding="utf-8")
    old = pkg.version
    _set_version(pkg, new)
    print(f"{pkg.name}: {old} -> {new}")
    if Version(new).major != major:
        for other in load_packages().values():
            if other.area == area:
                continue
            if set_sibling_ranges(other, {area: new}):
                note = f"- Requires {pkg.name} {_compatible(new)}.\n"
                _note_unreleased(other, note)
                print(f"  {other.name}: range on {pkg.name} widened to {_compatible(new)}")
    if META in packages:
        sync_meta(write=True)
    print(f"next: commit, then `python3 tools/ws.py release {area} --tag` and push {area}-v{new}")
    return new


def tag_release(area: str) -> int:
    """Create the annotated tag of *area*'s current version, once it is committed."""
    pkg = load_packages()[area]
    tag = tag_name(pkg)
    log = (pkg.path / "CHANGELOG.md").read_text(encoding="utf-8")
    if not re.search(rf"^## \[{re.escape(pkg.version)}\]", log, re.MULTILINE):
        raise SystemExit(f"{pkg.path}/CHANGELOG.md has no section for {pkg.version}")
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", str(pkg.path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if dirty.strip():
        raise SystemExit(f"{pkg.path} has uncommitted changes:\n{dirty}")
    subprocess.run(
        ["git", "tag", "-a", tag, "-m", f"{pkg.name} {pkg.version}"], cwd=ROOT, check=True
    )
    print(f"tagged {tag}; push it with `git push origin {tag}` to publish {pkg.name}")
    return 0


def _note_unreleased(pkg: Package, note: str) -> None:
    changelog = pkg.path / "CHANGELOG.md"
    log = changelog.read_text(encoding="utf-8") if changelog.exists() else "# Changelog\n"
    match = _UNRELEASED.search(log)
    if match is None:
        first = log.find("\n## ")
        section = f"## [Unreleased]\n\n### Changed\n\n{note}\n"
        log = log + "\n" + section if first == -1 else log[: first + 1] + section + log[first + 1 :]
    else:
        log = log[: match.end()] + f"\n### Changed\n\n{note}" + log[match.end() :]
    changelog.write_text(log, encoding="utf-8")


def sdist_test(area: str, python: str | None = None) -> int:
    """Unpack *area*'s sdist, install it with its test group, run its tests there.

    Siblings (dependencies and the test group's) are wheels built here, named by
    file URL; third-party requirements come from the configured index.
    """
    packages = load_packages()
    pkg = packages[area]
    test_siblings = [
        a for r in pkg.test_requires if (a := area_of(Requirement.parse(r).name)) is not None
    ]
    needed = closure(packages, [area, *test_siblings])
    build(needed)
    work = Path(tempfile.mkdtemp(prefix=f"sdist-{area}-"))
    try:
        with tarfile.open(sdist_path(pkg)) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(work, filter="data")
            else:  # pragma: no cover - Python < 3.10.12
                tar.extractall(work)
        (source,) = [p for p in work.iterdir() if p.is_dir()]
        venv = work / "venv"
        uv = _uv()
        interpreter = python or sys.executable
        if uv:
            subprocess.run([*uv, "venv", "-q", "--python", interpreter, str(venv)], check=True)
        else:
            subprocess.run([interpreter, "-m", "venv", str(venv)], check=True)
        venv_python = str(venv / "bin" / "python")
        constraints = constraints_file([a for a in needed if a != area], work / "constraints.txt")
        reqs = [str(source), *pkg.test_requires, *TEST_TOOLS]
        if uv:
            cmd = [*uv, "pip", "install", "-q", "--python", venv_python, "-c", str(constraints)]
        else:
            cmd = [venv_python, "-m", "pip", "install", "-q", "-c", str(constraints)]
        subprocess.run([*cmd, *reqs], check=True)
        verify_env(venv_python, local=(work,))
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        env.pop("PYTHONPATH", None)
        cmd = [venv_python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
        print(f"sdist-test: {sdist_path(pkg).name}: {' '.join(cmd[1:])}", flush=True)
        return subprocess.run(cmd, cwd=source, env=env, check=False).returncode
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------- hatch

_HATCH = re.compile(r"(# BEGIN GENERATED\n)(.*?)(# END GENERATED)", re.DOTALL)
LINT_TOOLS = ["ruff>=0.8"]
TYPE_TOOLS = ["mypy>=1.13"]


def _toml_list(items: list[str], indent: str = "") -> str:
    if not items:
        return "[]"
    return "[\n" + "".join(f"{indent}    {json.dumps(i)},\n" for i in items) + f"{indent}]"


def test_siblings(pkg: Package) -> list[str]:
    """The areas *pkg*'s ``test`` dependency group names."""
    return [a for r in pkg.test_requires if (a := area_of(Requirement.parse(r).name)) is not None]


def test_third_party(pkg: Package) -> list[str]:
    """The third-party requirements of *pkg*'s ``test`` dependency group."""
    return [r for r in pkg.test_requires if area_of(Requirement.parse(r).name) is None]


def mypy_targets(packages: dict[str, Package]) -> list[str]:
    """mypy arguments that check every portion and the facade (``-p pepperpy`` alone
    checks only the facade when portions are separate path entries)."""
    args = []
    for area in packages:
        args += ["-m", "pepperpy"] if area == META else ["-p", f"pepperpy.{area}"]
    return args


def hatch_block(packages: dict[str, Package]) -> str:
    """hatch.toml's generated environments: ``dev`` (everything editable) and the
    ``pkg`` matrix (one package with exactly its declared siblings, like nox's tests)."""
    third_party = sorted({r for pkg in packages.values() for r in test_third_party(pkg)})
    dev_deps = list(dict.fromkeys([*TEST_TOOLS, *TYPE_TOOLS, *LINT_TOOLS, *third_party]))
    areas = sorted(packages)
    members: dict[str, list[str]] = {}
    for area in areas:
        for sibling in closure(packages, [area, *test_siblings(packages[area])]):
            if sibling != area:
                members.setdefault(sibling, []).append(area)
    deps: dict[str, list[str]] = {}
    for area in areas:
        for req in test_third_party(packages[area]):
            deps.setdefault(req, []).append(area)
    member_rows = "".join(
        f'    {{ value = "packages/{s}", if = {json.dumps(sorted(a))} }},\n'
        for s, a in sorted(members.items())
    )
    dep_rows = "".join(
        f"    {{ value = {json.dumps(r)}, if = {json.dumps(sorted(a))} }},\n"
        for r, a in sorted(deps.items())
    )
    targets = " ".join(mypy_targets(packages))
    return f"""[envs.dev]
installer = "uv"
skip-install = true
workspace.members = ["packages/*"]
dependencies = {_toml_list(dev_deps)}

[envs.dev.scripts]
test = "pytest -c pyproject.toml -p no:cacheprovider -q {{args:packages}}"
lint = ["ruff check .", "ruff format --check ."]
typecheck = [
    "python tools/ws.py check",
    "mypy --config-file pyproject.toml {targets} {{args}}",
]
check = "python tools/ws.py check"

[envs.pkg]
template = "pkg"
installer = "uv"
skip-install = true
workspace.members = ["packages/{{matrix:package}}"]
dependencies = {_toml_list([*TEST_TOOLS])}

[[envs.pkg.matrix]]
package = {json.dumps(areas)}

[envs.pkg.overrides]
matrix.package.workspace = {{ members = [
{member_rows}] }}
matrix.package.dependencies = [
{dep_rows}]

[envs.pkg.scripts]
test = "pytest -c pyproject.toml -p no:cacheprovider -q packages/{{matrix:package}}/tests {{args}}"
"""


def sync_hatch(*, write: bool) -> bool:
    """Regenerate hatch.toml's environments; return whether they were current."""
    path = PACKAGES.parent / "hatch.toml"
    if not path.is_file():
        return True
    text = path.read_text()
    new = _HATCH.sub(lambda m: m.group(1) + hatch_block(load_packages()) + m.group(3), text)
    if write and new != text:
        tomllib.loads(new)
        path.write_text(new)
    return new == text


# --------------------------------------------------------------------------- cli


def _print_problems(problems: list[str], ok: str) -> int:
    for problem in problems:
        print(f"error: {problem}")
    if problems:
        return 1
    print(ok)
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    for pkg in load_packages().values():
        deps = ", ".join(f"{d}{s}" for d, s in pkg.siblings.items()) or "-"
        print(f"{pkg.name:28} {pkg.version:8} {deps}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    return _print_problems(check(args.root), f"workspace ok: {len(load_packages())} packages")


def _cmd_bump(args: argparse.Namespace) -> int:
    bump(args.area, args.part)
    return 0


def _cmd_release(args: argparse.Namespace) -> int:
    if args.tag:
        return tag_release(args.area)
    if not args.part:
        raise SystemExit("release needs major, minor, patch or X.Y.Z (or --tag)")
    release(args.area, args.part)
    return 0


def _cmd_release_tag(args: argparse.Namespace) -> int:
    pkg = release_tag(args.tag)
    print(f"area={pkg.area}\nname={pkg.name}\nversion={pkg.version}")
    print(f"wheel={wheel_path(pkg).relative_to(ROOT)}\nsdist={sdist_path(pkg).relative_to(ROOT)}")
    return 0


def _cmd_sync_metadata(args: argparse.Namespace) -> int:
    problems = sync_metadata(write=not args.check)
    for problem in problems:
        print(f"{'error' if args.check else 'fixed'}: {problem}")
    return 1 if args.check and problems else 0


def _cmd_build(args: argparse.Namespace) -> int:
    for wheel in build(args.areas or None, force=args.force):
        print(wheel.relative_to(ROOT))
    return 0


def _cmd_sync_meta(args: argparse.Namespace) -> int:
    if not args.check:
        sync_meta(write=True)
        return 0
    if not sync_meta(write=False):
        print("error: packages/pepperpy extras are out of date: run tools/ws.py sync-meta")
        return 1
    print("meta-package extras up to date")
    return 0


def _done(action: Callable[[argparse.Namespace], object]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        action(args)
        return 0

    return run


def _parser() -> argparse.ArgumentParser:
    """The command line: one sub-command per workspace task, each with its handler."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list").set_defaults(handler=_cmd_list)
    p_check = sub.add_parser("check")
    p_check.add_argument("--root", type=Path, default=ROOT)
    p_check.set_defaults(handler=_cmd_check)
    p_bump = sub.add_parser("bump")
    p_bump.add_argument("area")
    p_bump.add_argument("part", choices=["major", "minor", "patch"])
    p_bump.set_defaults(handler=_cmd_bump)
    p_release = sub.add_parser("release")
    p_release.add_argument("area")
    p_release.add_argument("part", nargs="?", help="major, minor, patch or X.Y.Z")
    p_release.add_argument(
        "--tag", action="store_true", help="tag the current version (after committing it)"
    )
    p_release.set_defaults(handler=_cmd_release)
    p_rtag = sub.add_parser("release-tag")
    p_rtag.add_argument("tag")
    p_rtag.set_defaults(handler=_cmd_release_tag)
    sub.add_parser("first-release").set_defaults(handler=_done(lambda a: first_release()))
    sub.add_parser("sync-hatch").set_defaults(handler=_done(lambda a: sync_hatch(write=True)))
    sub.add_parser("mypy-targets").set_defaults(
        handler=_done(lambda a: print(" ".join(mypy_targets(load_packages()))))
    )
    p_meta = sub.add_parser("sync-metadata")
    p_meta.add_argument("--check", action="store_true", help="fail if out of date")
    p_meta.set_defaults(handler=_cmd_sync_metadata)
    _build_commands(sub)
    return parser


def _build_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Sub-commands that build, install and inspect distributions."""
    p_sdist = sub.add_parser("sdist-test")
    p_sdist.add_argument("area")
    p_sdist.add_argument("--python", default=None)
    p_sdist.set_defaults(handler=lambda a: sdist_test(a.area, a.python))
    p_build = sub.add_parser("build")
    p_build.add_argument("areas", nargs="*")
    p_build.add_argument("--force", action="store_true")
    p_build.set_defaults(handler=_cmd_build)
    p_install = sub.add_parser("install")
    p_install.add_argument("--python", required=True)
    p_install.add_argument("--extra", action="append", default=[])
    p_install.add_argument(
        "--bare", action="store_true", help="the meta-package without its [all] extra"
    )
    p_install.add_argument("areas", nargs="+")
    p_install.set_defaults(
        handler=_done(lambda a: install(a.python, a.areas, a.extra, bare=a.bare))
    )
    p_verify = sub.add_parser("verify-env")
    p_verify.add_argument("--python", default=sys.executable)
    p_verify.set_defaults(handler=_done(lambda a: verify_env(a.python)))
    sub.add_parser("wheel-check").set_defaults(
        handler=lambda a: _print_problems(wheel_check(), "wheels ok")
    )
    p_licence = sub.add_parser("dist-license-check")
    p_licence.add_argument("areas", nargs="*")
    p_licence.set_defaults(
        handler=lambda a: _print_problems(
            dist_license_problems(a.areas or None), "every wheel and sdist carries the LICENSE"
        )
    )
    p_sync = sub.add_parser("sync-meta")
    p_sync.add_argument("--check", action="store_true", help="fail if out of date")
    p_sync.set_defaults(handler=_cmd_sync_meta)
    p_closure = sub.add_parser("closure")
    p_closure.add_argument("areas", nargs="+")
    p_closure.add_argument("--optional", action="store_true")
    p_closure.set_defaults(
        handler=_done(
            lambda a: print(" ".join(closure(load_packages(), a.areas, optional=a.optional)))
        )
    )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
