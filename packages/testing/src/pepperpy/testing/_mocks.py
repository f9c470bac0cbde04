"""Typed mocks that check signatures against the real object, and spies."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar, cast
from unittest import mock

from pepperpy.core.utils import is_async_callable

__all__ = ["Call", "Spy", "async_autospec", "spy"]

T = TypeVar("T")


def async_autospec(spec: T, **kwargs: Any) -> T:
    """A mock shaped like *spec*: async methods become AsyncMocks, signatures are checked.

    Calling a method with arguments the real one would reject raises ``TypeError``
    at the call, and attributes the real object lacks cannot be set
    (``spec_set=True``). The result is typed as *spec*'s type so mypy checks the
    test's calls too.
    """
    kwargs.setdefault("spec_set", True)
    return cast("T", mock.create_autospec(spec, **kwargs))


class Call:
    """One recorded call: arguments, and the result or the exception."""

    __slots__ = ("args", "exception", "kwargs", "result")

    def __init__(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.args = args
        self.kwargs = kwargs
        self.result: Any = None
        self.exception: BaseException | None = None

    def __repr__(self) -> str:
        outcome = f"raised {self.exception!r}" if self.exception else f"-> {self.result!r}"
        return f"Call(args={self.args!r}, kwargs={self.kwargs!r}) {outcome}"


class Spy(Generic[T]):
    """Records every call of a real function or method while still calling it."""

    def __init__(self, target: Any) -> None:
        self.target = target
        self.calls: list[Call] = []

    @property
    def call_count(self) -> int:
        """How many times it was called."""
        return len(self.calls)

    def assert_called_with(self, *args: Any, **kwargs: Any) -> None:
        """Assert the last call had exactly these arguments."""
        assert self.calls, f"{self.target!r} was never called"
        last = self.calls[-1]
        assert (args, kwargs) == (last.args, last.kwargs), (
            f"last call was {last!r}, expected args={args!r} kwargs={kwargs!r}"
        )

    def wrapper(self) -> Any:
        """The function that records and delegates (sync or async, like the target)."""
        target = self.target
        if is_async_callable(target):

            @functools.wraps(target)
            async def async_spy(*args: Any, **kwargs: Any) -> Any:
                call = Call(args, kwargs)
                self.calls.append(call)
                try:
                    call.result = await target(*args, **kwargs)
                except BaseException as exc:
                    call.exception = exc
                    raise
                return call.result

            return async_spy

        @functools.wraps(target)
        def sync_spy(*args: Any, **kwargs: Any) -> Any:
            call = Call(args, kwargs)
            self.calls.append(call)
            try:
                call.result = target(*args, **kwargs)
            except BaseException as exc:
                call.exception = exc
                raise
            return call.result

        return sync_spy


@contextmanager
def spy(obj: Any, name: str) -> Iterator[Spy[Any]]:
    """Replace ``obj.name`` with a recording wrapper for the block, then restore it.

    ``with spy(storage, "put") as put: ...; assert put.call_count == 3``.
    The real method still runs; arguments, results and exceptions are recorded.
    """
    original = inspect.getattr_static(obj, name)
    own = isinstance(obj, type) or name in getattr(obj, "__dict__", {})
    spied = Spy[Any](getattr(obj, name))
    setattr(obj, name, spied.wrapper())
    try:
        yield spied
    finally:
        if own:
            setattr(obj, name, original)
        else:
            delattr(obj, name)  # the class attribute shows through again
