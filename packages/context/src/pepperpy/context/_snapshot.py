"""Snapshots: capture the context here, run code with it there."""

from __future__ import annotations

import contextvars
import inspect
import json
import math
import os
from collections.abc import Callable, Coroutine, Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, cast

from pepperpy.context._core import _TYPED, _VAR, _check_types
from pepperpy.core.exceptions import InvalidArgumentError, ValidationError, safe_repr

if TYPE_CHECKING:
    import asyncio

__all__ = [
    "ENV_VAR",
    "Snapshot",
    "create_task",
    "extract_env",
    "inject_env",
    "run_in",
    "snapshot",
    "wrap",
]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

ENV_VAR = "PEPPERPY_CONTEXT"
"""The environment variable :func:`inject_env` / :func:`extract_env` use."""


def _json_safe(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, str)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, (list, tuple)):
        return all(_json_safe(v) for v in value)
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and _json_safe(v) for k, v in value.items())
    return False


class Snapshot(Mapping[str, Any]):
    """An immutable capture of context values, to run code with them elsewhere.

    A snapshot taken with :func:`snapshot` also holds a copy of the whole
    :class:`contextvars.Context`, so :func:`run_in` carries *every* context
    variable (other libraries' too) into a thread or callback. A snapshot
    built from values (``Snapshot({...})``, :meth:`from_json`,
    :func:`~pepperpy.context.extract_headers`) is *detached*: running in it
    merges its values over the caller's context.

    Snapshots are mappings (``snap["request_id"]``, ``dict(snap)``) and can
    be passed to :class:`~pepperpy.context.scope`. They pickle (values only),
    and :meth:`to_json` / :meth:`from_json` carry them to a subprocess.
    """

    __slots__ = ("_context", "_values")

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        data = dict(values or {})
        for key in data:
            if not isinstance(key, str):
                raise InvalidArgumentError(
                    f"context keys must be strings, got {safe_repr(key)}",
                    code="pepperpy.context.key",
                    hint="Use str keys.",
                )
        if _TYPED:
            _check_types(data)
        self._values: dict[str, Any] = data
        self._context: contextvars.Context | None = None

    @classmethod
    def _capture(cls) -> Snapshot:
        snap = cls.__new__(cls)
        snap._values = _VAR.get()[0]
        snap._context = contextvars.copy_context()
        return snap

    @property
    def detached(self) -> bool:
        """Whether this snapshot has values only (no captured ``Context``)."""
        return self._context is None

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={safe_repr(v)}" for k, v in self._values.items())
        return f"Snapshot({inner})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Snapshot, (dict(self._values),))

    def detach(self) -> Snapshot:
        """Return a detached copy holding only the values."""
        return Snapshot(self._values)

    def run(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call *fn* inside this snapshot; same as :func:`run_in`."""
        return run_in(self, fn, *args, **kwargs)

    def to_dict(self, *, strict: bool = False) -> dict[str, Any]:
        """Return the JSON-safe values.

        Args:
            strict: Raise instead of leaving out values JSON cannot carry.

        Raises:
            ValidationError: With ``strict=True``, listing every value that is not JSON-safe.
        """
        out: dict[str, Any] = {}
        bad: list[str] = []
        for key, value in self._values.items():
            if _json_safe(value):
                out[key] = value
            else:
                bad.append(key)
        if bad and strict:
            from pepperpy.core.exceptions import ErrorDetail

            raise ValidationError(
                f"{len(bad)} context value(s) cannot be serialized to JSON",
                code="pepperpy.context.serialize",
                errors=[
                    ErrorDetail(
                        f"/{key}",
                        "not JSON-safe",
                        code="type",
                        expected="None, bool, int, float, str, list or dict",
                        value=safe_repr(self._values[key]),
                    )
                    for key in bad
                ],
                hint="Bind JSON-safe values (ids, names, numbers) or pass strict=False "
                "to leave the others out.",
            )
        return out

    def to_json(self, *, strict: bool = False) -> str:
        """Return :meth:`to_dict` as a compact JSON string."""
        return json.dumps(self.to_dict(strict=strict), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> Snapshot:
        """Build a detached snapshot from :meth:`to_json` output.

        Raises:
            ValidationError: *text* is not a JSON object.
        """
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ValidationError(
                f"context snapshot is not valid JSON: {exc}",
                code="pepperpy.context.deserialize",
                hint="Pass the string produced by Snapshot.to_json().",
            ) from exc
        if not isinstance(data, dict):
            raise ValidationError(
                f"context snapshot must be a JSON object, got {type(data).__name__}",
                code="pepperpy.context.deserialize",
                hint="Pass the string produced by Snapshot.to_json().",
            )
        return cls(data)


def snapshot() -> Snapshot:
    """Capture the current context (values and every other context variable)."""
    return Snapshot._capture()


def _context_for(snap: Snapshot | None) -> contextvars.Context:
    if snap is None:
        return contextvars.copy_context()
    if snap._context is not None:
        return snap._context.copy()
    ctx = contextvars.copy_context()
    if snap._values:
        ctx.run(_merge, snap._values)
    return ctx


def _merge(values: Mapping[str, Any]) -> None:
    state = _VAR.get()
    _VAR.set(({**state[0], **values}, None))


async def _await_in(ctx: contextvars.Context, coro: Coroutine[Any, Any, T]) -> T:
    import asyncio

    task: asyncio.Future[T] = ctx.run(asyncio.ensure_future, coro)
    return await task


def run_in(snapshot: Snapshot, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """Call ``fn(*args, **kwargs)`` with the context of *snapshot*.

    The call runs in a private copy: whatever *fn* binds never leaks back to
    the caller nor into *snapshot*. When *fn* is a coroutine function, the
    returned coroutine runs the whole body in the snapshot (as a task), so
    ``await run_in(snap, fetch, url)`` works too.

    A detached snapshot (values only) is merged over the caller's context.
    """
    ctx = _context_for(snapshot)
    result = ctx.run(fn, *args, **kwargs)
    if inspect.iscoroutine(result):
        return cast("R", _await_in(ctx, result))
    return result


def create_task(
    coro: Coroutine[Any, Any, T],
    *,
    snapshot: Snapshot | None = None,
    name: str | None = None,
) -> asyncio.Task[T]:
    """Start *coro* as a task running in *snapshot* (default: the current context).

    Plain :func:`asyncio.create_task` already copies the current context;
    this is for starting work in a context captured earlier (a request's
    snapshot kept by a queue, a header extracted by a server).
    """
    import asyncio

    ctx = _context_for(snapshot)
    loop = asyncio.get_running_loop()
    return ctx.run(loop.create_task, coro, name=name)


class _Bound(Generic[P, R]):
    """A callable running *fn* in a snapshot; picklable when *fn* is."""

    __slots__ = ("fn", "snapshot")

    def __init__(self, fn: Callable[P, R], snap: Snapshot) -> None:
        self.fn = fn
        self.snapshot = snap

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return run_in(self.snapshot, self.fn, *args, **kwargs)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Bound, (self.fn, self.snapshot.detach()))

    def __repr__(self) -> str:
        return f"wrap({self.fn!r}, {self.snapshot!r})"


def wrap(fn: Callable[P, R], /, *, snapshot: Snapshot | None = None) -> Callable[P, R]:
    """Return a callable that runs *fn* in the current context (or *snapshot*).

    Use it for thread targets, executor jobs and callbacks registered now but
    called later. The result pickles when *fn* does (the snapshot's values
    travel with it), so it also carries the context into a
    :class:`~concurrent.futures.ProcessPoolExecutor` worker.
    """
    return _Bound(fn, snapshot if snapshot is not None else Snapshot._capture())


def inject_env(env: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """Write the current context's JSON-safe values into *env* for a subprocess.

    Args:
        env: The environment to update; when omitted a copy of
            :data:`os.environ` is made.

    Returns:
        The environment, ready for ``subprocess.run(..., env=env)``.
    """
    target: MutableMapping[str, str] = dict(os.environ) if env is None else env
    target[ENV_VAR] = Snapshot._capture().to_json()
    return dict(target)


def extract_env(env: Mapping[str, str] | None = None) -> Snapshot:
    """Read the snapshot written by :func:`inject_env` (empty when absent).

    Raises:
        ValidationError: The variable holds something else than a snapshot.
    """
    source = os.environ if env is None else env
    text = source.get(ENV_VAR)
    if not text:
        return Snapshot()
    return Snapshot.from_json(text)
