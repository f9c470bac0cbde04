"""Nox sessions for the PepperPy monorepo, generated from packages/*/pyproject.toml.

    nox -l                       list every session
    nox -s tests-core-3.12       one package's tests on one Python
    nox -t core                  every session of one package
    nox -t ci                    what .ci/run runs

Per package: ``tests-<area>-<py>`` (that package's tests against the siblings it
declares, editable), ``typecheck-<area>`` (mypy --strict), ``isolated-<area>``
(its wheel alone in a fresh venv, built here, never a pepperpy-* from an index).
Workspace-wide: ``lint``, ``workspace``, ``namespace``, ``build``, ``demo``,
``bench``, ``docs``.

Every install of a pepperpy-* distribution names a local source (an editable
path or a file URL constraint), and each session ends its install step with
``tools/ws.py verify-env``, which fails if any pepperpy-* distribution in the
venv did not come from this checkout.
"""

from __future__ import annotations

import glob
import os
import shutil
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "tools"))
import ws  # noqa: E402

nox.options.default_venv_backend = "uv"
nox.options.error_on_missing_interpreters = os.environ.get("CI") == "true"
nox.needs_version = ">=2024.4.15"

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
MAIN_PY = "3.12"
# The full matrix runs every package on the oldest and the main Python; core and
# the meta-package (the namespace machinery) run on all four.
CI_PYTHONS = {"core": PYTHONS, "pepperpy": PYTHONS}
CI_DEFAULT_PYTHONS = ["3.10", MAIN_PY]
TEST_TOOLS = ["pytest>=8", "pytest-asyncio>=0.24", "hypothesis>=6.100", "pytest-timeout>=2.2"]
# A hung test fails after this many seconds (with every thread's stack) instead of
# eating the CI budget.
TEST_TIMEOUT = "300"
LINT_TOOLS = ["ruff>=0.8"]
TYPE_TOOLS = ["mypy>=1.13"]

PACKAGES = ws.load_packages()


def _interpreters() -> None:
    """Put pyenv's interpreters on PATH so uv finds python3.X without downloading."""
    os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
    extra = []
    for version in PYTHONS:
        if shutil.which(f"python{version}") is None:
            found = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin")))
            extra.extend(found[-1:])
    if extra:
        os.environ["PATH"] = os.pathsep.join([*extra, os.environ.get("PATH", "")])


_interpreters()
# tools/ws.py builds wheels with uv; point it at the uv nox itself uses.
_uv_exe = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
if Path(_uv_exe).exists():
    os.environ.setdefault("PEPPERPY_UV", _uv_exe)


def _editables(areas: list[str]) -> list[str]:
    args: list[str] = []
    for area in ws.closure(PACKAGES, areas):
        args += ["-e", str(PACKAGES[area].path)]
    return args


def _verify(session: nox.Session) -> None:
    session.run("python", str(ROOT / "tools" / "ws.py"), "verify-env", "--python", "python")


def _pytest_args(session: nox.Session, tests: Path) -> list[str]:
    return [
        "python",
        "-m",
        "pytest",
        "-c",
        str(ROOT / "pyproject.toml"),
        "--rootdir",
        str(ROOT),
        "-p",
        "no:cacheprovider",
        "--timeout",
        TEST_TIMEOUT,
        "-q",
        str(tests),
        *session.posargs,
    ]


def _test_requires(pkg: ws.Package) -> tuple[list[str], list[str]]:
    """Split a package's test group into third-party requirements and sibling areas.

    Siblings (``pepperpy-testing`` for the plugin, say) are installed editable from
    this checkout like every other sibling, never by name from an index.
    """
    third_party, siblings = [], []
    for text in pkg.test_requires:
        area = ws.area_of(ws.Requirement.parse(text).name)
        if area is None:
            third_party.append(text)
        else:
            siblings.append(area)
    return third_party, siblings


