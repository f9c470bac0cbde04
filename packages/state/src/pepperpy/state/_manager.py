"""The :class:`StateManager`: named, typed, observable, persistent state slices."""

from __future__ import annotations

import asyncio
import functools
import logging
import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Generic, NamedTuple, TypeVar, cast, overload

import attrs

from pepperpy.core.exceptions import (
    InvalidArgumentError,
    PepperPyError,
    safe_repr,
)
from pepperpy.core.types import MISSING, Clock, Lifecycle, LifecycleState, system_clock
from pepperpy.state._codec import decode, encode
from pepperpy.state._errors import (
    ConcurrentWriterError,
    SliceNotFoundError,
    StatePersistenceError,
    VersionConflictError,
)
from pepperpy.state._lock import TaskLock
from pepperpy.state._path import parse_path, resolve
from pepperpy.state._store import (
    ChangeRecord,
    SliceRecord,
    StateSnapshot,
    StateStore,
    StorageStateStore,
)

__all__ = [
    "Change",
    "ObserverError",
    "Slice",
    "StateManager",
    "Subscription",
    "Transaction",
    "Watch",
]

T = TypeVar("T")
D = TypeVar("D")

_log = logging.getLogger("pepperpy.state")
_RUNNING = LifecycleState.RUNNING

Observer = Callable[["Change"], Awaitable[None] | None]
"""A change observer: a sync or async callable taking a :class:`Change`."""


class Change(NamedTuple):
    """One committed change, as an observer sees it (an immutable named tuple).

    Attributes:
        slice: The slice that changed.
        path: What the observer subscribed to (the slice name or a dotted path).
        old: The value before (at *path*; ``None`` if it did not exist).
        new: The value after (at *path*; ``None`` if it no longer exists).
        version: The slice's version after the change.
        origin: Who made the change (the ``origin=`` given to the write), or ``None``.
    """

    slice: str
    path: str
    old: Any
    new: Any
    version: int
    origin: str | None


# Change(...) runs NamedTuple's Python-level __new__; this builds the same tuple in C.
_new_change: Callable[[tuple[Any, ...]], Change] = functools.partial(tuple.__new__, Change)


@attrs.frozen
class ObserverError:
    """A failure of one observer, passed to ``on_observer_error``.

    Attributes:
        observer: The observer's qualified name.
        change: The change it was handling.
        error: The exception it raised.
    """

    observer: str
    change: Change
    error: BaseException


class _Observer:
    __slots__ = ("active", "fn", "name", "path", "segments", "seq", "slice")

    def __init__(
        self, seq: int, slice_: str | None, segments: tuple[str, ...], path: str, fn: Observer
    ) -> None:
        self.seq = seq
        self.slice = slice_
        self.segments = segments
        self.path = path
        self.fn = fn
        self.name = getattr(fn, "__qualname__", None) or repr(fn)
        self.active = True


class _ObserverIndex(dict[str, tuple[_Observer, ...]]):
    """The observers of each slice, in subscription order, computed on first use.

    ``index[name]`` answers in C once computed; cleared when observers change.
    """

    def __init__(self, observers: list[_Observer]) -> None:
        super().__init__()
        self._observers = observers

    def __missing__(self, name: str) -> tuple[_Observer, ...]:
        found = self[name] = tuple(o for o in self._observers if o.slice is None or o.slice == name)
        return found


class Subscription:
    """The handle returned by :meth:`StateManager.subscribe`.

    Call :meth:`unsubscribe` (or use it as a context manager) to stop
    receiving changes; unsubscribing twice is harmless.
    """

    __slots__ = ("_manager", "_observer")

    def __init__(self, manager: StateManager, observer: _Observer) -> None:
        self._manager = manager
        self._observer = observer

    @property
    def active(self) -> bool:
        """Whether the observer still receives changes."""
        return self._observer.active

    @property
    def path(self) -> str:
        """What the observer watches (``"*"`` for every slice)."""
        return self._observer.path

    def unsubscribe(self) -> None:
        """Stop delivering changes to the observer."""
        self._manager._unsubscribe(self._observer)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.unsubscribe()

    def __repr__(self) -> str:
        return f"Subscription({self.path!r}, {self._observer.name}, active={self.active})"


_CLOSED: Any = object()


