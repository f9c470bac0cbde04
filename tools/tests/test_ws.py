"""Tests for tools/ws.py: the workspace check must pass here and fail on broken copies."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import ws

ROOT = ws.ROOT


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A copy of core and the meta-package plus a small 'cache' package depending on core."""
    for area in ("core", "pepperpy"):
        shutil.copytree(
            ROOT / "packages" / area,
            tmp_path / "packages" / area,
            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
        )
    pkg = tmp_path / "packages" / "cache"
    (pkg / "src" / "pepperpy" / "cache").mkdir(parents=True)
    (pkg / "tests").mkdir()
    (pkg / "README.md").write_text("# cache\n")
    (pkg / "CHANGELOG.md").write_text("# Changelog\n\n## [0.1.0] - 2026-11-26\n")
    (pkg / "src" / "pepperpy" / "cache" / "py.typed").write_text("")
    (pkg / "src" / "pepperpy" / "cache" / "_version.py").write_text('__version__ = "0.1.0"\n')
    (pkg / "src" / "pepperpy" / "cache" / "__init__.py").write_text(
        "from pepperpy.core import retry\n"
    )
    (pkg / "pyproject.toml").write_text(
        (ROOT / "packages" / "core" / "pyproject.toml")
        .read_text()
        .replace('name = "pepperpy-core"', 'name = "pepperpy-cache"')
        .replace('dependencies = ["attrs>=23.1"]', 'dependencies = ["pepperpy-core>=0.1,<0.2"]')
        .replace("pepperpy/core/_version.py", "pepperpy/cache/_version.py")
    )
    meta = tmp_path / "packages" / "pepperpy" / "pyproject.toml"
    extras = '[project.optional-dependencies]\ncache = ["pepperpy-cache>=0.1,<0.2"]\n'
    meta.write_text(ws._EXTRAS.sub(lambda m: m.group(1) + extras + m.group(3), meta.read_text()))
    return tmp_path


def test_real_workspace_passes() -> None:
    """The repository itself has no workspace problems."""
    assert ws.check(ROOT) == []


def test_copy_passes(workspace: Path) -> None:
    """The unbroken copy passes, so the failures below are caused by the breakage."""
    assert ws.check(workspace) == []


def test_namespace_init_in_portion_fails(workspace: Path) -> None:
    """A portion shipping pepperpy/__init__.py is reported."""
    (workspace / "packages" / "cache" / "src" / "pepperpy" / "__init__.py").write_text("")
    assert any("breaks the PEP 420 namespace" in p for p in ws.check(workspace))


def test_missing_files_fail(workspace: Path) -> None:
    """Missing README, CHANGELOG and py.typed are each reported."""
    pkg = workspace / "packages" / "cache"
    (pkg / "README.md").unlink()
    (pkg / "CHANGELOG.md").unlink()
    (pkg / "src" / "pepperpy" / "cache" / "py.typed").unlink()
    problems = "\n".join(ws.check(workspace))
    assert "README.md is missing" in problems
    assert "CHANGELOG.md is missing" in problems
    assert "py.typed is missing" in problems


def test_undeclared_sibling_import_fails(workspace: Path) -> None:
    """Importing a sibling that is not declared is reported with the file."""
    init = workspace / "packages" / "cache" / "src" / "pepperpy" / "cache" / "__init__.py"
    init.write_text("from pepperpy.net import HttpClient\n")
    assert any("imports pepperpy.net" in p for p in ws.check(workspace))