def _make_tests(area: str) -> None:
    pkg = PACKAGES[area]
    pythons = CI_PYTHONS.get(area, CI_DEFAULT_PYTHONS)
    third_party, sibling_tools = _test_requires(pkg)

    def tests(session: nox.Session) -> None:
        session.install(*TEST_TOOLS, *third_party, *_editables([area, *sibling_tools]))
        _verify(session)
        session.run(*_pytest_args(session, pkg.path / "tests"))

    tests.__doc__ = f"Run {pkg.name}'s tests against the siblings it declares."
    for python in PYTHONS:
        tags = [area, "tests"] + (["ci"] if python in pythons else [])
        nox.session(name=f"tests-{area}-{python}", python=python, tags=tags)(tests)


def _make_typecheck(area: str) -> None:
    pkg = PACKAGES[area]

    third_party, sibling_tools = _test_requires(pkg)

    def typecheck(session: nox.Session) -> None:
        session.install(*TYPE_TOOLS, *third_party, *_editables([area, *sibling_tools]))
        _verify(session)
        module = "pepperpy" if area == ws.META else f"pepperpy.{area}"
        flag = "-m" if area == ws.META else "-p"
        session.run("mypy", "--config-file", str(ROOT / "pyproject.toml"), flag, module)

    typecheck.__doc__ = f"mypy --strict on {pkg.name}."
    nox.session(name=f"typecheck-{area}", python=MAIN_PY, tags=[area, "typecheck", "ci"])(typecheck)


_ISOLATED_CHECK = r"""
import importlib, json, sys
area, declared, all_areas = sys.argv[1], set(json.loads(sys.argv[2])), json.loads(sys.argv[3])
module = "pepperpy" if area == "pepperpy" else f"pepperpy.{area}"
importlib.import_module(module)
for other in all_areas:
    if other in declared or other == area or other == "pepperpy":
        continue
    try:
        importlib.import_module(f"pepperpy.{other}")
    except ImportError:
        continue
    raise SystemExit(f"pepperpy.{other} is importable but {area} does not declare it")
print(f"isolated: {module} imports; undeclared siblings are absent")
"""


def _make_isolated(area: str) -> None:
    pkg = PACKAGES[area]

    def isolated(session: nox.Session) -> None:
        python = session.virtualenv.location + "/bin/python"
        # The meta-package alone: core and the facade, no extras (demo covers [all]).
        bare = ["--bare"] if area == ws.META else []
        session.run(
            "python", str(ROOT / "tools" / "ws.py"), "install", "--python", python, *bare, area
        )
        declared = ws.closure(PACKAGES, [area])
        tmp = str(Path(session.create_tmp()).resolve())
        session.chdir(tmp)  # away from the source tree, so only the wheel can be imported
        import json

        session.run(
            "python",
            "-c",
            _ISOLATED_CHECK,
            area,
            json.dumps(declared),
            json.dumps([a for a in PACKAGES if a != ws.META]),
        )
        script = Path(tmp) / "readme_example.py"
        script.write_text(ws.readme_code(pkg.path / "README.md"))
        session.run("python", str(script))

    isolated.__doc__ = (
        f"Install {pkg.name}'s wheel alone in a fresh venv; import it; run its README."
    )
    nox.session(name=f"isolated-{area}", python=MAIN_PY, tags=[area, "isolated", "ci"])(isolated)


for _area in PACKAGES:
    _make_tests(_area)
    _make_typecheck(_area)
    _make_isolated(_area)


@nox.session(python=MAIN_PY, tags=["ci"])
def lint(session: nox.Session) -> None:
    """Ruff lint and format check over the whole repository."""
    session.install(*LINT_TOOLS)
    session.run("ruff", "check", "--output-format", "concise", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=MAIN_PY, tags=["ci"])
def workspace(session: nox.Session) -> None:
    """The workspace check (layout, DAG, ranges, imports) and the tools' own tests."""
    session.install(*TEST_TOOLS)
    session.run("python", "tools/ws.py", "check")
    session.run(*_pytest_args(session, ROOT / "tools" / "tests"))


