"""One wrapper for timing/tracing decorators: functions, coroutines and (async) generators."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, cast

__all__ = ["bracket"]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

Start = Callable[[], T]
Finish = Callable[[T, BaseException | None], None]


def bracket(fn: F, start: Start[T], finish: Finish[T]) -> F:
    """Wrap *fn* so ``start()`` runs before and ``finish(token, exc)`` after each call.

    For a generator or async generator function the bracket spans the whole
    iteration (first ``next`` to exhaustion, an error, or the consumer closing
    it early, which counts as success), not just the call that creates the
    generator. ``send``/``asend`` and ``throw``/``athrow`` reach the body.
    """
    if inspect.isasyncgenfunction(fn):
        wrapper = _bracket_async_gen(fn, start, finish)
    elif inspect.isgeneratorfunction(fn):
        wrapper = _bracket_gen(fn, start, finish)
    elif inspect.iscoroutinefunction(fn):
        wrapper = _bracket_async(fn, start, finish)
    else:
        wrapper = _bracket_sync(fn, start, finish)
    return cast("F", functools.wraps(fn)(wrapper))


def _bracket_async_gen(
    fn: Callable[..., Any], start: Start[T], finish: Finish[T]
) -> Callable[..., Any]:
    async def wrapped_agen(*args: Any, **kwargs: Any) -> Any:
        gen = fn(*args, **kwargs)
        token = start()
        error: BaseException | None = None
        try:
            item = await gen.__anext__()
            while True:
                try:
                    sent = yield item
                except GeneratorExit:
                    await gen.aclose()
                    raise
                except BaseException as thrown:
                    item = await gen.athrow(thrown)
                else:
                    item = await gen.asend(sent)
        except (StopAsyncIteration, GeneratorExit):
            pass
        except BaseException as exc:
            error = exc
            raise
        finally:
            finish(token, error)

    return wrapped_agen


def _bracket_gen(fn: Callable[..., Any], start: Start[T], finish: Finish[T]) -> Callable[..., Any]:
    def wrapped_gen(*args: Any, **kwargs: Any) -> Any:
        token = start()
        error: BaseException | None = None
        try:
            return (yield from fn(*args, **kwargs))
        except GeneratorExit:
            raise
        except BaseException as exc:
            error = exc
            raise
        finally:
            finish(token, error)

    return wrapped_gen


def _bracket_async(
    fn: Callable[..., Any], start: Start[T], finish: Finish[T]
) -> Callable[..., Any]:
    async def wrapped_async(*args: Any, **kwargs: Any) -> Any:
        token = start()
        try:
            result = await fn(*args, **kwargs)
        except BaseException as exc:
            finish(token, exc)
            raise
        finish(token, None)
        return result

    return wrapped_async


def _bracket_sync(fn: Callable[..., Any], start: Start[T], finish: Finish[T]) -> Callable[..., Any]:
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        token = start()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            finish(token, exc)
            raise
        finish(token, None)
        return result

    return wrapped
