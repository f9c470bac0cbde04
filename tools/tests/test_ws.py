"""Tests for tools/ws.py: the workspace check must pass here and fail on broken copies."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import ws

ROOT = ws.ROOT
CORE_VERSION = ws.load_packages()["core"].version
CORE_RANGE = ws._compatible(CORE_VERSION)  # what every sibling declares on core


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Path]:
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
    (pkg / "CHANGELOG.md").write_text(f"# Changelog\n\n## [{CORE_VERSION}] - 2026-11-26\n")
    (pkg / "src" / "pepperpy" / "cache" / "py.typed").write_text("")
    (pkg / "src" / "pepperpy" / "cache" / "_version.py").write_text(
        f'__version__ = "{CORE_VERSION}"\n'
    )
    (pkg / "src" / "pepperpy" / "cache" / "__init__.py").write_text(
        "from pepperpy.core import retry\n"
    )
    (pkg / "pyproject.toml").write_text(
        (ROOT / "packages" / "core" / "pyproject.toml")
        .read_text()
        .replace('name = "pepperpy-core"', 'name = "pepperpy-cache"')
        .replace('dependencies = ["attrs>=23.1"]', f'dependencies = ["pepperpy-core{CORE_RANGE}"]')
        .replace("pepperpy/core/_version.py", "pepperpy/cache/_version.py")
    )
    meta = tmp_path / "packages" / "pepperpy" / "pyproject.toml"
    extras = f'[project.optional-dependencies]\ncache = ["pepperpy-cache{CORE_RANGE}"]\n'
    meta.write_text(ws._EXTRAS.sub(lambda m: m.group(1) + extras + m.group(3), meta.read_text()))
    saved = ws.PACKAGES
    ws.PACKAGES = tmp_path / "packages"
    try:
        ws.sync_metadata(write=True)  # cache's URLs, LICENSE (its pyproject began as core's)
        yield tmp_path
    finally:
        ws.PACKAGES = saved


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
            f'[project.optional-dependencies]\ntier = ["pepperpy-core{CORE_RANGE}"]\n\n'
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
    text = pyproject.read_text()
    pyproject.write_text(re.sub(r'    "pepperpy-registry[^"]*",\n', "", text))
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
    pyproject.write_text(pyproject.read_text().replace(CORE_RANGE, ">=9.0,<10"))
    core = ws.Package("core", workspace / "packages" / "core", {}).path
    version = ws._VERSION.search((core / "src/pepperpy/core/_version.py").read_text())
    assert version is not None
    expected = f"pepperpy-core does not admit its version {version.group(1)}"
    assert any(expected in p for p in ws.check(workspace))


def test_cycle_fails(workspace: Path) -> None:
    """A dependency cycle is reported, as is the sibling docs/architecture.md does not allow."""
    pyproject = workspace / "packages" / "core" / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'dependencies = ["attrs>=23.1"]',
            f'dependencies = ["attrs>=23.1", "pepperpy-cache{CORE_RANGE}"]',
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
            f'"pepperpy-core{CORE_RANGE}"', '"pepperpy-core @ file:///tmp/core"'
        )
    )
    assert any("direct reference" in p for p in ws.check(workspace))


@pytest.mark.parametrize(
    ("spec", "version", "expected"),
    [
        (">=0.1,<0.2", "0.1.0", True),
        (">=0.1,<0.2", "0.1.9", True),
        (">=0.1,<0.2", "0.2.0", False),
        # issue 23: pre- and dev releases are refused unless the set names one (as pip does)
        (">=0.1,<0.2", "0.1.0rc1", False),
        (">=0.1,<0.2", "0.1.0.dev3", False),
        (">=1.0rc1,<2", "1.0.0rc2", True),
        (">=1.0,<2", "1.0.0+local", True),
        ("not a specifier", "1.0.0", False),
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
    major = int(CORE_VERSION.split(".")[0])
    new = ws.bump("core", "major")
    assert new == f"{major + 1}.0.0"
    assert (
        f'__version__ = "{new}"'
        in (
            workspace / "packages" / "core" / "src" / "pepperpy" / "core" / "_version.py"
        ).read_text()
    )
    log = (workspace / "packages" / "core" / "CHANGELOG.md").read_text()
    assert log.index(f"## [{new}]") < log.index(f"## [{CORE_VERSION}]")
    # the cache copy requires the previous major of core: the check now reports it
    assert any(f"does not admit its version {new}" in p for p in ws.check(workspace))


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


# --------------------------------------------------------------------------- issue 23


def test_requirement_parsing_uses_packaging() -> None:
    """issue 23: requirements are parsed by packaging: extras, markers, names normalised."""
    req = ws.Requirement.parse("Pepperpy_Cache[redis,msgpack]>=1.0,<2; python_version < '3.11'")
    assert req.name == "pepperpy-cache"
    assert req.extras == "[msgpack,redis]"
    assert ws.admits(req.spec, "1.4.0")
    assert not ws.admits(req.spec, "2.0.0")
    assert req.marker == '; python_version < "3.11"'
    with pytest.raises(SystemExit, match="cannot parse requirement"):
        ws.Requirement.parse("pepperpy-core >= ")


def test_build_judges_staleness_by_content(workspace: Path, monkeypatch, tmp_path: Path) -> None:
    """issue 23: a module deleted after a build is not shipped by the next build, even when
    the wheel's modification time is newer than every source file's."""
    monkeypatch.setattr(ws, "PACKAGES", workspace / "packages")
    monkeypatch.setattr(ws, "DIST", tmp_path / "dist")
    shutil.copytree(ROOT / "tools" / "sdist", workspace / "tools" / "sdist")  # force-included
    module = workspace / "packages" / "cache" / "src" / "pepperpy" / "cache" / "gone.py"
    module.write_text("X = 1\n")
    (wheel,) = ws.build(["cache"])
    assert "pepperpy/cache/gone.py" in zipfile.ZipFile(wheel).namelist()
    module.unlink()
    future = wheel.stat().st_mtime + 3600
    os.utime(wheel, (future, future))
    (again,) = ws.build(["cache"])
    assert again == wheel
    assert "pepperpy/cache/gone.py" not in zipfile.ZipFile(again).namelist()
    stamp_before = ws._stamp(ws.load_packages()["cache"]).read_text()
    mtime = again.stat().st_mtime_ns
    ws.build(["cache"])  # nothing changed: not rebuilt
    assert again.stat().st_mtime_ns == mtime
    assert ws._stamp(ws.load_packages()["cache"]).read_text() == stamp_before


def test_first_release_rewrites_versions_ranges_and_metadata(workspace: Path, monkeypatch) -> None:
    """issue 23: the first-release rewrite puts every version above the index's releases,
    every sibling range on the new major, and renames the changelog heading; twice is a no-op."""
    monkeypatch.setattr(ws, "PACKAGES", workspace / "packages")
    pkgs = workspace / "packages"
    packages = ws.load_packages()
    for pkg in packages.values():  # every package of the copy back before its first release
        log = pkg.path / "CHANGELOG.md"
        text = log.read_text()
        if f"## [{ws.PRE_RELEASE}]" not in text:
            log.write_text(
                re.sub(r"^## \[[\d.]+\]", f"## [{ws.PRE_RELEASE}]", text, count=1, flags=re.M)
            )
        ws._set_version(pkg, ws.PRE_RELEASE)
        ws.set_sibling_ranges(pkg, dict.fromkeys(packages, ws.PRE_RELEASE))
    cache = pkgs / "cache" / "pyproject.toml"
    cache.write_text(cache.read_text().replace(CORE_RANGE, ">=0.1,<0.2"))
    assert any("admits the index's pepperpy-core" in p for p in ws.check(workspace))
    ws.first_release()
    versions = {a: p.version for a, p in ws.load_packages().items()}
    assert versions == {"core": "1.0.0", "cache": "1.0.0", "pepperpy": "2.0.0"}
    assert '"pepperpy-core>=1.0,<2"' in cache.read_text()
    meta = (pkgs / "pepperpy" / "pyproject.toml").read_text()
    assert 'cache = ["pepperpy-cache>=1.0,<2"]' in meta
    assert 'dependencies = ["pepperpy-core>=1.0,<2"]' in meta
    assert "## [1.0.0]" in (pkgs / "core" / "CHANGELOG.md").read_text()
    assert ws.check(workspace) == []
    before = {p: p.read_bytes() for p in pkgs.rglob("*") if p.is_file()}
    ws.first_release()
    assert {p: p.read_bytes() for p in pkgs.rglob("*") if p.is_file()} == before


def test_index_releases_are_refused(workspace: Path) -> None:
    """issue 23: a version not above the index's, or a range admitting one, is reported."""
    cache = workspace / "packages" / "cache" / "pyproject.toml"
    cache.write_text(cache.read_text().replace(CORE_RANGE, ">=0.1"))
    problems = ws.check(workspace)
    assert any("admits the index's pepperpy-core 0.1.6, 0.1.7" in p for p in problems), problems
    version = workspace / "packages" / "pepperpy" / "src" / "pepperpy" / "_version.py"
    version.write_text('__version__ = "1.8.0"\n')
    assert any("not above the index's pepperpy 1.8.0" in p for p in ws.check(workspace))


