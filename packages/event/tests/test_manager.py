"""Tests for pepperpy.event._manager: routing, order, delivery, errors, lifecycle."""

from __future__ import annotations

import asyncio
import gc
import logging

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pepperpy import context
from pepperpy.core import ClosedError, InvalidArgumentError, ManualClock, OperationTimeoutError
from pepperpy.event import (
    BackpressureError,
    DeadLetter,
    Event,
    EventManager,
    HandlerError,
    topic,
)


@topic("orders.created")
@attrs.frozen
class OrderCreated:
    order_id: int


@attrs.frozen
class PriorityOrderCreated(OrderCreated):
    pass


@attrs.frozen
class UserSignedUp:
    name: str


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


class TestRouting:
    async def test_typed_events_reach_class_subscribers(self, events):
        seen: list[object] = []
        events.subscribe(OrderCreated, seen.append)
        events.subscribe(UserSignedUp, lambda e: seen.append(("user", e.name)))
        assert await events.publish(OrderCreated(1)) == 1
        await events.publish(UserSignedUp("ada"))
        assert seen == [OrderCreated(1), ("user", "ada")]

    async def test_subclass_instances_match_the_base_class(self, events):
        seen: list[object] = []
        events.subscribe(OrderCreated, seen.append)
        await events.publish(PriorityOrderCreated(2))
        assert seen == [PriorityOrderCreated(2)]

    async def test_typed_events_match_topic_patterns(self, events):
        seen: list[object] = []
        events.subscribe("orders.*", seen.append)
        events.subscribe("UserSignedUp", seen.append)
        await events.publish(OrderCreated(3))
        await events.publish(UserSignedUp("bob"))
        assert seen == [OrderCreated(3), UserSignedUp("bob")]

    async def test_string_topics_and_wildcards(self, events):
        star: list[object] = []
        hash_: list[object] = []
        events.subscribe("orders.*", star.append)
        events.subscribe("orders.#", hash_.append)
        await events.publish("orders", 0)
        await events.publish("orders.created", 1)
        await events.publish("orders.eu.created", 2)
        await events.publish("users.created", 3)
        assert star == [1]
        assert hash_ == [0, 1, 2]

    async def test_no_subscriber_is_fine_and_counted(self, events):
        assert await events.publish("nobody.listens", {}) == 0
        assert events.stats()["nobody.listens"].published == 1

    async def test_sync_and_async_handlers(self, events):
        seen: list[str] = []

        async def async_handler(data: str) -> None:
            await asyncio.sleep(0)
            seen.append("async " + data)

        events.subscribe("t", lambda d: seen.append("sync " + d))
        events.subscribe("t", async_handler)
        await events.publish("t", "x")
        assert seen == ["sync x", "async x"]

    async def test_decorator_and_unsubscribe(self, events):
        seen: list[int] = []

        @events.on("n")
        def handler(n: int) -> None:
            seen.append(n)

        await events.publish("n", 1)
        sub = events.subscriptions()[0]
        events.unsubscribe(sub)
        await events.publish("n", 2)
        assert seen == [1]
        assert "inactive" in repr(sub)

    async def test_filter_and_envelope(self, events):
        seen: list[Event] = []
        events.subscribe("n", seen.append, envelope=True, filter=lambda n: n > 1)
        with context.scope(request_id="r-9"):
            await events.publish("n", 1)
            await events.publish("n", 2)
        assert [e.data for e in seen] == [2]
        assert seen[0].topic == "n"
        assert seen[0].context["request_id"] == "r-9"

    async def test_bad_arguments(self, events):
        with pytest.raises(InvalidArgumentError):
            events.subscribe("a..b", print)
        with pytest.raises(InvalidArgumentError):
            events.subscribe("a", 42)
        with pytest.raises(InvalidArgumentError):
            events.subscribe(42, print)
        with pytest.raises(InvalidArgumentError):
            events.subscribe("a", print, delivery="later")
        with pytest.raises(InvalidArgumentError):
            events.subscribe("a", print, backpressure="shrug")
        with pytest.raises(InvalidArgumentError):
            events.subscribe("a", print, on_error="ignore")
        with pytest.raises(InvalidArgumentError):
            events.subscribe("a", print, queue_size=0)
        with pytest.raises(InvalidArgumentError, match="wildcards"):
            await events.publish("orders.*", 1)


