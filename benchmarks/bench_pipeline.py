"""pepperpy.pipeline: 100,000 items through a 3-step async stream (concurrency 8 per step)
vs aiostream and hand-written asyncio.Queue stages (the limit)."""

from __future__ import annotations

import asyncio

from harness import acompare
from pepperpy.pipeline import Pipeline

REQUIRES = ["aiostream"]

N = 100_000
C = 8
BUFFER = 64


async def _step(x: int) -> int:
    return x + 1


async def _hand_written(n: int) -> int:
    """Three stages of C workers joined by bounded queues, unordered: the floor."""
    end = object()
    queues: list[asyncio.Queue[object]] = [asyncio.Queue(BUFFER) for _ in range(4)]

    async def feed() -> None:
        for i in range(n):
            await queues[0].put(i)
        for _ in range(C):
            await queues[0].put(end)

    async def worker(i: int) -> None:
        get, put = queues[i].get, queues[i + 1].put
        while True:
            item = await get()
            if item is end:
                return
            await put(await _step(item))  # type: ignore[arg-type]

    async def stage(i: int) -> None:
        await asyncio.gather(*(worker(i) for _ in range(C)))
        for _ in range(C if i < 2 else 1):
            await queues[i + 1].put(end)

    tasks = [asyncio.ensure_future(feed())] + [asyncio.ensure_future(stage(i)) for i in range(3)]
    count = 0
    while True:
        item = await queues[3].get()
        if item is end:
            break
        count += 1
    await asyncio.gather(*tasks)
    return count


def _pipeline() -> Pipeline[int, int]:
    return (
        Pipeline(buffer=BUFFER)
        .add_step(_step, concurrency=C)
        .add_step(_step, concurrency=C)
        .add_step(_step, concurrency=C)
    )


async def _ours(pipeline: Pipeline[int, int], n: int, *, ordered: bool) -> None:
    count = 0
    async with pipeline.stream(range(n), ordered=ordered) as results:
        async for _ in results:
            count += 1
    assert count == n


async def bench_stream_100k():
    pipeline = _pipeline()

    async def ours_ordered() -> None:
        await _ours(pipeline, N, ordered=True)

    async def ours_unordered() -> None:
        await _ours(pipeline, N, ordered=False)

    async def hand_written() -> None:
        assert await _hand_written(N) == N

    return await acompare(
        "pipeline: 100,000 items, 3 async steps, concurrency 8",
        {
            "pepperpy (ordered)": ours_ordered,
            "pepperpy (unordered)": ours_unordered,
            "hand-written queues": hand_written,
        },
        inner=1,
        samples=7,
    )


N_AIOSTREAM = 20_000  # aiostream needs about 0.7 ms per item here: 100k would take minutes


async def bench_stream_vs_aiostream():
    from aiostream import pipe, stream

    pipeline = _pipeline()

    async def ours_ordered() -> None:
        await _ours(pipeline, N_AIOSTREAM, ordered=True)

    async def aiostream_map() -> None:
        xs = (
            stream.iterate(range(N_AIOSTREAM))
            | pipe.map(_step, task_limit=C)
            | pipe.map(_step, task_limit=C)
            | pipe.map(_step, task_limit=C)
        )
        count = 0
        async with xs.stream() as streamer:
            async for _ in streamer:
                count += 1
        assert count == N_AIOSTREAM

    return await acompare(
        "pipeline: 20,000 items, 3 async steps, concurrency 8",
        {"pepperpy (ordered)": ours_ordered, "aiostream (ordered)": aiostream_map},
        inner=1,
        samples=3,
    )


# --------------------------------------------------------------------------- memory

N_MEMORY = 200_000  # 1M items take minutes per case on the 2-core machine; RSS is flat in N

_SLOW_STEP = f"""
import asyncio
N = {N_MEMORY}
async def slow(x):
    await asyncio.sleep(0)  # slower than the source: backpressure decides the memory
    return x
"""


def bench_memory_slow_step():
    """Peak RSS of N items through one slow step (concurrency 8), in a fresh process each."""
    from harness import compare_peak_rss

    ours = (
        _SLOW_STEP
        + """
from pepperpy.pipeline import Pipeline
async def main():
    n = 0
    async with Pipeline(buffer=64).add_step(slow, concurrency=8).stream(range(N)) as out:
        async for _ in out:
            n += 1
    assert n == N
asyncio.run(main())
"""
    )
    hand = (
        _SLOW_STEP
        + """
async def main():
    end = object()
    inq, outq = asyncio.Queue(64), asyncio.Queue(64)
    async def feed():
        for i in range(N):
            await inq.put(i)
        for _ in range(8):
            await inq.put(end)
    async def worker():
        while (item := await inq.get()) is not end:
            await outq.put(await slow(item))
    async def stage():
        await asyncio.gather(*(worker() for _ in range(8)))
        await outq.put(end)
    tasks = [asyncio.ensure_future(feed()), asyncio.ensure_future(stage())]
    n = 0
    while (await outq.get()) is not end:
        n += 1
    await asyncio.gather(*tasks)
    assert n == N
asyncio.run(main())
"""
    )
    # The same interpreters with nothing streamed: what the imports alone hold. The
    # stream's own working set is the difference, flat in N (a few pages).
    ours_import_only = (
        _SLOW_STEP
        + """
from pepperpy.pipeline import Pipeline
asyncio.run(slow(0))
"""
    )
    hand_import_only = _SLOW_STEP + "\nasyncio.run(slow(0))\n"
    gather_all = (
        _SLOW_STEP
        + """
async def main():
    assert len(await asyncio.gather(*(slow(i) for i in range(N)))) == N
asyncio.run(main())
"""
    )
    return compare_peak_rss(
        f"pipeline memory: {N_MEMORY:,} items through a slow step, concurrency 8",
        {
            "pepperpy stream (ordered, buffer 64)": ours,
            "hand-written asyncio.Queue(64) stage": hand,
            "asyncio.gather of every item (no backpressure)": gather_all,
            "import pepperpy.pipeline only, no items": ours_import_only,
            "import asyncio only, no items": hand_import_only,
        },
        note="The gap to the hand-written stage is import-time memory (attrs and"
        " pepperpy.core.utils), not the stream: compare each with its import-only row.",
    )
