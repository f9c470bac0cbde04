"""Attacks from issue 21, findings 10-12 (the event bus) and the stream consumers.

#10: a handler raising ``CancelledError`` it did not receive (it awaited a future
somebody else cancelled), ``GeneratorExit`` or another ``BaseException`` must not
kill the loop that called it; only the loop's own cancellation ends it.
#11: ``max_concurrency`` bounds concurrent delivery; per-topic state is bounded
(stats: CLOCK, an approximation of LRU).
#12: every routed delivery ends in exactly one counter; bad arguments get
``InvalidArgumentError`` with a hint.
#13: SQLiteStream flushes every commit (synchronous=FULL) unless told otherwise.
"""

from __future__ import annotations

import asyncio
import gc
import math
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pepperpy.core import ClosedError, InvalidArgumentError, OperationTimeoutError
from pepperpy.event import (
    Backpressure,
    BackpressureError,
    Delivery,
    EventManager,
    HandlerError,
    MemoryHub,
    MemoryStream,
    SQLiteStream,
    TopicStats,
    connect_stream,
)

from .conftest import Backend

HAS_CANCELLING = sys.version_info >= (3, 11)  # Task.cancelling() tells own cancels apart


class Boom(BaseException):
    """A BaseException that is neither an Exception nor a cancellation."""


async def foreign_cancel() -> None:
    """Raise the CancelledError of a future that somebody else cancelled."""
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    future.cancel()
    await future


async def raise_generator_exit() -> None:
    raise GeneratorExit


async def raise_boom() -> None:
    raise Boom("boom")


RAISERS: dict[str, Callable[[], Any]] = {
    "foreign-cancel": foreign_cancel,
    "generator-exit": raise_generator_exit,
    "base-exception": raise_boom,
}
EXPECTED = {
    "foreign-cancel": asyncio.CancelledError,
    "generator-exit": GeneratorExit,
    "base-exception": Boom,
}


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def totals(stats: TopicStats) -> int:
    return stats.delivered + stats.failed + stats.dropped + stats.cancelled


# --------------------------------------------------------------------------- #10


@pytest.mark.parametrize("raiser", sorted(RAISERS))
@pytest.mark.parametrize(
    ("delivery", "workers"),
    [("queued", 1), ("queued", 3), ("concurrent", 1), ("inline", 1)],
)
async def test_issue21_10_a_handler_raising_a_base_exception_keeps_delivery_alive(
    events: EventManager, raiser: str, delivery: str, workers: int
) -> None:
    """Issue 21 #10: later events are still handled and drain() returns."""
    if raiser == "foreign-cancel" and delivery == "inline" and not HAS_CANCELLING:
        pytest.skip("3.10 cannot tell a foreign CancelledError from the publisher's own cancel")
    seen: list[int] = []

    async def handler(n: int) -> None:
        if n == 1:
            await RAISERS[raiser]()
        seen.append(n)

    events.subscribe("n", handler, delivery=delivery, workers=workers)  # type: ignore[arg-type]
    for n in (1, 2, 3):
        await events.publish("n", n)
    await asyncio.wait_for(events.drain(), 10)  # a dead worker never drains
    for n in (4, 5):
        await events.publish("n", n)
    await asyncio.wait_for(events.drain(), 10)
    assert sorted(seen) == [2, 3, 4, 5]
    stats = events.stats()["n"]
    assert (stats.delivered, stats.failed) == (4, 1)
    [error] = events.errors
    assert isinstance(error, HandlerError)
    assert type(error.cause) is EXPECTED[raiser]
    assert stats.cancelled == 0