@pytest.mark.parametrize(
    ("source", "how"),
    [
        (
            "import importlib\n"
            "def codec():\n"
            "    return importlib.import_module('pepperpy.serialization')\n",
            "imports pepperpy.serialization",
        ),
        ("x = __import__('pepperpy.net.client')\n", "imports pepperpy.net"),
        (
            "import importlib.util\n"
            "HAVE = importlib.util.find_spec('pepperpy.serialization') is not None\n",
            "probes for pepperpy.serialization",
        ),
        (
            "from importlib.util import find_spec\n"
            "def _installed(module):\n"
            "    try:\n"
            "        return find_spec(module) is not None\n"
            "    except ImportError:\n"
            "        return False\n"
            "def _usable(name):\n"
            "    return _installed(name)\n"
            "if _usable('pepperpy.event'):\n"
            "    pass\n",
            "probes for pepperpy.event",
        ),
        (
            "import sys\nFAST = 'pepperpy.serialization' in sys.modules\n",
            "probes sys.modules for pepperpy.serialization",
        ),
    ],
)
def test_dynamic_use_of_undeclared_sibling_fails(workspace: Path, source: str, how: str) -> None:
    """issue 22 #8: importlib imports and find_spec-style probes of siblings must be declared.

    pepperpy-event stored attrs payloads with datetimes only when pepperpy-serialization
    happened to be importable, and the check passed.
    """
    module = workspace / "packages" / "cache" / "src" / "pepperpy" / "cache" / "_codec.py"
    module.write_text(source)
    problems = ws.check(workspace)
    found = [p for p in problems if how in p and "_codec.py:" in p and "is not declared" in p]
    assert found, problems


def test_dynamic_use_of_declared_sibling_passes(workspace: Path) -> None:
    """An optional (extra) sibling may be probed: it is declared."""
    pyproject = workspace / "packages" / "cache" / "pyproject.toml"
    text = pyproject.read_text()
    assert "[project.optional-dependencies]" not in text
    pyproject.write_text(
        text.replace(
            "[tool.hatch.version]",
            '[project.optional-dependencies]\ntier = ["pepperpy-core>=0.1,<0.2"]\n\n'
            "[tool.hatch.version]",
        )
    )
    module = workspace / "packages" / "cache" / "src" / "pepperpy" / "cache" / "_codec.py"
    module.write_text(
        "import importlib\nimportlib.import_module('pepperpy.core.utils')\n"
        "import importlib.util\nimportlib.util.find_spec('pepperpy.cache._x')\n"
    )
    assert ws.check(workspace) == []


def test_facade_types_must_match_exports(workspace: Path) -> None:
    """issue 22 #7: a facade name without its TYPE_CHECKING import is reported (no drift)."""
    init = workspace / "packages" / "pepperpy" / "src" / "pepperpy" / "__init__.py"
    text = init.read_text()
    init.write_text(
        text.replace(
            '    "retry": ("pepperpy.core.utils", "retry"),\n',
            '    "retry": ("pepperpy.core.utils", "retry"),\n'
            '    "Clock": ("pepperpy.core.types", "Clock"),\n',
        )
    )
    assert any("do not match _EXPORTS" in p for p in ws.check(workspace))


def test_facade_test_group_must_hold_exported_areas(workspace: Path) -> None:
    """The meta-package's test group installs every area its typing test needs."""
    pyproject = workspace / "packages" / "pepperpy" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('    "pepperpy-registry>=0.1,<0.2",\n', ""))
    assert any("lacks pepperpy-registry" in p for p in ws.check(workspace))


def test_meta_sync_writes_the_facade_types(workspace: Path, monkeypatch) -> None:
    """sync-meta regenerates the TYPE_CHECKING block from _EXPORTS."""
    monkeypatch.setattr(ws, "PACKAGES", workspace / "packages")
    init = workspace / "packages" / "pepperpy" / "src" / "pepperpy" / "__init__.py"
    original = init.read_text()
    line = "    from pepperpy.registry import Registry as Registry\n"
    assert line in original
    init.write_text(original.replace(line, ""))
    assert not ws.sync_meta(write=True)
    assert init.read_text() == original


def test_range_not_admitting_version_fails(workspace: Path) -> None:
    """A sibling range that excludes the sibling's current version is reported."""
    pyproject = workspace / "packages" / "cache" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(">=0.1,<0.2", ">=0.2,<0.3"))
    core = ws.Package("core", workspace / "packages" / "core", {}).path
    version = ws._VERSION.search((core / "src/pepperpy/core/_version.py").read_text())
    assert version is not None
    expected = f"pepperpy-core does not admit its version {version.group(1)}"
    assert any(expected in p for p in ws.check(workspace))