class Watch:
    """An async iterator over committed changes; see :meth:`StateManager.watch`."""

    def __init__(self, manager: StateManager, target: str | None) -> None:
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._closed = False
        self._sub = manager.subscribe(target, self._queue.put_nowait)

    def __aiter__(self) -> Watch:
        return self

    async def __anext__(self) -> Change:
        if self._closed:
            raise StopAsyncIteration
        item = await self._queue.get()
        if item is _CLOSED:
            raise StopAsyncIteration
        return cast(Change, item)

    def close(self) -> None:
        """Stop watching; a pending or later iteration ends."""
        if not self._closed:
            self._closed = True
            self._sub.unsubscribe()
            self._queue.put_nowait(_CLOSED)

    async def __aenter__(self) -> Watch:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        sub = getattr(self, "_sub", None)
        if sub is not None:
            sub.unsubscribe()


class _SliceState:
    __slots__ = ("cls", "lock", "name", "type", "value", "version")

    def __init__(self, name: str, type_: Any, value: Any, version: int) -> None:
        self.name = name
        self.value = value
        self.version = version
        self.lock = TaskLock()
        self.set_type(type_)

    def set_type(self, type_: Any) -> None:
        self.type = type_
        self.cls = _runtime_class(type_)


# Values of these types are never awaitable: one set lookup answers for them (a
# failed hasattr on the type costs several times that).
_PLAIN_TYPES: frozenset[type] = frozenset(
    {int, float, str, bytes, bool, dict, list, tuple, type(None)}
)


def _is_awaitable(value: Any) -> bool:
    """A cheap ``inspect.isawaitable`` for the hot path (coroutines, futures, tasks)."""
    cls = type(value)
    return cls not in _PLAIN_TYPES and hasattr(cls, "__await__")


def _runtime_class(type_: Any) -> type | None:
    """The class to isinstance-check values against, if *type_* is a plain class."""
    if isinstance(type_, type) and type_ is not object:
        return type_
    return None


class Slice(Generic[T]):
    """A typed handle on one slice, returned by :meth:`StateManager.register`.

    Every method forwards to the manager with the slice's name, so mypy sees
    ``T`` instead of ``Any``.
    """

    __slots__ = ("_manager", "_name")

    def __init__(self, manager: StateManager, name: str) -> None:
        self._manager = manager
        self._name = name

    @property
    def name(self) -> str:
        """The slice's name."""
        return self._name

    @property
    def version(self) -> int:
        """The slice's version (0 before the first write)."""
        return self._manager.version(self._name)

    def get(self) -> T:
        """The current value."""
        return cast(T, self._manager.get(self._name))

    def select(self, path: str, default: Any = MISSING) -> Any:
        """The value at *path* inside the slice (``"address.city"``)."""
        return self._manager.select(f"{self._name}.{path}", default)

    async def set(
        self, value: T, *, origin: str | None = None, expected_version: int | None = None
    ) -> int:
        """Replace the value; see :meth:`StateManager.set`."""
        return await self._manager.set(
            self._name, value, origin=origin, expected_version=expected_version
        )

    async def update(self, fn: Callable[[T], T | Awaitable[T]], *, origin: str | None = None) -> T:
        """Atomically replace the value with ``fn(value)``; see :meth:`StateManager.update`."""
        return cast(T, await self._manager.update(self._name, fn, origin=origin))

    async def compare_and_set(
        self, value: T, expected_version: int, *, origin: str | None = None
    ) -> bool:
        """Set only if the version is still *expected_version*; return whether it was set."""
        return await self._manager.compare_and_set(
            self._name, value, expected_version, origin=origin
        )

    def subscribe(self, observer: Observer, *, path: str | None = None) -> Subscription:
        """Observe this slice (or a *path* inside it)."""
        target = self._name if path is None else f"{self._name}.{path}"
        return self._manager.subscribe(target, observer)

    def lock(self) -> TaskLock:
        """The slice's lock (task-reentrant)."""
        return self._manager.lock(self._name)

    def __repr__(self) -> str:
        return f"Slice({self._name!r}, version={self.version})"


