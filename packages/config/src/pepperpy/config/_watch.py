"""Reload a configuration when its files change, atomically, with callbacks."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

from pepperpy.config._config import _raise_first
from pepperpy.config._errors import ConfigError
from pepperpy.core.exceptions import InvalidArgumentError, safe_repr
from pepperpy.core.types import Clock, Lifecycle, system_clock
from pepperpy.core.utils import call_maybe_async, cancel_requested

_CAN_TELL = hasattr(asyncio.Task, "cancelling")  # Python 3.11+

__all__ = ["ConfigWatcher"]


class ConfigWatcher(Lifecycle):
    """Polls a :class:`~pepperpy.config.Config`'s files and reloads it when they change.

    A change (modification time or size of a file, ``.env`` or secrets
    directory entry) triggers a full load in a worker thread. Only a
    configuration that loads and validates completely replaces the current
    one, in a single assignment; otherwise the old one stays, the error is
    kept in :attr:`last_reload_error` and passed to *on_error*. After a
    successful swap the config's ``on_change`` callbacks run (sync or async)
    with the set of changed keys.

    Args:
        config: The configuration to keep fresh.
        interval: Seconds between checks.
        clock: Where time comes from (a ``ManualClock`` in tests).
        on_error: Called with the ``ConfigError`` of a rejected reload.
    """

    def __init__(
        self,
        config: Any,
        *,
        interval: float = 1.0,
        clock: Clock = system_clock,
        on_error: Callable[[BaseException], Any] | None = None,
    ) -> None:
        if (
            isinstance(interval, bool)
            or not isinstance(interval, (int, float))
            or not 0 < interval < math.inf  # False for NaN too
        ):
            raise InvalidArgumentError(
                f"interval must be a finite number of seconds > 0, got {safe_repr(interval)}",
                context={"interval": safe_repr(interval)},
                hint="Use e.g. 1.0.",
            )
        self.config = config
        self.interval = interval
        self.clock = clock
        self.on_error = on_error
        self.reloads = 0
        self.rejected = 0
        self.last_reload_error: BaseException | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._applying: set[asyncio.Task[bool]] = set()
        self._signature: Any = None

    async def _on_start(self) -> None:
        self._stopping = False
        self._signature = await asyncio.to_thread(self.config._signature)
        self._task = asyncio.create_task(self._run(), name="pepperpy.config.watch")

    async def _on_stop(self) -> None:
        task, self._task = self._task, None
        self._stopping = True  # before the cancel: on Python 3.10 this flag tells it apart
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        # A reload left running by a cancelled check(): stopping ends it too (a
        # callback that never returns must not hang the shutdown).
        for pending in list(self._applying):
            pending.cancel()
        if self._applying:
            await asyncio.gather(*self._applying, return_exceptions=True)

    async def check(self) -> bool:
        """Check the files now; reload if they changed. Returns whether a reload happened.

        Once a change is seen, reloading and running every callback is one step
        a cancellation cannot split: a cancelled caller leaves it running to
        its end (:meth:`stop` cancels it), since the new values and file
        signature are recorded and no later check would repeat the change.
        """
        signature = await asyncio.to_thread(self.config._signature)
        if signature == self._signature:
            return False
        self._signature = signature
        task = asyncio.ensure_future(self._apply())
        self._applying.add(task)
        task.add_done_callback(self._applied)
        return await asyncio.shield(task)

    def _applied(self, task: asyncio.Task[bool]) -> None:
        self._applying.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: the caller (if still there) got it

    async def _apply(self) -> bool:
        try:
            changed, callbacks = await asyncio.to_thread(self.config._reload_sync)
        except ConfigError as exc:
            self.rejected += 1
            self.last_reload_error = exc
            if self.on_error is not None:
                await call_maybe_async(self.on_error, exc)
            return False
        self.reloads += 1
        self.last_reload_error = None
        errors: list[Exception] = []
        for callback in callbacks:
            try:
                await call_maybe_async(callback, self.config, changed)
            except Exception as exc:  # the others still hear of the change
                errors.append(exc)
        _raise_first(errors)
        return True

    async def _run(self) -> None:
        while True:
            await self.clock.sleep(self.interval)
            try:
                await self.check()
            except BaseException as exc:  # user callbacks ran: only our own stop ends the loop
                if self._ends_the_loop(exc):
                    raise
                await self._report(exc)

    def _ends_the_loop(self, exc: BaseException) -> bool:
        """Whether *exc* ends the polling loop.

        The loop's own cancellation (and KeyboardInterrupt/SystemExit) ends it; anything
        else a callback or on_error raised, a CancelledError included, is reported.
        """
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            return True
        if not isinstance(exc, asyncio.CancelledError):
            return False
        # Python 3.10 has no Task.cancelling(): without our stop flag it cannot tell a
        # CancelledError a callback raised from a cancel of this task, so it stops.
        return cancel_requested(self._stopping) or not _CAN_TELL

    async def _report(self, exc: BaseException) -> None:
        self.last_reload_error = exc
        if self.on_error is None:
            return
        try:
            await call_maybe_async(self.on_error, exc)
        except BaseException as error:  # a broken on_error must not stop the watcher either
            if self._ends_the_loop(error):
                raise
