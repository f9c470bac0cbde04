"""Tests for pepperpy.pipeline._stream: concurrency, order, backpressure, teardown."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pepperpy.pipeline import Pipeline, StepError, StepFailure, merge

pytestmark = pytest.mark.usefixtures("no_leaked_tasks")


async def settle() -> None:
    for _ in range(50):
        await asyncio.sleep(0)


class TestStream:
    async def test_stream_runs_every_item_in_order(self):
        async def slow_for_small(x: int) -> int:
            for _ in range(10 - x % 10):
                await asyncio.sleep(0)
            return x * 2

        pipeline = Pipeline().add_step(slow_for_small, concurrency=8).add_step(str)
        assert [str(2 * i) for i in range(100)] == await pipeline.stream(range(100)).collect()

    async def test_unordered_returns_every_item(self):
        async def slow_first(x: int) -> int:
            if x == 0:
                await settle()
            return x

        pipeline = Pipeline().add_step(slow_first, concurrency=4)
        out = await pipeline.stream(range(10), ordered=False).collect()
        assert sorted(out) == list(range(10))
        assert out[0] != 0

    async def test_async_source_and_context_manager(self):
        async def source():
            for i in range(5):
                yield i

        async with Pipeline().add_step(lambda x: x + 1).stream(source()) as results:
            assert [x async for x in results] == [1, 2, 3, 4, 5]

    @settings(max_examples=30, deadline=None)
    @given(
        items=st.lists(st.integers(0, 1000), max_size=60),
        concurrency=st.integers(1, 6),
        buffer=st.integers(1, 8),
        delays=st.lists(st.integers(0, 4), min_size=1, max_size=10),
    )
    async def test_ordered_output_matches_sequential(self, items, concurrency, buffer, delays):
        async def step(x: int) -> int:
            for _ in range(delays[x % len(delays)]):
                await asyncio.sleep(0)
            return x + 1

        pipeline = (
            Pipeline(buffer=buffer)
            .add_step(step, concurrency=concurrency)
            .filter(lambda x: x % 3 != 0)
            .flat_map(lambda x: [x] * (x % 3), concurrency=concurrency)
        )
        expected = [y for x in items for y in await pipeline.process_all(x)]
        assert expected == await pipeline.stream(items).collect()

    async def test_filter_and_fan_out_in_stream(self):
        pipeline = (
            Pipeline()
            .filter(lambda x: x % 2 == 0, concurrency=3)
            .flat_map(lambda x: [x, x], concurrency=2)
        )
        assert await pipeline.stream(range(6)).collect() == [0, 0, 2, 2, 4, 4]

    async def test_slow_head_does_not_stop_other_work_but_is_bounded(self):
        release = asyncio.Event()
        started: list[int] = []

        async def step(x: int) -> int:
            started.append(x)
            if x == 0:
                await release.wait()
            return x

        pipeline = Pipeline(buffer=4).add_step(step, concurrency=2)
        async with pipeline.stream(range(100)) as results:
            first = asyncio.ensure_future(results.__anext__())
            await settle()
            # The second worker kept going while item 0 waited, up to the window.
            assert 2 < len(started) <= 4 + 2
            release.set()
            assert await first == 0
            assert list(range(1, 100)) == [x async for x in results]

    async def test_batches_in_stream(self):
        pipeline = Pipeline().batch(4).add_step(sum)
        assert await pipeline.stream(range(11)).collect() == [6, 22, 27]

    async def test_batch_timeout_flushes_a_partial_batch(self):
        gate = asyncio.Event()

        async def source():
            yield 1
            yield 2
            await gate.wait()
            yield 3

        async with Pipeline().batch(10, timeout=0.01).stream(source()) as results:
            assert await results.__anext__() == [1, 2]
            gate.set()
            assert [b async for b in results] == [[3]]

    async def test_per_step_buffer(self):
        pipeline = Pipeline(buffer=8).add_step(lambda x: x, buffer=1)
        assert await pipeline.stream([0, 1, 2]).collect() == [0, 1, 2]


class TestBackpressure:
    async def test_a_stalled_consumer_stops_the_source(self):
        produced = 0

        def source():
            nonlocal produced
            for i in range(10_000):
                produced += 1
                yield i

        pipeline = Pipeline(buffer=2).add_step(lambda x: x, concurrency=2).add_step(lambda x: x)
        async with pipeline.stream(source()) as results:
            assert await results.__anext__() == 0
            await settle()
            # feeder(1) + 3 edges of 2 + 2 + 1 workers in hand + window: tens, not thousands.
            bound = produced
            assert bound <= 20
            await settle()
            assert bound == produced
        assert produced < 10_000

    async def test_backpressure_with_a_slow_step(self):
        produced = 0
        gate = asyncio.Event()

        async def source():
            nonlocal produced
            for i in range(1000):
                produced += 1
                yield i

        async def slow(x: int) -> int:
            await gate.wait()
            return x

        pipeline = Pipeline(buffer=3).add_step(slow, concurrency=2)
        async with pipeline.stream(source()) as results:
            task = asyncio.ensure_future(results.__anext__())
            await settle()
            assert produced <= 3 + 2 + 1 + 3
            gate.set()
            assert await task == 0


class TestFailures:
    async def test_fail_fast_stops_the_stream_with_the_item(self):
        def explode(x: int) -> int:
            if x == 13:
                raise ValueError("unlucky")
            return x

        pipeline = Pipeline().add_step(explode, concurrency=4)
        with pytest.raises(StepError) as info:
            await pipeline.stream(range(1000)).collect()
        assert info.value.item == 13
        assert info.value.step == "explode"

    async def test_dead_letter_in_stream(self):
        dead: list[StepFailure] = []

        def explode(x: int) -> int:
            if x % 5 == 0:
                raise ValueError(x)
            return x

        pipeline = Pipeline(dead_letter=dead.append).add_step(
            explode, concurrency=3, on_error="dead_letter"
        )
        out = await pipeline.stream(range(20)).collect()
        assert [x for x in range(20) if x % 5] == out
        assert sorted(f.item for f in dead) == [0, 5, 10, 15]

    async def test_source_error_is_raised(self):
        async def source():
            yield 1
            raise OSError("disk gone")

        with pytest.raises(OSError, match="disk gone"):
            await Pipeline().add_step(lambda x: x).stream(source()).collect()

    async def test_failing_dead_letter_sink_fails_the_stream(self):
        def sink(failure: StepFailure) -> None:
            raise RuntimeError("sink down")

        pipeline = Pipeline(dead_letter=sink).add_step(lambda x: 1 / 0, on_error="dead_letter")
        with pytest.raises(RuntimeError, match="sink down"):
            await pipeline.stream([1]).collect()


class TestTeardown:
    async def test_cancelling_the_consumer_stops_every_stage_and_closes_the_source(self):
        closed = asyncio.Event()
        stuck = asyncio.Event()

        async def source():
            try:
                for i in range(1000):
                    yield i
            finally:
                closed.set()

        async def hang(x: int) -> int:
            if x == 3:
                stuck.set()
                await asyncio.Event().wait()
            return x

        pipeline = Pipeline(buffer=2).add_step(hang, concurrency=3).add_step(lambda x: x)
        got: list[int] = []

        async def consume() -> None:
            async for x in pipeline.stream(source()):
                got.append(x)

        task = asyncio.create_task(consume())
        await stuck.wait()
        await settle()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert closed.is_set()
        assert got == [0, 1, 2]

    async def test_breaking_out_of_async_with_closes(self):
        closed = False

        async def source():
            nonlocal closed
            try:
                i = 0
                while True:
                    yield i
                    i += 1
            finally:
                closed = True

        async with Pipeline().add_step(lambda x: x, concurrency=2).stream(source()) as results:
            async for x in results:
                if x == 5:
                    break
        assert closed

    async def test_aclose_before_start_is_fine(self):
        stream = Pipeline().add_step(lambda x: x).stream([1, 2])
        await stream.aclose()


class TestMerge:
    async def test_merge_interleaves_all_sources(self):
        async def gen(start: int):
            for i in range(start, start + 3):
                yield i

        out = [x async for x in merge(gen(0), gen(10), [100])]
        assert sorted(out) == [0, 1, 2, 10, 11, 12, 100]

    async def test_merge_as_a_pipeline_source(self):
        pipeline = Pipeline().add_step(lambda x: x * 2)
        out = await pipeline.stream(merge([1, 2], [3])).collect()
        assert sorted(out) == [2, 4, 6]

    async def test_merge_raises_source_errors_and_closes_others(self):
        closed = False

        async def forever():
            nonlocal closed
            try:
                while True:
                    yield 1
            finally:
                closed = True

        async def broken():
            raise ValueError("bad source")
            yield 0  # pragma: no cover

        with pytest.raises(ValueError, match="bad source"):
            async for _ in merge(forever(), broken()):
                pass
        assert closed


class TestAsyncStepPolicies:
    """The stream's inlined path for async map steps honours every policy and metric."""

    @staticmethod
    async def explode_on_fives(x: int) -> int:
        await asyncio.sleep(0)
        if x % 5 == 0:
            raise ValueError(x)
        return x

    @pytest.mark.parametrize("ordered", [True, False])
    async def test_skip(self, ordered):
        pipeline = Pipeline().add_step(
            self.explode_on_fives, name="step", concurrency=3, on_error="skip"
        )
        out = await pipeline.stream(range(20), ordered=ordered).collect()
        assert sorted(out) == [x for x in range(20) if x % 5]
        stats = pipeline.stats()["step"]
        assert (stats.calls, stats.emitted, stats.dropped, stats.errors) == (20, 16, 4, 4)

    @pytest.mark.parametrize("ordered", [True, False])
    async def test_dead_letter(self, ordered):
        dead: list[StepFailure] = []
        pipeline = Pipeline(dead_letter=dead.append).add_step(
            self.explode_on_fives, concurrency=2, on_error="dead_letter"
        )
        out = await pipeline.stream(range(12), ordered=ordered).collect()
        assert sorted(out) == [x for x in range(12) if x % 5]
        assert sorted(f.item for f in dead) == [0, 5, 10]

    @pytest.mark.parametrize("ordered", [True, False])
    async def test_fail(self, ordered):
        pipeline = Pipeline().add_step(self.explode_on_fives, name="step", concurrency=4)
        with pytest.raises(StepError) as info:
            await pipeline.stream(range(1, 100), ordered=ordered).collect()
        assert info.value.item % 5 == 0
        assert isinstance(info.value.cause, ValueError)

    async def test_drop_sentinel_from_async_step(self):
        from pepperpy.pipeline import DROP

        async def odd_only(x: int) -> object:
            return x if x % 2 else DROP

        pipeline = Pipeline().add_step(odd_only, name="odd", concurrency=2)
        assert await pipeline.stream(range(6)).collect() == [1, 3, 5]
        assert pipeline.stats()["odd"].dropped == 3

    async def test_hooks_see_stream_calls(self):
        events = []
        pipeline = Pipeline().add_hook(events.append).add_step(self.explode_on_fives, concurrency=2)
        pipeline.add_step(self.explode_on_fives, name="second", on_error="skip")
        await pipeline.stream([1, 2, 3]).collect()
        assert len(events) == 6
        assert {e.step for e in events} == {"explode_on_fives", "second"}


async def test_an_abandoned_stream_is_torn_down_when_collected():
    import gc

    closed = asyncio.Event()

    async def source():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.set()

    before = asyncio.all_tasks()
    stream = Pipeline().add_step(lambda x: x, concurrency=2).stream(source())
    async for x in stream:
        if x == 3:
            break  # no async with, no aclose()
    del stream
    gc.collect()
    await asyncio.wait_for(closed.wait(), timeout=30)
    for _ in range(20):
        await asyncio.sleep(0)
    assert asyncio.all_tasks() - before - {asyncio.current_task()} == set()
