"""The error-code catalogue (issue 24): real failures carry codes that ERRORS documents."""

from __future__ import annotations

import pytest

from pepperpy.core import ErrorCatalogue, InvalidArgumentError, PepperPyError
from pepperpy.event import (
    ERRORS,
    BackpressureError,
    EventManager,
    HandlerError,
    MemoryHub,
    MemoryStream,
    StreamError,
)


def _documented(error: PepperPyError) -> None:
    """A caught error's code is catalogued, under a class the error is an instance of."""
    assert error.code in ERRORS
    entry = ERRORS[error.code]
    assert isinstance(error, entry.error)
    assert entry.meaning and entry.action


def test_errors_is_the_package_catalogue() -> None:
    assert isinstance(ERRORS, ErrorCatalogue)
    assert ERRORS.package == "pepperpy.event"
    assert all(code.startswith("pepperpy.event") for code in ERRORS)
    # One code, one class: a store outage is not a bad stream name.
    assert ERRORS["pepperpy.event.stream"].error is StreamError
    assert ERRORS["pepperpy.event.backpressure"].error is BackpressureError


async def test_a_failed_handler_and_a_full_queue_are_documented() -> None:
    events = EventManager(on_error="raise")
    await events.start()
    try:

        def broken(_: object) -> None:
            raise ValueError("boom")

        sub = events.subscribe("orders.paid", broken)
        with pytest.raises(HandlerError) as failed:
            await events.publish("orders.paid", 1)
        assert failed.value.code == "pepperpy.event.handler_failed"
        _documented(failed.value)
        sub.unsubscribe()

        async def hold(_: object) -> None:
            await events.wait_for("never.published")

        events.subscribe("orders.new", hold, delivery="queued", queue_size=1, backpressure="error")
        await events.publish("orders.new", 1)  # taken by the worker or waiting in the queue
        with pytest.raises(BackpressureError) as full:
            for _ in range(3):
                await events.publish("orders.new", 1)
        assert full.value.code == "pepperpy.event.backpressure"
        assert full.value.retryable
        _documented(full.value)
    finally:
        await events.stop()


async def test_bad_arguments_keep_one_code_per_argument(events: EventManager) -> None:
    """The codes once written as f-strings keep their spelling; each is catalogued."""
    with pytest.raises(InvalidArgumentError) as flag:
        events.subscribe("a", print, once="yes")  # type: ignore[call-overload]
    assert flag.value.code == "pepperpy.event.once"
    _documented(flag.value)
    with pytest.raises(InvalidArgumentError) as workers:
        events.subscribe("a", print, delivery="queued", workers=0)
    assert workers.value.code == "pepperpy.event.workers"
    _documented(workers.value)
    with pytest.raises(InvalidArgumentError) as timeout:
        await events.drain(timeout=-1)
    assert timeout.value.code == "pepperpy.event.timeout"
    _documented(timeout.value)
    with pytest.raises(InvalidArgumentError) as policy:
        events.subscribe("a", print, backpressure="later")  # type: ignore[arg-type]
    assert policy.value.code == "pepperpy.event.invalid_backpressure"
    _documented(policy.value)


def test_a_bad_stream_name_is_not_a_store_outage() -> None:
    with pytest.raises(InvalidArgumentError) as name:
        MemoryStream("", hub=MemoryHub())
    assert name.value.code == "pepperpy.event.invalid_stream"
    assert not isinstance(name.value, StreamError)
    _documented(name.value)
    with pytest.raises(InvalidArgumentError) as group:
        MemoryStream("orders", group="a\x00b", hub=MemoryHub())
    assert group.value.code == "pepperpy.event.group"
    _documented(group.value)
