"""Declarative, typed state machines over an ``Enum``."""

from __future__ import annotations

import asyncio
import enum
import inspect
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, TypeVar, Union, overload

import attrs

from pepperpy.core.exceptions import ConfigurationError, InvalidArgumentError, safe_repr
from pepperpy.core.types import Clock, system_clock
from pepperpy.state._errors import GuardRejectedError, TransitionNotAllowedError

if TYPE_CHECKING:
    from pepperpy.state._manager import StateManager

__all__ = [
    "ANY",
    "HistoryEntry",
    "Machine",
    "MachineSnapshot",
    "Transition",
    "TransitionEvent",
    "Trigger",
    "on_enter",
    "on_exit",
]

S = TypeVar("S", bound=enum.Enum)
M = TypeVar("M", bound="Machine[Any]")


def _add_note(error: BaseException, text: str) -> None:
    """``error.add_note(text)``; on Python 3.10, the same ``__notes__`` list by hand."""
    add_note = getattr(error, "add_note", None)
    if add_note is not None:
        add_note(text)
    else:  # pragma: no cover - Python 3.10 (its CI session runs it)
        error.__notes__ = [*getattr(error, "__notes__", []), text]  # type: ignore[attr-defined]


class _AnyState:
    """The source of a transition allowed from every (non-final) state."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ANY"


ANY: Final = _AnyState()
"""Use as a transition source to allow it from every non-final state."""


@attrs.frozen
class TransitionEvent(Generic[S]):
    """What guards, actions and hooks receive about the transition under way.

    Attributes:
        event: The event's name (the transition attribute's name).
        source: The state being left.
        target: The state being entered.
        params: The keyword arguments given to ``send`` / the trigger.
    """

    event: str
    source: S
    target: S
    params: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class HistoryEntry(Generic[S]):
    """One completed transition."""

    event: str
    source: S
    target: S
    at: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (states by name)."""
        return {
            "event": self.event,
            "source": self.source.name,
            "target": self.target.name,
            "at": self.at,
        }


