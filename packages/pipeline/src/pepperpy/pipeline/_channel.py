"""The bounded queue on every edge of a stream.

``asyncio.Queue`` spends most of a stream's time in layers a stream never
uses (``full()`` calling ``qsize()`` calling ``len()``, ``task_done``
bookkeeping, a ``_get_loop`` check on every wait): profiled, its put/get pair
was about two thirds of a 3-step stream. :class:`Channel` keeps the same
waiting discipline (FIFO waiters, cancellation-safe, a woken waiter that is
cancelled hands its wake-up on) with one Python frame per ``put``/``get``.
"""

from __future__ import annotations

import asyncio
import sys
from collections import deque
from typing import Any

__all__ = ["Channel"]


def _wake_next(waiters: deque[asyncio.Future[None]]) -> None:
    """Wake the first waiter still waiting (cancelled ones are skipped)."""
    while waiters:
        waiter = waiters.popleft()
        if not waiter.done():
            waiter.set_result(None)
            return


class Channel:
    """A bounded FIFO of items between two stages of one stream (one event loop).

    A *maxsize* of 0 or less means unbounded, as for ``asyncio.Queue``.
    """

    __slots__ = ("_getters", "_items", "_maxsize", "_putters")

    def __init__(self, maxsize: int) -> None:
        self._items: deque[Any] = deque()
        self._maxsize = maxsize if maxsize > 0 else sys.maxsize
        self._getters: deque[asyncio.Future[None]] = deque()
        self._putters: deque[asyncio.Future[None]] = deque()

    def empty(self) -> bool:
        """Whether no item is waiting."""
        return not self._items

    def qsize(self) -> int:
        """How many items are waiting."""
        return len(self._items)

    async def put(self, item: Any) -> None:
        """Append *item*, waiting while the channel holds ``maxsize`` items."""
        items = self._items
        while len(items) >= self._maxsize:
            putter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._putters.append(putter)
            try:
                await putter
            except BaseException:
                putter.cancel()
                try:
                    self._putters.remove(putter)
                except ValueError:
                    pass  # already popped by the get that woke it
                if len(items) < self._maxsize and not putter.cancelled():
                    _wake_next(self._putters)  # pass on the slot we were woken for
                raise
        items.append(item)
        if self._getters:
            _wake_next(self._getters)

    def put_nowait(self, item: Any) -> None:
        """Append *item* now, even past ``maxsize`` (for end and error markers)."""
        self._items.append(item)
        if self._getters:
            _wake_next(self._getters)

    async def get(self) -> Any:
        """Remove and return the oldest item, waiting while there is none."""
        items = self._items
        while not items:
            getter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._getters.append(getter)
            try:
                await getter
            except BaseException:
                getter.cancel()
                try:
                    self._getters.remove(getter)
                except ValueError:
                    pass  # already popped by the put that woke it
                if items and not getter.cancelled():
                    _wake_next(self._getters)  # pass on the item we were woken for
                raise
        item = items.popleft()
        if self._putters:
            _wake_next(self._putters)
        return item

    def get_nowait(self) -> Any:
        """Remove and return the oldest item; the channel must not be empty."""
        item = self._items.popleft()
        if self._putters:
            _wake_next(self._putters)
        return item
