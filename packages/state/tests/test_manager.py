"""Tests for pepperpy.state._manager: slices, observers, locks, CAS and transactions."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pepperpy.core import ClosedError, InvalidArgumentError
from pepperpy.state import (
    Change,
    ObserverError,
    SliceNotFoundError,
    StateManager,
    VersionConflictError,
)


@attrs.frozen
class Address:
    city: str
    zip: str = "00000"


@attrs.frozen
class User:
    name: str
    address: Address = Address("nowhere")
    tags: tuple[str, ...] = ()


@pytest.fixture(name="state")
async def _state() -> Any:
    manager = StateManager()
    await manager.initialize()
    yield manager
    await manager.cleanup()


class TestSlices:
    async def test_lifecycle_and_closed_writes(self) -> None:
        """Writes need a running manager; initialize/cleanup are the seed's names."""
        state = StateManager()
        with pytest.raises(ClosedError):
            await state.set("a", 1)
        await state.initialize()
        await state.set("a", 1)
        await state.cleanup()
        with pytest.raises(ClosedError):
            await state.update("a", lambda v: v + 1)
        async with StateManager() as other:
            await other.set("b", 2)
            assert 2 == other.get("b")

    async def test_get_set_version(self, state: StateManager) -> None:
        """set creates the slice; versions count writes; get raises or defaults."""
        assert 0 == state.version("counter")
        assert 1 == await state.set("counter", 1)
        assert 2 == await state.set("counter", 2)
        assert 2 == state.get("counter")
        assert 2 == state.version("counter")
        assert "counter" in state
        assert ["counter"] == state.names()
        with pytest.raises(SliceNotFoundError) as info:
            state.get("missing")
        assert info.value.hint
        assert state.get("missing", None) is None
        assert {"counter": 2} == state.snapshot()

    async def test_typed_slice(self, state: StateManager) -> None:
        """A registered slice checks types and gives typed access."""
        user = state.register("user", User, default=User("anon"))
        assert User("anon") == user.get()
        assert 0 == user.version
        await user.set(User("ann", Address("Lisbon")))
        assert "Lisbon" == user.select("address.city")
        with pytest.raises(InvalidArgumentError, match="holds User values"):
            await state.set("user", {"name": "bob"})
        with pytest.raises(InvalidArgumentError):
            state.register("bad", int, default="x")
        with pytest.raises(InvalidArgumentError, match="cannot contain"):
            state.register("a.b", int)
        assert 1 == user.version

    async def test_select_paths(self, state: StateManager) -> None:
        """select follows mappings, sequence indexes and attributes."""
        await state.set("cart", {"items": [{"sku": "A1", "qty": 2}], "owner": User("ann")})
        assert "A1" == state.select("cart.items.0.sku")
        assert "ann" == state.select("cart.owner.name")
        assert state.get("cart") is state.select("cart")
        assert state.select("cart.items.5.sku", None) is None
        with pytest.raises(SliceNotFoundError, match="nothing at state path"):
            state.select("cart.nope")
        with pytest.raises(InvalidArgumentError):
            state.select("cart..items")

    async def test_update_is_atomic(self, state: StateManager) -> None:
        """Concurrent updates (even with awaits inside) never lose a write."""
        await state.set("n", 0)

        async def incr(value: int) -> int:
            await asyncio.sleep(0)
            return value + 1

        await asyncio.gather(*(state.update("n", incr) for _ in range(200)))
        assert 200 == state.get("n")
        assert 201 == state.version("n")

    async def test_update_defaults_and_errors(self, state: StateManager) -> None:
        """update starts from default for a new slice; a failing fn changes nothing."""
        with pytest.raises(SliceNotFoundError):
            await state.update("list", lambda v: [*v, 1])
        assert [1] == await state.update("list", lambda v: [*v, 1], default=[])

        def boom(value: Any) -> Any:
            raise RuntimeError("no")

        with pytest.raises(RuntimeError):
            await state.update("list", boom)
        assert [1] == state.get("list")
        assert 1 == state.version("list")

    async def test_delete(self, state: StateManager) -> None:
        """delete removes a slice and tells observers."""
        seen: list[Change] = []
        await state.set("tmp", 1)
        state.subscribe("tmp", seen.append)
        assert await state.delete("tmp") is True
        assert await state.delete("tmp") is False
        assert "tmp" not in state
        assert (1, None) == (seen[0].old, seen[0].new)


