"""Profiling: ``profile()``, ``measure()`` and the per-task ``TaskTimer``."""

from __future__ import annotations

import asyncio
import cProfile
import functools
import html
import io
import pstats
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable, Coroutine, Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar, cast

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.core.utils import is_async_callable

__all__ = ["Measurement", "ProfileReport", "TaskTimer", "measure", "profile"]

F = TypeVar("F", bound=Callable[..., Any])


class ProfileReport:
    """What :func:`profile` collected: text and HTML renderings of the hottest functions."""

    def __init__(self, engine: str, stats: pstats.Stats | None, text: str) -> None:
        self.engine = engine
        self._stats = stats
        self._text = text

    def text(self, limit: int = 20) -> str:
        """The top *limit* functions by cumulative time, as text."""
        if self._stats is None:
            return self._text
        buffer = io.StringIO()
        self._stats.stream = buffer  # type: ignore[attr-defined]
        self._stats.sort_stats("cumulative").print_stats(limit)
        return buffer.getvalue()

    def rows(self, limit: int = 20) -> list[tuple[str, int, float, float]]:
        """``(function, calls, own seconds, cumulative seconds)`` for the hottest functions."""
        if self._stats is None:
            return []
        raw: dict[Any, Any] = self._stats.stats  # type: ignore[attr-defined]
        rows = []
        for (filename, line, name), (_cc, calls, own, cumulative, _callers) in raw.items():
            rows.append((f"{name} ({Path(filename).name}:{line})", calls, own, cumulative))
        rows.sort(key=lambda r: r[3], reverse=True)
        return rows[:limit]

    def html(self, limit: int = 50) -> str:
        """An HTML table of the hottest functions."""
        body = "".join(
            f"<tr><td>{html.escape(fn)}</td><td>{calls}</td><td>{own:.6f}</td><td>{cum:.6f}</td></tr>"
            for fn, calls, own, cum in self.rows(limit)
        )
        return (
            "<!doctype html><meta charset='utf-8'><title>profile</title>"
            "<table><tr><th>function</th><th>calls</th><th>own s</th><th>cumulative s</th></tr>"
            f"{body}</table><pre>{html.escape(self._text)}</pre>"
        )

    def save_html(self, path: str | Path) -> Path:
        """Write :meth:`html` to *path* and return it."""
        target = Path(path)
        target.write_text(self.html(), encoding="utf-8")
        return target