@pytest.mark.parametrize("delivery", ["queued", "concurrent", "inline"])
async def test_issue21_10_an_error_callback_raising_a_base_exception_keeps_delivery_alive(
    delivery: str,
) -> None:
    """Issue 21 #10: the error channel is called by the same loops."""
    calls: list[str] = []

    def callback(error: HandlerError) -> None:
        calls.append(error.handler)
        raise GeneratorExit

    def handler(n: int) -> None:
        if n == 1:
            raise ValueError(n)

    events = EventManager(on_error=callback)
    await events.start()
    try:
        events.subscribe("n", handler, delivery=delivery)  # type: ignore[arg-type]
        for n in (1, 2):
            await events.publish("n", n)
        await asyncio.wait_for(events.drain(), 10)
        await events.publish("n", 1)
        await asyncio.wait_for(events.drain(), 10)
    finally:
        await events.stop()
    assert len(calls) == 2
    stats = events.stats()["n"]
    assert (stats.delivered, stats.failed) == (1, 2)


@pytest.mark.parametrize("delivery", ["queued", "concurrent"])
async def test_issue21_10_stop_still_ends_the_loops_that_survive_foreign_cancels(
    delivery: str,
) -> None:
    """Issue 21 #10: a worker's own cancellation (stop) still ends it, counted as cancelled."""
    before = asyncio.all_tasks()
    events = EventManager(stop_timeout=0)
    started = asyncio.Event()

    async def forever(_: object) -> None:
        started.set()
        await asyncio.Event().wait()

    events.subscribe("n", forever, delivery=delivery)  # type: ignore[arg-type]
    await events.start()
    await events.publish("n", 1)
    await started.wait()
    await asyncio.wait_for(events.stop(), 10)
    await settle()
    assert asyncio.all_tasks() - before - {asyncio.current_task()} == set()
    stats = events.stats()["n"]
    assert (stats.published, stats.routed, stats.cancelled) == (1, 1, 1)


LOOP_SHUTDOWN = """
import asyncio
from pepperpy.event import EventManager

events = EventManager(on_error="collect")


async def main():
    await events.start()

    async def slow(_):
        await asyncio.sleep(3600)

    events.subscribe("q", slow, delivery="queued")
    events.subscribe("c", slow, delivery="concurrent")
    await events.publish("q", 1)
    await events.publish("c", 1)
    await asyncio.sleep(0.01)  # the worker and the task are in the handler
    # no stop(): asyncio.run() cancels every task on the way out


asyncio.run(main())
for name in ("q", "c"):
    stats = events.stats()[name]
    print(stats.failed, stats.cancelled)
print(len(events.errors))
"""


def test_issue21_10_the_loop_shutting_down_ends_workers_as_cancelled() -> None:
    """Issue 21 #10: asyncio.run() cancelling a worker mid-handler is its own cancellation.

    On 3.10 (no Task.cancelling()) a worker that took it for a handler failure
    went back to waiting for events, and asyncio.run() never returned.
    """
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", LOOP_SHUTDOWN], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "1", "0", "1", "0"], (done.stdout, done.stderr)


async def test_issue21_10_the_publishers_own_cancellation_still_propagates_from_inline(
    events: EventManager,
) -> None:
    """Issue 21 #10: inline handlers run in the publisher's task; cancelling it still works."""
    started = asyncio.Event()

    async def forever(_: object) -> None:
        started.set()
        await asyncio.Event().wait()

    events.subscribe("n", forever)
    publisher = asyncio.ensure_future(events.publish("n", 1))
    await started.wait()
    publisher.cancel()
    with pytest.raises(asyncio.CancelledError):
        await publisher
    stats = events.stats()["n"]
    assert (stats.routed, stats.cancelled, stats.failed) == (1, 1, 0)


NEEDS_CANCELLING = pytest.mark.skipif(
    not HAS_CANCELLING,
    reason="3.10 cannot tell a foreign CancelledError from consume()'s own cancel",
)


