"""``pepperpy doctor`` and ``pepperpy info``: what is installed and whether it holds together."""

from __future__ import annotations

import importlib
import importlib.util
import json
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, distribution, distributions
from pathlib import Path

__all__ = ["DoctorReport", "doctor", "info"]

INSTALL_HINT = (
    "the package index's 'pepperpy*' names are not ours until release: build the wheels "
    "from a PepperPy checkout ('python tools/ws.py build') and install them by file "
    "('python tools/ws.py install --python PYTHON {area}')"
)
"""How to install a distribution of ours (never by name from an index, for now)."""


@dataclass
class DistInfo:
    """One installed distribution whose name starts with ``pepperpy``."""

    name: str
    version: str
    source: str
    imported_from: str | None
    ours: bool


@dataclass
class DoctorReport:
    """The result of :func:`doctor`: what is installed and every problem found."""

    distributions: list[DistInfo] = field(default_factory=list)
    namespace_paths: list[str] = field(default_factory=list)
    facade: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether no problem was found."""
        return not self.problems

    def text(self) -> str:
        """A readable report."""
        lines = ["PepperPy distributions:"]
        for d in self.distributions:
            mark = "" if d.ours else "  <-- NOT PepperPy's"
            where = d.imported_from or "not importable"
            lines.append(f"  {d.name:28} {d.version:10} {where}{mark}")
        lines.append("namespace 'pepperpy' paths:")
        lines.extend(f"  {p}" for p in self.namespace_paths or ["(none)"])
        lines.append(f"facade: {self.facade or '(none: plain PEP 420 namespace)'}")
        if self.problems:
            lines.append("problems:")
            lines.extend(f"  - {p}" for p in self.problems)
        else:
            lines.append("no problems found")
        return "\n".join(lines)

    def to_json(self) -> str:
        """The report as JSON."""
        return json.dumps(asdict(self) | {"ok": self.ok}, indent=2)


def doctor() -> DoctorReport:
    """Inspect the running interpreter's PepperPy installation.

    Lists every ``pepperpy*`` distribution with its version and where its portion
    is imported from, and reports: a foreign ``pepperpy`` distribution (the package
    index has unrelated projects named ``pepperpy`` and ``pepperpy-core``), a
    ``pepperpy/__init__.py`` that does not keep the namespace open (then portions
    on other paths cannot import), and portions whose distribution is installed
    but which do not import.
    """
    report = DoctorReport()
    found = []
    for dist in distributions():
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if name == "pepperpy" or name.startswith("pepperpy-"):
            found.append((name, dist))
    for name, dist in sorted(found, key=lambda item: (item[0], item[1].version)):
        files = [str(f) for f in (dist.files or [])]
        tops = {f.split("/")[0] for f in files if "/" in f and not f.startswith("..")}
        foreign_tops = sorted(
            t
            for t in tops
            if t != "pepperpy" and not t.endswith((".dist-info", ".data")) and not t.startswith("_")
        )
        area = None if name == "pepperpy" else name.removeprefix("pepperpy-")
        module = "pepperpy" if area is None else f"pepperpy.{area}"
        imported_from = None
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            spec = None
        if spec is not None:
            imported_from = spec.origin or ", ".join(spec.submodule_search_locations or [])
        ours = not foreign_tops
        if name == "pepperpy-core":
            ours = ours and not any(f == "pepperpy/__init__.py" for f in files)
        source = "local" if dist.read_text("direct_url.json") else "index"
        report.distributions.append(DistInfo(name, dist.version, source, imported_from, ours))
        if not ours:
            report.problems.append(
                f"{name} {dist.version} is not a PepperPy distribution (it ships "
                f"{', '.join(foreign_tops) or 'pepperpy/__init__.py'}): uninstall it "
                f"('pip uninstall {name}'); " + INSTALL_HINT.format(area=area or "pepperpy")
            )
        elif spec is None:
            report.problems.append(f"{name} is installed but {module} does not import")
    try:
        pkg = importlib.import_module("pepperpy")
    except ImportError:
        report.problems.append("the 'pepperpy' namespace does not import at all")
        return report
    report.namespace_paths = list(getattr(pkg, "__path__", []))
    report.facade = getattr(pkg, "__file__", None)
    if report.facade:
        source = Path(report.facade).read_text(encoding="utf-8", errors="replace")
        if "extend_path" not in source:
            report.problems.append(
                f"{report.facade} is a regular package that does not extend its __path__: "
                "portions installed elsewhere (editable installs, other site dirs) cannot import. "
                "It usually comes from a foreign 'pepperpy' or 'pepperpy-core' distribution."
            )
    return report


def info(area: str) -> str:
    """Describe one area: distribution, version, location and public names."""
    module_name = f"pepperpy.{area}"
    dist_name = f"pepperpy-{area}"
    try:
        version = distribution(dist_name).version
    except PackageNotFoundError:
        return f"{dist_name} is not installed; " + INSTALL_HINT.format(area=area)
    module = importlib.import_module(module_name)
    names = sorted(getattr(module, "__all__", []))
    doc = (module.__doc__ or "").strip().splitlines()
    lines = [
        f"{dist_name} {version}",
        f"module: {module_name} ({getattr(module, '__file__', '?')})",
        f"summary: {doc[0] if doc else '-'}",
        f"public names ({len(names)}): {', '.join(names)}",
    ]
    return "\n".join(lines)
