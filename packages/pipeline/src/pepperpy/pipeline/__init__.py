"""Composable, typed, async data pipelines with real backpressure.

Build a :class:`Pipeline` from sync or async steps, run one item with
:meth:`Pipeline.process` or many with :meth:`Pipeline.stream` (per-step
concurrency, bounded queues on every edge, ordered output through a bounded
reorder window). Each step has an error policy (retry, skip, dead-letter,
fail fast) and its own metrics.
"""

from pepperpy.pipeline._errors import (
    ERRORS,
    ItemDroppedError,
    PipelineError,
    StepError,
    StepFailure,
)
from pepperpy.pipeline._pipeline import Pipeline, PipelineDescription, StepInfo
from pepperpy.pipeline._step import DROP, ErrorPolicy, StepEvent, StepKind, StepStats
from pepperpy.pipeline._stream import PipelineStream, merge
from pepperpy.pipeline._version import __version__

__all__ = [
    "DROP",
    "ERRORS",
    "ErrorPolicy",
    "ItemDroppedError",
    "Pipeline",
    "PipelineDescription",
    "PipelineError",
    "PipelineStream",
    "StepError",
    "StepEvent",
    "StepFailure",
    "StepInfo",
    "StepKind",
    "StepStats",
    "__version__",
    "merge",
]
