"""Shared types: lifecycle, clocks, JSON aliases and the ``MISSING`` sentinel.

Everything here is standard typing; no checker plugin is needed.
:mod:`asyncio` is imported only when a lifecycle or clock method runs, so
importing this module stays cheap.
"""

from __future__ import annotations

import enum
import heapq
import itertools
import time as _time
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Final, Literal, Protocol, TypeVar, Union, runtime_checkable

from pepperpy.core._redact import safe_str
from pepperpy.core.exceptions import ClosedError, InvalidArgumentError, StartupError

if TYPE_CHECKING:
    import asyncio
    from types import TracebackType

    from typing_extensions import Self

__all__ = [
    "AsyncLifecycle",
    "Clock",
    "JSONArray",
    "JSONObject",
    "JSONScalar",
    "JSONValue",
    "Lifecycle",
    "LifecycleState",
    "MISSING",
    "ManualClock",
    "MaybeAwaitable",
    "Missing",
    "MissingType",
    "SystemClock",
    "T",
    "T_co",
    "system_clock",
]

T = TypeVar("T")
"""A plain type variable, shared so packages need not each declare one."""

T_co = TypeVar("T_co", covariant=True)
"""A covariant type variable for read-only generic protocols."""

JSONScalar = Union[None, bool, int, float, str]
"""A JSON scalar."""

JSONValue = Union[JSONScalar, list["JSONValue"], dict[str, "JSONValue"]]
"""Any JSON value (recursive)."""

JSONObject = dict[str, JSONValue]
"""A JSON object."""

JSONArray = list[JSONValue]
"""A JSON array."""

MaybeAwaitable = Union[T, Awaitable[T]]
"""A value or an awaitable of it: what a sync-or-async callback returns."""


class MissingType(enum.Enum):
    """The type of :data:`MISSING`; use ``Missing`` in annotations."""

    MISSING = "MISSING"

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final = MissingType.MISSING
"""Marks "no value given" where ``None`` is a legitimate value."""

Missing = Literal[MissingType.MISSING]
"""The annotation for a parameter defaulting to :data:`MISSING`."""


# --------------------------------------------------------------------------- clocks


@runtime_checkable
class Clock(Protocol):
    """Where PepperPy components read time and sleep.

    Components take a ``clock`` argument (default :data:`system_clock`) so
    tests can substitute a :class:`ManualClock` and never wait for real.
    """

    def time(self) -> float:
        """Wall-clock time in seconds since the epoch (for timestamps and TTLs)."""
        ...

    def monotonic(self) -> float:
        """Monotonic seconds (for durations and deadlines)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Suspend the calling task for *seconds*."""
        ...


class SystemClock:
    """The real clock: :func:`time.time`, :func:`time.monotonic`, :func:`asyncio.sleep`."""

    __slots__ = ()

    def time(self) -> float:
        """Return :func:`time.time`."""
        return _time.time()

    def monotonic(self) -> float:
        """Return :func:`time.monotonic`."""
        return _time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """Sleep with :func:`asyncio.sleep`."""
        import asyncio

        await asyncio.sleep(max(0.0, seconds))

    def __repr__(self) -> str:
        return "SystemClock()"


system_clock: Final = SystemClock()
"""The shared :class:`SystemClock` instance used as every default."""


