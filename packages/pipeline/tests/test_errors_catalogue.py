"""pepperpy.pipeline.ERRORS: every code a pipeline raises, with its meaning (issue 24)."""

from __future__ import annotations

import asyncio

import pytest

from pepperpy.core.exceptions import OperationTimeoutError, PepperPyError
from pepperpy.pipeline import DROP, ERRORS, ItemDroppedError, Pipeline, PipelineError, StepError

pytestmark = pytest.mark.usefixtures("no_leaked_tasks")


def _documented(error: BaseException) -> None:
    """A program can look the error's code up and learn its class, meaning and action."""
    assert isinstance(error, PepperPyError)
    entry = ERRORS[error.code]
    assert isinstance(error, entry.error)
    assert entry.meaning and entry.action


async def test_a_failing_step_and_its_timeout_are_catalogued() -> None:
    """issue 24: StepError and the timeout it chains carry catalogued codes."""

    async def slow(x: int) -> int:
        await asyncio.sleep(30)
        return x

    pipe = Pipeline[int, int]().add_step(slow, timeout=0.01)
    with pytest.raises(StepError) as caught:
        await pipe.process(1)
    assert caught.value.code == "pepperpy.pipeline.step_failed"
    _documented(caught.value)
    timeout = caught.value.cause
    assert isinstance(timeout, OperationTimeoutError)
    assert timeout.code == "pepperpy.pipeline.step_timeout"
    _documented(timeout)


async def test_a_dropped_item_is_catalogued() -> None:
    """issue 24: process() of a dropped item raises the catalogued ItemDroppedError."""
    pipe = Pipeline[int, int]().add_step(lambda x: DROP)
    with pytest.raises(ItemDroppedError) as caught:
        await pipe.process(1)
    assert caught.value.code == "pepperpy.pipeline.dropped"
    _documented(caught.value)


async def test_a_step_raising_a_base_exception_aborts_with_a_catalogued_code() -> None:
    """issue 24: GeneratorExit from a step ends the stream with pepperpy.pipeline.aborted."""

    async def leaky(x: int) -> int:
        raise GeneratorExit

    pipe = Pipeline[int, int]().add_step(leaky)
    with pytest.raises(PipelineError) as caught:
        async with pipe.stream([1]) as outputs:
            async for _ in outputs:
                pass
    assert caught.value.code == "pepperpy.pipeline.aborted"
    _documented(caught.value)