def test_cycle_fails(workspace: Path) -> None:
    """A dependency cycle is reported, as is the sibling ARCHITECTURE.md does not allow."""
    pyproject = workspace / "packages" / "core" / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'dependencies = ["attrs>=23.1"]',
            'dependencies = ["attrs>=23.1", "pepperpy-cache>=0.1,<0.2"]',
        )
    )
    problems = "\n".join(ws.check(workspace))
    assert "dependency cycle" in problems
    assert "does not allow" in problems


def test_direct_reference_fails(workspace: Path) -> None:
    """Published metadata may not hold file: URLs."""
    pyproject = workspace / "packages" / "cache" / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            '"pepperpy-core>=0.1,<0.2"', '"pepperpy-core @ file:///tmp/core"'
        )
    )
    assert any("direct reference" in p for p in ws.check(workspace))


@pytest.mark.parametrize(
    ("spec", "version", "expected"),
    [
        (">=0.1,<0.2", "0.1.0", True),
        (">=0.1,<0.2", "0.1.9", True),
        (">=0.1,<0.2", "0.2.0", False),
        ("==1.2.*", "1.2.5", True),
        ("~=1.4.2", "1.4.9", True),
        ("~=1.4.2", "1.5.0", False),
        ("!=0.3.0", "0.3.0", False),
        ("", "9.9.9", True),
    ],
)
def test_admits(spec: str, version: str, expected: bool) -> None:
    """Specifier sets are evaluated like pip does for plain releases."""
    assert expected == ws.admits(spec, version)


def test_bump_updates_version_and_changelog(workspace: Path, monkeypatch) -> None:
    """bump writes the new version, opens a changelog section and flags dependents."""
    monkeypatch.setattr(ws, "PACKAGES", workspace / "packages")
    new = ws.bump("core", "minor")
    assert new == "0.2.0"
    assert (
        '__version__ = "0.2.0"'
        in (
            workspace / "packages" / "core" / "src" / "pepperpy" / "core" / "_version.py"
        ).read_text()
    )
    log = (workspace / "packages" / "core" / "CHANGELOG.md").read_text()
    assert log.index("## [0.2.0]") < log.index("## [0.1.0]")
    # the cache copy requires core <0.2: the check now reports it
    assert any("does not admit its version 0.2.0" in p for p in ws.check(workspace))


def test_closure_orders_dependencies_first() -> None:
    """closure lists siblings before the packages needing them."""
    packages = ws.load_packages()
    for area in packages:
        order = ws.closure(packages, [area])
        assert order[-1] == area
        if area not in ("core", ws.META):
            assert order.index("core") < order.index(area)


def test_verify_env_rejects_foreign_distribution(tmp_path: Path) -> None:
    """A pepperpy-core that did not come from this checkout fails verify-env."""
    site = tmp_path / "site"
    info = site / "pepperpy_core-0.5.7.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: pepperpy-core\nVersion: 0.5.7\n")
    (info / "RECORD").write_text("")
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "ws.py"), "verify-env", "--python", sys.executable],
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "pepperpy-core 0.5.7 from a package index" in result.stdout + result.stderr


def test_meta_extras_gather_backend_extras() -> None:
    """`pepperpy[redis]` pulls every area's `redis` extra; other extras stay per area."""
    packages = ws.load_packages()
    block = ws.meta_extras(packages)
    redis_areas = sorted(
        area
        for area, pkg in packages.items()
        if "redis" in pkg.pyproject["project"].get("optional-dependencies", {}) and area != ws.META
    )
    assert redis_areas  # cache, event, state, task ...
    redis_line = block.split("\nredis = [", 1)[1].split("]\n", 1)[0]
    for area in redis_areas:
        assert f'"pepperpy-{area}[redis]>=' in redis_line
    assert "msgpack" not in block.split("\nall = [", 1)[1]  # a format extra is not a backend
