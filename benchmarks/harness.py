"""Side-by-side benchmark harness: interleaved samples, medians, ratios.

This machine alternates between slow and fast phases about 2x apart, lasting
0.1-2 s. So the cases of one benchmark are sampled in turn (A B C A B C ...),
each sample is short, and the report uses the median per case and the median
of the per-round ratios ours/peer: a phase change hits every case alike.
Differences under 1.3x are noise.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

RESULTS: list[Result] = []


@dataclass
class Result:
    """One benchmark: per-case median seconds per operation and ratios to ours."""

    name: str
    ours: str
    medians: dict[str, float]
    ratios: dict[str, float] = field(default_factory=dict)  # ours/peer, per-round median
    note: str = ""

    def rows(self) -> list[str]:
        out = []
        for case, median in self.medians.items():
            ratio = "1.00 (ours)" if case == self.ours else f"{self.ratios[case]:.3g}"
            out.append(f"| {self.name} | {case} | {_fmt(median)} | {1 / median:,.0f} | {ratio} |")
        return out


def _fmt(seconds: float) -> str:
    if seconds < 1e-6:
        return f"{seconds * 1e9:.0f} ns"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def _summarise(
    name: str, samples: dict[str, list[float]], baseline: str | None, note: str
) -> Result:
    cases = list(samples)
    ours = baseline or cases[0]
    medians = {case: statistics.median(values) for case, values in samples.items()}
    ratios = {}
    for case in cases:
        if case == ours:
            continue
        per_round = [o / p for o, p in zip(samples[ours], samples[case], strict=True) if p > 0]
        ratios[case] = statistics.median(per_round)
    result = Result(name, ours, medians, ratios, note)
    RESULTS.append(result)
    print("\n".join(result.rows()), flush=True)
    return result


def compare(
    name: str,
    cases: dict[str, Callable[[], Any]],
    *,
    inner: int = 1000,
    samples: int = 40,
    baseline: str | None = None,
    note: str = "",
) -> Result:
    """Time sync zero-argument callables, interleaved; *inner* calls per sample."""
    for fn in cases.values():  # warm up
        for _ in range(min(inner, 100)):
            fn()
    timings: dict[str, list[float]] = {case: [] for case in cases}
    loop_range = range(inner)
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for _ in range(samples):
            for case, fn in cases.items():
                start = time.perf_counter()
                for _ in loop_range:
                    fn()
                timings[case].append((time.perf_counter() - start) / inner)
    finally:
        if gc_was:
            gc.enable()
    return _summarise(name, timings, baseline, note)


async def acompare(
    name: str,
    cases: dict[str, Callable[[], Awaitable[Any]]],
    *,
    inner: int = 200,
    samples: int = 30,
    baseline: str | None = None,
    note: str = "",
) -> Result:
    """Time zero-argument coroutine functions, interleaved; *inner* awaits per sample."""
    for fn in cases.values():
        for _ in range(min(inner, 20)):
            await fn()
    timings: dict[str, list[float]] = {case: [] for case in cases}
    for _ in range(samples):
        for case, fn in cases.items():
            start = time.perf_counter()
            for _ in range(inner):
                await fn()
            timings[case].append((time.perf_counter() - start) / inner)
    return _summarise(name, timings, baseline, note)


@dataclass
class MemoryResult(Result):
    """Peak RSS per case (bytes), each measured in a fresh interpreter; ratios ours/peer."""

    def rows(self) -> list[str]:
        out = []
        for case, peak in self.medians.items():
            ratio = "1.00 (ours)" if case == self.ours else f"{self.ratios[case]:.3g}"
            out.append(f"| {self.name} | {case} | {peak / 2**20:.1f} MB peak RSS | - | {ratio} |")
        return out


PEAK_RSS_KB = """
def peak_rss_kb():
    # VmHWM: this process's own peak since exec. ru_maxrss is not: Linux carries the
    # forking parent's peak over exec, so a small child would report its parent's size.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""

_RSS_PROBE = """
import sys
sys.path.insert(0, {here!r})
{code}
{peak}
print("PEAK_RSS_KB", peak_rss_kb())
"""


def compare_peak_rss(
    name: str, cases: dict[str, str], *, baseline: str | None = None, note: str = ""
) -> MemoryResult:
    """Run each case's Python source in a fresh interpreter and compare peak RSS.

    Memory does not swing with the machine's phases, so one run per case is enough;
    the cases run one after the other. Ratios are ours/peer.
    """
    import os
    import subprocess
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    peaks: dict[str, float] = {}
    for case, code in cases.items():
        proc = subprocess.run(
            [sys.executable, "-c", _RSS_PROBE.format(here=here, code=code, peak=PEAK_RSS_KB)],
            capture_output=True,
            text=True,
            check=False,
        )
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("PEAK_RSS_KB")]
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f"memory case {case!r} failed:\n{proc.stderr[-2000:]}")
        peaks[case] = int(lines[-1].split()[1]) * 1024.0
    ours = baseline or next(iter(cases))
    ratios = {case: peaks[ours] / peak for case, peak in peaks.items() if case != ours}
    result = MemoryResult(name, ours, peaks, ratios, note)
    RESULTS.append(result)
    print("\n".join(result.rows()), flush=True)
    return result


def run_async(coro: Awaitable[Result]) -> Result:
    """Run an async benchmark from sync code."""
    return asyncio.run(coro)  # type: ignore[arg-type]
