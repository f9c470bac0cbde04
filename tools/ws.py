#!/usr/bin/env python3
"""Workspace tool for the PepperPy monorepo (stdlib only).

    python tools/ws.py list                       packages, versions, sibling deps
    python tools/ws.py check                      layout, dependency DAG, ranges, imports
    python tools/ws.py bump AREA major|minor|patch
    python tools/ws.py build [AREA ...]           wheels + sdists into dist/
    python tools/ws.py install --python PY AREA [AREA ...] [--extra EXTRA]
                                                  install built wheels; pepperpy-* never
                                                  comes from an index
    python tools/ws.py verify-env --python PY     every pepperpy-* dist in that env is ours
    python tools/ws.py wheel-check                wheel contents respect the namespace
    python tools/ws.py closure AREA               AREA and its siblings, transitively

The package index holds unrelated projects named ``pepperpy`` and
``pepperpy-core``; pip and uv pick the highest version across all sources, so
every install here names each of our distributions by a local file URL.
"""

from __future__ import annotations

import argparse
import ast
import datetime as _dt
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10
    import tomli as tomllib  # type: ignore[no-redef,import-not-found,unused-ignore]

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ROOT / "packages"
DIST = ROOT / "dist"
META = "pepperpy"

# The sibling dependencies ARCHITECTURE.md allows (area -> areas it may depend on).
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
_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;]*)(;.*)?$")
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
    return re.sub(r"[-_.]+", "-", name).lower()


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
    name: str
    extras: str
    spec: str
    marker: str

    @classmethod
    def parse(cls, text: str) -> Requirement:
        match = _REQ.match(text)
        if match is None:
            raise SystemExit(f"cannot parse requirement {text!r}")
        return cls(
            norm(match.group(1)), match.group(2) or "", match.group(3).strip(), match.group(4) or ""
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


def _vtuple(text: str) -> tuple[int, ...]:
    parts = re.findall(r"\d+", text.split("+")[0])
    return tuple(int(p) for p in parts)


def _cmp(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    n = max(len(a), len(b))
    a = a + (0,) * (n - len(a))
    b = b + (0,) * (n - len(b))
    return (a > b) - (a < b)


def admits(spec: str, version: str) -> bool:
    """Whether a PEP 440 specifier set (numeric releases only) admits *version*."""
    v = _vtuple(version)
    for clause in filter(None, (c.strip() for c in spec.split(","))):
        match = re.match(r"(~=|==|!=|<=|>=|<|>)\s*(.+)", clause)
        if match is None:
            return False
        op, target_text = match.groups()
        if target_text.endswith(".*"):
            prefix = _vtuple(target_text[:-2])
            same = v[: len(prefix)] == prefix
            if (op == "==" and not same) or (op == "!=" and same):
                return False
            continue
        t = _vtuple(target_text)
        c = _cmp(v, t)
        ok = {
            "==": c == 0,
            "!=": c != 0,
            "<=": c <= 0,
            ">=": c >= 0,
            "<": c < 0,
            ">": c > 0,
            "~=": c >= 0 and v[: len(t) - 1] == t[:-1],
        }[op]
        if not ok:
            return False
    return True


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
        where = f"packages/{area}"
        for name in REQUIRED_FILES:
            if not (pkg.path / name).is_file():
                problems.append(f"{where}: {name} is missing")
        if not (pkg.path / "tests").is_dir():
            problems.append(f"{where}: tests/ is missing")
        if norm(pkg.name) != (META if area == META else f"pepperpy-{area}"):
            problems.append(f"{where}: distribution is named {pkg.name!r}")
        wheel = pkg.pyproject.get("tool", {}).get("hatch", {}).get("build", {})
        if wheel.get("targets", {}).get("wheel", {}).get("packages") != ["src/pepperpy"]:
            problems.append(
                f"{where}: [tool.hatch.build.targets.wheel] packages must be ['src/pepperpy']"
            )
        init = pkg.path / "src" / "pepperpy" / "__init__.py"
        if area != META:
            if init.exists():
                problems.append(
                    f"{where}: ships src/pepperpy/__init__.py (breaks the PEP 420 namespace)"
                )
            if not (pkg.portion / "py.typed").is_file():
                problems.append(f"{where}: src/pepperpy/{area}/py.typed is missing")
            if not (pkg.portion / "__init__.py").is_file():
                problems.append(f"{where}: src/pepperpy/{area}/__init__.py is missing")
            if area not in ALLOWED:
                problems.append(f"{where}: area {area!r} is not in ARCHITECTURE.md's table")
        elif not init.is_file():
            problems.append(f"{where}: the meta-package must ship src/pepperpy/__init__.py")
        try:
            version = pkg.version
        except SystemExit as exc:
            problems.append(str(exc))
            continue
        if not re.fullmatch(r"\d+\.\d+\.\d+", version):
            problems.append(f"{where}: version {version!r} is not MAJOR.MINOR.PATCH")
        for text in pkg.pyproject["project"].get("dependencies", []):
            if "file:" in text or "@" in text:
                problems.append(f"{where}: dependency {text!r} is a direct reference")
        # declared siblings: allowed, present, and admitting the sibling's version
        for dep, spec in {**pkg.optional_siblings, **pkg.siblings}.items():
            if area != META and dep not in ALLOWED.get(area, set()) and dep in pkg.siblings:
                problems.append(
                    f"{where}: depends on pepperpy-{dep}, which ARCHITECTURE.md does not allow"
                )
            if dep not in packages:
                problems.append(f"{where}: depends on pepperpy-{dep}, which is not in packages/")
                continue
            if not spec:
                problems.append(f"{where}: pepperpy-{dep} has no version range")
            elif not admits(spec, packages[dep].version):
                problems.append(
                    f"{where}: range {spec!r} for pepperpy-{dep} does not admit its version "
                    f"{packages[dep].version}"
                )
        if area != META and "core" not in pkg.siblings and area != "core":
            problems.append(f"{where}: does not depend on pepperpy-core")
        # imports of siblings must be declared (required or optional)
        declared = set(pkg.siblings) | set(pkg.optional_siblings) | {area}
        src = pkg.path / "src"
        for py in sorted(src.rglob("*.py")):
            text = py.read_text(encoding="utf-8")
            where = py.relative_to(PACKAGES.parent)
            for imported in set(_IMPORT.findall(text)):
                if imported not in declared and area != META:
                    problems.append(
                        f"{where}: imports pepperpy.{imported} "
                        f"but pepperpy-{imported} is not declared"
                    )
            if area == META:
                continue
            for line, how, sibling in dynamic_siblings(text):
                if sibling not in declared:
                    problems.append(
                        f"{where}:{line}: {how} pepperpy.{sibling} but pepperpy-{sibling} "
                        "is not declared"
                    )
    if META in packages:
        problems.extend(facade_problems(packages[META]))
    if META in packages and PACKAGES == ROOT / "packages" and not sync_meta(write=False):
        problems.append(
            "packages/pepperpy: extras or facade types are out of date (run tools/ws.py sync-meta)"
        )
    # the sibling graph is a DAG
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
    callers = dict(_DYNAMIC)
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef)
    functions = [n for n in ast.walk(tree) if isinstance(n, kinds)]
    changed = True
    while changed:  # helpers passing a parameter to an importing call, transitively
        changed = False
        for fn in functions:
            if fn.name in callers:
                continue
            params = {a.arg for a in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]}
            for node in ast.walk(fn):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                how = callers.get(_call_name(node.func) or "")
                first = node.args[0]
                if how and isinstance(first, ast.Name) and first.id in params:
                    callers[fn.name] = how
                    changed = True
                    break
    found: list[tuple[int, str, str]] = []

    def sibling(node: ast.expr | None) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            match = _SIBLING.match(node.value)
            if match:
                return match.group(1)
        return None

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            how = callers.get(_call_name(node.func) or "")
            area = sibling(node.args[0])
            if how and area:
                found.append((node.lineno, how, area))
        elif isinstance(node, ast.Subscript) and _is_sys_modules(node.value):
            area = sibling(node.slice)
            if area:
                found.append((node.lineno, "looks up sys.modules for", area))
        elif (
            isinstance(node, ast.Compare)
            and len(node.ops) == 1
            and isinstance(node.ops[0], (ast.In, ast.NotIn))
            and _is_sys_modules(node.comparators[0])
        ):
            area = sibling(node.left)
            if area:
                found.append((node.lineno, "probes sys.modules for", area))
    return sorted(set(found))


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


