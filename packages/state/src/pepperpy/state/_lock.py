"""A task-reentrant asyncio lock: the per-slice lock."""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType

__all__ = ["TaskLock"]


class TaskLock:
    """An asyncio lock that the task holding it may acquire again.

    So ``async with state.lock("cart"): await state.set("cart", ...)`` works:
    ``set`` takes the same lock from the same task. Other tasks wait in FIFO
    order; on release the lock is handed straight to the first waiter, so a
    waiter is never overtaken. Cancelling a waiter is safe. Create it
    anywhere; it uses the running loop when someone has to wait.
    """

    __slots__ = ("_depth", "_owner", "_waiters")

    def __init__(self) -> None:
        self._owner: asyncio.Task[object] | None = None
        self._depth = 0
        self._waiters: deque[tuple[asyncio.Task[object] | None, asyncio.Future[None]]] = deque()

    def locked(self) -> bool:
        """Whether some task holds the lock."""
        return self._depth > 0

    def held_by_current_task(self) -> bool:
        """Whether the calling task holds the lock."""
        return self._depth > 0 and self._owner is asyncio.current_task()

    def acquire_nowait(self) -> bool:
        """Take the lock if that needs no waiting (free, or held by this task)."""
        if self._depth == 0:
            if self._waiters:
                return False
            self._owner = asyncio.current_task()
            self._depth = 1
            return True
        if self._owner is asyncio.current_task():
            self._depth += 1
            return True
        return False

    async def acquire(self) -> bool:
        """Acquire the lock, waiting in FIFO order if another task holds it."""
        if self.acquire_nowait():
            return True
        task = asyncio.current_task()
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (task, fut)
        self._waiters.append(entry)
        try:
            await fut
        except BaseException:
            if fut.done() and not fut.cancelled() and self._owner is task:
                self.release()  # handed over just as we were cancelled: pass it on
            else:
                try:
                    self._waiters.remove(entry)
                except ValueError:
                    pass
            raise
        return True

    def release(self) -> None:
        """Release one level of the lock; the last level hands it to the next waiter.

        Raises:
            RuntimeError: The lock is not held.
        """
        if self._depth == 0:
            raise RuntimeError("TaskLock is not acquired")
        self._depth -= 1
        if self._depth:
            return
        self._owner = None
        while self._waiters:
            task, fut = self._waiters.popleft()
            if not fut.done():
                self._owner = task
                self._depth = 1
                fut.set_result(None)
                return

    async def __aenter__(self) -> TaskLock:
        await self.acquire()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        return (
            f"TaskLock(locked={self.locked()}, depth={self._depth}, waiters={len(self._waiters)})"
        )
