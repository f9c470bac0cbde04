"""Structured concurrency on a TaskManager: a group waits for (or cancels) its tasks."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, overload

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.task._handle import TaskCancelledError, TaskHandle

if TYPE_CHECKING:
    from pepperpy.task._manager import TaskManager

__all__ = ["TaskGroup"]

T = TypeVar("T")


class TaskGroup:
    """Tasks that live inside an ``async with`` block, never beyond it.

    Created by :meth:`TaskManager.group`. Leaving the block waits for every
    task of the group (tasks may add more while it waits) and raises the
    first failure as is; with ``cancel_on_error`` (the default) the other
    tasks are cancelled as soon as one fails; when the block itself raises or is cancelled,
    every task of the group is cancelled and waited for before the error
    propagates. Tasks still go through the manager's queues, priorities,
    retries and timeouts::

        async with tasks.group() as group:
            for url in urls:
                group.submit(fetch, url)
        pages = group.results()          # in submission order

    Cancelling one task explicitly (``handle.cancel()``) is not a failure.
    """

    def __init__(self, manager: TaskManager, *, cancel_on_error: bool = True) -> None:
        self._manager = manager
        self.cancel_on_error = cancel_on_error
        self._handles: list[TaskHandle[Any]] = []
        self._wake: asyncio.Future[None] | None = None
        self._entered = False
        self._closed = False

    @property
    def handles(self) -> list[TaskHandle[Any]]:
        """The handles of every task submitted to the group, in order."""
        return list(self._handles)

    @overload
    def submit(
        self, fn: Callable[..., Awaitable[T]], /, *args: Any, **options: Any
    ) -> TaskHandle[T]: ...

    @overload
    def submit(self, fn: Callable[..., T], /, *args: Any, **options: Any) -> TaskHandle[T]: ...

    def submit(self, fn: Callable[..., Any], /, *args: Any, **options: Any) -> TaskHandle[Any]:
        """Submit a task to the manager as a member of this group (same options as submit)."""
        if not self._entered or self._closed:
            raise InvalidArgumentError(
                "a task group accepts tasks only inside its 'async with' block",
                code="pepperpy.task.group_closed",
                hint="Use: async with tasks.group() as group: group.submit(...)",
            )
        handle = self._manager.submit(fn, *args, **options)
        self._handles.append(handle)
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)
        return handle

    def results(self) -> list[Any]:
        """The results of every task, in submission order (after the block).

        Raises:
            Exception: The error of the first task that failed, else
                :class:`TaskCancelledError` for the first one cancelled.
        """
        errors = [h.exception() for h in self._handles]
        failures = [e for e in errors if e is not None and not isinstance(e, TaskCancelledError)]
        if failures:
            raise failures[0]
        for error in errors:
            if error is not None:
                raise error
        return [handle._result for handle in self._handles]

    def cancel(self) -> int:
        """Cancel every unfinished task of the group; return how many."""
        return sum(1 for handle in self._handles if handle.cancel())

    async def __aenter__(self) -> TaskGroup:
        self._entered = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc is not None:
                self.cancel()
                await self._settle()
                return
            try:
                failure = await self._wait()
            except asyncio.CancelledError:
                self.cancel()
                await self._settle()
                raise
            if failure is not None:
                raise failure
        finally:
            self._closed = True

    async def _settle(self) -> None:
        """Wait for every member to finish (after they were cancelled)."""
        waiters = [h._waiter() for h in self._handles if not h.done()]
        if waiters:
            await asyncio.wait(waiters)

    async def _wait(self) -> BaseException | None:
        loop = asyncio.get_running_loop()
        seen = 0
        watched: dict[asyncio.Future[Any], TaskHandle[Any]] = {}
        first: BaseException | None = None
        while True:
            for handle in self._handles[seen:]:
                watched[handle._waiter()] = handle
            seen = len(self._handles)
            if not watched:
                return first
            self._wake = loop.create_future()
            try:
                done, _ = await asyncio.wait(
                    [*watched, self._wake], return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                self._wake.cancel()
                self._wake = None
            for future in done:
                if future not in watched:  # the wake-up future
                    continue
                handle = watched.pop(future)
                error = handle.exception()
                if error is None or isinstance(error, TaskCancelledError) or first is not None:
                    continue
                first = error
                if self.cancel_on_error:
                    self.cancel()