class Transaction:
    """A group of reads and writes over several slices, committed all or nothing.

    Use it through :meth:`StateManager.transaction`. Reads see the
    transaction's own writes. At commit, the slices are locked in name order,
    every slice the transaction read or wrote must still have the version it
    first saw (else :class:`VersionConflictError`, nothing changed), and all
    writes are persisted as ONE record and applied together.
    """

    def __init__(self, manager: StateManager, origin: str | None) -> None:
        self._manager = manager
        self._origin = origin
        self._seen: dict[str, int] = {}
        self._writes: dict[str, Any] = {}
        self._deletes: set[str] = set()
        self._done = False

    def _observe(self, name: str) -> _SliceState | None:
        sl = self._manager._slices.get(name)
        if name not in self._seen:
            self._seen[name] = sl.version if sl is not None else 0
        return sl

    def get(self, name: str, default: Any = MISSING) -> Any:
        """The value of *name* as this transaction sees it."""
        self._check_open()
        if name in self._writes:
            return self._writes[name]
        sl = self._observe(name)
        if name in self._deletes or sl is None or sl.value is MISSING:
            if default is MISSING:
                raise self._manager._not_found(name)
            return default
        return sl.value

    def set(self, name: str, value: Any) -> None:
        """Stage a new value for *name*."""
        self._check_open()
        sl = self._observe(name)
        self._manager._check_value(name, sl.type if sl is not None else None, value)
        self._writes[name] = value
        self._deletes.discard(name)

    async def update(self, name: str, fn: Callable[[Any], Any]) -> Any:
        """Stage ``fn(current)`` (sync or async) for *name* and return it."""
        value = fn(self.get(name))
        if _is_awaitable(value):
            value = await value
        self.set(name, value)
        return value

    def delete(self, name: str) -> None:
        """Stage the removal of *name*."""
        self._check_open()
        self._observe(name)
        self._writes.pop(name, None)
        self._deletes.add(name)

    def _check_open(self) -> None:
        if self._done:
            raise InvalidArgumentError(
                "the transaction is already finished",
                code="pepperpy.state.transaction_closed",
                hint="Start a new 'async with state.transaction()' block.",
            )

    async def __aenter__(self) -> Transaction:
        self._manager._ensure_running()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if self._done:
            return
        self._done = True
        if exc_type is not None:
            return  # discard: nothing was applied
        await self._manager._commit_transaction(self)