class TestOrder:
    async def test_priorities_then_subscription_order(self, events):
        seen: list[str] = []
        events.subscribe("t", lambda _: seen.append("low"), priority=-1)
        events.subscribe("t", lambda _: seen.append("first default"))
        events.subscribe("t", lambda _: seen.append("high"), priority=10)
        events.subscribe("t", lambda _: seen.append("second default"))
        await events.publish("t")
        assert seen == ["high", "first default", "second default", "low"]

    @settings(max_examples=25, deadline=None)
    @given(st.lists(st.integers(-3, 3), min_size=1, max_size=12))
    async def test_async_handlers_run_in_priority_order(self, priorities):
        events = EventManager()
        await events.start()
        seen: list[int] = []

        def make(index: int):
            async def handler(_: object) -> None:
                for _ in range(len(priorities) - index):  # later handlers finish sooner
                    await asyncio.sleep(0)
                seen.append(index)

            return handler

        for index, priority in enumerate(priorities):
            events.subscribe("t", make(index), priority=priority)
        await events.publish("t")
        await events.stop()
        expected = sorted(range(len(priorities)), key=lambda i: (-priorities[i], i))
        assert seen == expected

    async def test_concurrent_handlers_start_in_priority_order(self, events):
        started: list[str] = []
        gate = asyncio.Event()

        def make(name: str):
            async def handler(_: object) -> None:
                started.append(name)
                await gate.wait()

            return handler

        events.subscribe("t", make("b"), delivery="concurrent")
        events.subscribe("t", make("a"), delivery="concurrent", priority=5)
        await events.publish("t")
        await settle()
        assert started == ["a", "b"]
        assert events.pending == 2
        gate.set()
        await events.drain()
        assert events.pending == 0

    async def test_queued_delivery_keeps_publish_order(self, events):
        seen: list[int] = []

        async def handler(n: int) -> None:
            await asyncio.sleep(0)
            seen.append(n)

        events.subscribe("n", handler, delivery="queued")
        for n in range(50):
            await events.publish("n", n)
        await events.drain()
        assert seen == list(range(50))


class TestBackpressure:
    async def test_block_waits_for_space(self, events):
        gate = asyncio.Event()
        seen: list[int] = []

        async def slow(n: int) -> None:
            await gate.wait()
            seen.append(n)

        events.subscribe("n", slow, delivery="queued", queue_size=2)
        for n in range(3):  # one in the worker's hands, two queued
            await events.publish("n", n)
        await settle()
        blocked = asyncio.ensure_future(events.publish("n", 3))
        await settle()
        assert not blocked.done()
        gate.set()
        await blocked
        await events.drain()
        assert seen == [0, 1, 2, 3]

    async def test_drop_oldest(self, events):
        gate = asyncio.Event()
        seen: list[int] = []

        async def slow(n: int) -> None:
            await gate.wait()
            seen.append(n)

        events.subscribe("n", slow, delivery="queued", queue_size=2, backpressure="drop_oldest")
        await events.publish("n", 0)
        await settle()  # 0 is being handled
        for n in range(1, 6):
            await events.publish("n", n)
        gate.set()
        await events.drain()
        assert seen == [0, 4, 5]
        assert events.stats()["n"].dropped == 3

    async def test_error_policy_raises_but_others_still_receive(self, events):
        gate = asyncio.Event()
        other: list[int] = []

        async def slow(n: int) -> None:
            await gate.wait()

        events.subscribe("n", slow, delivery="queued", queue_size=1, backpressure="error")
        events.subscribe("n", other.append, priority=-1)
        await events.publish("n", 0)
        await settle()
        await events.publish("n", 1)
        with pytest.raises(BackpressureError) as info:
            await events.publish("n", 2)
        assert info.value.context["queue_size"] == 1
        assert other == [0, 1, 2]
        gate.set()


