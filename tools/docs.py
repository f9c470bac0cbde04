#!/usr/bin/env python3
"""Run every ```python block of the documentation (stdlib only).

    python tools/docs.py                  every page under docs/
    python tools/docs.py docs/cache.md    some pages
    python tools/docs.py --list           the blocks that would run, and those opted out

Each page runs in a fresh interpreter, in its own temporary directory, as one
session: its blocks run in order in one namespace, so a later block may use
what an earlier one defined (as a reader would). A block may use top-level
``await``; such blocks share one event loop for the whole page. A block opts
out only with a visible marker on the line before its fence::

    <!-- no-run -->
    ```python
    fragment()  # illustrative, shown but not executed
    ```

Keep those rare: an example that does not run is an example that rots.
A failing block does not stop the page: every failing block is reported with
its page, its first line and the traceback's last frames. The last
line is ``docs: N passed, N failed`` (pages), and the exit code is 1 on any
failure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
NO_RUN = "<!-- no-run -->"
_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[^\s`]*)[^\n]*$")


@dataclass(frozen=True)
class Block:
    """One fenced ```python block of a page."""

    page: Path
    line: int  # 1-based line of the first code line
    code: str
    run: bool


def blocks(page: Path) -> list[Block]:
    """Every ```python block of *page*, in order, with its opt-out flag."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    previous = ""  # the last non-blank line before the current one
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            if lines[i].strip():
                previous = lines[i].strip()
            i += 1
            continue
        indent, lang = match["indent"], match["lang"].lower()
        start = i + 1
        j = start
        while j < len(lines) and lines[j].strip() != "```":
            j += 1
        if lang in ("python", "py", "python3"):
            body = [
                line[len(indent) :] if line.startswith(indent) else line for line in lines[start:j]
            ]
            found.append(Block(page, start + 1, "\n".join(body) + "\n", previous != NO_RUN))
        previous = ""
        i = j + 1
    return found


# The runner executed in the fresh interpreter: one namespace per page; blocks
# with top-level await run on one loop kept for the page.
_RUNNER = r"""
import ast, asyncio, json, sys, traceback
with open(sys.argv[1], encoding="utf-8") as _f:
    blocks = json.load(_f)
namespace = {"__name__": "__main__"}
loop = None
failed = 0
for block in blocks:
    source = "\n" * (block["line"] - 1) + block["code"]
    try:
        code = compile(source, block["page"], "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        if code.co_flags & 0x80:  # CO_COROUTINE: top-level await
            if loop is None:
                loop = asyncio.new_event_loop()
            loop.run_until_complete(eval(code, namespace))
        else:
            exec(code, namespace)
    except BaseException:
        print(f"\n--- {block['page']}:{block['line']}: this block failed", file=sys.stderr)
        traceback.print_exc(limit=-3)
        failed += 1
if loop is not None:
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()
sys.exit(1 if failed else 0)
"""


@dataclass
class Result:
    """The outcome of one page."""

    page: Path
    ran: int
    skipped: int
    ok: bool
    output: str


def run_page(page: Path, python: str, timeout: float) -> Result:
    """Run *page*'s runnable blocks in a fresh interpreter in a temporary directory."""
    found = blocks(page)
    runnable = [b for b in found if b.run]
    skipped = len(found) - len(runnable)
    if not runnable:
        return Result(page, 0, skipped, True, "")
    rel = str(page.relative_to(ROOT)) if page.is_relative_to(ROOT) else str(page)
    with tempfile.TemporaryDirectory(prefix="pepperpy-docs-") as tmp:
        spec = Path(tmp) / "_blocks.json"
        spec.write_text(
            json.dumps([{"page": rel, "line": b.line, "code": b.code} for b in runnable]),
            encoding="utf-8",
        )
        runner = Path(tmp) / "_runner.py"
        runner.write_text(_RUNNER, encoding="utf-8")
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PEPPERPY_DATA_DIR": tmp}
        env.pop("PYTHONPATH", None)
        try:
            proc = subprocess.run(
                [python, str(runner), str(spec)],
                cwd=tmp,
                capture_output=True,
                text=True,
                timeout=timeout,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            out = (exc.stdout or "") if isinstance(exc.stdout, str) else ""
            return Result(page, len(runnable), skipped, False, f"{out}\ntimed out after {timeout}s")
    return Result(page, len(runnable), skipped, proc.returncode == 0, proc.stdout + proc.stderr)


def pages(args: list[str]) -> list[Path]:
    if args:
        return [Path(a).resolve() for a in args]
    return sorted(DOCS.rglob("*.md"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*", help="markdown files (default: docs/**/*.md)")
    parser.add_argument("--python", default=sys.executable, help="interpreter to run them with")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per page")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--list", action="store_true", help="list the blocks, run nothing")
    parser.add_argument("-v", "--verbose", action="store_true", help="print passing output too")
    ns = parser.parse_args(argv)
    selected = pages(ns.pages)
    if ns.list:
        for page in selected:
            for block in blocks(page):
                mark = "run " if block.run else "skip"
                print(f"{mark} {page.relative_to(ROOT)}:{block.line}")
        return 0
    with ThreadPoolExecutor(max_workers=max(1, ns.jobs)) as pool:
        results = list(pool.map(lambda p: run_page(p, ns.python, ns.timeout), selected))
    failed = [r for r in results if not r.ok]
    for r in results:
        rel = r.page.relative_to(ROOT) if r.page.is_relative_to(ROOT) else r.page
        status = "ok  " if r.ok else "FAIL"
        extra = f", {r.skipped} marked no-run" if r.skipped else ""
        print(f"{status} {rel}: {r.ran} block(s) ran{extra}")
        if not r.ok or ns.verbose:
            print("\n".join("    " + line for line in r.output.rstrip().splitlines()))
    blocks_ran = sum(r.ran for r in results)
    skipped = sum(r.skipped for r in results)
    print(f"docs: {blocks_ran} blocks run, {skipped} marked no-run, in {len(results)} pages")
    print(f"docs: {len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
