"""Carrying the context into threads and executors."""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from pepperpy.context._snapshot import Snapshot, _Bound
from pepperpy.core.exceptions import InvalidArgumentError

if TYPE_CHECKING:
    import asyncio

__all__ = ["ContextExecutor", "install_executor", "to_thread", "wrap_executor"]

P = ParamSpec("P")
R = TypeVar("R")


async def to_thread(fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """Run the blocking ``fn(*args, **kwargs)`` in the loop's default executor.

    The thread sees a copy of the caller's context (every context variable);
    what it binds does not leak back. Works like :func:`asyncio.to_thread`,
    which some executors and older recipes (``loop.run_in_executor``) lack.
    """
    import asyncio

    loop = asyncio.get_running_loop()
    ctx = contextvars.copy_context()
    call = functools.partial(ctx.run, fn, *args, **kwargs)
    return await loop.run_in_executor(None, call)


class ContextExecutor(ThreadPoolExecutor):
    """A thread pool that runs every job in the context of the code that submitted it.

    ``loop.run_in_executor`` and ``ThreadPoolExecutor.submit`` do not copy
    context variables, so request ids and other bound values silently vanish
    in worker threads. This pool copies the submitter's context (every
    context variable) for each job::

        with ContextExecutor(max_workers=4) as pool:
            pool.submit(work)             # work() sees the caller's context

    It is a real :class:`~concurrent.futures.ThreadPoolExecutor` (same
    arguments), so it can be an event loop's default executor; see
    :func:`install_executor`. To wrap another executor, process pools
    included, use :func:`wrap_executor`.
    """

    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
        """Schedule ``fn(*args, **kwargs)`` to run in the submitter's context."""
        ctx = contextvars.copy_context()
        return super().submit(ctx.run, fn, *args, **kwargs)


class _WrappedExecutor(Executor):
    def __init__(self, inner: Executor) -> None:
        from concurrent.futures import ProcessPoolExecutor

        self._inner = inner
        self._processes = isinstance(inner, ProcessPoolExecutor)

    @property
    def inner(self) -> Executor:
        return self._inner

    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
        if self._processes:
            return self._inner.submit(_Bound(fn, Snapshot._capture().detach()), *args, **kwargs)
        ctx = contextvars.copy_context()
        return self._inner.submit(ctx.run, fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._inner.shutdown(wait=wait, cancel_futures=cancel_futures)

    def __repr__(self) -> str:
        return f"wrap_executor({self._inner!r})"


def wrap_executor(executor: Executor) -> Executor:
    """Return an executor submitting to *executor* in the submitter's context.

    For thread pools the whole :class:`contextvars.Context` is copied. For a
    :class:`~concurrent.futures.ProcessPoolExecutor` the context values are
    pickled along with the job (the callable and values must pickle), and the
    worker runs the job inside them. ``shutdown`` is forwarded.
    """
    if not isinstance(executor, Executor):
        raise InvalidArgumentError(
            f"wrap_executor() needs a concurrent.futures.Executor, got {type(executor).__name__}",
            code="pepperpy.context.executor",
            hint="Pass a ThreadPoolExecutor or ProcessPoolExecutor instance.",
        )
    return _WrappedExecutor(executor)


def install_executor(
    loop: asyncio.AbstractEventLoop | None = None,
    *,
    max_workers: int | None = None,
) -> ContextExecutor:
    """Make *loop*'s default executor a :class:`ContextExecutor`.

    Afterwards every ``loop.run_in_executor(None, fn)`` in the application,
    third-party code included, runs *fn* in the caller's context.

    Args:
        loop: The loop; by default the running loop.
        max_workers: Size of the new thread pool.

    Returns:
        The installed executor (the loop shuts it down on ``loop.close()``
        / ``shutdown_default_executor()``).
    """
    import asyncio

    target = loop if loop is not None else asyncio.get_running_loop()
    executor = ContextExecutor(max_workers=max_workers, thread_name_prefix="pepperpy")
    target.set_default_executor(executor)
    return executor
