"""Attacks on the pipeline's promises (issue 21 #14-15, issue 20 #4).

Each test names the finding it covers; each failed (hung or leaked) before the fix.
"""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from collections.abc import AsyncIterator, Iterator

import pytest

from pepperpy.pipeline import Pipeline, PipelineError, StepError, merge

pytestmark = pytest.mark.usefixtures("no_leaked_tasks")


class Boom(BaseException):
    """A BaseException that is neither an Exception nor a cancellation."""


def _raiser(exc: BaseException):  # type: ignore[no-untyped-def]
    async def step(x: int) -> int:
        if x == 3:
            raise exc
        return x

    return step


BASE_EXCEPTIONS = [
    pytest.param(asyncio.CancelledError, id="CancelledError"),
    pytest.param(GeneratorExit, id="GeneratorExit"),
    pytest.param(Boom, id="custom-BaseException"),
]


@pytest.mark.parametrize("exc_type", BASE_EXCEPTIONS)
@pytest.mark.parametrize("concurrency", [1, 4])
@pytest.mark.parametrize("ordered", [True, False])
async def test_a_step_raising_a_base_exception_ends_the_stream(
    exc_type: type[BaseException], concurrency: int, ordered: bool
) -> None:
    """issue 21 #14: the worker loops caught only Exception; the stream hung forever."""
    pipeline = Pipeline().add_step(_raiser(exc_type()), concurrency=concurrency)
    stream = pipeline.stream(range(10), ordered=ordered)
    with pytest.raises(PipelineError) as info:
        await asyncio.wait_for(stream.collect(), 10)
    assert isinstance(info.value.__cause__, exc_type)


@pytest.mark.parametrize("exc_type", BASE_EXCEPTIONS)
async def test_a_step_raising_a_base_exception_in_a_sync_step(
    exc_type: type[BaseException],
) -> None:
    def step(x: int) -> int:
        if x == 2:
            raise exc_type()
        return x

    pipeline = Pipeline().add_step(step).add_step(str)
    with pytest.raises(PipelineError):
        await asyncio.wait_for(pipeline.stream(range(5)).collect(), 10)


@pytest.mark.parametrize("exc_type", BASE_EXCEPTIONS)
async def test_a_source_raising_a_base_exception_ends_the_stream(
    exc_type: type[BaseException],
) -> None:
    async def source() -> AsyncIterator[int]:
        yield 1
        raise exc_type()

    pipeline = Pipeline().add_step(str)
    with pytest.raises(PipelineError) as info:
        await asyncio.wait_for(pipeline.stream(source()).collect(), 10)
    assert isinstance(info.value.__cause__, exc_type)


@pytest.mark.parametrize("exc_type", BASE_EXCEPTIONS)
async def test_a_batch_stage_survives_a_base_exception_upstream(
    exc_type: type[BaseException],
) -> None:
    pipeline = Pipeline().add_step(_raiser(exc_type())).batch(2, timeout=0.01)
    with pytest.raises(PipelineError):
        await asyncio.wait_for(pipeline.stream(range(10)).collect(), 10)


@pytest.mark.parametrize("exc_type", BASE_EXCEPTIONS)
async def test_merge_survives_a_source_raising_a_base_exception(
    exc_type: type[BaseException],
) -> None:
    async def bad() -> AsyncIterator[int]:
        yield 1
        raise exc_type()

    async def consume() -> list[int]:
        return [x async for x in merge(bad(), [10, 11])]

    with pytest.raises(PipelineError) as info:
        await asyncio.wait_for(consume(), 10)
    assert isinstance(info.value.__cause__, exc_type)


async def test_cancelling_the_consumer_still_cancels_it() -> None:
    """The consumer's own cancellation stays a cancellation, and nothing leaks."""
    started = asyncio.Event()

    async def slow(x: int) -> int:
        started.set()
        await asyncio.sleep(10)
        return x

    consumer = asyncio.create_task(
        Pipeline().add_step(slow, concurrency=3).stream(range(10)).collect()
    )
    await started.wait()
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer


# --------------------------------------------------------------------------- #15 lazy flat_map