class profile:
    """Profile a block, a function or a coroutine function.

    ``with profile() as p: ...`` then ``p.report.text()``; or ``@profile(print_to=sys.stderr)``.
    The engine is cProfile; ``engine="pyinstrument"`` uses pyinstrument when it is
    installed (a sampling profiler that follows ``await``).

    Args:
        engine: ``"cprofile"`` or ``"pyinstrument"``.
        print_to: A stream the report is written to when the block ends.
        html_path: A file the HTML report is written to when the block ends.
        limit: How many functions the printed report lists.

    As a decorator, every call is profiled on its own (a fresh profiler per
    call; :attr:`report` is the last finished call's). A profiler cannot nest
    or overlap with another one in the same thread (Python 3.12 raises
    "Another profiling tool is already active", older versions silently mix
    the two): when another profiler is active (say a second overlapping call
    of a decorated ``async def``), the block or call runs unprofiled with a
    :class:`RuntimeWarning` instead of failing the application.
    """

    def __init__(
        self,
        engine: str = "cprofile",
        *,
        print_to: Any = None,
        html_path: str | Path | None = None,
        limit: int = 20,
    ) -> None:
        if engine not in ("cprofile", "pyinstrument"):
            raise InvalidArgumentError(
                f"unknown profiler engine {engine!r}",
                hint="Use 'cprofile' or 'pyinstrument'.",
            )
        self.engine = engine
        self.print_to = print_to
        self.html_path = html_path
        self.limit = limit
        self.report: ProfileReport | None = None
        self._profiler: Any = None

    def __enter__(self) -> profile:
        if self._profiler is not None:
            raise InvalidArgumentError(
                "this profile() block is already running",
                hint="Create one profile() per block; as a decorator each call gets its own.",
            )
        if self.engine == "pyinstrument":
            try:
                from pyinstrument import Profiler  # type: ignore[import-not-found]
            except ImportError as exc:
                raise InvalidArgumentError(
                    "pyinstrument is not installed",
                    hint="pip install 'pepperpy-dev[pyinstrument]', or use engine='cprofile'.",
                ) from exc
            profiler: Any = Profiler(async_mode="enabled")
            profiler.start()
            self._profiler = profiler
            return self
        if sys.getprofile() is not None:
            _skip("another profiler is active in this thread")
            return self
        profiler = cProfile.Profile()
        try:
            profiler.enable()
        except ValueError as exc:  # 3.12+: "Another profiling tool is already active"
            _skip(str(exc))
            return self
        self._profiler = profiler
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        profiler, self._profiler = self._profiler, None
        if profiler is None:  # skipped: another profiler was active
            return
        if self.engine == "cprofile":
            profiler.disable()
            self.report = ProfileReport("cprofile", pstats.Stats(profiler), "")
        else:
            profiler.stop()
            self.report = ProfileReport("pyinstrument", None, profiler.output_text())
        if self.print_to is not None:
            self.print_to.write(self.report.text(self.limit))
        if self.html_path is not None:
            self.report.save_html(self.html_path)

    async def __aenter__(self) -> profile:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    def _per_call(self) -> profile:
        return profile(
            self.engine, print_to=self.print_to, html_path=self.html_path, limit=self.limit
        )

    def __call__(self, fn: F) -> F:
        """Decorate a sync or async function: each call is profiled on its own."""
        if is_async_callable(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                session = self._per_call()
                try:
                    with session:
                        return await fn(*args, **kwargs)
                finally:
                    if session.report is not None:
                        self.report = session.report

            return cast("F", async_wrapper)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            session = self._per_call()
            try:
                with session:
                    return fn(*args, **kwargs)
            finally:
                if session.report is not None:
                    self.report = session.report

        return cast("F", wrapper)


def _skip(reason: str) -> None:
    warnings.warn(
        f"profile(): not profiling this block ({reason}); it runs unprofiled",
        RuntimeWarning,
        stacklevel=3,
    )


class Measurement:
    """Wall time, CPU time and peak traced memory of a block (see :func:`measure`)."""

    def __init__(self) -> None:
        self.wall: float = 0.0
        self.cpu: float = 0.0
        self.peak_bytes: int = 0

    def __repr__(self) -> str:
        return (
            f"Measurement(wall={self.wall:.6f}s, cpu={self.cpu:.6f}s, "
            f"peak={self.peak_bytes / 1024:.1f} KiB)"
        )


@contextmanager
def measure(*, memory: bool = True) -> Iterator[Measurement]:
    """Measure a block's wall time, CPU time and (with tracemalloc) peak memory.

    ``with measure() as m: ...`` then ``m.wall``, ``m.cpu``, ``m.peak_bytes``.
    Peak memory counts allocations made inside the block only.
    """
    result = Measurement()
    started_tracing = False
    if memory:
        if not tracemalloc.is_tracing():
            tracemalloc.start()
            started_tracing = True
        tracemalloc.reset_peak() if hasattr(tracemalloc, "reset_peak") else None
        base = tracemalloc.get_traced_memory()[0]
    wall0, cpu0 = time.perf_counter(), time.process_time()
    try:
        yield result
    finally:
        result.wall = time.perf_counter() - wall0
        result.cpu = time.process_time() - cpu0
        if memory:
            result.peak_bytes = max(0, tracemalloc.get_traced_memory()[1] - base)
            if started_tracing:
                tracemalloc.stop()


class _TimedCoroutine:
    """Wraps a coroutine and adds the time spent in each step to a per-task total."""

    def __init__(self, coro: Coroutine[Any, Any, Any], timer: TaskTimer) -> None:
        self._coro = coro
        self._timer = timer

    def _step(self, method: Callable[..., Any], *args: Any) -> Any:
        start = time.perf_counter()
        try:
            return method(*args)
        finally:
            task = asyncio.current_task()
            totals = self._timer._by_task
            totals[task] = totals.get(task, 0.0) + (time.perf_counter() - start)

    def send(self, value: Any) -> Any:
        return self._step(self._coro.send, value)

    def throw(self, *args: Any) -> Any:
        return self._step(self._coro.throw, *args)

    def close(self) -> None:
        self._coro.close()

    def __await__(self) -> Generator[Any, None, Any]:
        return self

    def __iter__(self) -> _TimedCoroutine:
        return self

    def __next__(self) -> Any:
        return self.send(None)


class TaskTimer:
    """Attribute CPU-side time (time spent running, not awaiting) to each asyncio task.

    ``async with TaskTimer() as timer: ...`` installs a task factory for the block;
    afterwards ``timer.busy`` maps task names to the seconds their code ran, and
    :meth:`report` lists them, busiest first. Tasks created before the block are
    not counted.
    """

    def __init__(self) -> None:
        self._by_task: dict[asyncio.Task[Any] | None, float] = {}
        self._previous: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _factory(
        self, loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any
    ) -> asyncio.Task[Any]:
        wrapped = _TimedCoroutine(coro, self)
        if self._previous is not None:
            return cast("asyncio.Task[Any]", self._previous(loop, wrapped, **kwargs))
        return asyncio.Task(wrapped, loop=loop, **kwargs)

    async def __aenter__(self) -> TaskTimer:
        self._loop = asyncio.get_running_loop()
        self._previous = self._loop.get_task_factory()
        self._loop.set_task_factory(self._factory)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._loop is not None
        self._loop.set_task_factory(self._previous)

    @property
    def busy(self) -> dict[str, float]:
        """Seconds each task's code ran, by task name (tasks sharing a name are summed)."""
        totals: dict[str, float] = {}
        for task, seconds in self._by_task.items():
            name = task.get_name() if task is not None else "?"
            totals[name] = totals.get(name, 0.0) + seconds
        return totals

    def report(self) -> str:
        """One line per task, busiest first."""
        rows = sorted(self.busy.items(), key=lambda kv: kv[1], reverse=True)
        return "\n".join(f"{seconds * 1000:10.3f} ms  {name}" for name, seconds in rows)