@pytest.mark.parametrize(
    "raiser",
    [
        "base-exception",
        "generator-exit",
        pytest.param("foreign-cancel", marks=NEEDS_CANCELLING),
    ],
)
async def test_issue21_10_stream_consume_survives_a_handler_raising_a_base_exception(
    backend: Backend, raiser: str
) -> None:
    """Issue 21 #10: consume() treats it as a handler failure: the event stays pending."""
    stream = backend.stream(consumer="c1")
    for n in (1, 2, 3):
        await stream.publish("orders.paid", n)
    seen: list[int] = []

    async def handler(message: Any) -> None:
        if message.data == 1 and message.deliveries == 1:
            await RAISERS[raiser]()
        seen.append(message.data)

    stop = asyncio.Event()
    task = asyncio.ensure_future(stream.consume(handler, stop=stop))
    try:
        await backend.until(lambda: task.done() or sorted(seen) == [2, 3])
        assert not task.done(), task
        await backend.until(lambda: task.done() or 1 in seen, time_passes=True)
        assert not task.done(), task
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    assert sorted(seen) == [1, 2, 3]
    assert await stream.pending() == 0


async def test_issue21_10_forward_survives_inline_handlers_raising_base_exceptions() -> None:
    """Issue 21 #10: forward() publishes into a manager whose inline handler raises.

    forward() is backend-independent (consume() is tested on every backend above).
    """
    stream = MemoryStream("orders", hub=MemoryHub(), consumer="fwd", block=0.1)
    events = EventManager(on_error="collect")
    await events.start()
    seen: list[int] = []
    got_two = asyncio.Event()

    async def handler(n: int) -> None:
        if n == 1:
            raise GeneratorExit
        seen.append(n)
        got_two.set()

    events.subscribe("orders.paid", handler)
    for n in (1, 2):
        await stream.publish("orders.paid", n)
    stop = asyncio.Event()
    task = asyncio.ensure_future(stream.forward(events, stop=stop))
    try:
        waiter = asyncio.ensure_future(got_two.wait())
        await asyncio.wait({task, waiter}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        assert not task.done(), task
        assert seen == [2]
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await events.stop()
        await stream.aclose()
    assert events.stats()["orders.paid"].failed == 1


# --------------------------------------------------------------------------- #11


async def test_issue21_11_concurrent_delivery_is_capped_by_max_concurrency(
    events: EventManager,
) -> None:
    """Issue 21 #11: at most max_concurrency handler calls run; publish waits for room."""
    running = 0
    most = 0
    seen: list[int] = []

    async def handler(n: int) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        for _ in range(3):
            await asyncio.sleep(0)
        running -= 1
        seen.append(n)

    events.subscribe("n", handler, delivery="concurrent", max_concurrency=5)
    for n in range(200):
        await events.publish("n", n)
        assert events.pending <= 5
    await events.drain()
    assert most == 5
    assert sorted(seen) == list(range(200))


async def test_issue21_11_the_manager_default_caps_concurrent_delivery() -> None:
    """Issue 21 #11: EventManager(max_concurrency=...) is the subscriptions' default."""
    events = EventManager(max_concurrency=3)
    await events.start()
    gate = asyncio.Event()

    async def handler(_: int) -> None:
        await gate.wait()

    events.subscribe("n", handler, delivery="concurrent", backpressure="error")
    try:
        for n in range(3):
            await events.publish("n", n)
        with pytest.raises(BackpressureError, match="3"):
            await events.publish("n", 3)
        assert events.pending == 3
        gate.set()
        await events.drain()
    finally:
        await events.stop()
    stats = events.stats()["n"]
    assert (stats.routed, stats.delivered, stats.dropped) == (4, 3, 1)


async def test_issue21_11_drop_oldest_is_refused_for_concurrent_delivery(
    events: EventManager,
) -> None:
    """Issue 21 #11: a running handler call cannot be 'dropped'; say so."""
    with pytest.raises(InvalidArgumentError) as info:
        events.subscribe("n", print, delivery="concurrent", backpressure="drop_oldest")
    assert info.value.hint


async def test_issue21_11_a_publisher_waiting_for_concurrency_is_released_at_stop() -> None:
    """Issue 21 #11: the waiting publish gets ClosedError and its event is counted dropped."""
    before = asyncio.all_tasks()
    events = EventManager(stop_timeout=0)

    async def forever(_: object) -> None:
        await asyncio.Event().wait()

    events.subscribe("n", forever, delivery="concurrent", max_concurrency=1)
    await events.start()
    await events.publish("n", 0)
    blocked = asyncio.ensure_future(events.publish("n", 1))
    await settle()
    assert not blocked.done()
    await events.stop()
    with pytest.raises(ClosedError):
        await blocked
    await settle()
    assert asyncio.all_tasks() - before - {asyncio.current_task()} == set()
    stats = events.stats()["n"]
    assert (stats.published, stats.routed, stats.cancelled, stats.dropped) == (2, 2, 1, 1)


def _traced() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


async def test_issue21_11_distinct_topics_do_not_grow_memory_without_bound(
    events: EventManager,
) -> None:
    """Issue 21 #11: 1e5 distinct topics (routing cache + stats) stay within max_topics."""
    seen = 0

    def handler(_: object) -> None:
        nonlocal seen
        seen += 1

    events.subscribe("t.#", handler)
    tracemalloc.start()
    try:
        for n in range(50_000):
            await events.publish(f"t.{n}", None)
        half = _traced()
        for n in range(50_000, 100_000):
            await events.publish(f"t.{n}", None)
        full = _traced()
    finally:
        tracemalloc.stop()
    assert seen == 100_000
    # Before the fix the second 50,000 topics added about 13 MB.
    assert full - half < 1_000_000, (half, full)
    stats = events.stats()
    assert len(stats) == 10_000  # the documented default max_topics
    assert "t.99999" in stats and "t.0" not in stats
    total = events.totals()
    assert (total.published, total.routed, total.delivered) == (100_000, 100_000, 100_000)


async def test_issue21_11_stats_forget_the_topics_not_published_lately() -> None:
    """Issue 21 #11: a topic published all along is kept; the routing cache is bounded too."""
    small = EventManager(max_topics=3)
    await small.start()
    try:
        small.subscribe("#", lambda _: None)
        for name in ("a", "b", "c", "a", "d", "e"):
            await small.publish(name)
        assert sorted(small.stats()) == ["a", "d", "e"]  # b and c were published once
        assert small.stats()["a"].published == 2
        for n in range(100):
            await small.publish("hot")
            await small.publish(f"cold.{n}")
        stats = small.stats()
        assert len(stats) == 3
        assert stats["hot"].published == 100
        assert "cold.99" in stats
        assert len(small._cache) <= 3
        total = small.totals()
        assert (total.published, total.routed, total.delivered) == (206, 206, 206)
    finally:
        await small.stop()


async def test_issue21_11_concurrent_delivery_memory_is_bounded(events: EventManager) -> None:
    """Issue 21 #11: 30,000 concurrent events through the default cap stay small."""
    seen = 0

    async def handler(_: object) -> None:
        nonlocal seen
        await asyncio.sleep(0)
        seen += 1

    events.subscribe("n", handler, delivery="concurrent")
    tracemalloc.start()
    try:
        base = _traced()
        for n in range(30_000):
            await events.publish("n", n)
        await events.drain()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seen == 30_000
    # Unbounded, 30,000 pending tasks took about 33 MB; the default cap is 1000.
    assert peak - base < 8_000_000, (base, peak)


# --------------------------------------------------------------------------- #12


async def test_issue21_12_an_event_cancelled_at_stop_is_counted() -> None:
    """Issue 21 #12: the scenario of the report: 1 cancelled in flight, 2 dropped."""
    events = EventManager(stop_timeout=0)
    started = asyncio.Event()

    async def forever(_: object) -> None:
        started.set()
        await asyncio.Event().wait()

    events.subscribe("n", forever, delivery="queued")
    await events.start()
    for n in range(3):
        await events.publish("n", n)
    await started.wait()
    await events.stop()
    stats = events.stats()["n"]
    assert attrs_tuple(stats) == (3, 0, 3, 0, 0, 2, 1)
    assert stats.published == stats.unrouted + totals(stats)


@pytest.mark.parametrize("delivery", ["queued", "concurrent"])
async def test_issue21_12_a_publisher_cancelled_while_waiting_for_room_is_counted(
    events: EventManager, delivery: str
) -> None:
    """Issue 21 #12: the delivery it was waiting to hand over counts as dropped."""
    gate = asyncio.Event()

    async def slow(_: object) -> None:
        await gate.wait()

    events.subscribe("n", slow, delivery=delivery, queue_size=1, max_concurrency=1)  # type: ignore[arg-type]
    await events.publish("n", 0)
    await settle()  # a queued worker takes 0; a concurrent call holds the only slot
    if delivery == "queued":
        await events.publish("n", 1)  # fills the queue
    blocked = asyncio.ensure_future(events.publish("n", 2))
    await settle()
    assert not blocked.done()
    blocked.cancel()
    with pytest.raises(asyncio.CancelledError):
        await blocked
    gate.set()
    await events.drain()
    stats = events.stats()["n"]
    assert stats.dropped == 1
    assert stats.routed == totals(stats) == stats.published


async def test_issue21_12_a_failing_filter_is_that_subscriptions_failure(
    events: EventManager,
) -> None:
    """Issue 21 #12: a filter that raises neither escapes publish() nor stops the others."""

    def broken(_: object) -> bool:
        raise ValueError("bad filter")

    seen: list[object] = []
    events.subscribe("n", seen.append, filter=broken, priority=1, name="filtered")
    events.subscribe("n", seen.append, name="plain")
    assert await events.publish("n", 1) == 2
    assert seen == [1]
    stats = events.stats()["n"]
    assert (stats.routed, stats.delivered, stats.failed) == (2, 1, 1)
    [error] = events.errors
    assert error.handler == "filtered"
    assert isinstance(error.cause, ValueError)


def attrs_tuple(stats: TopicStats) -> tuple[int, ...]:
    return (
        stats.published,
        stats.unrouted,
        stats.routed,
        stats.delivered,
        stats.failed,
        stats.dropped,
        stats.cancelled,
    )


async def test_issue21_12_unrouted_events_are_counted(events: EventManager) -> None:
    """Issue 21 #12: an event nobody received (no subscriber, filter, middleware) is unrouted."""
    events.subscribe("a", lambda _: None, filter=lambda data: data == 1)
    await events.publish("a", 1)
    await events.publish("a", 2)
    await events.publish("b", 1)

    async def refuse(event: Any, call_next: Any) -> int:
        return 0 if event.topic == "c" else int(await call_next(event))

    events.use(refuse)
    await events.publish("c", 1)
    await events.publish("a", 1)
    stats = events.stats()
    assert attrs_tuple(stats["a"]) == (3, 1, 2, 2, 0, 0, 0)
    assert attrs_tuple(stats["b"]) == (1, 1, 0, 0, 0, 0, 0)
    assert attrs_tuple(stats["c"]) == (1, 1, 0, 0, 0, 0, 0)


def _bad_manager(**kwargs: Any) -> Callable[[], Any]:
    return lambda: EventManager(**kwargs)


BAD_MANAGERS = {
    "stop_timeout=-1": {"stop_timeout": -1},
    "stop_timeout='x'": {"stop_timeout": "x"},
    "stop_timeout=nan": {"stop_timeout": math.nan},
    "stop_timeout=True": {"stop_timeout": True},
    "max_errors=-1": {"max_errors": -1},
    "max_errors='x'": {"max_errors": "x"},
    "max_errors=1.5": {"max_errors": 1.5},
    "queue_size=0": {"queue_size": 0},
    "max_concurrency=0": {"max_concurrency": 0},
    "max_concurrency='x'": {"max_concurrency": "x"},
    "max_topics=0": {"max_topics": 0},
    "clock='x'": {"clock": "x"},
    "dead_letter_topic=''": {"dead_letter_topic": ""},
    "dead_letter_topic=3": {"dead_letter_topic": 3},
    "on_error='loud'": {"on_error": "loud"},
}


@pytest.mark.parametrize("kwargs", list(BAD_MANAGERS.values()), ids=list(BAD_MANAGERS))
def test_issue21_12_event_manager_refuses_bad_arguments(kwargs: dict[str, Any]) -> None:
    """Issue 21 #12: InvalidArgumentError with a hint, not a raw error (or nothing)."""
    with pytest.raises(InvalidArgumentError) as info:
        EventManager(**kwargs)
    assert info.value.hint
    assert next(iter(kwargs)) in str(info.value)


BAD_SUBSCRIPTIONS = {
    "priority='high'": {"priority": "high"},
    "priority=True": {"priority": True},
    "priority=1.5": {"priority": 1.5},
    "workers=0": {"workers": 0},
    "queue_size=-1": {"queue_size": -1},
    "max_concurrency=0": {"max_concurrency": 0},
    "once='yes'": {"once": "yes"},
    "weak=1": {"weak": 1},
    "envelope='no'": {"envelope": "no"},
    "filter=3": {"filter": 3},
    "name=5": {"name": 5},
    "on_error='loud'": {"on_error": "loud"},
    "delivery='later'": {"delivery": "later"},
    "backpressure='shed'": {"backpressure": "shed"},
}


@pytest.mark.parametrize("kwargs", list(BAD_SUBSCRIPTIONS.values()), ids=list(BAD_SUBSCRIPTIONS))
async def test_issue21_12_subscribe_refuses_bad_arguments(
    events: EventManager, kwargs: dict[str, Any]
) -> None:
    """Issue 21 #12: subscribe() arguments are checked like the constructor's."""
    with pytest.raises(InvalidArgumentError) as info:
        events.subscribe("n", print, **kwargs)
    assert info.value.hint
    assert next(iter(kwargs)) in str(info.value)
    assert events.subscriptions() == []


@pytest.mark.parametrize(
    "call",
    [
        lambda e: e.publish(""),
        lambda e: e.publish("a..b"),
        lambda e: e.publish("a.*"),
        lambda e: e.publish(None),
        lambda e: e.publish(TopicStats),
        lambda e: e.drain(timeout=-1),
        lambda e: e.drain(timeout="x"),
        lambda e: e.wait_for("n", timeout=-1),
        lambda e: e.wait_for("n", predicate=3),
    ],
    ids=[
        "publish-empty",
        "publish-empty-segment",
        "publish-wildcard",
        "publish-None",
        "publish-a-class",
        "drain-1",
        "drain-x",
        "wait_for-1",
        "wait_for-predicate",
    ],
)
async def test_issue21_12_publish_drain_and_wait_for_refuse_bad_arguments(
    events: EventManager, call: Callable[[EventManager], Any]
) -> None:
    """Issue 21 #12: the other public calls of the manager check their arguments too."""
    with pytest.raises(InvalidArgumentError) as info:
        await call(events)
    assert info.value.hint
    assert events.subscriptions() == []


@pytest.mark.parametrize(
    "call",
    [
        lambda e: e.use("log"),
        lambda e: e.use(3),
        lambda e: e.unsubscribe("n"),
        lambda e: e.unsubscribe(EventManager().subscribe("n", print)),
    ],
    ids=["use-str", "use-int", "unsubscribe-str", "unsubscribe-foreign"],
)
async def test_issue21_12_use_and_unsubscribe_refuse_bad_arguments(
    events: EventManager, call: Callable[[EventManager], Any]
) -> None:
    """Issue 21 #12: a bad middleware is refused when added, not at the next publish."""
    with pytest.raises(InvalidArgumentError) as info:
        call(events)
    assert info.value.hint
    assert await events.publish("n", 1) == 0


async def test_issue21_12_a_str_enum_member_is_published_as_its_topic(
    events: EventManager,
) -> None:
    """Issue 21 #12: a str subclass is a topic, not an event object of that class."""
    import enum

    class Topic(str, enum.Enum):
        PAID = "orders.paid"

    seen: list[object] = []
    events.subscribe("orders.paid", seen.append)
    assert await events.publish(Topic.PAID, {"id": 1}) == 1
    assert seen == [{"id": 1}]
    assert list(events.stats()) == ["orders.paid"]


# --------------------------------------------------------------------------- invariant

BEHAVIOURS = ("ok", "fail", "base", "foreign-cancel", "slow", "hang")
TOPICS = ("a", "b", "a.x")
PATTERNS = ("a", "b", "a.*", "#", "a.#")

subscribe_op = st.tuples(
    st.just("subscribe"),
    st.sampled_from(PATTERNS),
    st.sampled_from(("inline", "concurrent", "queued")),
    st.sampled_from(BEHAVIOURS),
    st.sampled_from(("block", "drop_oldest", "error")),
)
publish_op = st.tuples(st.just("publish"), st.sampled_from(TOPICS))
op = st.one_of(
    publish_op,
    publish_op,
    publish_op,
    st.tuples(st.just("cancelled-publish"), st.sampled_from(TOPICS)),
    subscribe_op,
    st.tuples(st.just("unsubscribe"), st.integers(0, 20)),
    st.tuples(st.just("drain")),
    st.tuples(st.just("restart")),
)
ops = st.builds(
    lambda first, rest: first + rest,
    st.lists(subscribe_op, min_size=1, max_size=4),
    st.lists(op, min_size=5, max_size=40),
)


def _scenario_handler(behaviour: str) -> Callable[[Any], Any]:
    async def handler(_: Any) -> None:
        if behaviour == "fail":
            raise ValueError("fail")
        if behaviour == "base":
            raise Boom("base")
        if behaviour == "foreign-cancel":
            await foreign_cancel()
        if behaviour == "slow":
            for _ in range(3):
                await asyncio.sleep(0)
        if behaviour == "hang":
            await asyncio.Event().wait()

    return handler


class _Scenario:
    """A bus driven by random operations, and the counters it must end up with."""

    def __init__(self) -> None:
        self.events = EventManager(
            on_error="collect", stop_timeout=0, queue_size=2, max_concurrency=2
        )
        self.subs: list[Any] = []
        self.published: dict[str, int] = {}
        self.routed: dict[str, int] = {}
        self.unrouted: dict[str, int] = {}
        # a cancelled publish hands the event to fewer subscriptions
        self.uncertain: set[str] = set()

    async def step(self, step: tuple[Any, ...]) -> None:
        kind = step[0]
        if kind == "subscribe":
            self.subscribe(*step[1:])
        elif kind == "unsubscribe":
            if self.subs:
                self.subs.pop(step[1] % len(self.subs)).unsubscribe()
        elif kind == "publish":
            await self.publish(step[1])
        elif kind == "cancelled-publish":
            await self.cancelled_publish(step[1])
        elif kind == "drain":
            try:  # some handlers hang until stop(): a timeout is expected then
                await self.events.drain(timeout=0)
            except OperationTimeoutError:
                pass
        else:
            await asyncio.wait_for(self.events.stop(), 10)
            await self.events.start()

    def subscribe(
        self, pattern: str, delivery: Delivery, behaviour: str, backpressure: Backpressure
    ) -> None:
        if behaviour == "hang" and delivery == "inline":
            behaviour = "slow"  # an inline hang would hang publish itself
        if behaviour == "hang" and backpressure == "block":
            backpressure = "error"
        if behaviour == "foreign-cancel" and delivery == "inline" and not HAS_CANCELLING:
            behaviour = "fail"
        if delivery == "concurrent" and backpressure == "drop_oldest":
            backpressure = "error"
        self.subs.append(
            self.events.subscribe(
                pattern,
                _scenario_handler(behaviour),
                delivery=delivery,
                backpressure=backpressure,
            )
        )

    async def publish(self, name: str) -> None:
        from pepperpy.event import matches

        expected = sum(1 for s in self.subs if matches(s.pattern, name))
        self.published[name] = self.published.get(name, 0) + 1
        self.routed[name] = self.routed.get(name, 0) + expected
        if not expected:
            self.unrouted[name] = self.unrouted.get(name, 0) + 1
        try:
            count = await asyncio.wait_for(self.events.publish(name), 10)
        except BackpressureError:
            pass
        else:
            assert count == expected

    async def cancelled_publish(self, name: str) -> None:
        self.published[name] = self.published.get(name, 0) + 1
        self.uncertain.add(name)
        task = asyncio.ensure_future(self.events.publish(name))
        await asyncio.sleep(0)  # publish() starts: it is counted as published
        task.cancel()
        try:
            await task
        except (asyncio.CancelledError, BackpressureError):
            pass  # cancelled while waiting, or it had finished and raised

    def check(self) -> None:
        """Per topic and in total, the counters add up to what the operations did."""
        stats = self.events.stats()
        for name in TOPICS:
            got = stats.get(name, TopicStats())
            assert got.published == self.published.get(name, 0), (name, got)
            if name not in self.uncertain:
                assert got.routed == self.routed.get(name, 0), (name, got)
                assert got.unrouted == self.unrouted.get(name, 0), (name, got)
            assert got.routed == totals(got), (name, got)
        total = self.events.totals()
        assert total.routed == totals(total)
        if not self.uncertain:
            assert total.routed == sum(self.routed.values())
        assert total.published == sum(self.published.values())
        for counter in ("delivered", "failed", "dropped", "cancelled", "unrouted"):
            if getattr(total, counter):  # --hypothesis-show-statistics shows the coverage
                hypothesis.event(f"{counter} > 0")


async def _scenario(ops: list[tuple[Any, ...]]) -> None:
    scenario = _Scenario()
    await scenario.events.start()
    for step in ops:
        await scenario.step(step)
    await asyncio.wait_for(scenario.events.stop(), 10)
    await settle()
    assert asyncio.all_tasks() == {asyncio.current_task()}  # stop() leaves no task behind
    scenario.check()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops)
