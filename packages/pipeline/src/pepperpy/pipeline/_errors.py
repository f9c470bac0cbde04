"""Errors raised by pipelines and the record handed to dead-letter sinks."""

from __future__ import annotations

from typing import Any

import attrs

from pepperpy.core.exceptions import (
    ErrorCatalogue,
    ErrorCode,
    OperationTimeoutError,
    PepperPyError,
    safe_repr,
)

__all__ = ["ERRORS", "ItemDroppedError", "PipelineError", "StepError", "StepFailure"]


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:
        return safe_repr(exc)


class PipelineError(PepperPyError):
    """The root of the errors a pipeline raises on purpose."""

    code = "pepperpy.pipeline"


class StepError(PipelineError):
    """A step failed on an item and its error policy says to stop.

    The original exception is chained as ``__cause__`` and also available as
    :attr:`cause`. The item is kept on :attr:`item` but never rendered (its
    type is): an item may hold secrets, and the error reaches logs.

    Attributes:
        item: The item the step was given.
        step: The name of the step.
        attempts: How many times the step was called for this item.
    """

    code = "pepperpy.pipeline.step_failed"

    def __init__(self, item: Any, step: str, cause: BaseException, *, attempts: int = 1) -> None:
        super().__init__(
            f"step {step!r} failed on a {type(item).__name__} item: "
            f"{type(cause).__name__}: {_safe_str(cause)}",
            context={"step": step, "item_type": type(item).__name__, "attempts": attempts},
            hint="Fix the step, or give it on_error='skip'/'dead_letter' or a retry policy.",
        )
        self.item = item
        self.step = step
        self.attempts = attempts
        self.cause = cause
        self.__cause__ = cause


class ItemDroppedError(PipelineError, LookupError):
    """:meth:`Pipeline.process` produced no output because a step dropped the item."""

    code = "pepperpy.pipeline.dropped"


@attrs.frozen
class StepFailure:
    """What a dead-letter sink receives for an item a step could not handle.

    Attributes:
        item: The item the step was given.
        step: The name of the failing step.
        error: The exception raised by the last attempt.
        attempts: How many times the step was called for this item.
    """

    item: Any = attrs.field(repr=False)  # may hold secrets; never rendered
    step: str
    error: BaseException
    attempts: int = 1


ERRORS = ErrorCatalogue(
    "pepperpy.pipeline",
    ErrorCode(
        "pepperpy.pipeline",
        PipelineError,
        "A pipeline failed with no more specific code (PipelineError's default).",
        "Read the message and the hint.",
    ),
    ErrorCode(
        "pepperpy.pipeline.step_failed",
        StepError,
        "A step failed on an item (after its retries) and its on_error is 'fail'.",
        "Fix the step (the cause is chained), or give it retry=, on_error='skip' or 'dead_letter'.",
    ),
    ErrorCode(
        "pepperpy.pipeline.dropped",
        ItemDroppedError,
        "Pipeline.process() produced no output: a step dropped the item.",
        "Pass default= to process(), or use process_all() to get a list.",
    ),
    ErrorCode(
        "pepperpy.pipeline.aborted",
        PipelineError,
        "A step or source raised a BaseException (CancelledError, GeneratorExit) that "
        "is not an Exception; the stream was stopped.",
        "Make steps and sources raise Exception subclasses; the original is chained.",
    ),
    ErrorCode(
        "pepperpy.pipeline.step_timeout",
        OperationTimeoutError,
        "A call of a step took longer than its timeout=.",
        "Raise timeout=, or give the step a retry policy (the timeout is retryable).",
    ),
)
"""The error codes pepperpy-pipeline raises: ``ERRORS[error.code]`` says what one
means and what to do (arguments refused use core's ``pepperpy.invalid_argument``)."""
