"""The :class:`Pipeline` builder: fluent steps, one-item processing, streams."""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable, Hashable, Iterable, Mapping
from concurrent.futures import Executor
from contextlib import aclosing
from typing import Any, Generic, TypeVar, cast, overload

import attrs

from pepperpy.core.exceptions import InvalidArgumentError, safe_repr
from pepperpy.core.types import MISSING, Clock, Missing, system_clock
from pepperpy.core.utils import RetryPolicy
from pepperpy.pipeline._errors import ItemDroppedError, PipelineError
from pepperpy.pipeline._step import (
    DROP,
    DeadLetterSink,
    ErrorPolicy,
    Hook,
    Step,
    StepKind,
    StepStats,
    _check_int,
    _check_positive,
    _Many,
)
from pepperpy.pipeline._stream import PipelineStream

__all__ = ["Pipeline", "PipelineDescription", "StepInfo"]

In = TypeVar("In")
Out = TypeVar("Out")
R = TypeVar("R")

_DEFAULT_BUFFER = 64


@attrs.frozen
class StepInfo:
    """How one step is configured, as shown by :meth:`Pipeline.describe`."""

    name: str
    kind: str
    concurrency: int
    on_error: str
    retry_attempts: int
    buffer: int | None

    def __str__(self) -> str:
        extras = [self.kind]
        if self.concurrency > 1:
            extras.append(f"concurrency={self.concurrency}")
        if self.retry_attempts > 1:
            extras.append(f"retry={self.retry_attempts}")
        if self.on_error != "fail":
            extras.append(f"on_error={self.on_error}")
        return f"{self.name}({', '.join(extras)})"


