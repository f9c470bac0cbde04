"""Telling a handler's failure from the cancellation of the loop that called it."""

from __future__ import annotations

import asyncio

__all__ = ["cancel_requested", "is_handler_failure"]


def cancel_requested(stopping: bool | None = None) -> bool:
    """Whether the current task was asked to stop.

    *stopping* is the caller's own stop flag (``None`` when it has none). On
    Python 3.11+ ``Task.cancelling()`` answers too; on 3.10 only the flag can.
    """
    if stopping:
        return True
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)
    return bool(cancelling()) if cancelling is not None else False


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
    task). Without ``Task.cancelling()`` (Python 3.10) and without a flag, a
    ``CancelledError`` is taken to be the caller's own cancellation.
    """
    if isinstance(exc, (KeyboardInterrupt, SystemExit)):
        return False
    if not isinstance(exc, asyncio.CancelledError):
        return True
    if stopping:
        return False
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)
    if cancelling is None:  # Python 3.10
        return stopping is not None
    return not cancelling()