def build(areas: list[str] | None = None, *, force: bool = False) -> list[Path]:
    """Build wheels and sdists of *areas* (default: all) into dist/."""
    packages = load_packages()
    DIST.mkdir(exist_ok=True)
    built = []
    uv = _uv()
    for area in areas or list(packages):
        pkg = packages[area]
        wheel = wheel_path(pkg)
        if wheel.exists() and not force:
            newest_src = max(p.stat().st_mtime for p in pkg.path.rglob("*") if p.is_file())
            if wheel.stat().st_mtime >= newest_src:
                built.append(wheel)
                continue
        if uv:
            cmd = [*uv, "build", "-q", "--sdist", "--wheel", "--out-dir", str(DIST), str(pkg.path)]
        else:
            cmd = [sys.executable, "-m", "build", "--outdir", str(DIST), str(pkg.path)]
        subprocess.run(cmd, check=True)
        built.append(wheel)
    return built


def constraints_file(areas: list[str]) -> Path:
    """Write a constraints file naming each of *areas* by its built wheel's file URL."""
    packages = load_packages()
    lines = [f"{packages[a].name} @ {wheel_path(packages[a]).as_uri()}" for a in areas]
    path = DIST / "local-constraints.txt"
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
        out.append({"name": name, "version": dist.version, "direct_url": url})
