"""Errors raised by the event bus and the record of a failed handler."""

from __future__ import annotations

import traceback
from typing import Any

from pepperpy.core.exceptions import PepperPyError, safe_repr

__all__ = ["BackpressureError", "EventError", "HandlerError"]


class EventError(PepperPyError):
    """The root of the errors the event bus raises on purpose."""

    code = "pepperpy.event"


class BackpressureError(EventError):
    """A queued subscription is full and its policy is ``"error"``."""

    code = "pepperpy.event.backpressure"
    retryable = True


class HandlerError(EventError):
    """A handler raised while handling an event.

    The handler's exception is chained as ``__cause__`` and kept in
    :attr:`cause`; :attr:`traceback` is its formatted traceback, so the record
    stays useful after it has been stored, logged or sent to a dead-letter topic.

    Attributes:
        handler: The handler's name (its qualified name).
        topic: The topic the event was published on.
        event: The published event (or payload).
        cause: The handler's exception.
        traceback: The formatted traceback of *cause*.
        errors: With the ``"raise"`` policy, every handler error of the publish.
    """

    code = "pepperpy.event.handler_failed"

    def __init__(self, handler: str, topic: str, event: Any, cause: BaseException) -> None:
        super().__init__(
            f"handler {handler!r} failed on {topic!r}: {type(cause).__name__}: {cause}",
            context={"handler": handler, "topic": topic, "event": safe_repr(event)},
            hint="Fix the handler; other handlers still received the event.",
        )
        self.handler = handler
        self.topic = topic
        self.event = event
        self.cause = cause
        self.traceback = "".join(
            traceback.format_exception(type(cause), cause, cause.__traceback__)
        )
        self.errors: list[HandlerError] = [self]
        self.__cause__ = cause
