"""One conformance suite for every event stream backend: memory, SQLite, Redis, PostgreSQL.

Each test runs once per backend against the public :class:`EventStream` API, so the
semantics (consumer groups, acknowledgements, redelivery, claims, dead letters)
cannot drift. Memory and SQLite run on a ``ManualClock`` (``claim_after`` is 30
virtual seconds, no waiting); Redis and PostgreSQL measure idle time on the server,
so there ``claim_after`` is short and real. The servers are real (the
pepperpy-testing plugin's ``redis_url`` and ``postgres_dsn``).
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pepperpy.core import ClosedError, InvalidArgumentError
from pepperpy.event import (
    EventManager,
    EventStream,
    StreamMessage,
    connect_stream,
)

BACKENDS = ["memory", "sqlite", "redis", "postgres"]

if TYPE_CHECKING:
    from conftest import Backend


@attrs.frozen
class Paid:
    order: int
    amount: float
    note: str | None = None


def _id(text: str) -> tuple[int, int]:
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


# --------------------------------------------------------------------------- basics


async def test_every_backend_is_an_event_stream(backend: Backend) -> None:
    stream = backend.stream()
    assert isinstance(stream, EventStream)
    assert (stream.group, stream.max_deliveries, stream.batch) == ("default", 5, 100)
    assert stream.consumer  # a unique default name


async def test_publish_read_ack(backend: Backend) -> None:
    stream = backend.stream()
    await stream.ensure_group()
    first = await stream.publish("orders.paid", Paid(7, 9.5))
    second = await stream.publish("orders.note", None)
    assert _id(first) < _id(second)  # ids increase in append order
    messages = await stream.read(block=0)
    assert messages == [
        StreamMessage(first, "orders.paid", {"order": 7, "amount": 9.5, "note": None}, 1),
        StreamMessage(second, "orders.note", None, 1),
    ]
    assert await stream.pending() == 2
    assert await stream.read(block=0) == []  # handed out: not again while pending
    assert await stream.ack(*messages) == 2
    assert await stream.ack(*messages) == 0  # already acknowledged
    assert await stream.ack() == 0
    assert await stream.pending() == 0


async def test_reading_creates_the_group_from_the_start(backend: Backend) -> None:
    producer = backend.stream()
    await producer.publish("jobs", 1)  # before any group exists
    reader = backend.stream(group="late")
    assert [m.data for m in await reader.read(block=0)] == [1]


async def test_a_group_can_start_at_the_end_or_after_an_id(backend: Backend) -> None:
    producer = backend.stream()
    old = await producer.publish("jobs", "old")
    await producer.publish("jobs", "middle")
    tail = backend.stream(group="tail")
    await tail.ensure_group(start="$")
    after = backend.stream(group="after")
    await after.ensure_group(start=old)
    await producer.publish("jobs", "new")
    assert [m.data for m in await tail.read(block=0)] == ["new"]
    assert [m.data for m in await after.read(block=0)] == ["middle", "new"]
    await tail.ensure_group(start="0")  # an existing group is left as it is
    assert await tail.read(block=0) == []


async def test_read_waits_for_a_new_event(backend: Backend) -> None:
    reader = backend.stream(block=30.0)
    await reader.ensure_group()
    waiting = asyncio.ensure_future(reader.read())
    await asyncio.sleep(0.05)
    assert not waiting.done()
    writer = backend.stream()
    await writer.publish("jobs", "wake up")
    messages = await asyncio.wait_for(waiting, 20)
    assert [m.data for m in messages] == ["wake up"]


# --------------------------------------------------------------------------- groups


async def test_consumers_of_a_group_share_the_work_and_every_group_gets_everything(
    backend: Backend,
) -> None:
    one = backend.stream(group="billing", consumer="one", batch=3)
    two = backend.stream(group="billing", consumer="two", batch=3)
    audit = backend.stream(group="audit", consumer="auditor")
    for stream in (one, two, audit):
        await stream.ensure_group()
    ids = [await one.publish("orders.paid", {"order": i}) for i in range(9)]
    taken = [
        [m.id for m in await one.read(block=0)],
        [m.id for m in await two.read(block=0)],
        [m.id for m in await one.read(block=0)],
    ]
    assert taken == [ids[0:3], ids[3:6], ids[6:9]]  # each entry to one consumer
    assert await two.read(block=0) == []
    assert [m.id for m in await audit.read(block=0)] == ids  # the other group: all of them
    assert await one.pending() == 9
    assert await audit.pending() == 9


async def test_concurrent_consumers_handle_each_event_once(
    backend: Backend, consumers: Callable[..., asyncio.Event]
) -> None:
    one = backend.stream(group="billing", consumer="one", batch=4)
    two = backend.stream(group="billing", consumer="two", batch=4)
    audit = backend.stream(group="audit")
    for stream in (one, two, audit):
        await stream.ensure_group()
    seen: dict[str, list[str]] = {"one": [], "two": [], "audit": []}

    async def record(name: str, message: StreamMessage) -> None:
        seen[name].append(message.id)
        await asyncio.sleep(0)

    consumers(one, lambda m: record("one", m))
    consumers(two, lambda m: record("two", m))
    consumers(audit, lambda m: record("audit", m))
    ids = [await one.publish("orders.paid", {"order": i}) for i in range(40)]
    await backend.until(lambda: one.handled + two.handled == 40 and audit.handled == 40)
    assert sorted(seen["one"] + seen["two"]) == sorted(ids)  # each handled once
    assert seen["audit"] == ids  # in append order
    assert await one.pending() == 0
    assert await audit.pending() == 0


# --------------------------------------------------------------------------- redelivery


async def test_failed_events_come_back_then_go_to_dead_letters(
    backend: Backend, consumers: Callable[..., asyncio.Event]
) -> None:
    stream = backend.stream(max_deliveries=3)
    attempts: Counter[Any] = Counter()

    def handler(message: StreamMessage) -> None:
        attempts[message.data["n"]] += 1
        if message.data["n"] == 1 and message.deliveries < 2:
            raise RuntimeError("transient")
        if message.data["n"] == 2:
            raise RuntimeError("always")

    await stream.ensure_group()
    ids = [await stream.publish("jobs", {"n": n}) for n in range(3)]
    consumers(stream, handler)
    await backend.until(lambda: stream.dead_lettered == 1 and stream.handled == 2, time_passes=True)
    assert attempts == {0: 1, 1: 2, 2: 3}
    assert await stream.pending() == 0
    [dead] = await stream.dead_letters()
    assert (dead.message_id, dead.topic, dead.data) == (ids[2], "jobs", {"n": 2})
    assert (dead.group, dead.deliveries) == ("default", 3)
    assert "always" in dead.error
    assert await stream.dead_letters(limit=0) == []


async def test_dead_letters_are_a_stream_too(backend: Backend) -> None:
    stream = backend.stream()
    await stream.ensure_group()
    await stream.publish("jobs", {"n": 1})
    [message] = await stream.read(block=0)
    await stream.dead_letter(message, "cannot handle it")
    assert await stream.pending() == 0
    dead = backend.stream("orders:dead", group="operators")
    [letter] = await dead.read(block=0)
    assert (letter.topic, letter.data) == ("jobs", {"n": 1})


async def test_unhandled_events_wait_claim_after_before_coming_back(backend: Backend) -> None:
    stream = backend.stream(consumer="worker")
    await stream.ensure_group()
    await stream.publish("jobs", 1)
    [first] = await stream.read(block=0)  # the handler fails: no ack
    assert await stream.read(block=0) == []  # not idle long enough yet
    await backend.idle()
    [again] = await stream.read(block=0)
    assert (again.id, again.data, again.deliveries) == (first.id, 1, 2)
    assert await stream.ack(again) == 1


async def test_a_dead_consumers_events_are_claimed_by_another(backend: Backend) -> None:
    crashed = backend.stream(consumer="crashed")
    await crashed.ensure_group()
    for n in range(5):
        await crashed.publish("jobs", n)
    taken = await crashed.read(block=0)  # read, then "killed" before acknowledging
    assert len(taken) == 5
    survivor = backend.stream(consumer="survivor")
    assert await survivor.read(block=0) == []  # still within claim_after
    await backend.idle()
    got = await survivor.read(block=0)
    assert [(m.data, m.deliveries) for m in got] == [(n, 2) for n in range(5)]
    assert [m.id for m in got] == [m.id for m in taken]
    assert await survivor.ack(*got) == 5
    assert await survivor.pending() == 0
    await backend.idle()
    assert await survivor.read(block=0) == []  # acknowledged: never again


async def test_events_past_max_deliveries_are_dead_lettered_unhandled(
    backend: Backend, consumers: Callable[..., asyncio.Event]
) -> None:
    first = backend.stream(consumer="first", max_deliveries=2)
    await first.ensure_group()
    await first.publish("jobs", "poison")
    assert len(await first.read(block=0)) == 1  # delivery 1: its consumer dies
    await backend.idle()
    second = backend.stream(consumer="second", max_deliveries=2)
    assert [m.deliveries for m in await second.read(block=0)] == [2]  # dies too
    await backend.idle()
    third = backend.stream(consumer="third", max_deliveries=2)
    handled: list[StreamMessage] = []
    consumers(third, handled.append)
    await backend.until(lambda: third.dead_lettered == 1)
    assert handled == []
    [dead] = await third.dead_letters()
    assert (dead.data, dead.deliveries, dead.error) == ("poison", 3, "too many deliveries")


async def test_a_restarted_consumer_reads_its_own_pending_first(backend: Backend) -> None:
    first = backend.stream(consumer="worker-1", batch=2)
    await first.ensure_group()
    for n in range(3):
        await first.publish("jobs", n)
    assert len(await first.read(block=0)) == 2  # then the process restarts
    await first.aclose()
    again = backend.stream(consumer="worker-1", batch=2)
    pending = await again.read(block=0)
    assert [(m.data, m.deliveries) for m in pending] == [(0, 2), (1, 2)]
    assert [m.data for m in await again.read(block=0)] == [2]  # then new ones
    assert await again.read(block=0) == []
    other = backend.stream(consumer="worker-2")
    assert await other.read(block=0) == []  # nobody else's until claim_after


async def test_maxlen_keeps_the_newest_entries(backend: Backend) -> None:
    stream = backend.stream(maxlen=5)
    ids = [await stream.publish("jobs", n) for n in range(20)]
    reader = backend.stream(group="late")
    kept = [m.id for m in await reader.read(block=0)]
    assert len(kept) >= 5
    assert kept == ids[-len(kept) :]  # a suffix: the newest (Redis trims about maxlen)


# --------------------------------------------------------------------------- payloads

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)

TOPIC_CHARACTERS = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    values=st.lists(JSON, min_size=1, max_size=5),
    event=st.builds(
        Paid,
        st.integers(min_value=0, max_value=10**9),
        st.floats(allow_nan=False, allow_infinity=False),
        st.none() | st.text(max_size=20),
    ),
    topic=st.text(
        st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
        min_size=1,
        max_size=30,
    ),
)
async def test_payloads_round_trip(
    backend: Backend, values: list[Any], event: Paid, topic: str
) -> None:
    stream = backend.stream_once("payloads", group="payloads")
    await stream.ensure_group(start="$")
    for value in values:
        await stream.publish(topic, value)
    await stream.publish("orders.paid", event)
    got = await stream.read(block=0)
    assert [m.topic for m in got] == [topic] * len(values) + ["orders.paid"]
    assert [m.data for m in got[:-1]] == values
    assert got[-1].data == attrs.asdict(event)
    assert await stream.ack(*got) == len(got)


# --------------------------------------------------------------------------- consume/forward


async def test_forward_into_a_local_event_manager(backend: Backend) -> None:
    stream = backend.stream()
    await stream.ensure_group()
    received: list[Any] = []
    async with EventManager() as manager:
        manager.subscribe("orders.*", received.append)
        stop = asyncio.Event()
        task = asyncio.ensure_future(stream.forward(manager, stop=stop))
        await stream.publish("orders.paid", {"order": 1})
        await stream.publish("users.new", {"user": 2})
        await backend.until(lambda: stream.handled == 2)
        stop.set()
        await asyncio.wait_for(task, 10)
    assert received == [{"order": 1}]
    assert await stream.pending() == 0


async def test_an_async_handler_and_a_prompt_stop(backend: Backend) -> None:
    stream = backend.stream(block=30.0)
    await stream.ensure_group()
    got: list[Any] = []

    async def handler(message: StreamMessage) -> None:
        await asyncio.sleep(0)
        got.append(message.data)

    stop = asyncio.Event()
    task = asyncio.ensure_future(stream.consume(handler, stop=stop))
    await stream.publish("jobs", "a")
    await backend.until(lambda: got == ["a"])
    stop.set()
    await asyncio.wait_for(task, 10)  # does not wait out block=30


async def test_the_url_is_the_only_difference(backend: Backend) -> None:
    options: dict[str, Any] = {"namespace": backend.namespace, "block": 0.1}
    if backend.clock is not None:
        options["clock"] = backend.clock
    url = "memory://conformance-" + backend.namespace if backend.name == "memory" else backend.url
    producer = connect_stream(url, "orders", **options)
    consumer = connect_stream(url, "orders", group="billing", consumer="c1", **options)
    backend.opened += [producer, consumer]
    assert type(producer).__name__.lower().startswith(backend.name)
    await consumer.ensure_group()
    await producer.publish("orders.paid", {"order": 1})
    [message] = await consumer.read(block=0)
    assert (message.topic, message.data) == ("orders.paid", {"order": 1})
    assert await consumer.ack(message) == 1
    with pytest.raises(InvalidArgumentError, match="do not take"):
        connect_stream(url, "orders", colour="blue")


# --------------------------------------------------------------------------- bad input


async def test_bad_input_is_refused_and_nothing_is_stored(backend: Backend) -> None:
    stream = backend.stream()
    await stream.ensure_group()
    with pytest.raises(InvalidArgumentError, match="topic"):
        await stream.publish("", 1)
    with pytest.raises(InvalidArgumentError, match="topic"):
        await stream.publish(7, 1)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="NUL"):
        await stream.publish("orders.\x00", 1)
    with pytest.raises(InvalidArgumentError, match="Unicode"):
        await stream.publish("orders.\ud800", 1)  # a lone surrogate cannot be stored
    with pytest.raises(InvalidArgumentError, match="cannot store"):
        await stream.publish("x", math.nan)
    with pytest.raises(InvalidArgumentError, match="cannot store"):
        await stream.publish("x", object())
    assert await stream.read(block=0) == []  # nothing was appended
    with pytest.raises(InvalidArgumentError, match="entry id"):
        await stream.ensure_group(start="yesterday")
    for block in (-1, math.inf, "1"):
        with pytest.raises(InvalidArgumentError, match="block"):
            await stream.read(block=block)
    with pytest.raises(InvalidArgumentError, match="out of range"):
        await stream.ensure_group(start=f"{2**64}-0")
    with pytest.raises(InvalidArgumentError, match="StreamMessage"):
        await stream.ack("1-0")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="callable"):
        await stream.consume(None)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="EventManager"):
        await stream.forward(object())
    for options in (
        {"max_deliveries": 0},
        {"batch": 0},
        {"claim_after": 0},
        {"claim_after": math.inf},
        {"block": -1},
        {"maxlen": 0},
        {"group": ""},
        {"consumer": ""},
    ):
        with pytest.raises(InvalidArgumentError):
            backend.stream(**options)
    await stream.publish("x", 1)
    assert [m.data for m in await stream.read(block=0)] == [1]


async def test_a_closed_stream_says_so(backend: Backend) -> None:
    async with backend.stream() as stream:
        await stream.publish("jobs", 1)
    with pytest.raises(ClosedError):
        await stream.publish("jobs", 2)
    with pytest.raises(ClosedError):
        await stream.read(block=0)
    await stream.aclose()  # idempotent
    reader = backend.stream()
    assert [m.data for m in await reader.read(block=0)] == [1]
