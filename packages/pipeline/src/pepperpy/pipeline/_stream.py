"""The streaming runtime: one task group per run, a bounded queue on every edge."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Iterable,
    Sequence,
)
from contextlib import aclosing
from types import TracebackType
from typing import Any, Generic, TypeVar

from pepperpy.core.utils import cancel_requested
from pepperpy.pipeline._channel import Channel
from pepperpy.pipeline._errors import PipelineError
from pepperpy.pipeline._step import DROP, Step, StepKind, _Many

__all__ = ["PipelineStream", "merge"]

T = TypeVar("T")


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


_END = _Marker("END")
_ERROR = _Marker("ERROR")
_FLUSHED = _Marker("FLUSHED")  # a batch was emitted because its time ran out


def _own_cancel(exc: BaseException, stopping: bool) -> bool:
    """Whether *exc* cancels the running task itself (so it must propagate).

    A ``CancelledError`` raised by user code (a step that awaited a future
    someone else cancelled) is not the task's own cancellation; core's
    :func:`~pepperpy.core.utils.cancel_requested` tells them apart (the run's
    *stopping* flag, else ``Task.cancelling()`` on 3.11+).
    """
    return isinstance(exc, asyncio.CancelledError) and cancel_requested(stopping)


def _as_error(exc: BaseException, where: str | None) -> BaseException:
    """Exceptions pass as they are; other BaseExceptions from user code are wrapped.

    ``KeyboardInterrupt`` and ``SystemExit`` reach the consumer unchanged. A
    ``CancelledError``, ``GeneratorExit`` or other ``BaseException`` raised by a step
    or a source becomes a :class:`PipelineError` (cause chained), so the consumer is
    not mistaken for cancelled and the stream ends cleanly.
    """
    if isinstance(exc, (Exception, KeyboardInterrupt, SystemExit)):
        return exc
    origin = f"step {where!r}" if where is not None else "the source"
    error = PipelineError(
        f"{origin} raised {type(exc).__name__}; the stream was stopped",
        code="pepperpy.pipeline.aborted",
        context={"step": where, "exception": type(exc).__name__},
        hint="Steps and sources should raise Exception subclasses; a CancelledError or "
        "GeneratorExit from user code ends the stream.",
    )
    error.__cause__ = exc
    return error


class _Stage:
    """Runs one step over its input queue with `concurrency` workers."""

    def __init__(
        self,
        run: _Run,
        step: Step,
        inq: Channel,
        outq: Channel,
        ordered: bool,
        window: int,
    ) -> None:
        self.r = run
        self.step = step
        self.inq = inq
        self.outq = outq
        self.active = 1 if step.kind in (StepKind.BATCH, StepKind.RATE_LIMIT) else step.concurrency
        self.ordered = ordered and self.active > 1
        self.window = max(window, self.active)
        self.counter = 0
        self.next_emit = 0
        self.done: dict[int, Any] = {}
        self.waiter: asyncio.Future[None] | None = None

    def workers(self) -> list[Any]:
        if self.step.kind is StepKind.BATCH:
            return [self._batch_worker()]
        make = self._ordered_worker if self.ordered else self._worker
        return [make() for _ in range(self.active)]

    async def _finish(self) -> None:
        self.active -= 1
        if self.active == 0:
            await self.outq.put(_END)
        else:
            self.inq.put_nowait(_END)  # let the next worker see the end too

    async def _worker(self) -> None:
        get = self.inq.get
        put = self.outq.put
        run = self.step.run
        try:
            while True:
                item = await get()
                if item is _END:
                    await self._finish()
                    return
                out = await run(item)
                if out is DROP:
                    continue
                if type(out) is _Many:
                    await self._expand(out)
                else:
                    await put(out)
        except BaseException as exc:
            if self.r.own_cancel(exc):
                raise
            self.r.fail(exc, self.step.name)

    async def _expand(self, out: _Many) -> None:
        """Put every output of a fan-out, closing a lazy one if the stage stops early."""
        put = self.outq.put
        async with aclosing(self.step.expand(out)) as values:
            async for value in values:
                await put(value)

    async def _ordered_worker(self) -> None:
        get = self.inq.get
        put = self.outq.put
        run = self.step.run
        done = self.done
        window = self.window
        try:
            while True:
                if self.counter - self.next_emit >= window:
                    await self._window_open()  # the reorder window is full
                item = await get()
                if item is _END:
                    await self._finish()
                    return
                index = self.counter
                self.counter = index + 1
                out = await run(item)
                if index != self.next_emit:
                    done[index] = out  # an earlier item is still running or being emitted
                    continue
                # This worker holds the next item in input order: emit it, then every
                # finished item after it. Only the holder of next_emit emits, and
                # next_emit moves (below) only between awaits, so no other worker
                # emits meanwhile: a finishing worker's index is never next_emit then.
                while True:
                    if type(out) is _Many:
                        await self._expand(out)
                    elif out is not DROP:
                        await put(out)
                    index += 1
                    self.next_emit = index
                    waiter = self.waiter
                    if waiter is not None:  # a worker waits for the window to open
                        self._open_window(waiter)
                    if index not in done:
                        break
                    out = done.pop(index)
        except BaseException as exc:
            if self.r.own_cancel(exc):
                raise
            self.r.fail(exc, self.step.name)

    async def _window_open(self) -> None:
        """Wait while the reorder window is full (the oldest item is still running)."""
        while self.counter - self.next_emit >= self.window:
            if self.waiter is None:
                self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter

    def _open_window(self, waiter: asyncio.Future[None]) -> None:
        """Wake the worker waiting in :meth:`_window_open` (an item left the window)."""
        self.waiter = None
        if not waiter.done():
            waiter.set_result(None)

    async def _batch_worker(self) -> None:
        batcher = _Batcher(self.step, self.inq, self.outq)
        try:
            while True:
                item = await batcher.receive()
                if item is _FLUSHED:
                    continue
                if item is _END:
                    await batcher.flush()
                    await self.outq.put(_END)
                    return
                await batcher.add(item)
        except BaseException as exc:
            if self.r.own_cancel(exc):
                raise
            self.r.fail(exc, self.step.name)
        finally:
            batcher.close()


class _Batcher:
    """A batch step's state: the batch being filled, its deadline, a pending get."""

    def __init__(self, step: Step, inq: Channel, outq: Channel) -> None:
        self.step = step
        self.size = step.batch_size
        self.timeout = step.batch_timeout
        self.get = inq.get
        self.put = outq.put
        self.batch: list[Any] = []
        self.getter: asyncio.Future[Any] | None = None
        self.loop = asyncio.get_running_loop()
        self.deadline = 0.0

    async def flush(self) -> None:
        """Emit the batch, if it holds anything."""
        if self.batch:
            self.step.stats.calls += len(self.batch)
            self.step.stats.emitted += 1
            out, self.batch = self.batch, []
            await self.put(out)

    async def receive(self) -> Any:
        """The next input item, or ``_FLUSHED`` once a batch's time ran out (it was emitted)."""
        if self.timeout is None or not self.batch:
            getter = self.getter
            item = await getter if getter is not None else await self.get()
            self.getter = None
            return item
        if self.getter is None:
            self.getter = asyncio.ensure_future(self.get())
        remaining = self.deadline - self.loop.time()
        if remaining > 0:
            await asyncio.wait((self.getter,), timeout=remaining)
        if not self.getter.done():
            await self.flush()
            return _FLUSHED
        item = self.getter.result()
        self.getter = None
        return item

    async def add(self, item: Any) -> None:
        """Add *item*; a full batch is emitted. The first item starts the batch's clock."""
        if not self.batch and self.timeout is not None:
            self.deadline = self.loop.time() + self.timeout
        self.batch.append(item)
        if len(self.batch) >= self.size:
            await self.flush()

    def close(self) -> None:
        """Cancel a get still pending when the stage stops."""
        if self.getter is not None and not self.getter.done():
            self.getter.cancel()


