"""tools/errors.py: what counts as a raised code, and what the check refuses.

The check itself (every package's catalogue against its source, and docs/errors.md)
runs in the docs session, where every package is installed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import errors

SOURCE = """
from pepperpy.core import InvalidArgumentError, PepperPyError

class WidgetError(PepperPyError):
    code = "pepperpy.widget"

def f(area, kind, table):
    raise InvalidArgumentError("bad", code="pepperpy.widget.bad_size")

def g(area):
    raise WidgetError("x", code=f"pepperpy.{area}.widget")

def h(code):
    raise WidgetError("x", code=code)  # a pass-through is fine

def i(kind, table):
    raise WidgetError("x", code=table[kind])  # invisible to the check: refused

def j():
    ErrorDetail("/a", "m", code="type")  # a detail code, not an error code
"""


@pytest.fixture
def src() -> Path:
    root = errors.ROOT / ".nox" / "errors-test"
    root.mkdir(parents=True, exist_ok=True)
    (root / "mod.py").write_text(SOURCE)
    return root


def test_scan_reads_literals_class_defaults_and_templates(src: Path) -> None:
    sites, problems = errors.scan(src)
    found = {(site.code, site.error) for site in sites}
    assert found == {
        ("pepperpy.widget", "WidgetError"),
        ("pepperpy.widget.bad_size", "InvalidArgumentError"),
        ("pepperpy.{area}.widget", "WidgetError"),
    }
    assert len(problems) == 1
    assert "code=table[kind] cannot be checked" in problems[0]
