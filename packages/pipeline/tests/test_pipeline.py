"""Tests for pepperpy.pipeline._pipeline: building, process, composition, describe."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pepperpy.core import InvalidArgumentError
from pepperpy.pipeline import (
    DROP,
    ItemDroppedError,
    Pipeline,
    PipelineError,
    StepError,
)


async def add_one(x: int) -> int:
    await asyncio.sleep(0)
    return x + 1


def double(x: int) -> int:
    return x * 2


class TestProcess:
    async def test_sync_and_async_steps_run_in_order(self):
        """The seed's fluent API chains steps, sync and async alike."""
        pipeline = Pipeline().add_step(add_one).add_step(double)
        assert await pipeline.process(3) == 8

    async def test_empty_pipeline_returns_the_item(self):
        assert await Pipeline().process("x") == "x"

    async def test_sync_step_returning_awaitable_is_awaited(self):
        pipeline = Pipeline().add_step(lambda x: add_one(x))
        assert await pipeline.process(1) == 2

    async def test_drop_sentinel_raises_without_default(self):
        pipeline = Pipeline().add_step(lambda x: DROP if x < 0 else x, name="positive")
        with pytest.raises(ItemDroppedError) as info:
            await pipeline.process(-1)
        assert info.value.context["step"] == "positive"
        assert None is await pipeline.process(-1, default=None)
        assert await pipeline.process(5) == 5

    async def test_filter_drops_items(self):
        pipeline = Pipeline().filter(lambda x: x % 2 == 0)
        assert await pipeline.process_all(3) == []
        assert await pipeline.process_all(4) == [4]

    async def test_async_filter(self):
        async def even(x: int) -> bool:
            return x % 2 == 0

        assert await Pipeline().filter(even).process_all(2) == [2]

    async def test_flat_map_fans_out_and_later_steps_see_each(self):
        pipeline = Pipeline().flat_map(lambda x: range(x)).add_step(double)
        assert await pipeline.process_all(3) == [0, 2, 4]

    async def test_flat_map_accepts_async_iterables(self):
        async def gen(x: int):
            for i in range(x):
                yield i

        assert await Pipeline().flat_map(gen).process_all(2) == [0, 1]

    async def test_process_refuses_several_outputs(self):
        pipeline = Pipeline().flat_map(lambda x: [x, x])
        with pytest.raises(PipelineError, match="process_all"):
            await pipeline.process(1)

    async def test_process_after_single_fan_out(self):
        pipeline = Pipeline().flat_map(lambda x: [x]).add_step(double)
        assert await pipeline.process(2) == 4

    async def test_flat_map_of_non_iterable_is_a_step_error(self):
        pipeline = Pipeline().flat_map(lambda x: 5, name="bad")  # type: ignore[arg-type,return-value]
        with pytest.raises(StepError) as info:
            await pipeline.process(1)
        assert isinstance(info.value.cause, TypeError)

    async def test_batch_of_one_in_process(self):
        assert await Pipeline().batch(10).process_all(1) == [[1]]

    async def test_thread_step_runs_blocking_work_off_loop(self):
        import threading

        main = threading.get_ident()
        pipeline = Pipeline().add_step(lambda x: threading.get_ident(), thread=True)
        assert main != await pipeline.process(1)

    @settings(deadline=None)
    @given(st.lists(st.integers(-100, 100), max_size=20))
    async def test_process_all_matches_plain_python(self, items):
        pipeline = Pipeline().add_step(double).filter(lambda x: x > 0).flat_map(lambda x: [x, -x])
        got = [y for x in items for y in await pipeline.process_all(x)]
        expected = [y for x in items for y in ([2 * x, -2 * x] if 2 * x > 0 else [])]
        assert expected == got