class TestObservers:
    async def test_order_old_new_origin(self, state: StateManager) -> None:
        """Sync and async observers run in subscription order with old, new and origin."""
        calls: list[tuple[str, Any, Any, str | None]] = []

        def first(change: Change) -> None:
            calls.append(("first", change.old, change.new, change.origin))

        async def second(change: Change) -> None:
            await asyncio.sleep(0)
            calls.append(("second", change.old, change.new, change.origin))

        def third(change: Change) -> None:
            calls.append(("third", change.old, change.new, change.origin))

        for fn in (first, second, third):
            state.subscribe("theme", fn)
        await state.set("theme", "dark", origin="settings")
        await state.set("theme", "light")
        assert [
            ("first", None, "dark", "settings"),
            ("second", None, "dark", "settings"),
            ("third", None, "dark", "settings"),
            ("first", "dark", "light", None),
            ("second", "dark", "light", None),
            ("third", "dark", "light", None),
        ] == calls

    async def test_failing_observer_is_isolated_and_reported(self, state: StateManager) -> None:
        """One observer raising never blocks the others; the failure is reported."""
        reports: list[ObserverError] = []
        manager = StateManager(on_observer_error=reports.append)
        await manager.start()
        seen: list[str] = []

        def before(change: Change) -> None:
            seen.append("before")

        def broken(change: Change) -> None:
            raise ValueError("observer bug")

        async def broken_async(change: Change) -> None:
            raise KeyError("async bug")

        async def after(change: Change) -> None:
            seen.append("after")

        for fn in (before, broken, broken_async, after):
            manager.subscribe("x", fn)
        assert 1 == await manager.set("x", 1)
        assert ["before", "after"] == seen
        assert 2 == len(reports)
        assert "broken" in reports[0].observer
        assert isinstance(reports[0].error, ValueError)
        assert isinstance(reports[1].error, KeyError)
        assert 1 == reports[0].change.new
        assert 2 == manager.observer_failures
        assert 1 == manager.get("x")
        await manager.stop()

    async def test_failing_observer_logged_by_default(
        self, state: StateManager, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Without a handler, observer failures are logged with the traceback."""

        def broken(change: Change) -> None:
            raise ValueError("observer bug")

        state.subscribe("x", broken)
        with caplog.at_level(logging.ERROR, logger="pepperpy.state"):
            await state.set("x", 1)
        assert "observer" in caplog.text and "broken" in caplog.text
        assert "ValueError" in caplog.text

    async def test_path_observers_fire_only_on_change(self, state: StateManager) -> None:
        """A path observer sees the value at its path, and only when it changed."""
        cities: list[tuple[Any, Any]] = []
        state.subscribe("user.address.city", lambda c: cities.append((c.old, c.new)))
        await state.set("user", User("ann", Address("Porto")))
        await state.set("user", User("ann", Address("Porto"), tags=("x",)))
        await state.set("user", User("ann", Address("Braga")))
        assert [(None, "Porto"), ("Porto", "Braga")] == cities

    async def test_wildcard_and_unsubscribe(self, state: StateManager) -> None:
        """'*' sees every slice; unsubscribe (or with-block) stops delivery."""
        seen: list[str] = []
        sub = state.subscribe("*", lambda c: seen.append(c.slice))
        with state.subscribe("a", lambda c: seen.append("a-only")):
            await state.set("a", 1)
        await state.set("b", 1)
        assert sub.active
        sub.unsubscribe()
        sub.unsubscribe()
        assert not sub.active
        await state.set("a", 2)
        assert ["a", "a-only", "b"] == seen
        with pytest.raises(InvalidArgumentError):
            state.subscribe("a", "not callable")  # type: ignore[arg-type]

    async def test_observer_writes_are_delivered_in_order(self, state: StateManager) -> None:
        """A write from an observer is delivered after the current change, never nested."""
        log: list[str] = []

        async def on_a(change: Change) -> None:
            log.append(f"a1:{change.new}")
            if change.new == 1:
                await state.set("b", "from-a")
            log.append(f"a1-done:{change.new}")

        state.subscribe("a", on_a)
        state.subscribe("a", lambda c: log.append(f"a2:{c.new}"))
        state.subscribe("b", lambda c: log.append(f"b:{c.new}"))
        await state.set("a", 1)
        assert ["a1:1", "a1-done:1", "a2:1", "b:from-a"] == log
        assert "from-a" == state.get("b")

    async def test_watch_iterates_changes(self, state: StateManager) -> None:
        """watch() yields every change in order and unsubscribes when the loop ends."""
        received: list[Any] = []

        async def consume() -> None:
            async for change in state.watch("score"):
                received.append(change.new)
                if change.new == 3:
                    break

        task = asyncio.ensure_future(consume())
        await asyncio.sleep(0)
        for value in (1, 2, 3):
            await state.set("score", value)
        await task
        assert [1, 2, 3] == received
        assert () == state._observer_index["score"]  # dropped after break: unsubscribed

        async with state.watch("score") as watch:
            await state.set("score", 4)
            assert 4 == (await watch.__anext__()).new
            waiter = asyncio.ensure_future(watch.__anext__())
            await asyncio.sleep(0)
            watch.close()
            with pytest.raises(StopAsyncIteration):
                await waiter
        assert [] == [change async for change in watch]

    async def test_cancelled_delivery_is_finished_in_the_background(self) -> None:
        """Cancelling a writer mid-delivery never drops the queued changes of others."""
        manager = StateManager()
        await manager.start()
        gate = asyncio.Event()
        seen: list[Any] = []

        async def slow(change: Change) -> None:
            if change.new == 1:
                await gate.wait()
            seen.append(change.new)

        manager.subscribe("v", slow)
        writer = asyncio.ensure_future(manager.set("v", 1))
        await asyncio.sleep(0)
        await manager.set("v", 2)  # queued behind the slow delivery, returns at once
        writer.cancel()
        await asyncio.sleep(0)
        assert 2 == manager.get("v")
        await manager.stop()  # waits for the background delivery of change 2
        assert [2] == seen

    async def test_observer_may_unsubscribe_itself(self, state: StateManager) -> None:
        """An observer that unsubscribes during delivery is not called again."""
        calls: list[int] = []
        holder: dict[str, Any] = {}

        def once(change: Change) -> None:
            calls.append(change.new)
            holder["sub"].unsubscribe()

        holder["sub"] = state.subscribe("k", once)
        state.subscribe("k", lambda c: calls.append(-c.new))
        await state.set("k", 1)
        await state.set("k", 2)
        assert [1, -1, -2] == calls

    async def test_slice_handle_subscribe(self, state: StateManager) -> None:
        """Slice.subscribe watches the slice or a path inside it."""
        user = state.register("user", User, default=User("anon"))
        names: list[Any] = []
        user.subscribe(lambda c: names.append(c.new), path="name")
        await user.update(lambda u: attrs.evolve(u, name="ann"))
        assert ["ann"] == names


class TestConcurrency:
    async def test_compare_and_set(self, state: StateManager) -> None:
        """CAS succeeds only at the expected version."""
        await state.set("doc", "v1")
        assert await state.compare_and_set("doc", "v2", expected_version=1) is True
        assert await state.compare_and_set("doc", "v3", expected_version=1) is False
        assert "v2" == state.get("doc")
        with pytest.raises(VersionConflictError) as info:
            await state.set("doc", "x", expected_version=7)
        assert {"slice": "doc", "expected": 7, "actual": 2} == info.value.context
        assert info.value.retryable

    async def test_slice_lock_is_reentrant(self, state: StateManager) -> None:
        """Holding a slice's lock lets the same task write; other tasks wait."""
        await state.set("acct", 100)
        order: list[str] = []

        async def other() -> None:
            await state.update("acct", lambda v: v - 30)
            order.append("other")

        async with state.lock("acct"):
            task = asyncio.ensure_future(other())
            await asyncio.sleep(0)
            balance = state.get("acct")
            await asyncio.sleep(0)
            await state.set("acct", balance + 50)
            order.append("owner")
        await task
        assert ["owner", "other"] == order
        assert 120 == state.get("acct")

    async def test_transaction_all_or_nothing(self, state: StateManager) -> None:
        """A transaction applies every write together, or none on error."""
        await state.set("stock", 5)
        await state.set("orders", [])
        seen: list[tuple[str, Any, str | None]] = []
        state.subscribe("*", lambda c: seen.append((c.slice, c.new, c.origin)))
        async with state.transaction(origin="checkout") as tx:
            tx.set("stock", tx.get("stock") - 1)
            await tx.update("orders", lambda orders: [*orders, "o1"])
            assert 4 == tx.get("stock")
            assert 5 == state.get("stock")  # not visible outside before commit
        assert (4, ["o1"]) == (state.get("stock"), state.get("orders"))
        assert [("orders", ["o1"], "checkout"), ("stock", 4, "checkout")] == seen

        with pytest.raises(RuntimeError):
            async with state.transaction() as tx:
                tx.set("stock", 0)
                tx.delete("orders")
                raise RuntimeError("payment failed")
        assert (4, ["o1"]) == (state.get("stock"), state.get("orders"))

    async def test_transaction_checks_types(self, state: StateManager) -> None:
        """A typed slice refuses a wrong value inside a transaction too."""
        state.register("user", User, default=User("anon"))
        with pytest.raises(InvalidArgumentError, match="holds User values"):
            async with state.transaction() as tx:
                tx.set("user", "not a user")
        assert User("anon") == state.get("user")

    async def test_transaction_conflict(self, state: StateManager) -> None:
        """A slice changed by someone else since the transaction read it aborts the commit."""
        await state.set("a", 1)
        await state.set("b", 1)
        with pytest.raises(VersionConflictError):
            async with state.transaction() as tx:
                value = tx.get("a")
                await state.set("a", 100)  # a concurrent writer
                tx.set("b", value + 1)
        assert (100, 1) == (state.get("a"), state.get("b"))
        with pytest.raises(InvalidArgumentError, match="already finished"):
            tx.set("b", 3)

    async def test_transact_retries(self, state: StateManager) -> None:
        """transact() retries a conflicting transaction function."""
        await state.set("n", 0)
        attempts = 0

        async def body(tx: Any) -> int:
            nonlocal attempts
            attempts += 1
            value = tx.get("n")
            if attempts == 1:
                await state.set("n", 10)
            tx.set("n", value + 1)
            return value + 1

        assert 11 == await state.transact(body)
        assert 2 == attempts
        assert 11 == state.get("n")

    async def test_transaction_delete_and_missing(self, state: StateManager) -> None:
        """Transactions can create and delete slices; get of a missing slice raises."""
        async with state.transaction() as tx:
            with pytest.raises(SliceNotFoundError):
                tx.get("new")
            assert "d" == tx.get("new", "d")
            tx.set("new", 1)
        assert 1 == state.get("new")
        async with state.transaction() as tx:
            tx.delete("new")
        assert "new" not in state


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(-5, 5), min_size=1, max_size=30))
def test_versions_count_committed_writes(values: list[int]) -> None:
    """After any mix of sets and updates, the version counts the successful writes."""

    async def run() -> None:
        async with StateManager() as state:
            for v in values:
                if v >= 0:
                    await state.set("x", v)
                else:
                    await state.update("x", lambda old, d=v: old + d, default=0)
            assert len(values) == state.version("x")

    asyncio.run(run())