@nox.session(python=MAIN_PY)
def build(session: nox.Session) -> None:
    """Build every package's wheel and sdist into dist/ and check the wheels' contents."""
    session.run("python", "tools/ws.py", "build", "--force")
    session.run("python", "tools/ws.py", "wheel-check")


@nox.session(python=MAIN_PY, tags=["ci"])
def namespace(session: nox.Session) -> None:
    """Every portion imports as wheels in one site-packages and split across paths."""
    third_party = sorted({req for pkg in PACKAGES.values() for req in pkg.third_party})
    session.install(*TEST_TOOLS, *third_party)
    session.run("python", "tools/ws.py", "build")
    session.run("python", "tools/ws.py", "wheel-check")
    session.run(*_pytest_args(session, ROOT / "tools" / "namespace_tests"))


@nox.session(python=MAIN_PY, tags=["ci"])
def demo(session: nox.Session) -> None:
    """Run the example application end to end, then its tests (README's first command).

    ``nox -s demo -- --serve`` (or any other flag of examples/run.py) runs only the
    application, with those flags; ``--serve`` keeps its API up for curl.
    """
    # pepperpy[all,postgres,redis], as a user installs it, from wheels built here (file-URL
    # constraints); the backends let a test switch the app to PostgreSQL by a setting.
    backends = [arg for extra in ("all", *ws.BACKEND_EXTRAS) for arg in ("--extra", extra)]
    session.run("python", "tools/ws.py", "install", "--python", _py(session), *backends, ws.META)
    # pyyaml: the seed's Config.load("config.yaml") (pepperpy-config's [yaml] extra).
    session.install(*TEST_TOOLS, "pyyaml>=6.0")
    _verify(session)
    session.run("python", "examples/run.py", *session.posargs)
    if not session.posargs:
        session.run(*_pytest_args(session, ROOT / "examples" / "tests"))


@nox.session(python=MAIN_PY, tags=["ci"])
def docs(session: nox.Session) -> None:
    """Build the site (mkdocs --strict) and run every ```python block in docs/.

    ``nox -s docs -- docs/cache.md`` runs the blocks of some pages only (no build).
    """
    # mkdocs-material + mkdocstrings: see the comment at the top of mkdocs.yml;
    # ruff formats the signatures mkdocstrings renders.
    tools = ["mkdocs>=1.6", "mkdocs-material>=9.5", "mkdocstrings[python]>=0.26", "ruff>=0.8"]
    session.run("python", "tools/ws.py", "install", "--python", _py(session), ws.META)
    # The examples may use any optional integration (YAML, msgpack, test helpers ...).
    extras = sorted(
        {req for pkg in PACKAGES.values() for req in [*pkg.third_party, *_test_requires(pkg)[0]]}
    )
    session.install(*tools, *TEST_TOOLS, *extras)
    _verify(session)
    session.env["NO_MKDOCS_2_WARNING"] = "1"
    if not session.posargs:
        site = Path(session.create_tmp()) / "site"
        session.run("mkdocs", "build", "--strict", "--quiet", "--site-dir", str(site))
    session.run("python", "tools/docs.py", "--python", _py(session), *session.posargs)


@nox.session(python=MAIN_PY)
def bench(session: nox.Session) -> None:
    """Side-by-side benchmarks; writes benchmarks/results/latest.md (not part of CI)."""
    session.run("python", "tools/ws.py", "install", "--python", _py(session), "pepperpy")
    requires: list[str] = []
    for path in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        namespace: dict[str, object] = {}
        source = path.read_text()
        if "REQUIRES" in source:
            for line in source.splitlines():
                if line.startswith("REQUIRES"):
                    exec(line, namespace)  # a literal list of requirement strings
        requires += list(namespace.get("REQUIRES", []))  # type: ignore[call-overload]
    if requires:
        session.install(*sorted(set(requires)))
    session.run("python", "benchmarks/run.py", *session.posargs)


def _py(session: nox.Session) -> str:
    return str(Path(session.virtualenv.location) / "bin" / "python")
