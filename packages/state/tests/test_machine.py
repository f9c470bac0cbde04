"""Tests for pepperpy.state._machine: typed declarative state machines."""

from __future__ import annotations

import asyncio
import enum
from typing import Any

import pytest

from pepperpy.core import ConfigurationError, InvalidArgumentError, ManualClock
from pepperpy.state import (
    ANY,
    GuardRejectedError,
    Machine,
    MachineSnapshot,
    MemoryStateStore,
    StateManager,
    Transition,
    TransitionEvent,
    TransitionNotAllowedError,
    on_enter,
    on_exit,
)


class OrderState(enum.Enum):
    NEW = "new"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


def has_items(machine: Order, event: TransitionEvent[OrderState]) -> bool:
    return bool(machine.items)


class Order(Machine[OrderState]):
    initial = OrderState.NEW
    final = frozenset({OrderState.DELIVERED, OrderState.CANCELLED})

    pay = Transition(OrderState.NEW, OrderState.PAID, guard=has_items, action="charge")
    ship = Transition(OrderState.PAID, OrderState.SHIPPED, unless="is_blocked")
    deliver = Transition(OrderState.SHIPPED, OrderState.DELIVERED)
    cancel = Transition([OrderState.NEW, OrderState.PAID], OrderState.CANCELLED)
    touch = Transition(ANY, OrderState.NEW, internal=True) | Transition(
        OrderState.NEW, OrderState.NEW
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.items: list[str] = []
        self.log: list[str] = []
        self.blocked = False

    def is_blocked(self, event: TransitionEvent[OrderState]) -> bool:
        return self.blocked

    async def charge(self, event: TransitionEvent[OrderState]) -> None:
        await asyncio.sleep(0)
        self.log.append(f"charge:{event.params.get('amount')}")

    @on_exit(OrderState.NEW)
    async def leave_new(self, event: TransitionEvent[OrderState]) -> None:
        await asyncio.sleep(0)
        self.log.append(f"exit:{event.source.name}")

    @on_enter(OrderState.PAID, OrderState.SHIPPED)
    def entered(self, event: TransitionEvent[OrderState]) -> None:
        self.log.append(f"enter:{event.target.name}")


class TestTransitions:
    async def test_happy_path_and_hook_order(self) -> None:
        """Guards, exit hooks, actions, the state change and enter hooks run in order."""
        clock = ManualClock()
        order = Order(clock=clock)
        order.items.append("book")
        assert OrderState.PAID == await order.pay(amount=10)
        assert ["exit:NEW", "charge:10", "enter:PAID"] == order.log
        assert OrderState.SHIPPED == await order.send("ship")
        assert OrderState.DELIVERED == await order.deliver()
        assert order.is_final
        assert [
            ("pay", OrderState.NEW, OrderState.PAID),
            ("ship", OrderState.PAID, OrderState.SHIPPED),
            ("deliver", OrderState.SHIPPED, OrderState.DELIVERED),
        ] == [(h.event, h.source, h.target) for h in order.history]
        assert clock.time() == order.history[0].at

    async def test_not_allowed_and_guards(self) -> None:
        """Unknown events, wrong states, final states and guards raise clear errors."""
        order = Order()
        with pytest.raises(GuardRejectedError, match="guards rejected 'pay'"):
            await order.pay()
        assert await order.pay.can() is False
        with pytest.raises(TransitionNotAllowedError) as info:
            await order.ship()
        assert ["pay", "cancel", "touch"] == info.value.context["allowed"]
        with pytest.raises(TransitionNotAllowedError, match="no event 'fly'"):
            await order.send("fly")
        order.items.append("x")
        await order.pay()
        order.blocked = True
        with pytest.raises(GuardRejectedError):
            await order.ship()
        await order.cancel()
        with pytest.raises(TransitionNotAllowedError, match="final state"):
            await order.send("touch")
        assert [] == order.allowed_events()
        assert OrderState.CANCELLED == order.state

    async def test_async_guards(self) -> None:
        """Guards may be async; can() evaluates them without running anything."""

        class Gate(enum.Enum):
            SHUT = 1
            UP = 2

        async def badge_ok(machine: Barrier, event: TransitionEvent[Gate]) -> bool:
            await asyncio.sleep(0)
            return event.params.get("badge") == "ok"

        class Barrier(Machine[Gate]):
            initial = Gate.SHUT
            lift = Transition(Gate.SHUT, Gate.UP, guard=badge_ok)

        barrier = Barrier()
        assert await barrier.lift.can(badge="ok") is True
        assert await barrier.lift.can(badge="no") is False
        assert Gate.SHUT == barrier.state
        with pytest.raises(GuardRejectedError):
            await barrier.lift(badge="no")
        assert Gate.UP == await barrier.lift(badge="ok")
        assert "lift" == barrier.lift.event

    async def test_failing_action_keeps_state(self) -> None:
        """If an action raises, the state does not change and no enter hook runs."""

        class Broken(Order):
            async def charge(self, event: TransitionEvent[OrderState]) -> None:
                raise ConnectionError("card service down")

        order = Broken()
        order.items.append("x")
        with pytest.raises(ConnectionError):
            await order.pay()
        assert OrderState.NEW == order.state
        assert ["exit:NEW"] == order.log
        assert [] == order.history

    async def test_internal_and_branches(self) -> None:
        """Branches are tried in order; internal transitions skip hooks."""
        order = Order()
        assert OrderState.NEW == await order.touch()
        assert [] == order.log  # internal: first branch matched (ANY), no hooks
        assert 1 == len(order.history)

    async def test_hooks_never_run_concurrently(self) -> None:
        """Concurrent sends are processed one after another, hooks strictly sequential."""
        active = 0
        overlap = False

        class Light(enum.Enum):
            RED = 1
            GREEN = 2

        class Lamp(Machine[Light]):
            initial = Light.RED
            toggle = Transition(Light.RED, Light.GREEN) | Transition(Light.GREEN, Light.RED)

            @on_enter(Light.RED, Light.GREEN)
            async def slow(self, event: TransitionEvent[Light]) -> None:
                nonlocal active, overlap
                active += 1
                overlap = overlap or active > 1
                for _ in range(3):
                    await asyncio.sleep(0)
                active -= 1

        lamp = Lamp()
        await asyncio.gather(*(lamp.toggle() for _ in range(10)))
        assert not overlap
        assert Light.RED == lamp.state
        assert 10 == len(lamp.history)

    async def test_send_from_hook_is_queued(self) -> None:
        """An event sent from a hook runs right after the current transition."""

        class S(enum.Enum):
            A = 1
            B = 2
            C = 3

        class Chain(Machine[S]):
            initial = S.A
            go = Transition(S.A, S.B)
            more = Transition(S.B, S.C)

            def __init__(self) -> None:
                super().__init__()
                self.log: list[str] = []

            @on_enter(S.B)
            async def chain(self, event: TransitionEvent[S]) -> None:
                assert S.B == await self.more()  # queued: state unchanged yet
                self.log.append("after-send")

            @on_enter(S.C)
            def reached(self, event: TransitionEvent[S]) -> None:
                self.log.append("C")

        machine = Chain()
        assert S.C == await machine.go()
        assert ["after-send", "C"] == machine.log


class TestDefinition:
    def test_bad_definitions(self) -> None:
        """Mistakes in a machine are reported when the class is created."""

        class Other(enum.Enum):
            X = 1

        with pytest.raises(ConfigurationError, match="initial"):

            class NoInitial(Machine[OrderState]):
                pass

        with pytest.raises(ConfigurationError, match="not a OrderState"):

            class Mixed(Machine[OrderState]):
                initial = OrderState.NEW
                bad = Transition(OrderState.NEW, Other.X)  # type: ignore[arg-type]

        with pytest.raises(ConfigurationError, match="not a method"):

            class Missing(Machine[OrderState]):
                initial = OrderState.NEW
                go = Transition(OrderState.NEW, OrderState.PAID, guard="nope")

        with pytest.raises(InvalidArgumentError):
            on_enter()

    def test_introspection(self) -> None:
        """States, events and unreachable states are available on the class."""
        assert list(OrderState) == Order.states()
        assert ["pay", "ship", "deliver", "cancel", "touch"] == Order.events()
        assert [] == Order.unreachable_states()

        class S(enum.Enum):
            A = 1
            B = 2
            ORPHAN = 3

        class Small(Machine[S]):
            initial = S.A
            go = Transition(S.A, S.B)

        assert [S.ORPHAN] == Small.unreachable_states()

    def test_mermaid(self) -> None:
        """to_mermaid draws every transition with its guards, and the final states."""
        text = Order.to_mermaid()
        assert text.startswith("stateDiagram-v2\n    [*] --> NEW\n")
        assert "    NEW --> PAID : pay [has_items]\n" in text
        assert "    PAID --> SHIPPED : ship [not is_blocked]\n" in text
        assert "    PAID --> CANCELLED : cancel\n" in text
        assert "    DELIVERED --> [*]\n" in text
        assert "DELIVERED --> NEW" not in text  # ANY skips final states


class TestSnapshots:
    async def test_snapshot_restore_without_hooks(self) -> None:
        """restore() brings back state and history and runs no hook."""
        order = Order()
        order.items.append("x")
        await order.pay(amount=5)
        snap = order.snapshot()
        data = snap.to_dict()
        assert "PAID" == data["state"]
        fresh = Order()
        fresh.restore(MachineSnapshot.from_dict(data))
        assert OrderState.PAID == fresh.state
        assert [] == fresh.log
        assert order.history == fresh.history
        await fresh.ship()
        assert ["enter:SHIPPED"] == fresh.log
        with pytest.raises(InvalidArgumentError, match="unknown state"):
            fresh.restore({"machine": "Order", "state": "LOST", "history": []})
        with pytest.raises(InvalidArgumentError, match="not a machine snapshot"):
            fresh.restore({"state": "NEW"})

    async def test_attach_persists_through_state_manager(self) -> None:
        """A machine attached to a persisted slice survives a restart without hooks."""
        store = MemoryStateStore()
        async with StateManager(store) as state:
            order = Order()
            await order.attach(state, "order")
            order.items.append("x")
            await order.pay()
            assert "PAID" == state.get("order")["state"]
        async with StateManager(store) as state:
            again = Order()
            await again.attach(state, "order")
            assert OrderState.PAID == again.state
            assert [] == again.log
            await again.ship()
            assert "SHIPPED" == state.select("order.state")
