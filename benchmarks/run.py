"""Run the side-by-side benchmarks and write benchmarks/results/latest.md.

python benchmarks/run.py               every bench_* function in bench_*.py
python benchmarks/run.py retry cache   only those whose module or name matches a word
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import platform
import sys
import traceback
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402


def main(words: list[str]) -> int:
    failures = 0
    for path in sorted(HERE.glob("bench_*.py")):
        try:
            module = importlib.import_module(path.stem)
        except ImportError as exc:
            print(f"skip {path.name}: {exc}", file=sys.stderr)
            continue
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("bench_") or fn.__module__ != module.__name__:
                continue
            if words and not any(w in path.stem or w in name for w in words):
                continue
            print(f"## {path.stem}.{name}", flush=True)
            try:
                result = fn()
                if inspect.isawaitable(result):
                    asyncio.run(result)
            except Exception:
                failures += 1
                traceback.print_exc()
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# Benchmark results ({stamp}, Python {platform.python_version()}, {platform.machine()})",
        "",
        "Ratio = ours / peer time per operation (median of interleaved rounds);"
        " below 1 means ours is faster. Differences under 1.3x are noise on this machine.",
        "",
        "| benchmark | case | median per op | ops/s | ratio ours/peer |",
        "|---|---|---|---|---|",
    ]
    for result in harness.RESULTS:
        lines += result.rows()
    (out / "latest.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {out / 'latest.md'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
