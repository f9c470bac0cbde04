"""Tests for doctor(), info() and the pepperpy command, in real and broken environments."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pepperpy.dev import doctor, info
from pepperpy.dev._cli import main

DEV_SRC = Path(__file__).resolve().parents[1] / "src"
CORE_SRC = Path(__file__).resolve().parents[2] / "core" / "src"


def test_doctor_in_this_environment_is_ok():
    """Here every pepperpy distribution is ours and imports."""
    report = doctor()
    assert report.ok, report.text()
    names = {d.name for d in report.distributions}
    assert {"pepperpy-core", "pepperpy-dev"} <= names
    assert all(d.imported_from for d in report.distributions)
    assert json.loads(report.to_json())["ok"] is True


def _broken_site(tmp_path: Path) -> Path:
    """A site dir holding the index's foreign pepperpy-core 0.5.7: a regular pepperpy package."""
    site = tmp_path / "site"
    pkg = site / "pepperpy"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text('"""Someone else\'s pepperpy."""\n')
    (pkg / "py.typed").write_text("")
    (site / "pepperpy_core").mkdir()
    (site / "pepperpy_core" / "__init__.py").write_text("")
    info_dir = site / "pepperpy_core-0.5.7.dist-info"
    info_dir.mkdir()
    (info_dir / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: pepperpy-core\nVersion: 0.5.7\n"
    )
    (info_dir / "RECORD").write_text(
        "pepperpy/__init__.py,,\npepperpy/py.typed,,\npepperpy_core/__init__.py,,\n"
    )
    return site


def test_doctor_reports_foreign_package_and_broken_namespace(tmp_path):
    """A foreign pepperpy-core shadowing the namespace is found and the command exits 1."""
    site = _broken_site(tmp_path)
    # the foreign site comes first, as a user site-packages would
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(map(str, [site, DEV_SRC, CORE_SRC])),
    }
    # issue 20 #15: the console script's entry module, not a fallback to the source file
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from _pepperpy_doctor import main; raise SystemExit(main(['doctor']))",
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert 1 == result.returncode, result.stdout + result.stderr
    assert "pepperpy-core 0.5.7 is not a PepperPy distribution" in result.stdout
    assert "does not extend its __path__" in result.stdout


def test_info_and_cli(capsys):
    """info describes an installed area; a missing one gives the install command."""
    assert "pepperpy-core" in info("core")
    assert "retry" in info("core")
    # issue 20 #15: never "pip install pepperpy-<area>" while the index's names are not ours
    assert "pip install pepperpy-nothere" not in info("nothere")
    assert "tools/ws.py install --python PYTHON nothere" in info("nothere")
    assert 0 == main(["info", "dev"])
    assert "pepperpy-dev" in capsys.readouterr().out
    assert 1 == main(["info", "nothere"])
    assert 0 == main(["doctor", "--json"])
    assert '"ok": true' in capsys.readouterr().out


def test_doctor_text_marks_foreign_and_unimportable_distributions():
    """The report a user reads flags a foreign distribution and lists every problem."""
    from pepperpy.dev import DoctorReport
    from pepperpy.dev._doctor import DistInfo

    report = DoctorReport(
        distributions=[
            DistInfo("pepperpy-core", "0.5.7", "index", None, ours=False),
            DistInfo("pepperpy-dev", "1.0.0", "local", "/site/pepperpy/dev/__init__.py", True),
        ],
        problems=["pepperpy-core 0.5.7 is not a PepperPy distribution"],
    )
    lines = report.text().splitlines()
    assert lines[0] == "PepperPy distributions:"
    core, dev = lines[1:3]  # one line per distribution, in the report's order
    assert core.split()[:2] == ["pepperpy-core", "0.5.7"]
    assert "not importable" in core and core.endswith("<-- NOT PepperPy's")
    assert dev.split()[0] == "pepperpy-dev"
    assert dev.endswith("/site/pepperpy/dev/__init__.py")  # ours: no mark
    assert "  (none)" in lines  # no namespace path
    assert "facade: (none: plain PEP 420 namespace)" in lines
    assert lines[-2:] == ["problems:", "  - pepperpy-core 0.5.7 is not a PepperPy distribution"]
    assert not report.ok
    assert DoctorReport().text().endswith("no problems found")
