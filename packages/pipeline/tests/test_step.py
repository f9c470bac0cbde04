"""Tests for pepperpy.pipeline._step: error policies, retries, metrics, rate limits."""

from __future__ import annotations

import asyncio

import pytest

from pepperpy.core import ManualClock, RetryPolicy
from pepperpy.pipeline import ItemDroppedError, Pipeline, StepError, StepEvent, StepFailure


class Flaky:
    """Fails the first `failures` calls per item, then returns the item."""

    def __init__(self, failures: int, exc: type[Exception] = ConnectionError) -> None:
        self.failures = failures
        self.exc = exc
        self.calls: dict[int, int] = {}

    async def __call__(self, x: int) -> int:
        self.calls[x] = self.calls.get(x, 0) + 1
        if self.calls[x] <= self.failures:
            raise self.exc(f"boom {x}")
        return x


class TestErrorPolicy:
    async def test_fail_fast_carries_item_step_and_cause(self):
        def explode(x: int) -> int:
            raise KeyError(x)

        pipeline = Pipeline().add_step(explode)
        with pytest.raises(StepError) as info:
            await pipeline.process(7)
        error = info.value
        assert error.item == 7
        assert error.step == "explode"
        assert isinstance(error.cause, KeyError)
        assert error.__cause__ is error.cause
        assert "explode" in str(error)
        assert "7" in str(error)
        assert pipeline.stats()["explode"].errors == 1

    async def test_skip_drops_the_item(self):
        pipeline = Pipeline().add_step(Flaky(1), name="flaky", on_error="skip")
        assert await pipeline.process_all(1) == []
        with pytest.raises(ItemDroppedError):
            await pipeline.process(2)
        assert pipeline.stats()["flaky"].errors == 2
        assert pipeline.stats()["flaky"].dropped == 2

    async def test_dead_letter_receives_the_failure(self):
        failures: list[StepFailure] = []

        async def sink(failure: StepFailure) -> None:
            failures.append(failure)

        pipeline = Pipeline(dead_letter=sink)
        pipeline.add_step(Flaky(1), name="flaky", on_error="dead_letter")
        assert await pipeline.process_all(5) == []
        assert len(failures) == 1
        assert (failures[0].item, failures[0].step, failures[0].attempts) == (5, "flaky", 1)
        assert isinstance(failures[0].error, ConnectionError)

    async def test_step_level_sink_wins(self):
        seen: list[StepFailure] = []
        pipeline = Pipeline(dead_letter=lambda f: None).add_step(
            Flaky(1), on_error="dead_letter", dead_letter=seen.append
        )
        await pipeline.process_all(1)
        assert len(seen) == 1

    async def test_retry_then_succeed(self):
        flaky = Flaky(2)
        pipeline = Pipeline().add_step(flaky, name="flaky", retry=RetryPolicy(attempts=3, delay=0))
        assert await pipeline.process(4) == 4
        assert flaky.calls[4] == 3
        assert pipeline.stats()["flaky"].retries == 2

    async def test_retry_exhausted_reports_attempts(self):
        flaky = Flaky(5)
        pipeline = Pipeline().add_step(flaky, name="flaky", retry=RetryPolicy(attempts=3, delay=0))
        with pytest.raises(StepError) as info:
            await pipeline.process(1)
        assert info.value.attempts == 3
        assert flaky.calls[1] == 3

    async def test_retry_filter_is_honoured(self):
        flaky = Flaky(1, exc=ValueError)
        policy = RetryPolicy(attempts=5, delay=0, retry_on=ConnectionError)
        pipeline = Pipeline().add_step(flaky, retry=policy, on_error="skip")
        assert await pipeline.process_all(1) == []
        assert flaky.calls[1] == 1

    async def test_retry_waits_on_the_policy_clock(self):
        clock = ManualClock()
        flaky = Flaky(1)
        policy = RetryPolicy(attempts=2, delay=10, jitter=0, clock=clock)
        pipeline = Pipeline().add_step(flaky, retry=policy)
        task = asyncio.create_task(pipeline.process(1))
        await clock.advance(5)
        assert not task.done()
        await clock.advance(5)
        assert await task == 1

    async def test_integer_retry_means_attempts(self):
        pipeline = Pipeline().add_step(Flaky(1), retry=2)
        assert pipeline.describe().steps[0].retry_attempts == 2

    async def test_cancellation_is_never_retried_or_swallowed(self):
        calls = 0

        async def hang(x: int) -> int:
            nonlocal calls
            calls += 1
            await asyncio.Event().wait()
            return x

        policy = RetryPolicy(attempts=5, delay=0)
        pipeline = Pipeline().add_step(hang, retry=policy, on_error="skip")
        task = asyncio.create_task(pipeline.process(1))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert calls == 1