class TestComposition:
    async def test_pipe_operator_builds_a_new_pipeline(self):
        a = Pipeline("a").add_step(add_one)
        b = Pipeline("b").add_step(double)
        c = a | b
        assert await c.process(1) == 4
        assert len(a) == 1
        assert len(c) == 2

    async def test_pipe_with_a_function(self):
        c = Pipeline().add_step(add_one) | double
        assert await c.process(1) == 4

    async def test_pipeline_as_a_step_is_inlined(self):
        inner = Pipeline().add_step(add_one, concurrency=4).add_step(double)
        outer = Pipeline().add_step(inner).add_step(add_one)
        assert outer.steps == ("add_one", "double", "add_one_2")
        assert await outer.process(1) == 5
        assert outer.describe().steps[0].concurrency == 4

    async def test_branch_merges_outputs_in_branch_order(self):
        pipeline = Pipeline().branch(
            Pipeline().add_step(double),
            Pipeline().filter(lambda x: x > 5),
            Pipeline().add_step(add_one),
        )
        assert await pipeline.process_all(2) == [4, 3]
        assert await pipeline.process_all(10) == [20, 10, 11]

    async def test_route_picks_one_pipeline(self):
        pipeline = Pipeline().route(
            lambda x: x % 2,
            {0: Pipeline().add_step(lambda x: f"even {x}")},
            default=Pipeline().add_step(lambda x: f"odd {x}"),
        )
        assert await pipeline.process_all(2) == ["even 2"]
        assert await pipeline.process_all(3) == ["odd 3"]
        assert await Pipeline().route(lambda x: x, {}).process_all(1) == []

    async def test_branch_needs_pipelines(self):
        with pytest.raises(InvalidArgumentError):
            Pipeline().branch(double)  # type: ignore[arg-type]


class TestDescribe:
    def test_describe_lists_names_kinds_and_concurrency(self):
        pipeline = (
            Pipeline("ingest")
            .add_step(add_one, concurrency=8, retry=3)
            .filter(bool, name="nonzero")
            .batch(10)
            .add_step(double, on_error="skip")
        )
        description = pipeline.describe()
        names = tuple(s.name for s in description.steps)
        assert names == ("add_one", "nonzero", "batch3", "double")
        assert str(description) == (
            "ingest: add_one(map, concurrency=8, retry=3) -> nonzero(filter) -> batch3(batch) "
            "-> double(map, on_error=skip)"
        )
        data = description.to_dict()
        assert data["name"] == "ingest"
        assert data["steps"][0]["concurrency"] == 8
        assert "ingest" in repr(pipeline)

    def test_duplicate_names_get_a_suffix(self):
        pipeline = Pipeline().add_step(double).add_step(double).add_step(double)
        assert pipeline.steps == ("double", "double_2", "double_3")

    def test_lambda_steps_get_positional_names(self):
        pipeline = Pipeline().add_step(lambda x: x).filter(lambda x: x)
        assert pipeline.steps == ("map1", "filter2")


class TestValidation:
    @pytest.mark.parametrize(
        "kwargs",
        [{"concurrency": 0}, {"concurrency": 1.5}, {"on_error": "ignore"}, {"retry": 0}],
    )
    def test_bad_step_options(self, kwargs):
        with pytest.raises(InvalidArgumentError) as info:
            Pipeline().add_step(double, **kwargs)
        assert info.value.hint

    def test_not_callable(self):
        with pytest.raises(InvalidArgumentError, match="callable"):
            Pipeline().add_step(42)  # type: ignore[call-overload]

    def test_dead_letter_without_sink(self):
        with pytest.raises(InvalidArgumentError, match="dead_letter"):
            Pipeline().add_step(double, on_error="dead_letter")

    @pytest.mark.parametrize(
        "build",
        [
            lambda: Pipeline().batch(0),
            lambda: Pipeline().rate_limit(0),
            lambda: Pipeline().rate_limit(1, burst=0),
            lambda: Pipeline().batch(2, timeout=0),
            lambda: Pipeline(buffer=0),
            lambda: Pipeline().stream([], buffer=0),
        ],
    )
    def test_bad_special_steps(self, build):
        with pytest.raises(InvalidArgumentError):
            build()

    def test_stream_needs_an_iterable(self):
        with pytest.raises(InvalidArgumentError):
            Pipeline().stream(42)  # type: ignore[arg-type]
