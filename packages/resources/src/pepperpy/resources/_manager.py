"""``ResourceManager``: start resources in order, close them in reverse, never lose an error."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from pepperpy.core.exceptions import InvalidArgumentError, OperationTimeoutError
from pepperpy.core.types import Lifecycle, LifecycleState
from pepperpy.resources._errors import CleanupError, ResourceNotFoundError, add_note
from pepperpy.resources._pool import _seconds

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["ResourceManager"]

T = TypeVar("T")

_Closer = Callable[[], Any]


async def _maybe_await(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value


def _is_async_cm(obj: object) -> bool:
    return hasattr(obj, "__aenter__") and hasattr(obj, "__aexit__")


def _is_sync_cm(obj: object) -> bool:
    return hasattr(obj, "__enter__") and hasattr(obj, "__exit__")


def _is_lifecycle(obj: object) -> bool:
    start = getattr(obj, "start", None)
    stop = getattr(obj, "stop", None)
    return inspect.iscoroutinefunction(start) and inspect.iscoroutinefunction(stop)


class _Entry:
    """One registered resource, its value once started, and how to close it."""

    __slots__ = ("close", "closer", "factory", "is_callback", "name", "resource", "start", "value")

    def __init__(
        self,
        name: str,
        resource: Any,
        *,
        factory: Callable[[], Any] | None,
        start: Callable[[Any], Any] | None,
        close: Callable[[Any], Any] | None,
    ) -> None:
        self.name = name
        self.resource = resource
        self.factory = factory
        self.start = start
        self.close = close
        self.value: Any = None
        self.closer: _Closer | None = None
        self.is_callback = False

    async def open(self) -> Any:
        """Create/enter/start the resource and remember how to undo it."""
        obj = self.resource
        if self.factory is not None:
            obj = await _maybe_await(self.factory())
        if self.close is not None:
            value = obj
            if self.start is not None:
                await _maybe_await(self.start(obj))
            close = self.close
            self.closer = lambda: close(value)
        elif _is_async_cm(obj):
            value = await obj.__aenter__()
            self.closer = lambda: obj.__aexit__(None, None, None)
        elif _is_sync_cm(obj):
            value = obj.__enter__()
            self.closer = lambda: obj.__exit__(None, None, None)
        elif self.start is None and _is_lifecycle(obj):
            await obj.start()
            value = obj
            self.closer = obj.stop
        else:
            value = obj
            if self.start is not None:
                await _maybe_await(self.start(obj))
            closer = getattr(obj, "aclose", None) or getattr(obj, "close", None)
            if closer is not None and not callable(closer):
                closer = None
            if closer is None and _is_lifecycle(obj):
                closer = obj.stop
            self.closer = closer
        self.value = value
        return value


class ResourceManager(Lifecycle):
    """Own a set of resources: start them in order, close them in reverse order.

    Anything can be registered: async or sync context managers (entered on
    start, exited on stop), components with ``async start()``/``async stop()``
    (such as any :class:`~pepperpy.core.types.Lifecycle`), objects with an
    ``aclose()`` or ``close()`` method, plain values with an explicit *close*
    callable, and factories creating any of these when the manager starts.

    Cleanup is built to never lose anything:

    * resources are closed in reverse registration order, every one of them,
      even when some fail;
    * each close is time-boxed by *cleanup_timeout* (async closers only) and
      the whole cleanup is shielded from cancellation: a cancelled
      :meth:`stop` still closes everything before the cancellation propagates;
    * every failure is collected into one :class:`CleanupError` (``.errors``
      lists them all); when the ``async with`` body already raised, that
      original error propagates unchanged and the cleanup failures are attached
      to it as notes.

    If a resource fails to start, the ones already started are closed (in
    reverse) and the start fails with the original error chained.

    Args:
        cleanup_timeout: Seconds allowed for each async close, ``None`` for no
            limit.
        name: A label used in errors.
    """

    def __init__(self, *, cleanup_timeout: float | None = 10.0, name: str = "resources") -> None:
        self.cleanup_timeout = _seconds("cleanup_timeout", cleanup_timeout, zero=False)
        self.name = name
        self._entries: dict[str, _Entry] = {}
        self._started: list[_Entry] = []
        self._counter = 0

    def __repr__(self) -> str:
        return (
            f"ResourceManager(name={self.name!r}, state={self.state.value!r}, "
            f"resources={list(self._entries)!r})"
        )

    # ----------------------------------------------------------------- registration

    def _new_entry(
        self,
        name: str | None,
        resource: Any,
        *,
        factory: Callable[[], Any] | None = None,
        start: Callable[[Any], Any] | None = None,
        close: Callable[[Any], Any] | None = None,
    ) -> _Entry:
        if name is None:
            self._counter += 1
            label = type(resource).__name__ if factory is None else "factory"
            name = f"{label}#{self._counter}"
        if not isinstance(name, str) or not name:
            raise InvalidArgumentError(
                "a resource name must be a non-empty string",
                context={"name": repr(name)},
                hint="Pass name='db' (or leave it out to get a generated one).",
            )
        if name in self._entries:
            raise InvalidArgumentError(
                f"a resource named {name!r} is already registered",
                context={"name": name, "manager": self.name},
                hint="Use a different name for each resource.",
            )
        for label, fn in (("start", start), ("close", close), ("factory", factory)):
            if fn is not None and not callable(fn):
                raise InvalidArgumentError(
                    f"{label} must be callable",
                    context={"name": name, label: repr(fn)},
                    hint=f"Pass a function for {label}=.",
                )
        return _Entry(name, resource, factory=factory, start=start, close=close)

    def register(
        self,
        resource: T,
        *,
        name: str | None = None,
        start: Callable[[T], Any] | None = None,
        close: Callable[[T], Any] | None = None,
    ) -> T:
        """Register *resource* to be started by :meth:`start` and closed by :meth:`stop`.

        Only allowed before the manager starts; use :meth:`add` on a running
        manager. Returns *resource* unchanged, so it can wrap a construction.

        Args:
            resource: A context manager, a component with async start/stop, an
                object with ``aclose``/``close``, or any value with *close*.
            name: A unique name for :meth:`get`; generated when omitted.
            start: Called with the resource on start (sync or async).
            close: Called with the resource on stop (sync or async); overrides
                the automatic choice.
        """
        self._check_not_running("register")
        entry = self._new_entry(name, resource, start=start, close=close)
        self._entries[entry.name] = entry
        return resource

    def register_factory(
        self,
        factory: Callable[[], T] | Callable[[], Awaitable[T]],
        *,
        name: str | None = None,
        close: Callable[[T], Any] | None = None,
    ) -> None:
        """Register a sync or async *factory* whose result is opened on start.

        The created object is handled like a registered resource (entered if
        it is a context manager, started if it has async start/stop, closed
        through *close*, ``aclose`` or ``close``). Get it with :meth:`get`.
        """
        self._check_not_running("register_factory")
        entry = self._new_entry(name, None, factory=factory, close=close)
        self._entries[entry.name] = entry

    async def add(
        self,
        resource: Any,
        *,
        name: str | None = None,
        start: Callable[[Any], Any] | None = None,
        close: Callable[[Any], Any] | None = None,
    ) -> Any:
        """Register *resource* on a running manager and open it now.

        Returns the usable value: what ``__aenter__``/``__enter__`` returned
        for a context manager, otherwise the resource itself.
        """
        self._ensure_running()
        entry = self._new_entry(name, resource, start=start, close=close)
        value = await entry.open()
        self._entries[entry.name] = entry
        self._started.append(entry)
        return value

    def callback(self, fn: Callable[..., Any], /, *args: Any, name: str | None = None) -> None:
        """Run ``fn(*args)`` (sync or async) at cleanup, in reverse order with the rest."""
        if not callable(fn):
            raise InvalidArgumentError(
                "callback needs a callable",
                context={"fn": repr(fn)},
                hint="Pass a function; its arguments follow it.",
            )
        entry = self._new_entry(
            name or f"callback:{getattr(fn, '__qualname__', type(fn).__name__)}",
            None,
            close=lambda _: fn(*args),
        )
        entry.closer = lambda: fn(*args)
        entry.is_callback = True
        self._entries[entry.name] = entry
        if self.state is LifecycleState.RUNNING:
            self._started.append(entry)

    def _check_not_running(self, what: str) -> None:
        if self.state is not LifecycleState.NEW and self.state is not LifecycleState.STOPPED:
            raise InvalidArgumentError(
                f"cannot {what} on a {self.state.value} manager",
                context={"manager": self.name, "state": self.state.value},
                hint="Use 'await manager.add(...)' to add a resource to a running manager.",
            )

    # ----------------------------------------------------------------- access

    @property
    def names(self) -> list[str]:
        """Registered resource names, in registration order."""
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, name: str) -> Any:
        """Return the opened value of the resource called *name*.

        Raises:
            ResourceNotFoundError: No resource has that name.
            ClosedError: The manager is not running.
        """
        entry = self._entries.get(name)
        if entry is None:
            raise ResourceNotFoundError(
                f"no resource named {name!r}",
                context={"name": name, "manager": self.name, "known": list(self._entries)},
                hint="Register it first, or check the spelling.",
            )
        self._ensure_running()
        return entry.value

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    # ----------------------------------------------------------------- lifecycle

    async def _on_start(self) -> None:
        self._started = []
        try:
            for entry in self._entries.values():
                if entry.is_callback:
                    self._started.append(entry)
                    continue
                await entry.open()
                self._started.append(entry)
        except BaseException as exc:
            errors, fatal = await self._close_shielded()
            for name, error in errors:
                add_note(
                    exc, f"while undoing the failed start, {name!r} failed to close: {error!r}"
                )
            if fatal is not None:
                raise fatal from exc
            raise

    async def _on_stop(self) -> None:
        errors, fatal = await self._close_shielded()
        if fatal is not None:
            for name, error in errors:
                add_note(fatal, f"during cleanup, {name!r} failed to close: {error!r}")
            raise fatal
        if errors:
            raise CleanupError(errors, context={"manager": self.name})

    async def _close_shielded(self) -> tuple[list[tuple[str, BaseException]], BaseException | None]:
        """Close every started resource; finish even if the caller is cancelled.

        Returns the errors to report in a :class:`CleanupError`, and the first
        ``BaseException`` that is not an ``Exception`` nor a ``CancelledError``
        (``KeyboardInterrupt``, ``SystemExit``): that one propagates, after the
        other resources were closed, as ``contextlib.AsyncExitStack`` lets it.
        It is re-raised here, in the caller's task, not inside the closing task.
        """
        task = asyncio.ensure_future(self._close_all())
        cancelled = False
        while True:
            try:
                result = await asyncio.shield(task)
                break
            except asyncio.CancelledError:
                if task.done():
                    raise
                cancelled = True
        if cancelled:
            raise asyncio.CancelledError
        return result

    async def _close_all(self) -> tuple[list[tuple[str, BaseException]], BaseException | None]:
        errors: list[tuple[str, BaseException]] = []
        fatal: BaseException | None = None
        while self._started:
            entry = self._started.pop()
            closer = entry.closer
            if closer is None:
                continue
            try:
                result = closer()
                if inspect.isawaitable(result):
                    awaitable = result
                    if self.cleanup_timeout is None:
                        await awaitable
                    else:
                        await asyncio.wait_for(_as_coro(awaitable), self.cleanup_timeout)
            except (asyncio.TimeoutError, TimeoutError):
                errors.append(
                    (
                        entry.name,
                        OperationTimeoutError(
                            f"closing {entry.name!r} took longer than {self.cleanup_timeout}s",
                            context={"name": entry.name, "timeout": self.cleanup_timeout},
                            hint="Make the close faster or raise cleanup_timeout.",
                        ),
                    )
                )
            except (Exception, asyncio.CancelledError) as exc:  # collected, reported together
                errors.append((entry.name, exc))
            except BaseException as exc:  # KeyboardInterrupt, SystemExit ...: propagates
                if fatal is None:
                    fatal = exc
                else:
                    errors.append((entry.name, exc))
            finally:
                if not entry.is_callback:
                    entry.value = None
                    entry.closer = None
        return errors, fatal

    async def close(self) -> None:
        """Alias of :meth:`stop`."""
        await self.stop()

    async def aclose(self) -> None:
        """Alias of :meth:`stop`."""
        await self.stop()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.stop()
        except CleanupError as cleanup:
            if exc is None:
                raise
            for name, error in cleanup.errors:
                add_note(exc, f"during cleanup, {name!r} failed to close: {error!r}")


async def _as_coro(awaitable: Awaitable[Any]) -> Any:
    return await awaitable