class TestMetrics:
    async def test_stats_count_calls_emits_drops_and_latency(self):
        pipeline = Pipeline().add_step(lambda x: x, name="id").filter(lambda x: x > 1, name="gt1")
        for i in range(4):
            await pipeline.process_all(i)
        stats = pipeline.stats()
        assert (stats["id"].calls, stats["id"].emitted, stats["id"].dropped) == (4, 4, 0)
        assert (stats["gt1"].calls, stats["gt1"].emitted, stats["gt1"].dropped) == (4, 2, 2)
        assert stats["id"].total_seconds >= stats["id"].max_seconds >= 0
        assert stats["id"].mean_seconds >= 0
        pipeline.reset_stats()
        assert pipeline.stats()["id"].calls == 0

    async def test_hooks_see_every_call_and_errors(self):
        events: list[StepEvent] = []
        pipeline = Pipeline("p").add_hook(events.append)
        pipeline.add_step(Flaky(1), name="f", on_error="skip")
        await pipeline.process_all(1)
        await pipeline.process_all(1)
        assert [e.step for e in events] == ["f", "f"]
        assert events[0].pipeline == "p"
        assert isinstance(events[0].error, ConnectionError)
        assert events[1].error is None

    async def test_stats_are_snapshots(self):
        pipeline = Pipeline().add_step(lambda x: x, name="id")
        snap = pipeline.stats()
        await pipeline.process(1)
        assert snap["id"].calls == 0


class TestRateLimit:
    async def test_rate_limit_spaces_items_on_the_clock(self):
        clock = ManualClock()
        pipeline = Pipeline(clock=clock).rate_limit(2, per=1.0)  # one item per 0.5 s
        seen: list[float] = []

        async def run() -> None:
            async for _ in pipeline.stream(range(4)):
                seen.append(clock.monotonic())

        task = asyncio.create_task(run())
        for _ in range(4):
            await clock.advance(0.5)
        await task
        assert seen == [0.0, 0.5, 1.0, 1.5]

    async def test_burst_lets_items_run_ahead(self):
        clock = ManualClock()
        pipeline = Pipeline(clock=clock).rate_limit(1, per=1.0, burst=3)
        seen: list[float] = []

        async def run() -> None:
            async for _ in pipeline.stream(range(5)):
                seen.append(clock.monotonic())

        task = asyncio.create_task(run())
        for _ in range(4):
            await clock.advance(1)
        await task
        assert seen == [0.0, 0.0, 0.0, 1.0, 2.0]


class TestExecutors:
    async def test_process_pool_step(self):
        import operator
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=2) as pool:
            pipeline = Pipeline().add_step(operator.neg, executor=pool, concurrency=4)
            assert await pipeline.stream(range(20)).collect() == [-x for x in range(20)]

    async def test_thread_pool_step(self):
        import threading
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pp-step") as pool:
            pipeline = Pipeline().add_step(lambda _: threading.current_thread().name, executor=pool)
            assert (await pipeline.process(1)).startswith("pp-step")

    async def test_bad_executor(self):
        from pepperpy.core import InvalidArgumentError

        async def asynchronous(x: int) -> int:
            return x

        with pytest.raises(InvalidArgumentError, match="Executor"):
            Pipeline().add_step(abs, executor=object())  # type: ignore[arg-type]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(1) as pool, pytest.raises(InvalidArgumentError, match="async"):
            Pipeline().add_step(asynchronous, executor=pool)


class TestTimeout:
    async def test_slow_call_fails_with_a_timeout(self):
        from pepperpy.core import OperationTimeoutError

        async def hang(x: int) -> int:
            await asyncio.Event().wait()
            return x

        pipeline = Pipeline().add_step(hang, timeout=0.01)
        with pytest.raises(StepError) as info:
            await pipeline.process(1)
        assert isinstance(info.value.cause, OperationTimeoutError)
        assert info.value.cause.context == {"step": "hang", "timeout": 0.01}

    async def test_timeout_then_retry(self):
        calls = 0

        async def slow_once(x: int) -> int:
            nonlocal calls
            calls += 1
            if calls == 1:
                await asyncio.Event().wait()
            return x

        policy = RetryPolicy(attempts=2, delay=0)
        pipeline = Pipeline().add_step(slow_once, timeout=0.01, retry=policy)
        assert await pipeline.stream([7]).collect() == [7]
        assert calls == 2
