"""Import cost of each pepperpy portion above the bare interpreter.

    python benchmarks/import_time.py [module ...]

Each module is imported in a fresh interpreter, interleaved with a bare
``python -c pass`` run, 15 rounds; the report is the median difference of
wall-clock process time, in milliseconds.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time


def _run(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def measure(module: str, rounds: int = 15) -> float:
    diffs = []
    for _ in range(rounds):
        bare = _run("pass")
        loaded = _run(f"import {module}")
        diffs.append(loaded - bare)
    return statistics.median(diffs) * 1000


def main(modules: list[str]) -> None:
    if not modules:
        import pkgutil

        import pepperpy

        modules = sorted(
            f"pepperpy.{m.name}" for m in pkgutil.iter_modules(pepperpy.__path__) if m.ispkg
        )
    for module in modules:
        print(f"| import {module} | {measure(module):.1f} ms above bare interpreter |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
