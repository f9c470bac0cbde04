"""Recurring tasks: interval and cron triggers, missed-run policy, overlap control."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pepperpy.core.exceptions import InvalidArgumentError, NotFoundError, safe_repr
from pepperpy.task._cron import CronExpression
from pepperpy.task._handle import TaskHandle

if TYPE_CHECKING:
    from pepperpy.task._manager import TaskManager

__all__ = ["CronTrigger", "IntervalTrigger", "MissedRunPolicy", "Schedule"]

logger = logging.getLogger("pepperpy.task")

MissedRunPolicy = Literal["run_once", "skip", "run_all"]
"""What a schedule does with runs it missed by more than its grace time:
``"run_once"`` runs one catch-up, ``"skip"`` runs none, ``"run_all"`` runs each."""

_POLICIES = ("run_once", "skip", "run_all")
_MAX_CATCH_UP = 1000


class _Trigger(Protocol):
    def first(self, now: float) -> float: ...

    def next(self, previous: float) -> float: ...


class IntervalTrigger:
    """Fires every *interval* seconds, the first time after *first_in* (default: *interval*)."""

    def __init__(self, interval: float, *, first_in: float | None = None) -> None:
        self.interval = interval
        self.first_in = interval if first_in is None else max(0.0, float(first_in))

    def first(self, now: float) -> float:
        """Return the first fire time."""
        return now + self.first_in

    def next(self, previous: float) -> float:
        """Return the fire time after *previous*."""
        return previous + self.interval

    def __repr__(self) -> str:
        return f"every {self.interval}s"


class CronTrigger:
    """Fires at the times of a :class:`CronExpression`, in UTC or *tz*."""

    def __init__(self, expression: CronExpression, tz: dt.tzinfo | None = None) -> None:
        self.expression = expression
        self.tz = tz or dt.timezone.utc

    def first(self, now: float) -> float:
        """Return the first fire time after *now*."""
        return self.next(now)

    def next(self, previous: float) -> float:
        """Return the fire time after *previous*."""
        when = dt.datetime.fromtimestamp(previous, self.tz)
        return self.expression.next_after(when).timestamp()

    def __repr__(self) -> str:
        return f"cron {self.expression.expression!r}"


class Schedule:
    """A recurring task created by :meth:`TaskManager.every` or :meth:`TaskManager.cron`.

    Attributes:
        name: The name given to each run's task.
        runs: Runs submitted so far.
        missed: Runs not made: missed beyond the grace time (per the policy)
            or skipped because the previous run was still going.
        next_run: Wall-clock time (``clock.time()`` scale) of the next run.
        last: The handle of the latest run, if any.
    """

    def __init__(
        self,
        manager: TaskManager,
        trigger: _Trigger,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        name: str,
        queue: str,
        missed: MissedRunPolicy,
        grace: float,
        overlap: bool,
    ) -> None:
        self._manager = manager
        self.trigger = trigger
        self._fn = fn
        self._args = args
        self._kwargs = kwargs
        self.name = name
        self.queue = queue
        self.policy: MissedRunPolicy = missed
        self.grace = grace
        self.overlap = overlap
        self.runs = 0
        self.missed = 0
        self.next_run: float | None = None
        self.last: TaskHandle[Any] | None = None
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def _start(
        cls,
        manager: TaskManager,
        trigger: _Trigger,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        name: str | None,
        queue: str,
        missed: MissedRunPolicy,
        grace: float,
        overlap: bool,
    ) -> Schedule:
        manager._ensure_running()
        if missed not in _POLICIES:
            raise InvalidArgumentError(
                f"missed must be one of {', '.join(_POLICIES)}, got {safe_repr(missed)}",
                code="pepperpy.task.missed",
                hint="Use 'run_once' (default), 'skip' or 'run_all'.",
            )
        if not callable(fn):
            raise InvalidArgumentError(
                f"a schedule needs a callable, got {safe_repr(fn)}",
                code="pepperpy.task.callable",
                hint="Pass the function itself.",
            )
        if queue not in manager._queues:
            raise NotFoundError(
                f"no work queue named {queue!r}",
                code="pepperpy.task.queue",
                context={"queue": queue},
                hint=f"Create it first: tasks.add_queue({queue!r}, concurrency=...).",
            )
        label = name or getattr(fn, "__qualname__", None) or safe_repr(fn)
        schedule = cls(
            manager, trigger, fn, args, kwargs, label, queue, missed, float(grace), overlap
        )
        schedule.next_run = trigger.first(manager.clock.time())
        schedule._task = asyncio.get_running_loop().create_task(schedule._loop())
        manager._schedules.append(schedule)
        manager._timers.add(schedule._task)
        schedule._task.add_done_callback(manager._timers.discard)
        return schedule

    @property
    def active(self) -> bool:
        """Whether the schedule still fires."""
        return self._task is not None and not self._task.done()

    def cancel(self) -> None:
        """Stop firing; a run already submitted is not affected."""
        if self._task is not None:
            self._task.cancel()
        if self in self._manager._schedules:
            self._manager._schedules.remove(self)

    async def _loop(self) -> None:
        clock = self._manager.clock
        trigger = self.trigger
        assert self.next_run is not None
        next_at = self.next_run
        while True:
            await clock.sleep(max(0.0, next_at - clock.time()))
            now = clock.time()
            if now < next_at:  # woke early (coarse clock): sleep the rest
                continue
            due = [next_at]
            following = trigger.next(next_at)
            while following <= now and len(due) < _MAX_CATCH_UP:
                due.append(following)
                following = trigger.next(following)
            while following <= now:  # beyond the cap: count, do not run
                self.missed += 1
                following = trigger.next(following)
            on_time = [t for t in due if now - t <= self.grace]
            late = len(due) - len(on_time)
            if not late or self.policy == "run_all":
                count = len(due)
            elif self.policy == "skip":
                count = len(on_time)
            else:  # run_once: all the late runs become one
                count = len(on_time) or 1
            self.missed += len(due) - count
            if late:
                logger.info(
                    "schedule %s missed %d run(s); policy %s ran %d",
                    self.name,
                    late,
                    self.policy,
                    count,
                )
            if count and not self.overlap and self.last is not None and not self.last.done():
                self.missed += count  # the previous run is still going
                count = 0
            for _ in range(count):
                self._fire()
            next_at = following
            self.next_run = next_at

    def _fire(self) -> None:
        manager = self._manager
        if not manager.is_running:
            return
        self.runs += 1
        self.last = manager.submit(
            self._fn, *self._args, name=self.name, queue=self.queue, **self._kwargs
        )

    def __repr__(self) -> str:
        return f"<Schedule {self.name} {self.trigger!r} runs={self.runs} missed={self.missed}>"
