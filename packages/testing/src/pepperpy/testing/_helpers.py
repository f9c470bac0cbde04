"""Async helpers: ``eventually`` and ``run_with_timeout``."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pepperpy.core.utils import parse_duration

__all__ = ["eventually", "run_with_timeout"]

T = TypeVar("T")


async def eventually(
    assertion: Callable[[], Any], timeout: float | str = 1.0, *, interval: float = 0.01
) -> Any:
    """Call *assertion* (sync or async) until it stops raising AssertionError.

    Returns what the assertion returned. After *timeout* seconds (of the running
    loop's time, so virtual clocks apply) the last AssertionError is re-raised with
    the number of attempts added.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + parse_duration(timeout)
    pause = parse_duration(interval)  # a NaN sleep would corrupt the loop's timer heap
    attempts = 0
    while True:
        attempts += 1
        try:
            result = assertion()
            if inspect.isawaitable(result):
                result = await result
            return result
        except AssertionError as exc:
            if loop.time() >= deadline:
                raise AssertionError(
                    f"still failing after {attempts} attempts over {timeout}s: {exc}"
                ) from exc
        await asyncio.sleep(pause)


async def run_with_timeout(awaitable: Awaitable[T], timeout: float | str = 5.0) -> T:
    """Await *awaitable*, failing the test with a readable message if it takes too long.

    The failure lists the other tasks still pending and where each is suspended,
    which is usually where a hang comes from.
    """
    seconds = parse_duration(timeout)
    task = asyncio.ensure_future(awaitable)
    try:
        done, _ = await asyncio.wait({task}, timeout=seconds)
    except BaseException:  # cancelled from outside: the work must not outlive the test
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise
    if task in done:
        return task.result()
    current = asyncio.current_task()
    stuck = []
    for other in asyncio.all_tasks():
        if other is current or other.done():
            continue
        frames = other.get_stack(limit=1)
        where = f"{frames[0].f_code.co_filename}:{frames[0].f_lineno}" if frames else "not started"
        stuck.append(f"  {other.get_name()}: {where}")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    raise AssertionError(f"did not finish within {seconds:g}s; pending tasks:\n" + "\n".join(stuck))