@attrs.frozen
class MachineSnapshot:
    """A machine's state and history, JSON-safe, restorable without running hooks."""

    machine: str
    state: str
    history: tuple[Mapping[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {"machine": self.machine, "state": self.state, "history": list(self.history)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MachineSnapshot:
        """Build from :meth:`to_dict` output.

        Raises:
            InvalidArgumentError: A required field is missing.
        """
        try:
            return cls(str(data["machine"]), str(data["state"]), tuple(data.get("history", ())))
        except (KeyError, TypeError) as exc:
            raise InvalidArgumentError(
                f"not a machine snapshot: {safe_repr(data)}",
                code="pepperpy.state.invalid_snapshot",
                hint="Pass what Machine.snapshot().to_dict() returned.",
            ) from exc


Guard = Union[str, Callable[[Any, TransitionEvent[Any]], Union[bool, Awaitable[bool]]]]
"""A guard: a method name, or ``fn(machine, event) -> bool`` (sync or async)."""

Action = Union[str, Callable[[Any, TransitionEvent[Any]], Awaitable[None] | None]]
"""An action: a method name, or ``fn(machine, event)`` (sync or async)."""


def _as_tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, bytes)) or callable(value):
        return (value,)
    try:
        return tuple(value)
    except TypeError:  # one non-callable: the class definition check refuses it
        return (value,)


class _Branch:
    __slots__ = ("actions", "guards", "internal", "sources", "target", "unless")

    def __init__(
        self,
        sources: tuple[Any, ...] | _AnyState,
        target: Any,
        guards: tuple[Guard, ...],
        unless: tuple[Guard, ...],
        actions: tuple[Action, ...],
        internal: bool,
    ) -> None:
        self.sources = sources
        self.target = target
        self.guards = guards
        self.unless = unless
        self.actions = actions
        self.internal = internal

    def matches(self, state: Any) -> bool:
        return self.sources is ANY or state in self.sources  # type: ignore[operator]


class Transition(Generic[S]):
    """Declares an event on a :class:`Machine` subclass; the attribute name is the event.

    ::

        class Door(Machine[DoorState]):
            initial = DoorState.CLOSED
            open = Transition(DoorState.CLOSED, DoorState.OPEN, guard="is_unlocked")
            close = Transition(DoorState.OPEN, DoorState.CLOSED)
            reset = Transition(DoorState.OPEN, DoorState.CLOSED) | Transition(ANY, DoorState.LOCKED)

    On an instance the attribute is a :class:`Trigger`: ``await door.open()``.

    Args:
        source: A state, several states, or :data:`ANY`.
        target: The state to enter.
        guard: Guards that must all pass (method names or ``fn(machine, event)``).
        unless: Guards that must all fail.
        action: Run in order after the exit hooks and before the state changes.
        internal: A self-transition that skips the exit and enter hooks.

    Branches combined with ``|`` are tried in order; the first whose source
    matches and whose guards pass is taken.
    """

    def __init__(
        self,
        source: S | Iterable[S] | _AnyState,
        target: S,
        *,
        guard: Guard | Sequence[Guard] = (),
        unless: Guard | Sequence[Guard] = (),
        action: Action | Sequence[Action] = (),
        internal: bool = False,
    ) -> None:
        if source is ANY:
            sources: tuple[Any, ...] | _AnyState = ANY
        elif isinstance(source, enum.Enum):
            sources = (source,)
        else:
            sources = tuple(source)  # type: ignore[arg-type]
        self.name = ""
        self._branches = [
            _Branch(
                sources, target, _as_tuple(guard), _as_tuple(unless), _as_tuple(action), internal
            )
        ]

    def __or__(self, other: Transition[S]) -> Transition[S]:
        combined: Transition[S] = Transition.__new__(Transition)
        combined.name = ""
        combined._branches = [*self._branches, *other._branches]
        return combined

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> Transition[S]: ...

    @overload
    def __get__(self, instance: Machine[S], owner: type | None = None) -> Trigger[S]: ...

    def __get__(self, instance: Machine[S] | None, owner: type | None = None) -> Any:
        if instance is None:
            return self
        return Trigger(instance, self.name)

    def __repr__(self) -> str:
        return f"Transition({self.name!r}, branches={len(self._branches)})"


class Trigger(Generic[S]):
    """An event bound to a machine instance: ``await machine.open(**params)``."""

    __slots__ = ("_event", "_machine")

    def __init__(self, machine: Machine[S], event: str) -> None:
        self._machine = machine
        self._event = event

    @property
    def event(self) -> str:
        """The event's name."""
        return self._event

    def __call__(self, **params: Any) -> Coroutine[Any, Any, S]:
        return self._machine.send(self._event, **params)

    async def can(self, **params: Any) -> bool:
        """Whether the event would be accepted now (guards evaluated, nothing run)."""
        return await self._machine.can(self._event, **params)

    def __repr__(self) -> str:
        return f"<trigger {self._event!r} of {self._machine!r}>"


def _hook(kind: str, states: tuple[enum.Enum, ...]) -> Callable[[Callable[..., Any]], Any]:
    if not states:
        raise InvalidArgumentError(
            f"on_{kind}() needs at least one state", code="pepperpy.state.invalid_hook"
        )

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        marks = list(getattr(fn, "__pepperpy_state_hooks__", ()))
        marks.extend((kind, state) for state in states)
        fn.__pepperpy_state_hooks__ = marks  # type: ignore[attr-defined]
        return fn

    return mark


def on_enter(*states: enum.Enum) -> Callable[[Callable[..., Any]], Any]:
    """Mark a method ``(self, event)`` (sync or async) to run after entering *states*."""
    return _hook("enter", states)


def on_exit(*states: enum.Enum) -> Callable[[Callable[..., Any]], Any]:
    """Mark a method ``(self, event)`` (sync or async) to run before leaving *states*."""
    return _hook("exit", states)


def _label(fn: Any) -> str:
    return fn if isinstance(fn, str) else str(getattr(fn, "__name__", "guard"))


async def _call(fn: Any, machine: Machine[Any], event: TransitionEvent[Any]) -> Any:
    result = getattr(machine, fn)(event) if isinstance(fn, str) else fn(machine, event)
    if inspect.isawaitable(result):
        result = await result
    return result


class Machine(Generic[S]):
    """Base class of declarative state machines.

    Subclass it with an ``Enum`` of states, set ``initial`` (and optionally
    ``final``), and declare :class:`Transition` attributes and
    :func:`on_enter`/:func:`on_exit` hooks::

        class Order(Machine[OrderState]):
            initial = OrderState.NEW
            final = {OrderState.DELIVERED, OrderState.CANCELLED}

            pay = Transition(OrderState.NEW, OrderState.PAID, guard="has_items")
            ship = Transition(OrderState.PAID, OrderState.SHIPPED, action="reserve_truck")
            cancel = Transition([OrderState.NEW, OrderState.PAID], OrderState.CANCELLED)

            @on_enter(OrderState.SHIPPED)
            async def notify(self, event: TransitionEvent[OrderState]) -> None: ...

    Events are processed one at a time, each in full: guards, exit hooks,
    actions, the state change, enter hooks, listeners, all awaited in order in
    one task, never concurrently. An event sent from inside a hook or action of
    the same machine is queued and processed right after the current one.
    If an exit hook or an action raises, the state does not change; if an
    enter hook raises, the new state stands and the error propagates.

    The definition is checked when the class is created (states of one
    ``Enum``, known method names), raising :class:`ConfigurationError`.
    """

    initial: ClassVar[Any]
    final: ClassVar[Iterable[Any]] = frozenset()
    history_limit: ClassVar[int] = 1000

    _states: ClassVar[type[enum.Enum]]
    _events: ClassVar[dict[str, list[_Branch]]]
    _enter: ClassVar[dict[Any, list[Callable[..., Any]]]]
    _exit: ClassVar[dict[Any, list[Callable[..., Any]]]]
    _final: ClassVar[frozenset[Any]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        initial = cls.__dict__.get("initial", getattr(cls, "initial", None))
        if not isinstance(initial, enum.Enum):
            raise ConfigurationError(
                f"{cls.__name__}.initial must be a member of the states Enum, got "
                f"{safe_repr(initial)}",
                code="pepperpy.state.invalid_machine",
                hint="Set initial = MyStates.SOMETHING in the class body.",
            )
        states = type(initial)
        cls._states = states
        events, enter, exit_ = _collect_definition(cls)
        _check_definition(cls, states, events, (*enter, *exit_))
        final = frozenset(cls.final)
        for state in final:
            _check_state(cls, states, state, "final")
        cls._events = events
        cls._enter = enter
        cls._exit = exit_
        cls._final = final

    def __init__(self, *, state: S | None = None, clock: Clock = system_clock) -> None:
        if not hasattr(type(self), "_events"):
            raise ConfigurationError(
                "Machine must be subclassed with initial states and transitions",
                code="pepperpy.state.invalid_machine",
            )
        if state is not None and not isinstance(state, self._states):
            raise InvalidArgumentError(
                f"{safe_repr(state)} is not a {self._states.__name__}",
                code="pepperpy.state.invalid_state",
            )
        self._state: S = state if state is not None else self.initial
        self._clock = clock
        self._history: deque[HistoryEntry[S]] = deque(maxlen=self.history_limit)
        self._lock: asyncio.Lock | None = None
        self._owner: asyncio.Task[Any] | None = None
        self._pending: deque[tuple[str, dict[str, Any]]] = deque()
        self._listeners: list[Callable[[TransitionEvent[S]], Any]] = []

    # ------------------------------------------------------------------ introspection

    @property
    def state(self) -> S:
        """The current state."""
        return self._state

    @property
    def history(self) -> list[HistoryEntry[S]]:
        """Completed transitions, oldest first (at most ``history_limit``)."""
        return list(self._history)

    @property
    def is_final(self) -> bool:
        """Whether the machine is in a final state."""
        return self._state in self._final

    @classmethod
    def states(cls) -> list[Any]:
        """Every state of the machine's Enum."""
        return list(cls._states)

    @classmethod
    def events(cls) -> list[str]:
        """Every declared event name."""
        return list(cls._events)

    def allowed_events(self) -> list[str]:
        """Events with a transition from the current state (guards not evaluated)."""
        if self.is_final:
            return []
        return [
            e
            for e, branches in self._events.items()
            if any(b.matches(self._state) for b in branches)
        ]

    @classmethod
    def unreachable_states(cls) -> list[Any]:
        """States no sequence of transitions can reach from ``initial``."""
        seen = {cls.initial}
        frontier = [cls.initial]
        while frontier:
            state = frontier.pop()
            if state in cls._final:
                continue
            for branches in cls._events.values():
                for b in branches:
                    if b.matches(state) and b.target not in seen:
                        seen.add(b.target)
                        frontier.append(b.target)
        return [s for s in cls._states if s not in seen]

    # ------------------------------------------------------------------ running

    async def can(self, event: str, **params: Any) -> bool:
        """Whether *event* would be accepted now (guards are evaluated, nothing runs)."""
        try:
            await self._choose(event, params)
        except TransitionNotAllowedError:
            return False
        return True

    async def send(self, event: str, **params: Any) -> S:
        """Process *event* and return the state afterwards.

        Raises:
            TransitionNotAllowedError: Unknown event, final state, or no
                transition from the current state.
            GuardRejectedError: Transitions exist but their guards rejected it.
        """
        task = asyncio.current_task()
        if self._owner is not None and self._owner is task:
            self._pending.append((event, params))  # from a hook: run after the current one
            return self._state
        lock = self._lock
        if lock is None:
            lock = self._lock = asyncio.Lock()
        async with lock:
            self._owner = task
            try:
                await self._process(event, params)
                while self._pending:
                    queued, queued_params = self._pending.popleft()
                    await self._process(queued, queued_params)
            finally:
                self._owner = None
                self._pending.clear()
        return self._state

    async def _choose(
        self, event: str, params: dict[str, Any]
    ) -> tuple[_Branch, TransitionEvent[S]]:
        branches = self._events.get(event)
        state = self._state
        if branches is None:
            raise TransitionNotAllowedError(
                f"{type(self).__name__} has no event {event!r}",
                code="pepperpy.state.unknown_event",
                context={"event": event, "events": self.events()},
                hint="Send one of the declared events.",
            )
        if state in self._final:
            raise TransitionNotAllowedError(
                f"{type(self).__name__} is in final state {state.name}; {event!r} is not allowed",
                context={"event": event, "state": state.name},
            )
        candidates = [b for b in branches if b.matches(state)]
        if not candidates:
            raise TransitionNotAllowedError(
                f"{type(self).__name__}: event {event!r} is not allowed in state {state.name}",
                context={"event": event, "state": state.name, "allowed": self.allowed_events()},
                hint="Send one of the allowed events, or add a transition.",
            )
        for branch in candidates:
            ev: TransitionEvent[S] = TransitionEvent(event, state, branch.target, params)
            if all([await _call(g, self, ev) for g in branch.guards]) and not any(
                [await _call(g, self, ev) for g in branch.unless]
            ):
                return branch, ev
        raise GuardRejectedError(
            f"{type(self).__name__}: guards rejected {event!r} in state {state.name}",
            context={"event": event, "state": state.name},
            hint="The transition exists but its guard conditions are not met.",
        )

    async def _process(self, event: str, params: dict[str, Any]) -> None:
        branch, ev = await self._choose(event, params)
        if not branch.internal:
            for hook in self._exit.get(ev.source, ()):
                await _call(hook, self, ev)
        for action in branch.actions:
            await _call(action, self, ev)
        self._state = ev.target
        self._history.append(HistoryEntry(event, ev.source, ev.target, self._clock.time()))
        if not branch.internal:
            for hook in self._enter.get(ev.target, ()):
                await _call(hook, self, ev)
        await self._notify(ev)

    async def _notify(self, ev: TransitionEvent[S]) -> None:
        """Run every listener, in order.

        An ``Exception`` from one does not skip the others (the one ``attach()`` adds
        persists the machine); the first is re-raised once all have run, with the later
        ones as its notes. Other BaseExceptions (cancellation) propagate at once.
        """
        first: Exception | None = None
        for listener in list(self._listeners):
            try:
                result = listener(ev)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                if first is None:
                    first = exc
                else:
                    _add_note(
                        first, f"listener {safe_repr(listener)} also failed: {safe_repr(exc)}"
                    )
        if first is not None:
            raise first

    def add_listener(self, listener: Callable[[TransitionEvent[S]], Any]) -> Callable[[], None]:
        """Call ``listener(event)`` (sync or async) after every transition; return a remover.

        Listeners run in the order they were added. One that raises does not stop the
        others; ``send()`` re-raises the first error after all of them have run (the new
        state stands, as after a failing enter hook).
        """
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    # ------------------------------------------------------------------ snapshots

    def snapshot(self) -> MachineSnapshot:
        """The current state and history, JSON-safe."""
        return MachineSnapshot(
            type(self).__qualname__, self._state.name, tuple(h.to_dict() for h in self._history)
        )

    def restore(self, snapshot: MachineSnapshot | Mapping[str, Any]) -> None:
        """Put the machine in *snapshot*'s state and history without running any hook.

        Raises:
            InvalidArgumentError: The snapshot names a state this machine does not have.
        """
        if not isinstance(snapshot, MachineSnapshot):
            snapshot = MachineSnapshot.from_dict(snapshot)
        states = self._states
        try:
            state = states[snapshot.state]
            history = [
                HistoryEntry(
                    str(h["event"]), states[h["source"]], states[h["target"]], float(h["at"])
                )
                for h in snapshot.history
            ]
        except KeyError as exc:
            raise InvalidArgumentError(
                f"snapshot does not fit {type(self).__name__}: unknown state {exc}",
                code="pepperpy.state.invalid_snapshot",
                context={"machine": type(self).__name__, "snapshot": snapshot.machine},
                hint=f"States of this machine: {', '.join(s.name for s in states)}.",
            ) from None
        self._state = state  # type: ignore[assignment]
        self._history = deque(history, maxlen=self.history_limit)  # type: ignore[arg-type]

    async def attach(self, state: StateManager, slice_name: str) -> None:
        """Keep this machine's snapshot in *state*'s slice *slice_name*.

        If the slice exists, the machine is restored from it (no hooks run);
        after every transition the snapshot is written back, so a persisted
        :class:`~pepperpy.state.StateManager` brings the machine back after a restart.
        """
        existing = state.get(slice_name, None)
        if existing is not None:
            self.restore(existing)
        else:
            await state.set(slice_name, self.snapshot().to_dict(), origin="machine")

        async def save(ev: TransitionEvent[S]) -> None:
            await state.set(slice_name, self.snapshot().to_dict(), origin=f"machine:{ev.event}")

        self.add_listener(save)

    # ------------------------------------------------------------------ docs

    @classmethod
    def to_mermaid(cls) -> str:
        """The machine as a Mermaid ``stateDiagram-v2`` (for docs)."""
        lines = ["stateDiagram-v2", f"    [*] --> {cls.initial.name}"]
        for event, branches in cls._events.items():
            for b in branches:
                sources = list(cls._states) if b.sources is ANY else list(b.sources)  # type: ignore[arg-type]
                label = event
                conds = [_label(g) for g in b.guards] + [f"not {_label(g)}" for g in b.unless]
                if conds:
                    label += f" [{' and '.join(conds)}]"
                for src in sources:
                    if b.sources is ANY and src in cls._final:
                        continue
                    edge = f"    {src.name} --> {b.target.name} : {label}"
                    if edge not in lines:  # branches may repeat an edge
                        lines.append(edge)
        lines.extend(f"    {state.name} --> [*]" for state in cls._states if state in cls._final)
        return "\n".join(lines) + "\n"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} state={self._state.name}>"


_Hooks = dict[Any, list[Callable[..., Any]]]


def _collect_definition(cls: type) -> tuple[dict[str, list[_Branch]], _Hooks, _Hooks]:
    """A machine class's transitions by event, and its enter and exit hooks by state."""
    events: dict[str, list[_Branch]] = {}
    enter: _Hooks = {}
    exit_: _Hooks = {}
    for klass in reversed(cls.__mro__):
        for attr, value in vars(klass).items():
            if isinstance(value, Transition):
                events[attr] = list(value._branches)
            for kind, state in getattr(value, "__pepperpy_state_hooks__", ()):
                (enter if kind == "enter" else exit_).setdefault(state, []).append(value)
    return events, enter, exit_


def _check_definition(
    cls: type,
    states: type[enum.Enum],
    events: dict[str, list[_Branch]],
    hooked: tuple[Any, ...],
) -> None:
    """Refuse a machine whose states are not all of *states* or whose methods are missing."""
    for event, branches in events.items():
        for branch in branches:
            if branch.sources is not ANY:
                for src in branch.sources:  # type: ignore[union-attr]
                    _check_state(cls, states, src, f"transition {event!r} source")
            _check_state(cls, states, branch.target, f"transition {event!r} target")
            for fn in (*branch.guards, *branch.unless, *branch.actions):
                _check_callable(cls, fn, f"transition {event!r}")
    for state in hooked:
        _check_state(cls, states, state, "a hook")


def _check_state(cls: type, states: type[enum.Enum], state: Any, where: str) -> None:
    if not isinstance(state, states):
        raise ConfigurationError(
            f"{cls.__name__}: {where} uses {safe_repr(state)}, which is not a {states.__name__}",
            code="pepperpy.state.invalid_machine",
            context={"machine": cls.__name__, "where": where},
            hint=f"Every state must be a member of {states.__name__}.",
        )


def _check_callable(cls: type, fn: Any, where: str) -> None:
    if isinstance(fn, str):
        if not callable(getattr(cls, fn, None)):
            raise ConfigurationError(
                f"{cls.__name__}: {where} names {fn!r}, which is not a method",
                code="pepperpy.state.invalid_machine",
                context={"machine": cls.__name__, "where": where},
                hint="Define the method on the machine, or pass a callable.",
            )
    elif not callable(fn):
        raise ConfigurationError(
            f"{cls.__name__}: {where} is not callable: {safe_repr(fn)}",
            code="pepperpy.state.invalid_machine",
        )