class TestErrors:
    async def test_one_failing_handler_never_stops_the_others(self, events):
        seen: list[str] = []

        def broken(_: object) -> None:
            raise RuntimeError("boom")

        events.subscribe("t", broken, priority=1)
        events.subscribe("t", lambda _: seen.append("ok"))
        await events.publish("t", {"id": 1})
        assert seen == ["ok"]
        [error] = events.errors
        assert isinstance(error, HandlerError)
        assert error.handler.endswith("broken")
        assert error.topic == "t"
        assert error.event == {"id": 1}
        assert isinstance(error.cause, RuntimeError)
        assert "RuntimeError: boom" in error.traceback
        assert events.stats()["t"].failed == 1
        assert events.stats()["t"].delivered == 1
        events.clear_errors()
        assert events.errors == []

    async def test_raise_policy_raises_after_every_handler_ran(self, events):
        seen: list[str] = []

        def broken(_: object) -> None:
            raise ValueError("bad")

        events.subscribe("t", broken, on_error="raise")
        events.subscribe("t", broken, on_error="raise", name="second")
        events.subscribe("t", lambda _: seen.append("ran"), priority=-5)
        with pytest.raises(HandlerError) as info:
            await events.publish("t")
        assert seen == ["ran"]
        assert len(info.value.errors) == 2
        assert info.value.errors[1].handler == "second"

    async def test_log_policy(self, caplog):
        events = EventManager()
        await events.start()
        events.subscribe("t", lambda _: 1 / 0, name="divider")
        with caplog.at_level(logging.ERROR, logger="pepperpy.event"):
            await events.publish("t")
        await events.stop()
        assert "divider" in caplog.text
        assert "ZeroDivisionError" in caplog.text

    async def test_dead_letter_topic(self, events):
        letters: list[DeadLetter] = []
        events.subscribe("events.dead_letter", letters.append)
        events.subscribe("t", lambda _: 1 / 0, on_error="dead_letter", name="divider")
        await events.publish("t", 5)
        [letter] = letters
        assert (letter.topic, letter.event, letter.handler) == ("t", 5, "divider")
        assert isinstance(letter.error.cause, ZeroDivisionError)

    async def test_failing_dead_letter_handler_does_not_loop(self, events, caplog):
        def broken(_: object) -> None:
            raise RuntimeError("dl broken")

        events.subscribe("events.dead_letter", broken, on_error="dead_letter")
        events.subscribe("t", lambda _: 1 / 0, on_error="dead_letter")
        with caplog.at_level(logging.ERROR, logger="pepperpy.event"):
            await events.publish("t", 5)
        assert "dl broken" in caplog.text

    async def test_callable_policy_and_concurrent_errors(self, events):
        got: list[HandlerError] = []

        async def explode(_: object) -> None:
            raise KeyError("k")

        events.subscribe("t", explode, delivery="concurrent", on_error=got.append)
        events.subscribe("t", explode, delivery="queued", on_error="raise")
        await events.publish("t")
        await events.drain()
        assert len(got) == 1
        assert len(events.errors) == 1  # "raise" cannot reach the publisher: collected


class TestContext:
    async def test_context_reaches_every_delivery_mode(self, events):
        seen: dict[str, object] = {}

        def make(mode: str):
            async def handler(_: object) -> None:
                seen[mode] = context.get("request_id")

            return handler

        for mode in ("inline", "concurrent", "queued"):
            events.subscribe("t", make(mode), delivery=mode)
        with context.scope(request_id="req-42"):
            await events.publish("t")
        await events.drain()
        assert seen == {"inline": "req-42", "concurrent": "req-42", "queued": "req-42"}

    async def test_queued_worker_does_not_keep_old_context(self, events):
        seen: list[object] = []

        async def handler(_: object) -> None:
            seen.append(context.get("request_id"))

        events.subscribe("t", handler, delivery="queued")
        with context.scope(request_id="a"):
            await events.publish("t")
        await events.publish("t")
        await events.drain()
        assert seen == ["a", None]


class TestReferences:
    async def test_lambda_subscribers_are_kept_by_default(self, events):
        seen: list[int] = []
        events.subscribe("t", lambda n: seen.append(n))
        gc.collect()
        await events.publish("t", 1)
        assert seen == [1]

    async def test_weak_subscribers_go_away_with_their_owner(self, events):
        class Listener:
            def __init__(self) -> None:
                self.seen: list[int] = []

            def handle(self, n: int) -> None:
                self.seen.append(n)

        listener = Listener()
        sub = events.subscribe("t", listener.handle, weak=True)
        await events.publish("t", 1)
        assert listener.seen == [1]
        del listener
        gc.collect()
        assert not sub.active
        assert await events.publish("t", 2) == 0


class TestOnceAndWaitFor:
    async def test_once(self, events):
        seen: list[int] = []
        events.once("t", seen.append)
        await events.publish("t", 1)
        await events.publish("t", 2)
        assert seen == [1]

    async def test_wait_for_with_predicate(self, events):
        waiter = events.wait_for("orders.*", lambda o: o["id"] == 2, timeout=5)
        await events.publish("orders.paid", {"id": 1})
        await events.publish("orders.paid", {"id": 2})
        assert await waiter == {"id": 2}
        assert events.subscriptions() == []

    async def test_wait_for_typed(self, events):
        waiter = asyncio.ensure_future(events.wait_for(OrderCreated))
        await events.publish(OrderCreated(9))
        assert await waiter == OrderCreated(9)

    async def test_wait_for_times_out_on_the_clock(self):
        clock = ManualClock()
        events = EventManager(clock=clock)
        await events.start()
        waiter = asyncio.ensure_future(events.wait_for("never", timeout=30))
        await clock.advance(30)
        with pytest.raises(OperationTimeoutError):
            await waiter
        assert events.subscriptions() == []
        await events.stop()