class _Run:
    """The state of one stream: queues, tasks, the first error."""

    def __init__(
        self,
        steps: Sequence[Step],
        source: AsyncIterable[Any] | Iterable[Any],
        *,
        ordered: bool,
        buffer: int,
    ) -> None:
        self.steps = steps
        self.source = source
        self.ordered = ordered
        self.buffer = buffer
        self.tasks: list[asyncio.Task[None]] = []
        self.error: BaseException | None = None
        self.stopping = False  # set before the run cancels its own tasks
        self.out = Channel(buffer)

    def own_cancel(self, exc: BaseException) -> bool:
        """Whether *exc* is this run cancelling its task (not a step's own CancelledError)."""
        return _own_cancel(exc, self.stopping)

    def fail(self, exc: BaseException, where: str | None = None) -> None:
        if self.error is not None:
            return
        self.error = _as_error(exc, where)
        self.stopping = True
        current = asyncio.current_task()
        for task in self.tasks:
            if task is not current:
                task.cancel()
        out = self.out
        while not out.empty():
            out.get_nowait()
        out.put_nowait(_ERROR)

    async def _feed(self, q: Channel) -> None:
        source = self.source
        put = q.put
        try:
            if isinstance(source, AsyncIterable):
                async for item in source:
                    await put(item)
            else:
                for item in source:
                    await put(item)
        except BaseException as exc:
            if self.own_cancel(exc):
                raise
            self.fail(exc)
            return
        await put(_END)

    async def iterate(self) -> AsyncGenerator[Any, None]:
        loop = asyncio.get_running_loop()
        try:
            queues: list[Channel] = []
            for step in self.steps:
                queues.append(Channel(step.buffer or self.buffer))
            queues.append(self.out)
            self.tasks.append(loop.create_task(self._feed(queues[0])))
            for i, step in enumerate(self.steps):
                stage = _Stage(self, step, queues[i], queues[i + 1], self.ordered, self.buffer)
                for coro in stage.workers():
                    self.tasks.append(loop.create_task(coro))
            get = self.out.get
            while True:
                item = await get()
                if item is _END:
                    return
                if item is _ERROR:
                    assert self.error is not None
                    raise self.error
                yield item
        finally:
            await self._teardown()

    async def _teardown(self) -> None:
        self.stopping = True
        for task in self.tasks:
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        aclose = getattr(self.source, "aclose", None)
        if aclose is not None:
            try:
                await aclose()
            except Exception:
                pass
        elif inspect.isgenerator(self.source):
            self.source.close()


