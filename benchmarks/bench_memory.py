"""Memory, side by side: bytes per cache entry, peak RSS of 100k queued events and 100k
queued tasks, and the import cost (time and memory) of every area.

Each case runs in a fresh interpreter (memory does not swing with the machine's
phases, so one run per case is enough). Bytes per entry are tracemalloc's count of
the bytes a filled cache holds, divided by its entries; peak RSS is the process's
``ru_maxrss``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

import harness
from harness import Result, compare_peak_rss

REQUIRES = ["cachetools", "pyee", "aiojobs"]

N_ENTRIES = 100_000
N_QUEUED = 100_000
HERE = os.path.dirname(os.path.abspath(__file__))


class BytesResult(Result):
    """Bytes per entry per case; ratios ours/peer."""

    def rows(self) -> list[str]:
        out = []
        for case, size in self.medians.items():
            ratio = "1.00 (ours)" if case == self.ours else f"{self.ratios[case]:.3g}"
            out.append(f"| {self.name} | {case} | {size:,.0f} bytes/entry | - | {ratio} |")
        return out


class ImportResult(Result):
    """Import time (ms) and memory (MB) above the bare interpreter, per module."""

    memory: dict[str, float]

    def rows(self) -> list[str]:
        return [
            f"| {self.name} | {case} | {ms:.1f} ms, {self.memory[case] / 2**20:.1f} MB above "
            "bare python | - | - |"
            for case, ms in self.medians.items()
        ]


_BYTES_PROBE = """
import gc, sys, tracemalloc
sys.path.insert(0, {here!r})
N = {n}
{setup}
gc.collect()
tracemalloc.start()
before = tracemalloc.get_traced_memory()[0]
{fill}
gc.collect()
after = tracemalloc.get_traced_memory()[0]
assert {check}, "the cache did not keep every entry"
print("BYTES_PER_ENTRY", (after - before) / N)
"""


def _bytes_per_entry(setup: str, fill: str, check: str) -> float:
    code = _BYTES_PROBE.format(here=HERE, n=N_ENTRIES, setup=setup, fill=fill, check=check)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("BYTES_PER_ENTRY")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"memory case failed:\n{proc.stderr[-2000:]}")
    return float(lines[-1].split()[1])


def bench_memory_cache_entries():
    """Bytes per entry of a 100k-entry LRU cache (int keys, int values)."""
    cases = {
        "pepperpy Cache(N)": (
            "from pepperpy.cache import Cache\nc = Cache(N)",
            "for i in range(N): c.set(i, i)",
            "len(c) == N",
        ),
        "pepperpy Cache(N, ttl=60)": (
            "from pepperpy.cache import Cache\nc = Cache(N, ttl=60)",
            "for i in range(N): c.set(i, i)",
            "len(c) == N",
        ),
        "cachetools LRUCache(N)": (
            "import cachetools\nc = cachetools.LRUCache(maxsize=N)",
            "for i in range(N): c[i] = i",
            "len(c) == N",
        ),
        "cachetools TTLCache(N, 60)": (
            "import cachetools\nc = cachetools.TTLCache(maxsize=N, ttl=60)",
            "for i in range(N): c[i] = i",
            "len(c) == N",
        ),
        "functools.lru_cache(N) (the floor)": (
            "import functools\nf = functools.lru_cache(maxsize=N)(lambda i: i)",
            "for i in range(N): f(i)",
            "f.cache_info().currsize == N",
        ),
    }
    sizes = {case: _bytes_per_entry(*spec) for case, spec in cases.items()}
    ours = next(iter(cases))
    ratios = {case: sizes[ours] / size for case, size in sizes.items() if case != ours}
    result = BytesResult(
        f"cache memory: bytes per entry, {N_ENTRIES:,} entries", ours, sizes, ratios
    )
    harness.RESULTS.append(result)
    print("\n".join(result.rows()), flush=True)
    return result


_EVENTS_OURS = """
import asyncio
from pepperpy.event import EventManager
N = {n}
async def main():
    gate = asyncio.Event()
    seen = 0
    async def handler(_):
        nonlocal seen
        await gate.wait()
        seen += 1
    events = EventManager()
    events.subscribe("orders.created", handler, delivery="queued", queue_size=N)
    await events.start()
    for i in range(N):
        await events.publish("orders.created", {{"id": i}})
    gate.set()
    await events.drain()
    await events.stop()
    assert seen == N, seen
asyncio.run(main())
"""

_EVENTS_PYEE = """
import asyncio
from pyee.asyncio import AsyncIOEventEmitter
N = {n}
async def main():
    gate = asyncio.Event()
    seen = 0
    async def handler(_):
        nonlocal seen
        await gate.wait()
        seen += 1
    emitter = AsyncIOEventEmitter()
    emitter.on("orders.created", handler)
    for i in range(N):
        emitter.emit("orders.created", {{"id": i}})  # one task per pending delivery
    await asyncio.sleep(0)
    gate.set()
    while seen < N:
        await asyncio.sleep(0.01)