def test_issue21_12_counters_add_up_under_random_operations(steps: list[tuple[Any, ...]]) -> None:
    """Issue 21 #12: published/routed/outcome counters add up for any sequence of operations."""
    asyncio.run(_scenario(steps))


# --------------------------------------------------------------------------- #13


@pytest.mark.parametrize(
    ("options", "level"), [({}, 2), ({"synchronous": "full"}, 2), ({"synchronous": "normal"}, 1)]
)
async def test_issue21_13_sqlite_stream_flushes_every_commit_by_default(
    tmp_path: Path, options: dict[str, Any], level: int
) -> None:
    """Issue 21 #13: PRAGMA synchronous is FULL (2) unless NORMAL (1) is asked for.

    SQLite's documentation: in WAL mode FULL syncs the WAL after every commit;
    NORMAL only at checkpoints, so an OS crash may roll back the last commits.
    """
    stream = connect_stream(f"sqlite:///{tmp_path / 'events.db'}", "orders", **options)
    assert isinstance(stream, SQLiteStream)
    try:
        await stream.publish("orders.paid", 1)
        db = await stream._connection()
        async with db.execute("PRAGMA synchronous") as cursor:
            row = await cursor.fetchone()
        assert row is not None and row[0] == level
        assert stream.synchronous == options.get("synchronous", "full")
    finally:
        await stream.aclose()


@pytest.mark.parametrize("value", ["off", "FULL ", 2, None])
def test_issue21_13_sqlite_stream_refuses_other_synchronous_levels(
    tmp_path: Path, value: object
) -> None:
    """Issue 21 #13: only the two documented levels are accepted."""
    with pytest.raises(InvalidArgumentError) as info:
        SQLiteStream(tmp_path / "events.db", synchronous=value)  # type: ignore[arg-type]
    assert info.value.hint