def test_publishing_metadata_is_checked(workspace: Path) -> None:
    """issue 23: licence, URLs, classifiers and README links are each reported when wrong."""
    pkg = workspace / "packages" / "cache"
    (pkg / "LICENSE").write_text("All rights reserved.\n")
    (pkg / "README.md").write_text("# cache\n\nSee [the docs](../../docs/cache.md#top).\n")
    pyproject = pkg / "pyproject.toml"
    text = pyproject.read_text()
    text = text.replace('license-files = ["LICENSE"]\n', "")
    text = text.replace('    "Programming Language :: Python :: 3.13",\n', "")
    text = re.sub(r"^Issues = .*\n", "", text, flags=re.M)
    pyproject.write_text(text)
    problems = "\n".join(ws.check(workspace))
    assert "packages/cache: LICENSE is missing or differs" in problems
    assert "packages/cache: license-files must be" in problems
    assert "packages/cache: classifiers lack Python" in problems
    assert "packages/cache: [project.urls] must list" in problems
    assert "packages/cache/README.md: relative links" in problems
    saved = ws.PACKAGES
    ws.PACKAGES = workspace / "packages"
    try:
        ws.sync_metadata(write=True)
    finally:
        ws.PACKAGES = saved
    assert ws.check(workspace) == []
    readme = (pkg / "README.md").read_text()
    assert f"]({ws.REPO_URL}/blob/main/docs/cache.md#top)" in readme