asyncio.run(main())
"""

_EVENTS_QUEUE = """
import asyncio
N = {n}
async def main():
    gate = asyncio.Event()
    queue = asyncio.Queue()
    seen = 0
    async def consume():
        nonlocal seen
        await gate.wait()
        while seen < N:
            await queue.get()
            seen += 1
    worker = asyncio.ensure_future(consume())
    for i in range(N):
        queue.put_nowait(("orders.created", {{"id": i}}))
    gate.set()
    await worker
asyncio.run(main())
"""


def bench_memory_queued_events():
    """Peak RSS with 100k events waiting in a queue behind a blocked handler."""
    return compare_peak_rss(
        f"event memory: {N_QUEUED:,} events queued behind a blocked handler",
        {
            "pepperpy queued subscription": _EVENTS_OURS.format(n=N_QUEUED),
            "pyee (a task per delivery)": _EVENTS_PYEE.format(n=N_QUEUED),
            "asyncio.Queue of (name, payload) (the floor)": _EVENTS_QUEUE.format(n=N_QUEUED),
        },
        note="Each payload is a small dict; the handler waits on a gate until all are in.",
    )


_TASKS_OURS = """
import asyncio
from pepperpy.task import TaskManager
N = {n}
async def main():
    gate = asyncio.Event()
    done = 0
    async def job(i):
        nonlocal done
        await gate.wait()
        done += 1
    tasks = TaskManager(concurrency=1)
    await tasks.start()
    for i in range(N):
        tasks.submit(job, i)
    gate.set()
    await tasks.drain()
    await tasks.stop()
    assert done == N, done
asyncio.run(main())
"""

_TASKS_AIOJOBS = """
import asyncio
import aiojobs
N = {n}
async def main():
    gate = asyncio.Event()
    done = 0
    async def job(i):
        nonlocal done
        await gate.wait()
        done += 1
    scheduler = aiojobs.Scheduler(limit=1, pending_limit=N)
    for i in range(N):
        await scheduler.spawn(job(i))
    gate.set()
    await scheduler.wait_and_close()
    assert done == N, done
asyncio.run(main())
"""

_TASKS_QUEUE = """
import asyncio
N = {n}
async def main():
    gate = asyncio.Event()
    done = 0
    async def job(i):
        nonlocal done
        await gate.wait()
        done += 1
    queue = asyncio.Queue()
    for i in range(N):
        queue.put_nowait((job, (i,)))
    gate.set()
    while not queue.empty():
        fn, args = queue.get_nowait()
        await fn(*args)
    assert done == N, done
asyncio.run(main())
"""


def bench_memory_queued_tasks():
    """Peak RSS with 100k tasks waiting behind one running task (concurrency 1)."""
    return compare_peak_rss(
        f"task memory: {N_QUEUED:,} tasks queued behind one running task",
        {
            "pepperpy TaskManager(concurrency=1)": _TASKS_OURS.format(n=N_QUEUED),
            "aiojobs Scheduler(limit=1)": _TASKS_AIOJOBS.format(n=N_QUEUED),
            "asyncio.Queue of (fn, args) (the floor)": _TASKS_QUEUE.format(n=N_QUEUED),
        },
    )


_IMPORT_PROBE = """
import time
t = time.perf_counter()
{stmt}
t = time.perf_counter() - t
{peak}
print(t, peak_rss_kb())
"""


def _import_cost(stmt: str) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE.format(stmt=stmt, peak=harness.PEAK_RSS_KB)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]), float(out[1]) * 1024


def bench_import_cost():
    """`import pepperpy.<area>` time and peak RSS above the bare interpreter, per area."""
    import pkgutil

    import pepperpy

    modules = sorted(
        f"pepperpy.{m.name}" for m in pkgutil.iter_modules(pepperpy.__path__) if m.ispkg
    )
    times: dict[str, list[float]] = {m: [] for m in ["pepperpy", *modules]}
    memory: dict[str, list[float]] = {m: [] for m in times}
    for _ in range(7):  # rounds; the import is timed in-process, memory against a bare run
        for module in times:
            _, bare_rss = _import_cost("pass")
            seconds, rss = _import_cost(f"import {module}")
            times[module].append(seconds * 1000)
            memory[module].append(rss - bare_rss)
    result = ImportResult(
        "import cost", "pepperpy", {m: statistics.median(v) for m, v in times.items()}
    )
    result.memory = {m: statistics.median(v) for m, v in memory.items()}
    harness.RESULTS.append(result)
    print("\n".join(result.rows()), flush=True)
    return result