class TestMiddleware:
    async def test_filter_enrich_and_measure(self, events):
        seen: list[object] = []
        measured: list[str] = []

        async def measure(event: Event, call_next):
            count = await call_next(event)
            measured.append(f"{event.topic}:{count}")
            return count

        async def drop_private(event: Event, call_next):
            if event.topic.startswith("private."):
                return 0
            return await call_next(event)

        async def enrich(event: Event, call_next):
            return await call_next(attrs.evolve(event, data={**event.data, "seen": True}))

        events.use(measure)
        events.use(drop_private)
        events.use(enrich)
        events.subscribe("#", seen.append)
        await events.publish("public.x", {"n": 1})
        await events.publish("private.x", {"n": 2})
        assert seen == [{"n": 1, "seen": True}]
        assert measured == ["public.x:1", "private.x:0"]


class TestLifecycle:
    async def test_publish_requires_start(self):
        events = EventManager()
        with pytest.raises(ClosedError):
            await events.publish("t")
        async with events:
            await events.publish("t")
        with pytest.raises(ClosedError):
            await events.publish("t")

    async def test_stop_drains_queued_events(self):
        seen: list[int] = []

        async def handler(n: int) -> None:
            await asyncio.sleep(0)
            seen.append(n)

        events = EventManager()
        events.subscribe("n", handler, delivery="queued")
        await events.start()
        for n in range(10):
            await events.publish("n", n)
        await events.stop()
        assert seen == list(range(10))

    async def test_stop_cancels_what_does_not_finish_in_time(self, caplog):
        clock = ManualClock()
        events = EventManager(clock=clock, stop_timeout=1)
        before = asyncio.all_tasks()

        async def forever(_: object) -> None:
            await asyncio.Event().wait()

        events.subscribe("n", forever, delivery="queued")
        events.subscribe("n", forever, delivery="concurrent")
        await events.start()
        for n in range(3):
            await events.publish("n", n)
        stopping = asyncio.ensure_future(events.stop())
        await settle()
        with caplog.at_level(logging.WARNING, logger="pepperpy.event"):
            await clock.advance(1)
            await stopping
        assert events.stats()["n"].dropped == 2
        assert "dropped" in caplog.text
        await settle()
        assert asyncio.all_tasks() - before - {asyncio.current_task()} == set()

    async def test_drain_timeout(self):
        clock = ManualClock()
        events = EventManager(clock=clock)
        await events.start()
        gate = asyncio.Event()

        async def slow(_: object) -> None:
            await gate.wait()

        events.subscribe("t", slow, delivery="queued")
        await events.publish("t")
        draining = asyncio.ensure_future(events.drain(timeout=5))
        await clock.advance(5)
        with pytest.raises(OperationTimeoutError):
            await draining
        gate.set()
        await events.drain()
        await events.stop()

    async def test_subscribing_a_queued_handler_while_running(self, events):
        seen: list[int] = []
        sub = events.subscribe("n", seen.append, delivery="queued")
        await events.publish("n", 1)
        await events.drain()
        sub.unsubscribe()
        await events.publish("n", 2)
        await events.drain()
        assert seen == [1]
        assert sub.pending == 0

    async def test_repr(self, events):
        assert "running" in repr(events)


class TestMisuse:
    async def test_data_with_an_event_object_is_refused(self, events):
        with pytest.raises(InvalidArgumentError, match="string topic"):
            await events.publish(OrderCreated(1), {"extra": 1})

    async def test_stop_wakes_wait_for_with_closed_error(self):
        events = EventManager()
        await events.start()
        waiter = asyncio.ensure_future(events.wait_for("never"))
        await settle()
        await events.stop()
        with pytest.raises(ClosedError):
            await waiter


async def test_publisher_blocked_on_a_full_queue_is_released_at_stop():
    clock = ManualClock()
    before = asyncio.all_tasks()
    events = EventManager(clock=clock, stop_timeout=0)

    async def forever(_: object) -> None:
        await asyncio.Event().wait()

    events.subscribe("n", forever, delivery="queued", queue_size=1)
    await events.start()
    await events.publish("n", 0)  # taken by the worker
    await settle()
    await events.publish("n", 1)  # fills the queue
    blocked = asyncio.ensure_future(events.publish("n", 2))
    await settle()
    assert not blocked.done()
    await events.stop()
    with pytest.raises(ClosedError, match="waited for queue room"):
        await blocked
    assert events.stats()["n"].dropped == 2
    await settle()
    assert asyncio.all_tasks() - before - {asyncio.current_task()} == set()