class PipelineStream(Generic[T]):
    """The outputs of :meth:`Pipeline.stream`: an async iterator and context manager.

    Work starts at the first ``__anext__``. Leaving ``async with``, calling
    :meth:`aclose`, exhausting the stream, a step failing under the
    ``"fail"`` policy, or cancelling the consuming task all stop every stage,
    wait for its tasks to end and close the source.
    """

    def __init__(
        self,
        steps: Sequence[Step],
        source: AsyncIterable[Any] | Iterable[Any],
        *,
        ordered: bool,
        buffer: int,
    ) -> None:
        self._run = _Run(steps, source, ordered=ordered, buffer=buffer)
        self._gen = self._run.iterate()

    def __aiter__(self) -> AsyncIterator[T]:
        return self

    def __anext__(self) -> Awaitable[T]:
        # The generator's own awaitable: no wrapper coroutine per item.
        return self._gen.__anext__()

    async def aclose(self) -> None:
        """Stop every stage, wait for them, and close the source."""
        await self._gen.aclose()

    async def collect(self) -> list[T]:
        """Consume the whole stream and return its outputs in a list."""
        try:
            return [item async for item in self]
        finally:
            await self.aclose()

    async def __aenter__(self) -> PipelineStream[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


async def merge(*sources: AsyncIterable[T] | Iterable[T], buffer: int = 64) -> AsyncIterator[T]:
    """Interleave several sources into one async iterator, as items arrive.

    Each source is read by its own task into one bounded queue, so a fast
    source cannot run ahead of the consumer by more than *buffer* items.
    Closing the merged iterator (or cancelling its consumer) cancels the
    readers and closes every source. The first source error is re-raised.
    """
    queue = Channel(buffer)
    errors: list[BaseException] = []
    stopping = False

    async def read(src: AsyncIterable[T] | Iterable[T]) -> None:
        try:
            if isinstance(src, AsyncIterable):
                async for item in src:
                    await queue.put(item)
            else:
                for item in src:
                    await queue.put(item)
        except BaseException as exc:
            if _own_cancel(exc, stopping):
                raise
            errors.append(_as_error(exc, None))
            while not queue.empty():
                queue.get_nowait()
            queue.put_nowait(_ERROR)
            return
        await queue.put(_END)

    loop = asyncio.get_running_loop()
    tasks = [loop.create_task(read(src)) for src in sources]
    try:
        remaining = len(tasks)
        while remaining:
            item = await queue.get()
            if item is _END:
                remaining -= 1
            elif item is _ERROR:
                raise errors[0]
            else:
                yield item
    finally:
        stopping = True
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for src in sources:
            aclose = getattr(src, "aclose", None)
            if aclose is not None:
                try:
                    await aclose()
                except Exception:
                    pass
