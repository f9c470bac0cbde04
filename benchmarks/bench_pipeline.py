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