async def test_flat_map_emits_before_the_fan_out_is_complete() -> None:
    """issue 21 #15: flat_map collected a whole fan-out before emitting the first item."""
    produced = 0

    def fan_out(n: int) -> Iterator[int]:
        nonlocal produced
        for i in range(n):
            produced += 1
            yield i

    stream = Pipeline().flat_map(fan_out).stream([300_000], buffer=4)
    taken = []
    async with stream:
        async for value in stream:
            taken.append(value)
            if len(taken) == 10:
                break
    assert taken == list(range(10))
    assert produced < 100  # bounded by the buffers, not by the fan-out's size


async def test_flat_map_async_fan_out_is_lazy_and_closed_early() -> None:
    closed = False
    produced = 0

    async def fan_out(n: int) -> AsyncIterator[int]:
        nonlocal closed, produced
        try:
            for i in range(n):
                produced += 1
                yield i
        finally:
            closed = True

    stream = Pipeline().flat_map(fan_out).stream([10**9], buffer=2)
    async with stream:
        async for value in stream:
            if value == 5:
                break
    assert produced < 50
    assert closed


async def test_flat_map_memory_stays_bounded() -> None:
    """issue 21 #15: 300k outputs of 1 KiB with a consumer that takes 10."""

    def fan_out(n: int) -> Iterator[bytes]:
        for _ in range(n):
            yield bytes(1024)

    gc.collect()
    tracemalloc.start()
    try:
        stream = Pipeline().flat_map(fan_out).stream([300_000])
        async with stream:
            count = 0
            async for _ in stream:
                count += 1
                if count == 10:
                    break
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024  # the eager version held ~300 MiB


async def test_flat_map_error_mid_fan_out_follows_the_policy() -> None:
    def fan_out(n: int) -> Iterator[int]:
        yield n
        raise ValueError("broken generator")

    failing = Pipeline().flat_map(fan_out)
    with pytest.raises(StepError):
        await failing.stream([1, 2]).collect()
    skipping = Pipeline().flat_map(fan_out, on_error="skip")
    assert await skipping.stream([1, 2]).collect() == [1, 2]
    assert await skipping.process_all(7) == [7]


async def test_flat_map_ordered_concurrent_fan_out_keeps_order() -> None:
    async def fan_out(n: int) -> AsyncIterator[int]:
        for i in range(3):
            await asyncio.sleep(0)
            yield n * 10 + i

    out = await Pipeline().flat_map(fan_out, concurrency=4).stream(range(20)).collect()
    assert out == [n * 10 + i for n in range(20) for i in range(3)]
    stats = Pipeline().flat_map(fan_out)
    assert await stats.process_all(2) == [20, 21, 22]


# --------------------------------------------------------------------------- issue 20 #4


async def test_step_error_never_renders_the_item() -> None:
    """issue 20 #4: StepError rendered the raw item twice and it reached the JSON log sink
    ("pin" is on no word list, so the only safe rendering of an item is none)."""
    secret = "4321-s3cret-pin"

    def check(item: dict[str, str]) -> dict[str, str]:
        raise ValueError("bad item")

    pipeline = Pipeline().add_step(check, name="check")
    with pytest.raises(StepError) as info:
        await pipeline.process({"pin": secret})
    error = info.value
    for text in (str(error), repr(error), repr(error.to_dict()), repr(error.context)):
        assert secret not in text
    assert error.item == {"pin": secret}  # still there for code that handles the failure
    assert error.context["item_type"] == "dict"
    with pytest.raises(StepError) as streamed:
        await pipeline.stream([{"pin": secret}]).collect()
    assert secret not in str(streamed.value)


async def test_dead_letter_record_repr_hides_the_item() -> None:
    from pepperpy.pipeline import StepFailure

    failures: list[StepFailure] = []

    def check(item: dict[str, str]) -> dict[str, str]:
        raise ValueError("bad")

    pipeline = Pipeline().add_step(check, on_error="dead_letter", dead_letter=failures.append)
    assert await pipeline.stream([{"pin": "9876"}]).collect() == []
    assert failures and "9876" not in repr(failures[0])


async def test_step_error_survives_a_cause_whose_str_raises() -> None:
    class Nasty(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no str")

    def step(item: int) -> int:
        raise Nasty

    with pytest.raises(StepError) as info:
        await Pipeline().add_step(step).process(1)
    assert "Nasty" in str(info.value)
