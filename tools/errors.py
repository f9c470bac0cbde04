"""The error-code catalogue check and the docs' "Errors" page.

    python tools/errors.py check [AREA ...]   every raised code is catalogued, every
                                              catalogued code is raised, docs/errors.md
                                              is current
    python tools/errors.py write              regenerate docs/errors.md

Each package exports ``ERRORS``, a :class:`pepperpy.core.ErrorCatalogue` beside its
error classes. A code is *raised* where the source writes it: a ``code="..."``
keyword of a call, or a ``code = "..."`` class attribute of an error class. An
f-string code becomes a template (``f"pepperpy.{self.area}.x"`` is
``pepperpy.{area}.x``); only pepperpy-core's shared helpers write those. Any other
``code=`` expression is refused unless it passes a code through (a name or an
attribute called ``code``), so every code stays visible to this check.
"""

from __future__ import annotations

import ast
import importlib
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
import ws  # noqa: E402

PAGE = ROOT / "docs" / "errors.md"


@dataclass(frozen=True)
class Site:
    """Where the source raises a code."""

    code: str
    path: Path
    line: int
    error: str | None  # the class named at the site, when one is

    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def _last_name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return "value"


def _template(node: ast.JoinedStr) -> str:
    parts = []
    for value in node.values:
        if isinstance(value, ast.Constant):
            parts.append(str(value.value))
        elif isinstance(value, ast.FormattedValue):
            parts.append("{" + _last_name(value.value) + "}")
    return "".join(parts)


def _passes_through(node: ast.expr) -> bool:
    if isinstance(node, ast.Subscript):  # data["code"]: a code read back, not raised
        return isinstance(node.slice, ast.Constant) and node.slice.value == "code"
    return (isinstance(node, ast.Name) and node.id == "code") or (
        isinstance(node, ast.Attribute) and node.attr == "code"
    )


def _call_class(node: ast.Call) -> str | None:
    name = _last_name(node.func) if isinstance(node.func, (ast.Name, ast.Attribute)) else ""
    return name if name.endswith("Error") else None


def _class_codes(node: ast.ClassDef, path: Path) -> list[Site]:
    """``code = "pepperpy..."`` class attributes: the class's default code."""
    sites = []
    for stmt in node.body:
        target = value = None
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
        elif isinstance(stmt, ast.AnnAssign):
            target, value = stmt.target, stmt.value
        if not (isinstance(target, ast.Name) and target.id == "code"):
            continue
        if isinstance(value, ast.Constant) and str(value.value).startswith("pepperpy"):
            sites.append(Site(str(value.value), path, stmt.lineno, node.name))
    return sites


def _call_codes(node: ast.Call, path: Path, problems: list[str]) -> list[Site]:
    """``code=`` keywords of a call: literals, f-string templates, or pass-throughs."""
    sites = []
    for keyword in node.keywords:
        if keyword.arg != "code":
            continue
        value = keyword.value
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            text = value.value
        elif isinstance(value, ast.JoinedStr):
            text = _template(value)
        elif _passes_through(value):
            continue
        else:
            problems.append(
                f"{path.relative_to(ROOT)}:{value.lineno}: code={ast.unparse(value)} cannot be "
                "checked; write the code as a literal (one per branch) so the catalogue can see it"
            )
            continue
        if text.startswith("pepperpy"):
            sites.append(Site(text, path, value.lineno, _call_class(node)))
    return sites


def scan(src: Path) -> tuple[list[Site], list[str]]:
    """The codes raised under *src*, and the ``code=`` expressions no check can read."""
    sites: list[Site] = []
    problems: list[str] = []
    for path in sorted(src.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                sites += _class_codes(node, path)
            elif isinstance(node, ast.Call):
                sites += _call_codes(node, path, problems)
    return sites, problems


def _catalogue(area: str) -> object:
    module = importlib.import_module("pepperpy.core" if area == "core" else f"pepperpy.{area}")
    return getattr(module, "ERRORS", None)


def _classes(error: type) -> set[str]:
    return {cls.__name__ for cls in error.__mro__}


def check_area(area: str) -> list[str]:
    """What is wrong with *area*'s catalogue, one line each (empty when nothing is)."""
    from pepperpy.core import ErrorCatalogue

    pkg = ws.load_packages()[area]
    sites, problems = scan(pkg.path / "src")
    catalogue = _catalogue(area)
    if not sites and catalogue is None:
        return problems
    if not isinstance(catalogue, ErrorCatalogue):
        return [*problems, f"{pkg.name}: raises codes but exports no ERRORS catalogue"]
    exact = {entry.code: entry for entry in catalogue.values()}
    raised: set[str] = set()
    for site in sites:
        raised.add(site.code)
        entry = exact.get(site.code)  # exact: a template counts only where it is written
        if entry is None:
            problems.append(f"{site.where()}: {site.code!r} is raised but not catalogued")
        elif site.error is not None and site.error not in _classes(entry.error):
            problems.append(
                f"{site.where()}: {site.code!r} is raised as {site.error}, catalogued as "
                f"{entry.error.__name__}"
            )
    for code in catalogue:
        if code not in raised:
            problems.append(f"{pkg.name}: {code!r} is catalogued but never raised")
    return problems


def render() -> str:
    """docs/errors.md: every package's codes, with class, meaning and what to do."""
    lines = [
        "# Errors",
        "",
        "<!-- Generated by `python tools/errors.py write` from each package's `ERRORS`"
        " catalogue; do not edit by hand. -->",
        "",
        "Every error PepperPy raises on purpose is a `PepperPyError` with a stable dotted",
        "`code`. Catch the class to handle a kind of failure; compare `error.code` to tell",
        "apart the cases a program handles differently. Each package lists its codes in",
        "`pepperpy.<area>.ERRORS` (an `ErrorCatalogue`: `ERRORS[code].meaning`,",
        "`.action`, `.error`). A `{name}` slot in a code stands for a word, such as the",
        "area of a shared helper: `pepperpy.{area}.unknown_backend` is raised as",
        "`pepperpy.storage.unknown_backend` by pepperpy-storage.",
        "",
    ]
    packages = ws.load_packages()
    order = ["core", *sorted(a for a in packages if a not in ("core", ws.META))]
    for area in order:
        catalogue = _catalogue(area)
        if catalogue is None:
            continue
        lines += [f"## {packages[area].name}", ""]
        lines += ["| Code | Class | Meaning | What to do |", "|---|---|---|---|"]
        for entry in catalogue.values():  # type: ignore[attr-defined]
            cells = [f"`{entry.code}`", f"`{entry.error.__name__}`", entry.meaning, entry.action]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("check", "write"):
        print(__doc__)
        return 2
    if argv[0] == "write":
        PAGE.write_text(render(), encoding="utf-8")
        print(f"wrote {PAGE.relative_to(ROOT)}")
        return 0
    areas = argv[1:] or [a for a in ws.load_packages() if a != ws.META]
    problems = [line for area in areas for line in check_area(area)]
    if not argv[1:] and (not PAGE.exists() or PAGE.read_text(encoding="utf-8") != render()):
        problems.append(f"{PAGE.relative_to(ROOT)} is stale: run python tools/errors.py write")
    for line in problems:
        print(line)
    print(f"error codes: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