print(json.dumps(out))
"""


def verify_env(python: str) -> list[dict[str, str]]:
    """Fail unless every pepperpy distribution in *python*'s environment came from this checkout."""
    result = subprocess.run([python, "-c", _VERIFY], check=True, capture_output=True, text=True)
    found = json.loads(result.stdout)
    ours = {norm(p.name) for p in load_packages().values()}
    bad = []
    for dist in found:
        url = json.loads(dist["direct_url"] or "{}").get("url", "")
        local = url.startswith("file://") and (
            url.startswith(ROOT.as_uri()) or url.startswith(DIST.as_uri())
        )
        if dist["name"] not in ours or not local:
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


# --------------------------------------------------------------------------- cli


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list")
    p_check = sub.add_parser("check")
    p_check.add_argument("--root", type=Path, default=ROOT)
    p_bump = sub.add_parser("bump")
    p_bump.add_argument("area")
    p_bump.add_argument("part", choices=["major", "minor", "patch"])
    p_build = sub.add_parser("build")
    p_build.add_argument("areas", nargs="*")
    p_build.add_argument("--force", action="store_true")
    p_install = sub.add_parser("install")
    p_install.add_argument("--python", required=True)
    p_install.add_argument("--extra", action="append", default=[])
    p_install.add_argument(
        "--bare", action="store_true", help="the meta-package without its [all] extra"
    )
    p_install.add_argument("areas", nargs="+")
    p_verify = sub.add_parser("verify-env")
    p_verify.add_argument("--python", default=sys.executable)
    sub.add_parser("wheel-check")
    p_sync = sub.add_parser("sync-meta")
    p_sync.add_argument("--check", action="store_true", help="fail if out of date")
    p_closure = sub.add_parser("closure")
    p_closure.add_argument("areas", nargs="+")
    p_closure.add_argument("--optional", action="store_true")
    args = parser.parse_args(argv)

    if args.cmd == "list":
        for pkg in load_packages().values():
            deps = ", ".join(f"{d}{s}" for d, s in pkg.siblings.items()) or "-"
            print(f"{pkg.name:28} {pkg.version:8} {deps}")
    elif args.cmd == "check":
        problems = check(args.root)
        for problem in problems:
            print(f"error: {problem}")
        if problems:
            return 1
        print(f"workspace ok: {len(load_packages())} packages")
    elif args.cmd == "bump":
        bump(args.area, args.part)
    elif args.cmd == "build":
        for wheel in build(args.areas or None, force=args.force):
            print(wheel.relative_to(ROOT))
    elif args.cmd == "install":
        install(args.python, args.areas, args.extra, bare=args.bare)
    elif args.cmd == "verify-env":
        verify_env(args.python)
    elif args.cmd == "wheel-check":
        problems = wheel_check()
        for problem in problems:
            print(f"error: {problem}")
        if problems:
            return 1
        print("wheels ok")
    elif args.cmd == "sync-meta":
        if args.check:
            if not sync_meta(write=False):
                print("error: packages/pepperpy extras are out of date: run tools/ws.py sync-meta")
                return 1
            print("meta-package extras up to date")
        else:
            sync_meta(write=True)
    elif args.cmd == "closure":
        print(" ".join(closure(load_packages(), args.areas, optional=args.optional)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