def test_absolute_links_leave_code_and_absolute_links_alone() -> None:
    pkg = ws.load_packages()["core"]
    text = (
        "[home](../../README.md) [x](https://example.invalid/a) [y](#anchor)\n"
        "```bash\ncat [a](../../x.md)\n```\n"
        "[ref]: ../../docs\n"
    )
    fixed, unresolved = ws.absolute_links(pkg, text)
    assert unresolved == []
    assert f"[home]({ws.REPO_URL}/blob/main/README.md)" in fixed
    assert "[x](https://example.invalid/a) [y](#anchor)" in fixed
    assert "cat [a](../../x.md)" in fixed
    assert f"[ref]: {ws.REPO_URL}/tree/main/docs" in fixed
    assert ws.absolute_links(pkg, "[out](../../../../etc/passwd)")[1] == ["../../../../etc/passwd"]


def test_release_prepares_version_changelog_and_dependents(workspace: Path, monkeypatch) -> None:
    """issue 23: `ws.py release` turns [Unreleased] into the version's section, and a major
    release of core widens every dependent's range and notes it in their changelog."""
    monkeypatch.setattr(ws, "PACKAGES", workspace / "packages")
    pkgs = workspace / "packages"
    log = pkgs / "core" / "CHANGELOG.md"
    text = log.read_text()
    if "## [Unreleased]" in text:  # the copy carries changes not released yet: drop them
        start = text.index("## [Unreleased]")
        text = text[:start] + text[text.index("\n## [", start) + 1 :]
        log.write_text(text)
    with pytest.raises(SystemExit, match="Unreleased"):
        ws.release("core", "major")
    first = text.index("\n## ") + 1
    log.write_text(text[:first] + "## [Unreleased]\n\n### Changed\n\n" + text[first:])
    with pytest.raises(SystemExit, match="lists no change"):
        ws.release("core", "major")
    log.write_text(text[:first] + "## [Unreleased]\n\n### Changed\n\n- A break.\n\n" + text[first:])
    major = int(CORE_VERSION.split(".")[0])
    new = ws.release("core", "major", today="2027-01-02")
    assert new == f"{major + 1}.0.0"
    assert f"## [{new}] - 2027-01-02\n\n### Changed\n\n- A break." in log.read_text()
    assert ws.load_packages()["core"].version == new
    cache = (pkgs / "cache" / "pyproject.toml").read_text()
    assert f'"pepperpy-core{ws._compatible(new)}"' in cache
    assert "## [Unreleased]" in (pkgs / "cache" / "CHANGELOG.md").read_text()
    assert ws.check(workspace) == []
    with pytest.raises(SystemExit):
        ws.release("core", CORE_VERSION)  # not above the current version


