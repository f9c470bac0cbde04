"""A FIFO counting limiter with a cheap uncontended path and a timed wait."""

from __future__ import annotations

import asyncio
from collections import deque

__all__ = ["Slots"]


class Slots:
    """Like :class:`asyncio.Semaphore`, but ``free`` can be tested and taken inline.

    The hot path is ``if slots.free: slots.free -= 1`` (no call, no await);
    only a full limiter goes through :meth:`wait`. Waiters are served in order.
    """

    __slots__ = ("capacity", "free", "waiters")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.free = capacity
        self.waiters: deque[asyncio.Future[None]] = deque()

    async def wait(self, timeout: float) -> bool:
        """Take a slot, waiting up to *timeout* seconds; ``False`` on timeout."""
        if self.free > 0 and not self.waiters:
            self.free -= 1
            return True
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self.waiters.append(waiter)
        handle = loop.call_later(timeout, _expire, waiter)
        try:
            await waiter
        except asyncio.TimeoutError:
            return False
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self.release()  # the slot was handed to us as we were cancelled
            raise
        finally:
            handle.cancel()
            try:
                self.waiters.remove(waiter)
            except ValueError:
                pass
        return True

    def release(self) -> None:
        """Give a slot back, handing it to the oldest live waiter if there is one."""
        waiters = self.waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes directly to the waiter
                return
        self.free += 1

    @property
    def in_use(self) -> int:
        """Slots currently taken."""
        return self.capacity - self.free


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(asyncio.TimeoutError())