class StateManager(Lifecycle):
    """A typed, observable store of named state slices.

    ::

        state = StateManager()                      # or StateManager(store=...)
        user = state.register("user", User, default=User("anon"))
        await state.initialize()
        await user.update(lambda u: attrs.evolve(u, name="ann"))
        state.select("user.name")                   # "ann"
        await state.cleanup()

    Slices hold attrs instances or JSON-like values; treat values as immutable
    (return a new value from ``update``) so observers see distinct old and new.

    **Observers** (``subscribe``) run one after another in subscription order,
    sync or async, and in commit order across changes. A write returns after its
    observers ran, unless a delivery was already in progress (an observer that
    writes state): then the new change is delivered right after the current
    one, never concurrently. An observer that raises is reported to
    *on_observer_error* (default: logged) and never stops the others.

    **Persistence**: with a *store* (a :class:`StateStore`, or a pepperpy-storage
    ``Storage``, wrapped in :class:`StorageStateStore`), every committed change
    is written as one atomic record before it is applied in memory, and
    :meth:`start` restores the last committed state. Every *snapshot_every*
    changes (and on :meth:`stop`) the log is folded into a snapshot.

    Args:
        store: Where to persist state (``None``: memory only).
        snapshot_every: Changes between automatic snapshots.
        on_observer_error: Called with an :class:`ObserverError` when an
            observer raises.
        clock: Timestamps for change records.
        name: For reprs and logs.
    """

    def __init__(
        self,
        store: StateStore | Any | None = None,
        *,
        snapshot_every: int = 1000,
        on_observer_error: Callable[[ObserverError], object] | None = None,
        clock: Clock = system_clock,
        name: str = "state",
    ) -> None:
        if store is not None and not hasattr(store, "append") and hasattr(store, "scan"):
            store = StorageStateStore(cast(Any, store))
        if store is not None and not all(
            callable(getattr(store, m, None)) for m in ("load", "append", "write_snapshot")
        ):
            raise InvalidArgumentError(
                f"store must be a StateStore or a pepperpy-storage Storage, got {safe_repr(store)}",
                code="pepperpy.state.invalid_option",
                hint="Pass MemoryStateStore(), StorageStateStore(storage) or a Storage.",
            )
        if (
            isinstance(snapshot_every, bool)
            or not isinstance(snapshot_every, int)
            or (snapshot_every < 1)
        ):
            raise InvalidArgumentError(
                f"snapshot_every must be an int >= 1, got {safe_repr(snapshot_every)}",
                code="pepperpy.state.invalid_option",
            )
        self._store: StateStore | None = store
        self._snapshot_every = snapshot_every
        self._on_observer_error = on_observer_error
        self._clock = clock
        self.name = name
        self._slices: dict[str, _SliceState] = {}
        self._types: dict[str, Any] = {}
        self._defaults: dict[str, Any] = {}
        self._loaded_raw: dict[str, SliceRecord] = {}
        self._observers: list[_Observer] = []
        self._observer_index = _ObserverIndex(self._observers)
        self._observer_seq = 0
        # (name, old, new, version, origin, observers left to deliver to or None: all)
        self._queue: deque[tuple[Any, ...]] = deque()
        self._dispatching = False
        self._drainers: set[asyncio.Task[None]] = set()
        self._watches: weakref.WeakSet[Watch] = weakref.WeakSet()
        self._seq = 0
        self._since_snapshot = 0
        self._commit_lock: asyncio.Lock | None = None
        self.observer_failures = 0

    # ------------------------------------------------------------------ lifecycle

    async def _on_start(self) -> None:
        if self._store is None:
            return
        try:
            snapshot, records = await self._store.load()
        except PepperPyError:
            raise
        except Exception as exc:
            raise StatePersistenceError(
                f"could not load state {self.name!r}: {exc}",
                context={"state": self.name, "store": safe_repr(self._store)},
                hint="Check that the store is started and readable.",
            ) from exc
        merged: dict[str, SliceRecord] = dict(snapshot.slices) if snapshot is not None else {}
        seq = snapshot.seq if snapshot is not None else 0
        for record in records:
            for name, rec in record.changes.items():
                merged[name] = rec
            seq = max(seq, record.seq)
        self._seq = seq
        self._since_snapshot = len(records)
        for name, rec in merged.items():
            if rec.deleted:
                self._slices.pop(name, None)
                continue
            type_ = self._types.get(name)
            value = decode(rec.value, type_)
            sl = self._slices.get(name)
            if sl is None:
                self._slices[name] = _SliceState(name, type_, value, rec.version)
            else:
                sl.value, sl.version = value, rec.version
            if type_ is None:
                self._loaded_raw[name] = rec

    async def _on_stop(self) -> None:
        if self._drainers:
            await asyncio.gather(*self._drainers, return_exceptions=True)
        # Iterations over watch() end after the changes already delivered to
        # them (else a consumer task would wait forever for the next change).
        for watch in list(self._watches):
            watch.close()
        if self._store is not None and self._since_snapshot:
            await self._locked_snapshot()

    # ------------------------------------------------------------------ slices

    @overload
    def register(self, name: str, type_: type[T], *, default: Any = MISSING) -> Slice[T]: ...

    @overload
    def register(self, name: str, type_: Any = None, *, default: Any = MISSING) -> Slice[Any]: ...

    def register(self, name: str, type_: Any = None, *, default: Any = MISSING) -> Slice[Any]:
        """Declare slice *name* holding values of *type_*, starting at *default*.

        Call it before :meth:`initialize` so persisted values are rebuilt as
        *type_*; registering later converts an already loaded value.

        Raises:
            InvalidArgumentError: Bad name, or *default* is not a *type_*.
        """
        parse_path(name)
        if "." in name:
            raise InvalidArgumentError(
                f"a slice name cannot contain '.', got {name!r}",
                code="pepperpy.state.invalid_name",
                hint="Dots separate path segments; name slices like 'user' or 'cart_items'.",
            )
        if default is not MISSING:
            self._check_value(name, type_, default)
        self._types[name] = type_
        sl = self._slices.get(name)
        if sl is None:
            self._slices[name] = _SliceState(name, type_, default, 0)
        else:
            sl.set_type(type_)
            raw = self._loaded_raw.pop(name, None)
            if raw is not None and raw.version == sl.version:
                sl.value = decode(raw.value, type_)
        return Slice(self, name)

    def slice(self, name: str) -> Slice[Any]:
        """An untyped :class:`Slice` handle for *name*."""
        return Slice(self, name)

    def names(self) -> list[str]:
        """The names of the slices that have a value."""
        return [n for n, sl in self._slices.items() if sl.value is not MISSING]

    def __contains__(self, name: object) -> bool:
        sl = self._slices.get(name) if isinstance(name, str) else None
        return sl is not None and sl.value is not MISSING

    def _not_found(self, name: str) -> SliceNotFoundError:
        return SliceNotFoundError(
            f"no state slice named {name!r}",
            context={"slice": name, "known": sorted(self.names())[:20]},
            hint="Set it first, or register it with a default: state.register(name, type_, "
            "default=...).",
        )

    def _check_value(self, name: str, type_: Any, value: Any) -> None:
        cls = _runtime_class(type_)
        if cls is not None and not isinstance(value, cls):
            raise InvalidArgumentError(
                f"slice {name!r} holds {cls.__name__} values, got {type(value).__name__}",
                code="pepperpy.state.wrong_type",
                context={"slice": name, "expected": cls.__name__, "value": safe_repr(value)},
                hint=f"Pass a {cls.__name__} instance.",
            )

    @overload
    def get(self, name: str) -> Any: ...

    @overload
    def get(self, name: str, default: D) -> Any | D: ...

    def get(self, name: str, default: Any = MISSING) -> Any:
        """The current value of slice *name*.

        Raises:
            SliceNotFoundError: No such slice and no *default*.
        """
        sl = self._slices.get(name)
        if sl is None or sl.value is MISSING:
            if default is MISSING:
                raise self._not_found(name)
            return default
        return sl.value

    def version(self, name: str) -> int:
        """The version of slice *name* (0 if it was never written)."""
        sl = self._slices.get(name)
        return 0 if sl is None else sl.version

    def select(self, path: str, default: Any = MISSING) -> Any:
        """The value at *path*: ``"user"``, ``"user.address.city"``, ``"cart.items.0"``.

        Raises:
            SliceNotFoundError: Nothing at *path* and no *default*.
        """
        name, segments = parse_path(path)
        value = self.get(name, MISSING)
        if value is not MISSING:
            value = resolve(value, segments)
        if value is MISSING:
            if default is MISSING:
                raise SliceNotFoundError(
                    f"nothing at state path {path!r}",
                    code="pepperpy.state.path_not_found",
                    context={"path": path},
                    hint="Check the path, or pass a default: state.select(path, None).",
                )
            return default
        return value

    def snapshot(self) -> dict[str, Any]:
        """A shallow copy of every slice's current value, by name."""
        return {n: sl.value for n, sl in self._slices.items() if sl.value is not MISSING}

    def lock(self, name: str) -> TaskLock:
        """The lock of slice *name* (created on demand).

        Writes take it too, and it is task-reentrant, so a task holding it may
        write the slice; other tasks' writes wait until it is released.
        """
        return self._slice_for_write(name).lock

    def _slice_for_write(self, name: str) -> _SliceState:
        sl = self._slices.get(name)
        if sl is None:
            parse_path(name)
            if "." in name:
                raise InvalidArgumentError(
                    f"a slice name cannot contain '.', got {name!r}",
                    code="pepperpy.state.invalid_name",
                    hint="To change a nested value, update the slice: "
                    "state.update('user', lambda u: ...).",
                )
            sl = self._slices[name] = _SliceState(name, self._types.get(name), MISSING, 0)
        return sl

    # ------------------------------------------------------------------ writes

    async def set(
        self,
        name: str,
        value: Any,
        *,
        origin: str | None = None,
        expected_version: int | None = None,
    ) -> int:
        """Replace the value of slice *name* (creating the slice); return the new version.

        Args:
            name: The slice.
            value: The new value (an instance of the registered type, if any).
            origin: Who is making the change; observers see it.
            expected_version: Compare-and-set: fail unless the slice is at this version.

        Raises:
            VersionConflictError: *expected_version* did not match; nothing changed.
            InvalidArgumentError: *value* has the wrong type or cannot be persisted.
            StatePersistenceError: The store failed; nothing changed.
        """
        if self._lc_state is not _RUNNING:
            self._ensure_running()
        sl = self._slices.get(name) or self._slice_for_write(name)
        if sl.cls is not None and not isinstance(value, sl.cls):
            self._check_value(name, sl.type, value)
        lock = sl.lock
        if not lock.acquire_nowait():
            await lock.acquire()
        try:
            if expected_version is not None and sl.version != expected_version:
                raise self._conflict(name, expected_version, sl.version)
            old = sl.value
            if self._store is None:
                self._seq += 1
                sl.value = value
                sl.version += 1
                self._queue.append((name, old, value, sl.version, origin, None))
            else:
                await self._commit({sl: value}, origin, {sl: (old, value)})
        finally:
            lock.release()
        if not self._dispatching:
            await self._drain()
        return sl.version

    async def compare_and_set(
        self, name: str, value: Any, expected_version: int, *, origin: str | None = None
    ) -> bool:
        """Set *name* only if its version is *expected_version*; return whether it was set."""
        try:
            await self.set(name, value, origin=origin, expected_version=expected_version)
        except VersionConflictError:
            return False
        return True

    async def update(
        self,
        name: str,
        fn: Callable[[Any], Any],
        *,
        origin: str | None = None,
        default: Any = MISSING,
    ) -> Any:
        """Atomically replace slice *name* with ``fn(current)``; return the new value.

        The slice's lock is held while *fn* runs (it may be async), so
        concurrent updates of one slice never lose a write. A missing slice
        starts from *default* (else :class:`SliceNotFoundError`). If *fn*
        raises, nothing changes.
        """
        if self._lc_state is not _RUNNING:
            self._ensure_running()
        sl = self._slices.get(name) or self._slice_for_write(name)
        lock = sl.lock
        if not lock.acquire_nowait():
            await lock.acquire()
        try:
            before = sl.value
            if before is MISSING:
                if default is MISSING:
                    raise self._not_found(name)
                new = fn(default)
            else:
                new = fn(before)
            if _is_awaitable(new):
                new = await new
            if sl.cls is not None and not isinstance(new, sl.cls):
                self._check_value(name, sl.type, new)
            if self._store is None:
                self._seq += 1
                sl.value = new
                sl.version += 1
                self._queue.append((name, before, new, sl.version, origin, None))
            else:
                await self._commit({sl: new}, origin, {sl: (before, new)})
        finally:
            lock.release()
        if not self._dispatching:
            await self._drain()
        return new

    async def delete(self, name: str, *, origin: str | None = None) -> bool:
        """Remove slice *name*; return whether it existed. Observers see ``new=None``."""
        self._ensure_running()
        sl = self._slices.get(name)
        if sl is None or sl.value is MISSING:
            return False
        await sl.lock.acquire()
        try:
            old = sl.value
            await self._commit({sl: MISSING}, origin, {sl: (old, None)})
        finally:
            sl.lock.release()
        if not self._dispatching:
            await self._drain()
        return True

    def transaction(self, *, origin: str | None = None) -> Transaction:
        """Start an all-or-nothing change over several slices.

        ::

            async with state.transaction(origin="checkout") as tx:
                tx.set("cart", [])
                await tx.update("orders", lambda orders: [*orders, order])
        """
        return Transaction(self, origin)

    async def transact(
        self,
        fn: Callable[[Transaction], Any],
        *,
        origin: str | None = None,
        retries: int = 3,
    ) -> Any:
        """Run ``fn(tx)`` (sync or async) in a transaction, retrying on version conflicts.

        Returns what *fn* returned. Raises the last :class:`VersionConflictError`
        when *retries* more attempts also conflict.
        """
        attempt = 0
        while True:
            try:
                async with self.transaction(origin=origin) as tx:
                    result = fn(tx)
                    if _is_awaitable(result):
                        result = await result
                return result
            except VersionConflictError:
                attempt += 1
                if attempt > retries:
                    raise

    async def compact(self) -> None:
        """Fold the change log into a snapshot now (no-op without a store)."""
        self._ensure_running()
        if self._store is not None:
            await self._locked_snapshot()

    # ------------------------------------------------------------------ commit

    def _conflict(self, name: str, expected: int, actual: int) -> VersionConflictError:
        return VersionConflictError(
            f"slice {name!r} is at version {actual}, not {expected}",
            context={"slice": name, "expected": expected, "actual": actual},
            hint="Read the slice again and retry with its current version.",
        )

    async def _commit(
        self,
        writes: dict[_SliceState, Any],
        origin: str | None,
        changes_seen: dict[_SliceState, tuple[Any, Any]],
    ) -> None:
        """Persist (one record) and apply *writes* (MISSING means delete); queue the changes.

        Writing the record and applying it in memory are one step a
        cancellation cannot split: a cancelled caller waits for the record's
        write to finish, the change is applied (and its observers queued) if it
        was written, and only then the cancellation is re-raised. Otherwise a
        durable record missing from memory would come back on a restart, and
        this manager's next record would reuse its number.
        """
        store = self._store
        if store is None:
            self._seq += 1
            for sl, value in writes.items():
                sl.value = value
                sl.version += 1
                old, new = changes_seen[sl]
                self._queue.append((sl.name, old, new, sl.version, origin, None))
            return
        changes = {
            sl.name: SliceRecord(sl.version + 1, None, True)
            if value is MISSING
            else SliceRecord(sl.version + 1, encode(value, where=f"/{sl.name}"))
            for sl, value in writes.items()
        }
        lock = self._commit_lock
        if lock is None:
            lock = self._commit_lock = asyncio.Lock()
        async with lock:
            record = ChangeRecord(self._seq + 1, changes, origin, self._clock.time())

            async def persist_and_apply() -> None:
                try:
                    await store.append(record)
                except PepperPyError:
                    raise
                except Exception as exc:
                    raise StatePersistenceError(
                        f"could not persist a change to {sorted(changes)}: {exc}",
                        context={"slices": sorted(changes), "seq": record.seq},
                        hint="The change was not applied; fix the store and retry.",
                    ) from exc
                self._seq = record.seq
                for sl, value in writes.items():
                    sl.value = value
                    sl.version += 1
                    old, new = changes_seen[sl]
                    self._queue.append((sl.name, old, new, sl.version, origin, None))
                self._since_snapshot += 1

            await _uninterrupted(persist_and_apply(), self._after_cancelled_commit)
            if self._since_snapshot >= self._snapshot_every:
                try:
                    await self._write_snapshot()
                except asyncio.CancelledError:  # the change is committed: deliver it
                    self._after_cancelled_commit()
                    raise

    def _after_cancelled_commit(self) -> None:
        """A committed change's caller was cancelled: still deliver it to observers."""
        if self._queue and not self._dispatching:
            task = asyncio.ensure_future(self._drain())
            self._drainers.add(task)
            task.add_done_callback(self._drainers.discard)

    async def _locked_snapshot(self) -> None:
        lock = self._commit_lock
        if lock is None:
            lock = self._commit_lock = asyncio.Lock()
        async with lock:
            await self._write_snapshot()

    async def _write_snapshot(self) -> None:
        assert self._store is not None
        # A deleted slice stays deleted in the snapshot (a tombstone), as it does
        # when the log is replayed, instead of coming back as its registered default.
        slices = {
            name: SliceRecord(sl.version, None, True)
            if sl.value is MISSING
            else SliceRecord(sl.version, encode(sl.value, where=f"/{name}"))
            for name, sl in self._slices.items()
            if sl.value is not MISSING or sl.version  # never written: nothing to record
        }
        snapshot = StateSnapshot(self._seq, slices, self._clock.time())
        try:
            await self._store.write_snapshot(snapshot)
        except ConcurrentWriterError as exc:  # a newer snapshot is there: keep it
            _log.warning("state %r: snapshot not written: %s", self.name, exc)
            return
        except Exception:  # the log still has every change: nothing is lost
            _log.warning(
                "state %r: snapshot failed (the change log is intact)", self.name, exc_info=True
            )
            return
        self._since_snapshot = 0

    async def _commit_transaction(self, tx: Transaction) -> None:
        names = sorted(set(tx._seen) | set(tx._writes) | tx._deletes)
        slices = [self._slice_for_write(n) for n in names]
        for sl in slices:
            await sl.lock.acquire()
        try:
            for sl in slices:
                seen = tx._seen.get(sl.name, sl.version)
                if sl.version != seen:
                    raise self._conflict(sl.name, seen, sl.version)
            writes: dict[_SliceState, Any] = {}
            changes: dict[_SliceState, tuple[Any, Any]] = {}
            for sl in slices:
                if sl.name in tx._writes:
                    writes[sl] = tx._writes[sl.name]
                elif sl.name in tx._deletes and sl.value is not MISSING:
                    writes[sl] = MISSING
                else:
                    continue
                old, value = sl.value, writes[sl]
                changes[sl] = (
                    None if old is MISSING else old,
                    None if value is MISSING else value,
                )
            if not writes:
                return
            await self._commit(writes, tx._origin, changes)
        finally:
            for sl in reversed(slices):
                sl.lock.release()
        if not self._dispatching:
            await self._drain()

    # ------------------------------------------------------------------ observers

    def subscribe(self, target: str | None, observer: Observer) -> Subscription:
        """Call *observer* with a :class:`Change` after every change of *target*.

        Args:
            target: A slice name, a dotted path inside a slice (called only when
                the value at the path changes), or ``None``/``"*"`` for every slice.
            observer: A sync or async callable taking a :class:`Change`.
        """
        if not callable(observer):
            raise InvalidArgumentError(
                f"an observer must be callable, got {safe_repr(observer)}",
                code="pepperpy.state.invalid_observer",
            )
        if target is None or target == "*":
            slice_name: str | None = None
            segments: tuple[str, ...] = ()
            path = "*"
        else:
            slice_name, segments = parse_path(target)
            path = target
        self._observer_seq += 1
        obs = _Observer(self._observer_seq, slice_name, segments, path, observer)
        self._observers.append(obs)
        self._observer_index.clear()
        return Subscription(self, obs)

    def watch(self, target: str | None) -> Watch:
        """Iterate over the changes of *target* as they are committed.

        ::

            async for change in state.watch("cart"):
                ...

        Same targets as :meth:`subscribe`. Changes are buffered (unbounded)
        between iterations, so a slow consumer sees every one, in order. The
        subscription ends when the :class:`Watch` is closed, leaves an
        ``async with`` block, or is dropped (e.g. after ``break``), and when
        the manager stops (the iteration ends after the changes before it).
        """
        watch = Watch(self, target)
        self._watches.add(watch)
        return watch

    def _unsubscribe(self, obs: _Observer) -> None:
        if obs.active:
            obs.active = False
            self._observers.remove(obs)
            self._observer_index.clear()

    async def _drain(self) -> None:
        """Deliver queued changes in order; only one delivery runs at a time.

        Each observer is called here, not through a coroutine of its own: a sync
        observer costs a call, an async one an await of what it returned. Its
        Exception is reported; a BaseException (a cancellation) propagates after
        the rest of the change is queued for the observers after it. Observers of
        a whole slice share one :class:`Change`; a path observer gets its own, and
        only when the value at its path changed.
        """
        self._dispatching = True
        queue = self._queue
        try:
            while queue:
                entry = queue.popleft()
                name, old, new, version, origin, left = entry
                old = None if old is MISSING else old
                shared: Change | None = None
                # An entry requeued by an interrupted delivery names who is left.
                observers = left or self._observer_index[name]
                for obs in observers:
                    if not obs.active:
                        continue
                    if not obs.segments:
                        if shared is None or shared.path != obs.path:
                            shared = _new_change((name, obs.path, old, new, version, origin))
                        change: Change | None = shared
                    else:  # None when the value at its path did not change
                        change = _path_change(obs, name, old, new, version, origin)
                    if change is None:
                        continue
                    try:
                        result = obs.fn(change)
                        if result is not None and _is_awaitable(result):
                            await result
                    except Exception as exc:
                        self._report(obs, change, exc)
                    except BaseException:
                        # Cancelled, or a BaseException from an observer: the change is
                        # applied, so the observers after this one still get it (from a
                        # task started below) before anything queued later.
                        self._requeue_rest(entry, observers, obs)
                        raise
        finally:
            self._dispatching = False
            if queue:  # cancelled mid-delivery: hand the rest to a task
                task = asyncio.get_running_loop().create_task(self._drain())
                self._drainers.add(task)
                task.add_done_callback(self._drainers.discard)

    def _requeue_rest(
        self, entry: tuple[Any, ...], observers: tuple[_Observer, ...], last: _Observer
    ) -> None:
        """Put *entry*'s change back first in the queue, for the observers after *last*."""
        rest = observers[observers.index(last) + 1 :]
        if rest:
            self._queue.appendleft((*entry[:5], rest))

    def _report(self, obs: _Observer, change: Change, exc: Exception) -> None:
        self.observer_failures += 1
        handler = self._on_observer_error
        if handler is None:
            _log.error(
                "state observer %s failed on a change of %r", obs.name, change.path, exc_info=exc
            )
            return
        try:
            handler(ObserverError(obs.name, change, exc))
        except Exception:
            _log.exception("the on_observer_error handler itself failed")

    def __repr__(self) -> str:
        return (
            f"StateManager(name={self.name!r}, state={self.state.value}, "
            f"slices={len(self.names())}, store={self._store!r})"
        )


def _path_change(
    obs: _Observer,
    name: str,
    old: Any,
    new: Any,
    version: int,
    origin: str | None,
) -> Change | None:
    """The change a path observer sees, or ``None`` when the value at its path did not change."""
    o = resolve(old, obs.segments) if old is not None else MISSING
    n = resolve(new, obs.segments) if new is not None else MISSING
    if o is n or (o == n and type(o) is type(n)):
        return None
    return _new_change(
        (name, obs.path, None if o is MISSING else o, None if n is MISSING else n, version, origin)
    )


async def _uninterrupted(step: Awaitable[None], on_cancel: Callable[[], None]) -> None:
    """Run *step* to its end even if the caller is cancelled; then re-raise the cancellation.

    *on_cancel* runs (after the step) when the caller was cancelled.
    """
    task = asyncio.ensure_future(step)
    cancelled = False
    while True:
        try:
            await asyncio.shield(task)
            break
        except asyncio.CancelledError:
            cancelled = True
            if task.done():
                if task.cancelled():
                    raise
                break  # finished as we were cancelled: its outcome is below
    if cancelled:
        on_cancel()
        task.result()  # a failed step raises its own error
        raise asyncio.CancelledError