class ManualClock:
    """A clock that moves only when told to; for tests.

    ``time()`` and ``monotonic()`` advance together. A task sleeping on this
    clock wakes when :meth:`advance` moves time past its deadline::

        clock = ManualClock()
        sleeper = asyncio.create_task(clock.sleep(60))
        await clock.advance(60)      # wakes the sleeper, no real waiting
        assert sleeper.done()

    Args:
        start: The initial wall-clock time (seconds since the epoch).
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._wall0 = float(start)
        self._elapsed = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def time(self) -> float:
        """Return the current virtual wall-clock time."""
        return self._wall0 + self._elapsed

    def monotonic(self) -> float:
        """Return the virtual seconds elapsed since the clock was created."""
        return self._elapsed

    @property
    def sleepers(self) -> int:
        """How many tasks are currently sleeping on this clock."""
        return sum(1 for _, _, fut in self._sleepers if not fut.done())

    async def sleep(self, seconds: float) -> None:
        """Suspend until the clock has been advanced by *seconds*."""
        import asyncio

        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._elapsed + seconds, next(self._seq), fut))
        await fut

    def advance_sync(self, seconds: float) -> None:
        """Move time forward by *seconds* and wake every sleeper now due.

        Woken tasks run at the event loop's next iteration; prefer
        ``await clock.advance(...)``, which also lets them run.
        """
        if seconds < 0:
            raise InvalidArgumentError(
                "a clock cannot go backwards",
                context={"seconds": seconds},
                hint="Pass a duration >= 0.",
            )
        target = self._elapsed + seconds
        # Wake sleepers one deadline at a time so each sees the time it asked for.
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, fut = heapq.heappop(self._sleepers)
            self._elapsed = max(self._elapsed, deadline)
            if not fut.done():
                fut.set_result(None)
        self._elapsed = target

    async def advance(self, seconds: float) -> None:
        """Move time forward by *seconds*, waking due sleepers and letting them run.

        Deadlines are processed in order: a task woken at ``t`` that sleeps
        again until ``t + d <= now + seconds`` is woken in the same call.
        """
        import asyncio

        if seconds < 0:
            self.advance_sync(seconds)  # raises
        target = self._elapsed + seconds
        while True:
            for _ in range(3):
                await asyncio.sleep(0)
            pending = [entry for entry in self._sleepers if not entry[2].done()]
            due = [entry for entry in pending if entry[0] <= target]
            if not due:
                break
            self.advance_sync(min(entry[0] for entry in due) - self._elapsed)
        self._elapsed = target
        for _ in range(3):
            await asyncio.sleep(0)

    def __repr__(self) -> str:
        return f"ManualClock(time={self.time():.3f}, sleepers={self.sleepers})"


# --------------------------------------------------------------------------- lifecycle


class LifecycleState(enum.Enum):
    """Where a :class:`Lifecycle` component is in its life."""

    NEW = "new"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"


@runtime_checkable
class AsyncLifecycle(Protocol):
    """Anything that can be started and stopped asynchronously."""

    async def start(self) -> None:
        """Start the component."""
        ...

    async def stop(self) -> None:
        """Stop the component."""
        ...


class Lifecycle:
    """Base class for long-lived async components.

    Subclasses implement :meth:`_on_start` and :meth:`_on_stop`; users call
    :meth:`start`/:meth:`stop` (or the seed's :meth:`initialize`/:meth:`cleanup`,
    or ``async with``). Both are idempotent and serialised by a lock, so
    concurrent calls start or stop the component once.

    If :meth:`_on_start` raises, :meth:`_on_stop` runs to release whatever was
    half acquired, the component is left :attr:`~LifecycleState.STOPPED`,
    :attr:`last_error` keeps the cause, and :class:`StartupError` is raised
    from it. A stopped component may be started again.

    Attrs subclasses must use ``slots=False`` (state lives in the instance dict).
    """

    _lc_state: LifecycleState = LifecycleState.NEW
    _lc_error: BaseException | None = None
    _lc_lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    @property
    def state(self) -> LifecycleState:
        """The current :class:`LifecycleState`."""
        return self._lc_state

    @property
    def is_running(self) -> bool:
        """Whether the component is started and not stopping."""
        return self._lc_state is LifecycleState.RUNNING

    @property
    def last_error(self) -> BaseException | None:
        """The exception that made the last :meth:`start` fail, if any."""
        return self._lc_error

    def _lifecycle_state(self) -> LifecycleState:
        # A method call, so type checkers do not narrow across the ``await``.
        return self._lc_state

    def _lifecycle_lock(self) -> asyncio.Lock:
        import asyncio

        # A lock belongs to the loop that uses it: a component started under one
        # event loop and stopped under another (a session-scoped fixture) gets a
        # fresh lock there instead of "bound to a different event loop".
        loop = asyncio.get_running_loop()
        held = self._lc_lock
        if held is None or held[0] is not loop:
            held = self._lc_lock = (loop, asyncio.Lock())
        return held[1]

    async def _on_start(self) -> None:
        """Acquire resources; override in subclasses."""

    async def _on_stop(self) -> None:
        """Release resources; override in subclasses. Must tolerate a partial start."""

    async def start(self) -> None:
        """Start the component; a no-op when it is already running.

        Raises:
            StartupError: :meth:`_on_start` failed; the cause is chained and
                the component is stopped.
        """
        if self._lc_state is LifecycleState.RUNNING:
            return
        async with self._lifecycle_lock():
            if self._lifecycle_state() is LifecycleState.RUNNING:  # started while we waited
                return
            self._lc_state = LifecycleState.STARTING
            self._lc_error = None
            try:
                await self._on_start()
            except BaseException as exc:
                self._lc_error = exc
                try:
                    await self._on_stop()
                except Exception:  # the start failure is the error to report
                    pass
                finally:
                    self._lc_state = LifecycleState.STOPPED
                if not isinstance(exc, Exception):
                    raise  # cancellation and interrupts pass through untouched
                # Rendered by the one redactor: never raises, and a DSN's password in
                # the cause does not reach every log line of this error.
                raise StartupError(
                    f"{type(self).__name__} failed to start: {safe_str(exc, 500)}",
                    context={"component": type(self).__name__, "cause": type(exc).__name__},
                    hint="Fix the cause above; the component was left stopped and can be "
                    "started again.",
                ) from exc
            self._lc_state = LifecycleState.RUNNING

    async def stop(self) -> None:
        """Stop the component; a no-op when it is not running.

        The component is :attr:`~LifecycleState.STOPPED` afterwards even if
        :meth:`_on_stop` raises (the error propagates).
        """
        if self._lc_state in (LifecycleState.NEW, LifecycleState.STOPPED):
            self._lc_state = LifecycleState.STOPPED
            return
        async with self._lifecycle_lock():
            if self._lifecycle_state() is LifecycleState.STOPPED:  # stopped while we waited
                return
            self._lc_state = LifecycleState.STOPPING
            try:
                await self._on_stop()
            finally:
                self._lc_state = LifecycleState.STOPPED

    async def initialize(self) -> None:
        """Alias of :meth:`start` (the seed's name)."""
        await self.start()

    async def cleanup(self) -> None:
        """Alias of :meth:`stop` (the seed's name)."""
        await self.stop()

    def _ensure_running(self) -> None:
        """Raise :class:`ClosedError` unless the component is running."""
        if self._lc_state is not LifecycleState.RUNNING:
            raise ClosedError(
                f"{type(self).__name__} is {self._lc_state.value}, not running",
                context={"component": type(self).__name__, "state": self._lc_state.value},
                hint=f"Call 'await {type(self).__name__.lower()}.start()' (or use "
                "'async with') before using it.",
            )

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