def test_release_tag_names_one_package() -> None:
    """The release workflow maps a tag to its package, and refuses a stale version."""
    packages = ws.load_packages()
    core = packages["core"]
    assert ws.release_tag(f"refs/tags/core-v{core.version}").area == "core"
    meta = packages[ws.META]
    assert ws.tag_name(meta) == f"pepperpy-v{meta.version}"
    assert ws.release_tag(ws.tag_name(meta)).area == ws.META
    with pytest.raises(SystemExit, match="is at"):
        ws.release_tag("core-v99.0.0")
    with pytest.raises(SystemExit, match="not a release tag"):
        ws.release_tag("v1.0.0")
    with pytest.raises(SystemExit, match="no package"):
        ws.release_tag("nothing-v1.0.0")


def test_architecture_table_matches_allowed() -> None:
    """docs/architecture.md's dependency table is ALLOWED, row for row."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    rows = re.findall(r"^\| pepperpy-([a-z]+) \| `pepperpy\.\1` \| (.*) \|$", text, re.M)
    table = {area: set(re.findall(r"pepperpy-([a-z]+)", deps)) for area, deps in rows}
    assert table == ws.ALLOWED


def test_sdist_support_matches_the_repository() -> None:
    """tools/sdist/pytest.ini holds the root pytest options; its conftest the root fixtures."""
    ini = configparser.ConfigParser()
    ini.read(ROOT / "tools" / "sdist" / "pytest.ini")
    root = ws.tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    shipped = dict(ini["pytest"])
    assert set(shipped) == set(root)
    for key, value in root.items():
        if isinstance(value, list):
            assert shipped[key].split() == " ".join(value).split(), key
        else:
            assert shipped[key] == str(value).lower() if isinstance(value, bool) else str(value)

    def fixtures(path: Path) -> set[str]:
        return set(re.findall(r"@pytest\.fixture[^\n]*\ndef (\w+)", path.read_text()))

    assert fixtures(ROOT / "conftest.py") == fixtures(ROOT / "tools" / "sdist" / "conftest.py")
    assert fixtures(ROOT / "conftest.py")


def test_verify_env_accepts_our_wheel_installed_by_name(tmp_path: Path) -> None:
    """A distribution installed by name (no direct URL) is ours when it is byte for byte the
    wheel built here, and foreign when one file differs."""
    pkg = ws.load_packages()["core"]
    wheel = ws.build(["core"])[0]
    record = zipfile.ZipFile(wheel).read(f"pepperpy_core-{pkg.version}.dist-info/RECORD").decode()
    assert ws.is_ours("pepperpy-core", pkg.version, record)
    tampered = record.replace("sha256=", "sha256=x", 1)
    assert not ws.is_ours("pepperpy-core", pkg.version, tampered)
    assert not ws.is_ours("pepperpy-core", "0.1.7", record)


def test_changelog_must_have_the_current_version(workspace: Path) -> None:
    """A package whose CHANGELOG has no section for its version is reported."""
    log = workspace / "packages" / "core" / "CHANGELOG.md"
    log.write_text(log.read_text().replace(f"## [{CORE_VERSION}]", "## [0.0.9]"))
    assert any(f"has no '## [{CORE_VERSION}]' section" in p for p in ws.check(workspace))
