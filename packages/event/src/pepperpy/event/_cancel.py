"""Telling a handler's failure from the cancellation of the loop that called it."""

from __future__ import annotations

import asyncio

from pepperpy.core.utils import cancel_requested

__all__ = ["HAS_CANCELLING", "is_handler_failure"]

HAS_CANCELLING = hasattr(asyncio.Task, "cancelling")
"""Whether ``Task.cancelling()`` exists (Python 3.11+) to tell a task's own cancellation."""


def is_handler_failure(exc: BaseException, *, stopping: bool | None) -> bool:
    """Whether *exc*, raised by a handler, is that handler's failure.

    A failure is recorded and the calling loop goes on. The loop's own
    cancellation is not a failure, and neither are ``KeyboardInterrupt`` and
    ``SystemExit`` (asyncio stops the event loop for them). A
    ``CancelledError`` nobody asked this task for (the handler awaited a
    future somebody else cancelled) is a failure, as are ``GeneratorExit`` and
    any other ``BaseException``.

    *stopping* is the caller's own stop flag, set before it cancels its
    tasks, or ``None`` when it cannot have one (code running in the caller's
    task). Whether the task was asked to stop is
    :func:`pepperpy.core.utils.cancel_requested`; without ``Task.cancelling()``
    (Python 3.10) it knows only the flag, so a ``CancelledError`` with no flag
    to judge by is taken to be the caller's own cancellation.
    """
    if isinstance(exc, (KeyboardInterrupt, SystemExit)):
        return False
    if not isinstance(exc, asyncio.CancelledError):
        return True
    if cancel_requested(stopping):
        return False
    return HAS_CANCELLING or stopping is not None