@attrs.frozen
class PipelineDescription:
    """A pipeline's name and steps, for logs and docs (``str()`` renders one line)."""

    name: str
    steps: tuple[StepInfo, ...]
    buffer: int
    ordered: bool

    def __str__(self) -> str:
        chain = " -> ".join(str(step) for step in self.steps) or "(empty)"
        return f"{self.name}: {chain}"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict of the description."""
        return attrs.asdict(self, recurse=True)


def _step_name(fn: object, fallback: str) -> str:
    name = getattr(fn, "__name__", None)
    if not isinstance(name, str) or name == "<lambda>":
        return fallback
    return name


class Pipeline(Generic[In, Out]):
    """A chain of steps that items flow through, one at a time or as a stream.

    Build it fluently (each method adds a step and returns the pipeline)::

        pipeline = Pipeline().add_step(parse).add_step(enrich, concurrency=8)
        result = await pipeline.process(item)            # one item
        async with pipeline.stream(source) as results:   # many, concurrently
            async for result in results: ...

    Steps may be sync or async functions. A step drops an item by returning
    :data:`DROP` (or use :meth:`filter`), and fans out with :meth:`flat_map`.
    ``a | b`` builds a new pipeline running ``a``'s steps then ``b``'s, and a
    pipeline passed to :meth:`add_step` is inlined, so its steps keep their
    own concurrency in a stream.

    Args:
        name: Shown by :meth:`describe` and in metrics events.
        buffer: Capacity of the queue on every edge of a stream (backpressure).
        ordered: Whether streams keep the input order by default.
        dead_letter: Default sink for steps using ``on_error="dead_letter"``.
        clock: Clock for :meth:`rate_limit` steps (a ``ManualClock`` in tests).
    """

    def __init__(
        self,
        name: str = "pipeline",
        *,
        buffer: int = _DEFAULT_BUFFER,
        ordered: bool = True,
        dead_letter: DeadLetterSink | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.name = name
        self.buffer = _check_int("buffer", buffer)
        self.ordered = ordered
        self.dead_letter = dead_letter
        self.clock = clock
        self._steps: list[Step] = []
        self._hooks: list[Hook] = []

    # ------------------------------------------------------------------ building

    def _unique(self, name: str) -> str:
        taken = {step.name for step in self._steps}
        if name not in taken:
            return name
        n = 2
        while f"{name}_{n}" in taken:
            n += 1
        return f"{name}_{n}"

    def _add(self, step: Step) -> None:
        step.name = self._unique(step.name)
        step.pipeline_name = self.name
        step.hooks = self._hooks
        if step.on_error == "dead_letter" and step.dead_letter is None:
            if self.dead_letter is None:
                raise InvalidArgumentError(
                    f"step {step.name!r} uses on_error='dead_letter' but no sink is set",
                    context={"step": step.name},
                    hint="Pass dead_letter=callable to the step or to Pipeline(...).",
                )
            step.dead_letter = self.dead_letter
        self._steps.append(step)

    def _make(
        self,
        fn: Callable[[Any], Any] | None,
        kind: StepKind,
        name: str | None,
        **options: Any,
    ) -> Pipeline[Any, Any]:
        fallback = f"{kind.value}{len(self._steps) + 1}"
        self._add(Step(fn, name=name or _step_name(fn, fallback), kind=kind, **options))
        return self

    @overload
    def add_step(
        self,
        fn: Pipeline[Out, R],
        *,
        name: str | None = ...,
        concurrency: int = ...,
        retry: RetryPolicy | int | None = ...,
        on_error: ErrorPolicy = ...,
        dead_letter: DeadLetterSink | None = ...,
        thread: bool = ...,
        executor: Executor | None = ...,
        timeout: float | None = ...,
        buffer: int | None = ...,
    ) -> Pipeline[In, R]: ...

    @overload
    def add_step(
        self,
        fn: Callable[[Out], Awaitable[R]],
        *,
        name: str | None = ...,
        concurrency: int = ...,
        retry: RetryPolicy | int | None = ...,
        on_error: ErrorPolicy = ...,
        dead_letter: DeadLetterSink | None = ...,
        thread: bool = ...,
        executor: Executor | None = ...,
        timeout: float | None = ...,
        buffer: int | None = ...,
    ) -> Pipeline[In, R]: ...

    @overload
    def add_step(
        self,
        fn: Callable[[Out], R],
        *,
        name: str | None = ...,
        concurrency: int = ...,
        retry: RetryPolicy | int | None = ...,
        on_error: ErrorPolicy = ...,
        dead_letter: DeadLetterSink | None = ...,
        thread: bool = ...,
        executor: Executor | None = ...,
        timeout: float | None = ...,
        buffer: int | None = ...,
    ) -> Pipeline[In, R]: ...

    def add_step(
        self,
        fn: Pipeline[Any, Any] | Callable[[Any], Any],
        *,
        name: str | None = None,
        concurrency: int = 1,
        retry: RetryPolicy | int | None = None,
        on_error: ErrorPolicy = "fail",
        dead_letter: DeadLetterSink | None = None,
        thread: bool = False,
        executor: Executor | None = None,
        timeout: float | None = None,
        buffer: int | None = None,
    ) -> Pipeline[In, Any]:
        """Add a step mapping each item to one output; return this pipeline.

        Args:
            fn: A sync or async function of one item, or a :class:`Pipeline`
                (its steps are inlined). Return :data:`DROP` to drop the item.
            name: The step's name (default: the function's ``__name__``).
            concurrency: How many items the step works on at once in a stream.
            retry: A :class:`~pepperpy.core.utils.RetryPolicy`, or a number of
                attempts, applied before the error policy.
            on_error: ``"fail"`` (default), ``"skip"`` or ``"dead_letter"``.
            dead_letter: Sink receiving a :class:`StepFailure` (sync or async).
            thread: Run a sync function in a worker thread (blocking work).
            executor: Run a sync function in this executor, e.g. a
                ``ProcessPoolExecutor`` for CPU-bound work (*fn* and items
                must pickle). You own the executor and shut it down.
            timeout: Seconds allowed per call; a slower call fails with
                :class:`~pepperpy.core.OperationTimeoutError` (retryable).
            buffer: Capacity of this step's input queue (default: the pipeline's).
        """
        if isinstance(fn, Pipeline):
            for step in fn._steps:
                self._add(step.copy())
            return self
        return self._make(
            fn,
            StepKind.MAP,
            name,
            concurrency=concurrency,
            retry=retry,
            on_error=on_error,
            dead_letter=dead_letter,
            thread=thread,
            executor=executor,
            timeout=timeout,
            buffer=buffer,
        )

    map = add_step

    def filter(
        self,
        predicate: Callable[[Out], Any],
        *,
        name: str | None = None,
        concurrency: int = 1,
        retry: RetryPolicy | int | None = None,
        on_error: ErrorPolicy = "fail",
        dead_letter: DeadLetterSink | None = None,
        thread: bool = False,
    ) -> Pipeline[In, Out]:
        """Keep only the items for which *predicate* (sync or async) is true."""
        return self._make(
            predicate,
            StepKind.FILTER,
            name,
            concurrency=concurrency,
            retry=retry,
            on_error=on_error,
            dead_letter=dead_letter,
            thread=thread,
        )

    def flat_map(
        self,
        fn: Callable[[Out], Iterable[R] | AsyncIterable[R] | Awaitable[Iterable[R]]],
        *,
        name: str | None = None,
        concurrency: int = 1,
        retry: RetryPolicy | int | None = None,
        on_error: ErrorPolicy = "fail",
        dead_letter: DeadLetterSink | None = None,
        thread: bool = False,
    ) -> Pipeline[In, R]:
        """Replace each item by every item of the iterable *fn* returns (fan-out).

        An empty result drops the item. *fn* may return a list, any iterable,
        an async iterable, or be async and return an iterable.
        """
        return self._make(
            fn,
            StepKind.FLAT_MAP,
            name,
            concurrency=concurrency,
            retry=retry,
            on_error=on_error,
            dead_letter=dead_letter,
            thread=thread,
        )

    def batch(
        self, size: int, *, timeout: float | None = None, name: str | None = None
    ) -> Pipeline[In, list[Out]]:
        """Group items into lists of *size*; the last list may be shorter.

        With *timeout* (seconds), a partial batch is emitted when no new item
        completes it in time. :meth:`process` sees a batch of one.
        """
        _check_int("size", size)
        if timeout is not None:
            _check_positive("timeout", timeout)
        return self._make(
            None,
            StepKind.BATCH,
            name or f"batch{len(self._steps) + 1}",
            batch_size=size,
            batch_timeout=timeout,
        )

    def rate_limit(
        self, rate: float, *, per: float = 1.0, burst: int = 1, name: str | None = None
    ) -> Pipeline[In, Out]:
        """Let at most *rate* items per *per* seconds through (*burst* may run ahead).

        Time and sleeps come from the pipeline's clock.
        """
        _check_positive("rate", rate)
        _check_positive("per", per)
        _check_int("burst", burst)
        return self._make(
            None,
            StepKind.RATE_LIMIT,
            name or f"rate_limit{len(self._steps) + 1}",
            interval=per / rate,
            burst=burst,
            clock=self.clock,
        )

    def branch(
        self,
        *branches: Pipeline[Out, Any],
        name: str | None = None,
        concurrency: int = 1,
        on_error: ErrorPolicy = "fail",
        dead_letter: DeadLetterSink | None = None,
    ) -> Pipeline[In, Any]:
        """Send every item through each of *branches* and merge their outputs.

        For one item, the outputs come in branch order; a branch that drops
        the item contributes nothing.
        """
        if not branches or not all(isinstance(b, Pipeline) for b in branches):
            raise InvalidArgumentError(
                "branch() needs one or more Pipeline objects",
                context={"branches": safe_repr(branches)},
                hint="Pass pipelines: .branch(Pipeline().add_step(a), Pipeline().add_step(b)).",
            )

        async def run_branches(item: Any) -> _Many:
            outputs: list[Any] = []
            for sub in branches:
                outputs.extend(await sub.process_all(item))
            return _Many(outputs)

        return self._make(
            run_branches,
            StepKind.BRANCH,
            name or f"branch{len(self._steps) + 1}",
            concurrency=concurrency,
            on_error=on_error,
            dead_letter=dead_letter,
        )

    def route(
        self,
        key: Callable[[Out], Hashable],
        routes: Mapping[Hashable, Pipeline[Out, Any]],
        *,
        default: Pipeline[Out, Any] | None = None,
        name: str | None = None,
        concurrency: int = 1,
        on_error: ErrorPolicy = "fail",
        dead_letter: DeadLetterSink | None = None,
    ) -> Pipeline[In, Any]:
        """Send each item through the one pipeline chosen by ``routes[key(item)]``.

        Items whose key has no route go to *default*, or are dropped without one.
        """
        table = dict(routes)

        async def run_route(item: Any) -> _Many:
            sub = table.get(key(item), default)
            if sub is None:
                return _Many([])
            return _Many(await sub.process_all(item))

        return self._make(
            run_route,
            StepKind.BRANCH,
            name or f"route{len(self._steps) + 1}",
            concurrency=concurrency,
            on_error=on_error,
            dead_letter=dead_letter,
        )

    def add_hook(self, hook: Callable[[Any], Any]) -> Pipeline[In, Out]:
        """Call ``hook(StepEvent)`` after every step call (count, error, latency)."""
        self._hooks.append(hook)
        return self

    def __or__(self, other: Pipeline[Out, R] | Callable[[Out], Any]) -> Pipeline[In, Any]:
        combined: Pipeline[In, Any] = Pipeline(
            self.name,
            buffer=self.buffer,
            ordered=self.ordered,
            dead_letter=self.dead_letter,
            clock=self.clock,
        )
        combined.add_step(self)
        combined.add_step(other)
        return combined

    # ------------------------------------------------------------------ running

    @property
    def steps(self) -> tuple[str, ...]:
        """The step names, in order."""
        return tuple(step.name for step in self._steps)

    async def process_all(self, item: In) -> list[Out]:
        """Run one item through every step and return all its outputs.

        The list is empty when a step dropped the item, and longer than one
        after a fan-out.

        Raises:
            StepError: A step failed and its error policy is ``"fail"``.
        """
        items: list[Any] = [item]
        for step in self._steps:
            produced: list[Any] = []
            for value in items:
                out = await step.run(value)
                if out is DROP:
                    continue
                if type(out) is _Many:
                    async with aclosing(step.expand(out)) as values:
                        produced.extend([v async for v in values])
                else:
                    produced.append(out)
            items = produced
            if not items:
                break
        return items

    async def process(self, item: In, *, default: Out | Missing = MISSING) -> Out:
        """Run one item through every step and return the single output.

        Args:
            item: The input.
            default: Returned when a step drops the item; without it,
                :class:`ItemDroppedError` is raised.

        Raises:
            StepError: A step failed and its error policy is ``"fail"``.
            ItemDroppedError: A step dropped the item and no default was given.
            PipelineError: A fan-out produced several outputs (use :meth:`process_all`).
        """
        value: Any = item
        for index, step in enumerate(self._steps):
            out = await step.run(value)
            if out is DROP:
                return cast("Out", self._dropped(item, step.name, default))
            if type(out) is _Many:
                rest = Pipeline[Any, Any](self.name)
                rest._steps = self._steps[index + 1 :]
                outputs: list[Any] = []
                async with aclosing(step.expand(out)) as values:
                    async for sub in values:
                        outputs.extend(await rest.process_all(sub))
                if not outputs:
                    return cast("Out", self._dropped(item, step.name, default))
                if len(outputs) > 1:
                    raise PipelineError(
                        f"pipeline {self.name!r} produced {len(outputs)} outputs for one item",
                        context={"pipeline": self.name, "outputs": len(outputs)},
                        hint="Use process_all() for pipelines that fan out.",
                    )
                return cast("Out", outputs[0])
            value = out
        return cast("Out", value)

    def _dropped(self, item: Any, step: str, default: Any) -> Any:
        if default is not MISSING:
            return default
        raise ItemDroppedError(
            f"step {step!r} dropped the item, so pipeline {self.name!r} has no output",
            context={"pipeline": self.name, "step": step, "item": safe_repr(item)},
            hint="Pass default=... to process(), or use process_all() to get a list.",
        )

    def stream(
        self,
        source: AsyncIterable[In] | Iterable[In],
        *,
        ordered: bool | None = None,
        buffer: int | None = None,
    ) -> PipelineStream[Out]:
        """Run many items through the steps concurrently; iterate the outputs.

        Every step runs as its own set of ``concurrency`` tasks; a bounded
        queue of *buffer* items sits on every edge, so a slow step slows the
        source instead of growing memory. With *ordered* (the default), each
        concurrent step restores input order through a reorder window of
        *buffer* items and keeps taking new work while a slow head item runs.

        Use it as ``async with pipeline.stream(src) as out: async for x in out``
        so that leaving the block early always stops the stages.
        """
        if buffer is not None:
            _check_int("buffer", buffer)
        if not isinstance(source, (AsyncIterable, Iterable)):
            raise InvalidArgumentError(
                f"stream() needs an iterable or async iterable, got {type(source).__name__}",
                hint="Pass a list, a generator or an async generator of items.",
            )
        return PipelineStream(
            list(self._steps),
            source,
            ordered=self.ordered if ordered is None else ordered,
            buffer=buffer or self.buffer,
        )

    # ------------------------------------------------------------------ introspection

    def describe(self) -> PipelineDescription:
        """Return the steps with their kind, concurrency and error policy."""
        return PipelineDescription(
            self.name,
            tuple(
                StepInfo(
                    step.name,
                    step.kind.value,
                    step.concurrency,
                    step.on_error,
                    step.retry.attempts if step.retry is not None else 1,
                    step.buffer,
                )
                for step in self._steps
            ),
            self.buffer,
            self.ordered,
        )

    def stats(self) -> dict[str, StepStats]:
        """Return a snapshot of every step's :class:`StepStats`, by step name."""
        return {step.name: attrs.evolve(step.stats) for step in self._steps}

    def reset_stats(self) -> None:
        """Zero every step's counters."""
        for step in self._steps:
            step.stats = StepStats()

    def __len__(self) -> int:
        return len(self._steps)

    def __repr__(self) -> str:
        return f"<Pipeline {self.describe()}>"
