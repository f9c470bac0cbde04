"""The plugin manager: typed sync and async hook calls on pluggy, isolation, lifecycle."""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import operator
import os
import sys
import warnings
from collections import deque
from collections.abc import (
    Awaitable,
    Callable,
    Coroutine,
    Generator,
    Iterable,
    Mapping,
    Sequence,
)
from pathlib import Path
from typing import Any, Concatenate, Literal, ParamSpec, TypeVar

import attrs
import pluggy

from pepperpy.core.exceptions import InvalidArgumentError, PepperPyError, PluginError
from pepperpy.core.types import Lifecycle, LifecycleState
from pepperpy.plugin._discovery import (
    PluginInfo,
    discover_entry_points,
    import_path,
    iter_directory,
)
from pepperpy.plugin._errors import (
    IncompatiblePluginError,
    PluginHookError,
    PluginLoadError,
    PluginNotFoundError,
    PluginValidationError,
    PluginWarning,
)
from pepperpy.plugin._markers import PROJECT
from pepperpy.plugin._versions import ApiRange, parse_version

__all__ = [
    "ErrorPolicy",
    "HookCall",
    "Monitor",
    "PluginFailure",
    "PluginManager",
    "PluginRecord",
    "PluginSubset",
]

P = ParamSpec("P")
R = TypeVar("R")

ErrorPolicy = Literal["skip", "warn", "raise"]
"""What happens when a plugin fails to load, start, stop or run a hook.

* ``"skip"``: the failure is recorded in :attr:`PluginManager.failures` and
  logged at DEBUG level; the host carries on without that plugin's result.
* ``"warn"``: the same, plus a :class:`PluginWarning` and a WARNING log record.
* ``"raise"``: a :class:`~pepperpy.core.exceptions.PluginError` subclass naming the
  plugin and its distribution is raised, with the original error chained.
"""

_POLICIES = ("skip", "warn", "raise")
_LOG = logging.getLogger("pepperpy.plugin")

_LIST, _FIRST, _ALIST, _AFIRST = "call", "call_first", "acall", "acall_first"
_HISTORIC = "call_historic"
# Frames a PluginWarning must not point at: this package, pluggy, and Lifecycle.start/stop.
_INTERNAL = tuple(
    os.path.dirname(os.path.abspath(path)) + os.sep if is_dir else os.path.abspath(path)
    for path, is_dir in (
        (__file__, True),
        (pluggy.__file__ or "", True),
        (sys.modules[Lifecycle.__module__].__file__ or "", False),
    )
)
_STALE: Any = object()  # a hook's call plan must be rebuilt
_ORIGINAL = "_pepperpy_original"
_RECORD = "_pepperpy_record"

# One step of a call plan: (function, argument mode, getter, is coroutine function, record).
# Argument modes: 0 = no arguments, 1 = one (getter is its name), 2 = several (an itemgetter).
_Step = tuple[Callable[..., Any], int, Any, bool, "PluginRecord"]


@attrs.frozen
class PluginRecord:
    """A registered plugin and where it came from.

    Attributes:
        name: The name it is registered under.
        plugin: The plugin object (module, instance ...).
        distribution: The distribution that provided it, if known.
        version: That distribution's version, if known.
        source: ``"explicit"``, ``"entry point"`` or ``"path"``.
        requires_api: The host API range it declared, if any.
    """

    name: str
    plugin: object = attrs.field(repr=False)
    distribution: str | None = None
    version: str | None = None
    source: str = "explicit"
    requires_api: str | None = None


@attrs.frozen
class PluginFailure:
    """One isolated plugin failure, as kept in :attr:`PluginManager.failures`.

    Attributes:
        plugin: The plugin's name.
        distribution: The distribution that provided it, if known.
        phase: ``"load"``, ``"register"``, ``"hook"``, ``"start"`` or ``"stop"``.
        error: The exception.
        hook: The hook's name when *phase* is ``"hook"``.
    """

    plugin: str
    distribution: str | None
    phase: str
    error: BaseException
    hook: str | None = None

    def describe(self) -> str:
        """Return a one-line human description of the failure."""
        where = f"hook {self.hook!r}" if self.hook else self.phase
        dist = f" (distribution {self.distribution!r})" if self.distribution else ""
        return (
            f"plugin {self.plugin!r}{dist} failed in {where}: "
            f"{type(self.error).__name__}: {self.error}"
        )


class _Spec:
    """What the manager knows about one hook specification."""

    __slots__ = (
        "argnames",
        "argset",
        "caller",
        "firstresult",
        "is_async",
        "mode",
        "name",
        "nargs",
        "plan",
    )

    def __init__(self, name: str, caller: pluggy.HookCaller, fn: Callable[..., Any]) -> None:
        opts: Mapping[str, Any] = caller.spec.opts if caller.spec is not None else {}
        self.name = name
        self.caller = caller
        self.firstresult = bool(opts.get("firstresult"))
        self.is_async = inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn)
        self.argnames: tuple[str, ...] = (
            tuple(caller.spec.argnames) if caller.spec is not None else ()
        )
        self.nargs = len(self.argnames)
        self.argset = frozenset(self.argnames)
        self.plan: Any = _STALE
        if opts.get("historic"):
            self.mode = _HISTORIC
        elif self.is_async:
            self.mode = _AFIRST if self.firstresult else _ALIST
        else:
            self.mode = _FIRST if self.firstresult else _LIST

    def check(self, kwargs: Mapping[str, Any]) -> None:
        missing = [name for name in self.argnames if name not in kwargs]
        unknown = sorted(set(kwargs) - set(self.argnames))
        if missing or unknown:
            what = (
                f"missing argument {missing[0]!r}"
                if missing
                else f"unknown argument {unknown[0]!r}"
            )
            raise InvalidArgumentError(
                f"hook {self.name!r} call has a {what}",
                code="pepperpy.plugin.hook_arguments",
                context={"hook": self.name, "missing": missing, "unknown": unknown},
                hint=f"The hook takes: {', '.join(self.argnames) or 'no arguments'}.",
            )

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if len(args) > len(self.argnames):
            raise InvalidArgumentError(
                f"hook {self.name!r} takes {len(self.argnames)} arguments, got {len(args)}",
                code="pepperpy.plugin.hook_arguments",
                context={"hook": self.name, "arguments": list(self.argnames)},
                hint="Pass the hook's arguments by keyword.",
            )
        bound = dict(kwargs)
        for name, value in zip(self.argnames, args, strict=False):
            if name in bound:
                raise InvalidArgumentError(
                    f"hook {self.name!r} got argument {name!r} twice",
                    code="pepperpy.plugin.hook_arguments",
                    context={"hook": self.name, "argument": name},
                    hint="Pass each argument once.",
                )
            bound[name] = value
        return bound


def _wrapper_error(gen: object, message: str) -> PluginValidationError:
    code = getattr(gen, "gi_code", None) or getattr(gen, "ag_code", None)
    where = f"{code.co_name!r} {code.co_filename}:{code.co_firstlineno}" if code else repr(gen)
    return PluginValidationError(
        f"hook wrapper at {where} {message}",
        context={"wrapper": where},
        hint="A wrapper yields exactly once to receive the result (an async wrapper may "
        "yield a second time to replace it).",
    )


def _arguments(hook: str, impl: pluggy.HookImpl, kwargs: Mapping[str, object]) -> Any:
    """The positional and optional keyword arguments pluggy would pass *impl*."""
    try:
        args = [kwargs[name] for name in impl.argnames]
    except KeyError as exc:
        raise InvalidArgumentError(
            f"hook {hook!r} call must provide argument {exc.args[0]!r}",
            code="pepperpy.plugin.hook_arguments",
            context={"hook": hook, "argument": exc.args[0]},
            hint="Pass every argument of the hook specification by keyword.",
        ) from None
    return args, {k: kwargs[k] for k in impl.kwargnames if k in kwargs}


async def _await_impls(
    hook: str, impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, object], first: bool
) -> Any:
    """Await a hook's implementations (in call order, no wrappers): results, or the first."""
    results: list[object] = []
    for impl in impls:
        args, extra = _arguments(hook, impl, kwargs)
        res = impl.function(*args, **extra)
        if inspect.isawaitable(res):
            res = await res
        if res is not None:
            if first:
                return res
            results.append(res)
    return None if first else results


async def _around(
    hook: str,
    wrappers: Sequence[pluggy.HookImpl],
    plain: Sequence[pluggy.HookImpl],
    kwargs: Mapping[str, object],
    first: bool,
) -> Any:
    """Run the plain implementations inside the wrappers, the first one outermost.

    Each wrapper is a generator (pluggy's protocol) or an async generator.

    A generator wrapper receives the result (or the exception) at its yield and
    returns the final result. An async generator wrapper receives it at its
    first yield; a second yield replaces it, finishing keeps it (or, after an
    exception, suppresses it: the result becomes ``None`` or ``[]``).
    """
    wrapper = wrappers[0]
    inner = (
        _around(hook, wrappers[1:], plain, kwargs, first)
        if len(wrappers) > 1
        else _await_impls(hook, plain, kwargs, first)
    )
    args, extra = _arguments(hook, wrapper, kwargs)
    function = getattr(wrapper.function, _ORIGINAL, wrapper.function)
    try:
        gen: Any = function(*args, **extra)
    except BaseException:
        inner.close()
        raise
    if _is_async_gen(gen):
        return await _around_async_wrapper(gen, inner, first)
    return await _around_wrapper(gen, inner)


async def _around_wrapper(gen: Any, inner: Coroutine[Any, Any, Any]) -> Any:
    """Run *inner* inside a generator wrapper (pluggy's protocol): its return is the result."""
    try:
        next(gen)
    except StopIteration:
        inner.close()
        raise _wrapper_error(gen, "did not yield") from None
    except BaseException:
        inner.close()
        raise
    try:
        try:
            result = await inner
        except BaseException as exc:
            gen.throw(exc)
        else:
            gen.send(result)
    except StopIteration as stop:
        return stop.value
    gen.close()
    raise _wrapper_error(gen, "has second yield")


async def _around_async_wrapper(gen: Any, inner: Coroutine[Any, Any, Any], first: bool) -> Any:
    """Run *inner* inside an async generator wrapper.

    The wrapper receives the result (or the exception) at its first yield; a second
    yield replaces it, finishing keeps it (or, after an exception, suppresses it:
    the result becomes ``None`` or ``[]``).
    """
    try:
        await gen.__anext__()
    except StopAsyncIteration:
        inner.close()
        raise _wrapper_error(gen, "did not yield") from None
    except BaseException:
        inner.close()
        raise
    try:
        result = await inner
    except BaseException as exc:
        try:
            replacement = await gen.athrow(exc)
        except StopAsyncIteration:
            return None if first else []
    else:
        try:
            replacement = await gen.asend(result)
        except StopAsyncIteration:
            return result
    try:
        await gen.asend(None)
    except StopAsyncIteration:
        return replacement
    await gen.aclose()
    raise _wrapper_error(gen, "yielded more than twice")


async def _acall_impls(
    hook: str, impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, object], first: bool
) -> Any:
    """Call an async hook's implementations as listed by :meth:`pluggy.HookCaller.get_hookimpls`.

    pluggy lists implementations in reverse call order, wrappers last; so the
    last listed wrapper is the outermost and the plain implementations run
    last-listed first, like pluggy's own calls.
    """
    order = impls[::-1]
    wrappers = [impl for impl in order if impl.wrapper]
    if not wrappers:
        return await _await_impls(hook, order, kwargs, first)
    plain = [impl for impl in order if not impl.wrapper]
    return await _around(hook, wrappers, plain, kwargs, first)


def _stand_in(function: Callable[..., Any]) -> Callable[..., Any]:
    """What pluggy is given for an async generator wrapper: a generator with its signature.

    pluggy accepts only generator functions as wrappers, and it never calls the
    wrappers of async hooks (only :class:`PluginManager` does, with the original).
    """

    def stand_in(*args: Any, **kwargs: Any) -> Generator[None, Any, Any]:  # pragma: no cover
        return (yield)

    functools.update_wrapper(stand_in, function)
    setattr(stand_in, _ORIGINAL, function)
    return stand_in


def _is_async_gen(obj: object) -> bool:
    return inspect.isasyncgen(obj)  # not a TypeGuard: keeps the value typed as Any


def _is_async_impl(fn: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn)


@attrs.frozen
class HookCall:
    """One hook call, as monitors see it (see :meth:`PluginManager.add_monitor`).

    Attributes:
        hook: The hook's name.
        plugins: The names of the plugins whose implementations run, in call order.
        kwargs: The call's arguments.
        result: The call's result (after it returned; ``None`` before).
        error: The exception the call raised, if it did.
    """

    hook: str
    plugins: tuple[str, ...]
    kwargs: Mapping[str, Any]
    result: Any = None
    error: BaseException | None = None


Monitor = Callable[[HookCall], object]
"""A callback that receives a :class:`HookCall`."""


class _Proxy:
    """What pluggy sees of a plugin: its hook implementations, guarded by the policy."""

    def __init__(self, record: PluginRecord, functions: Mapping[str, Callable[..., Any]]) -> None:
        self.__dict__.update(functions)
        self.__record = record

    def __repr__(self) -> str:
        return f"<plugin {self.__record.name!r}>"


class PluginManager(Lifecycle):
    """A host's plugin manager: typed hook calls on top of :class:`pluggy.PluginManager`.

    Hook specifications are methods of spec classes (ideally
    :class:`typing.Protocol` classes) marked with :data:`hookspec`; ``async``
    methods declare asynchronous hooks. Calls go through :meth:`call`,
    :meth:`call_first`, :meth:`acall` and :meth:`acall_first`, which take the
    spec method itself, so mypy checks the arguments and the result type::

        results = manager.call(AppSpec.greet, name="ada")   # list[str]

    Plugins are registered explicitly (:meth:`register`), from entry points
    (:meth:`load_entry_points`; :meth:`available` lists them without importing
    anything) or, opt-in, from a module path or directory (:meth:`load_path`,
    :meth:`load_directory`: this runs that code).

    Failing plugins are isolated according to *policy* (see :data:`ErrorPolicy`);
    every isolated failure is kept in :attr:`failures`.

    Plugins may expose ``start``/``stop`` callables (sync or async): the manager
    (a :class:`~pepperpy.core.types.Lifecycle`) runs them in registration order
    on :meth:`start` and in reverse on :meth:`stop` (or ``async with manager:``).

    Args:
        specs: Spec classes to add now (see :meth:`add_specs`).
        api_version: The host's plugin API version, such as ``"1.4"``. Plugins
            declaring ``requires_api = ">=1.2,<2"`` are refused when it is outside.
        policy: The isolation policy, ``"skip"``, ``"warn"`` (default) or ``"raise"``.
        entry_point_group: The entry point group to discover plugins in,
            such as ``"myapp.plugins"``.
        max_failures: How many failures :attr:`failures` keeps (oldest dropped).
    """

    def __init__(
        self,
        specs: Iterable[type] = (),
        *,
        api_version: str | None = None,
        policy: ErrorPolicy = "warn",
        entry_point_group: str | None = None,
        max_failures: int = 1000,
    ) -> None:
        if policy not in _POLICIES:
            raise InvalidArgumentError(
                f"unknown plugin error policy {policy!r}",
                code="pepperpy.plugin.invalid_policy",
                context={"policy": str(policy)},
                hint="Use 'skip', 'warn' or 'raise'.",
            )
        self.api_version = api_version
        self._api_tuple = parse_version(api_version) if api_version is not None else None
        self.policy: ErrorPolicy = policy
        self.entry_point_group = entry_point_group
        self._pm = pluggy.PluginManager(PROJECT)
        self._specs: dict[Callable[..., Any], _Spec] = {}
        self._by_name: dict[str, _Spec] = {}
        self._records: dict[str, PluginRecord] = {}
        self._failures: deque[PluginFailure] = deque(maxlen=max_failures)
        self._proxies: dict[str, _Proxy] = {}
        self._started: dict[str, PluginRecord] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._monitors: list[tuple[Monitor | None, Monitor | None]] = []
        self._blocked: set[str] = set()
        for spec in specs:
            self.add_specs(spec)

    # ------------------------------------------------------------------ specs

    def add_specs(self, spec: type) -> None:
        """Add the hook specifications declared on the class *spec*.

        ``@hookspec(historic=True)`` declares a historic hook (synchronous
        only), called with :meth:`call_historic`.

        Raises:
            InvalidArgumentError: *spec* declares no hook, a hook that is
                already declared, or an async historic hook.
        """
        found: list[tuple[str, Callable[..., Any]]] = []
        for attr in dir(spec):
            fn = getattr(spec, attr, None)
            opts = getattr(fn, f"{PROJECT}_spec", None) if fn is not None else None
            if opts is None:
                continue
            if opts.get("historic") and _is_async_impl(fn):  # type: ignore[arg-type]
                raise InvalidArgumentError(
                    f"hook {attr!r} is historic and async; historic hooks are synchronous",
                    code="pepperpy.plugin.historic",
                    context={"hook": attr},
                    hint="Declare the historic hook with 'def', or drop historic=True.",
                )
            found.append((attr, fn))  # type: ignore[arg-type]
        if not found:
            raise InvalidArgumentError(
                f"{getattr(spec, '__qualname__', spec)!r} declares no hook specification",
                code="pepperpy.plugin.no_specs",
                hint="Mark its methods with @hookspec.",
            )
        try:
            self._pm.add_hookspecs(spec)
        except ValueError as exc:
            raise InvalidArgumentError(
                str(exc),
                code="pepperpy.plugin.duplicate_spec",
                hint="Each hook name may be specified once per manager.",
            ) from exc
        for attr, fn in found:
            entry = _Spec(attr, getattr(self._pm.hook, attr), fn)
            self._specs[fn] = entry
            self._by_name[attr] = entry
        self._stale()

    @property
    def hook(self) -> pluggy.HookRelay:
        """The raw (untyped) pluggy hook relay, for code that needs pluggy itself."""
        return self._pm.hook

    @property
    def hooks(self) -> tuple[str, ...]:
        """The names of every specified hook, sorted."""
        return tuple(sorted(self._by_name))

    # ------------------------------------------------------------------ calls

    def _spec_for(self, hook: Callable[..., Any], method: str) -> _Spec:
        spec = self._specs.get(hook)
        if spec is None:
            name = getattr(hook, "__qualname__", repr(hook))
            raise InvalidArgumentError(
                f"{name!r} is not a hook specification of this manager",
                code="pepperpy.plugin.unknown_hook",
                context={"hook": name, "known": sorted(self._by_name)},
                hint="Pass the spec class's method (AppSpec.hook) and add the class with "
                "add_specs().",
            )
        if spec.mode != method:
            kind = ("async " if spec.is_async else "") + (
                "historic hook"
                if spec.mode == _HISTORIC
                else "firstresult hook"
                if spec.firstresult
                else "hook"
            )
            raise InvalidArgumentError(
                f"{spec.name!r} is an {kind}: call it with {spec.mode}(), not {method}()",
                code="pepperpy.plugin.wrong_call",
                context={"hook": spec.name, "use": spec.mode},
                hint=f"Use manager.{spec.mode}({spec.name}, ...).",
            )
        return spec

    def _stale(self) -> None:
        for spec in self._by_name.values():
            spec.plan = _STALE

    def _build_plan(self, spec: _Spec) -> tuple[_Step, ...] | None:
        """Flatten a hook's implementations into call steps, in pluggy's call order.

        Hooks with wrappers (or implementations taking optional keyword
        parameters), and every hook while monitors are installed, return
        ``None`` and go through pluggy's call (sync) or :func:`_acall_impls`.
        """
        if self._monitors:
            return None
        steps: list[_Step] = []
        for impl in reversed(spec.caller.get_hookimpls()):
            function = impl.function
            record = getattr(function, _RECORD, None)
            if impl.wrapper or impl.hookwrapper or impl.kwargnames or record is None:
                return None
            original = getattr(function, _ORIGINAL)
            names = tuple(impl.argnames)
            getter: Any
            if not names:
                mode, getter = 0, None
            elif len(names) == 1:
                mode, getter = 1, names[0]
            else:
                mode, getter = 2, operator.itemgetter(*names)
            steps.append((original, mode, getter, inspect.iscoroutinefunction(original), record))
        return tuple(steps)

    def _prepare(self, spec: _Spec, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if args:
            kwargs = spec.bind(args, kwargs)
        if kwargs.keys() != spec.argset:
            spec.check(kwargs)
        plan = spec.plan
        if plan is _STALE:
            plan = spec.plan = self._build_plan(spec)
        return kwargs, plan

    def _run_plan(
        self, spec: _Spec, plan: tuple[_Step, ...], kwargs: dict[str, Any], first: bool
    ) -> Any:
        results: list[Any] = []
        for fn, mode, getter, _, record in plan:
            try:
                if mode == 1:
                    res = fn(kwargs[getter])
                elif mode == 2:
                    res = fn(*getter(kwargs))
                else:
                    res = fn()
            except Exception as exc:
                self._hook_failed(record, spec.name, exc)
                continue
            if res is not None:
                if first:
                    return res
                results.append(res)
        return None if first else results

    async def _arun_plan(
        self, spec: _Spec, plan: tuple[_Step, ...], kwargs: dict[str, Any], first: bool
    ) -> Any:
        results: list[Any] = []
        for fn, mode, getter, is_async, record in plan:
            try:
                if mode == 1:
                    res = fn(kwargs[getter])
                elif mode == 2:
                    res = fn(*getter(kwargs))
                else:
                    res = fn()
                if is_async or (res is not None and inspect.isawaitable(res)):
                    res = await res
            except Exception as exc:
                self._hook_failed(record, spec.name, exc)
                continue
            if res is not None:
                if first:
                    return res
                results.append(res)
        return None if first else results

    async def _acall_caller(
        self, spec: _Spec, caller: pluggy.HookCaller, kwargs: dict[str, Any], first: bool
    ) -> Any:
        """Await an async hook through *caller*'s implementations, telling the monitors."""
        impls = caller.get_hookimpls()
        if not self._monitors:
            return await _acall_impls(spec.name, impls, kwargs, first)
        call = HookCall(spec.name, tuple(i.plugin_name for i in reversed(impls)), kwargs)
        monitors = list(self._monitors)
        for before, _ in reversed(monitors):
            if before is not None:
                before(call)
        try:
            result = await _acall_impls(spec.name, impls, kwargs, first)
        except BaseException as exc:
            self._tell_after(monitors, attrs.evolve(call, error=exc))
            raise
        self._tell_after(monitors, attrs.evolve(call, result=result))
        return result

    @staticmethod
    def _tell_after(monitors: list[tuple[Monitor | None, Monitor | None]], call: HookCall) -> None:
        for _, after in monitors:
            if after is not None:
                after(call)

    def call(
        self, hook: Callable[Concatenate[Any, P], R], /, *args: P.args, **kwargs: P.kwargs
    ) -> list[R]:
        """Call a synchronous hook; return every non-``None`` result in call order.

        Implementations run in pluggy's order (last registered first, adjusted
        by ``tryfirst``/``trylast``; wrappers around them).

        Args:
            hook: The spec method, e.g. ``AppSpec.greet``.
            *args: The hook's arguments (mapped to names by the spec).
            **kwargs: The hook's arguments by name.

        Raises:
            InvalidArgumentError: *hook* is unknown, async, historic or firstresult,
                or an argument is missing or unknown.
            PluginHookError: an implementation raised (policy ``"raise"``).
        """
        spec = self._specs.get(hook)
        if spec is None or spec.mode != _LIST:
            spec = self._spec_for(hook, _LIST)
        bound, plan = self._prepare(spec, args, kwargs)
        if plan is None:
            result: list[R] = spec.caller(**bound)
            return result
        return self._run_plan(spec, plan, bound, False)  # type: ignore[no-any-return]

    def call_first(
        self, hook: Callable[Concatenate[Any, P], R], /, *args: P.args, **kwargs: P.kwargs
    ) -> R | None:
        """Call a synchronous ``firstresult`` hook; return the first non-``None`` result."""
        spec = self._specs.get(hook)
        if spec is None or spec.mode != _FIRST:
            spec = self._spec_for(hook, _FIRST)
        bound, plan = self._prepare(spec, args, kwargs)
        if plan is None:
            result: R | None = spec.caller(**bound)
            return result
        return self._run_plan(spec, plan, bound, True)  # type: ignore[no-any-return]

    async def acall(
        self,
        hook: Callable[Concatenate[Any, P], Awaitable[R]],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> list[R]:
        """Call an asynchronous hook; await every implementation in order.

        Implementations may be ``async def`` or plain functions. Wrappers may be
        generators or async generators (see the docs for their protocol).
        """
        spec = self._specs.get(hook)
        if spec is None or spec.mode != _ALIST:
            spec = self._spec_for(hook, _ALIST)
        bound, plan = self._prepare(spec, args, kwargs)
        if plan is None:
            result: list[R] = await self._acall_caller(spec, spec.caller, bound, False)
            return result
        return await self._arun_plan(spec, plan, bound, False)  # type: ignore[no-any-return]

    async def acall_first(
        self,
        hook: Callable[Concatenate[Any, P], Awaitable[R]],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R | None:
        """Call an asynchronous ``firstresult`` hook; stop at the first non-``None`` result."""
        spec = self._specs.get(hook)
        if spec is None or spec.mode != _AFIRST:
            spec = self._spec_for(hook, _AFIRST)
        bound, plan = self._prepare(spec, args, kwargs)
        if plan is None:
            result: R | None = await self._acall_caller(spec, spec.caller, bound, True)
            return result
        return await self._arun_plan(spec, plan, bound, True)  # type: ignore[no-any-return]

    def call_historic(
        self,
        hook: Callable[Concatenate[Any, P], R],
        on_result: Callable[[R], object] | None = None,
        /,
    ) -> Callable[P, None]:
        """Prepare a call of a historic hook; calling the result makes the call.

        The call reaches every plugin registered now and, when it registers,
        every plugin registered later (pluggy's historic hooks). *on_result*
        receives each non-``None`` result, now and later::

            manager.call_historic(AppSpec.configure, results.append)(config=config)

        Raises:
            InvalidArgumentError: *hook* is not a historic hook of this manager
                (now), or an argument is missing or unknown (at the call).
        """
        spec = self._specs.get(hook)
        if spec is None or spec.mode != _HISTORIC:
            spec = self._spec_for(hook, _HISTORIC)
        checked = spec

        def call(*args: P.args, **kwargs: P.kwargs) -> None:
            bound = checked.bind(args, kwargs) if args else dict(kwargs)
            if bound.keys() != checked.argset:
                checked.check(bound)
            checked.caller.call_historic(
                result_callback=on_result,  # type: ignore[arg-type]
                kwargs=bound,
            )

        return call

    def subset(self, *, exclude: Iterable[str]) -> PluginSubset:
        """Call hooks on every plugin but those named in *exclude* (pluggy's subset callers).

        Raises:
            PluginNotFoundError: a name in *exclude* is not registered.
        """
        names = tuple(exclude)
        proxies = []
        for name in names:
            self.get_plugin(name)  # raises PluginNotFoundError
            proxies.append(self._proxies[name])
        return PluginSubset(self, tuple(proxies))

    # ------------------------------------------------------------------ monitoring

    def add_monitor(
        self, before: Monitor | None = None, after: Monitor | None = None
    ) -> Callable[[], None]:
        """Call *before* ahead of every hook call and *after* once it finished; return undo.

        Both receive a :class:`HookCall` (hook name, the plugins that run in call
        order, the arguments; *after* also the result or the error). Sync calls
        are monitored through :meth:`pluggy.PluginManager.add_hookcall_monitoring`,
        async calls by this manager, so both look the same. Calls are slower
        while a monitor is installed.
        """

        def pluggy_before(
            hook_name: str, impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, object]
        ) -> None:
            if before is not None:
                before(HookCall(hook_name, tuple(i.plugin_name for i in reversed(impls)), kwargs))

        def pluggy_after(
            outcome: pluggy.Result[object],
            hook_name: str,
            impls: Sequence[pluggy.HookImpl],
            kwargs: Mapping[str, object],
        ) -> None:
            if after is None:
                return
            call = HookCall(hook_name, tuple(i.plugin_name for i in reversed(impls)), kwargs)
            try:
                result = outcome.get_result()
            except BaseException as exc:
                after(attrs.evolve(call, error=exc))
            else:
                after(attrs.evolve(call, result=result))

        undo_pluggy = self._pm.add_hookcall_monitoring(pluggy_before, pluggy_after)
        entry = (before, after)
        self._monitors.append(entry)
        self._stale()

        def undo() -> None:
            if entry in self._monitors:
                self._monitors.remove(entry)
                undo_pluggy()
                self._stale()

        return undo

    def enable_tracing(self, write: Callable[[str], object] | None = None) -> Callable[[], None]:
        """Write one line before and one after every hook call; return undo.

        Lines look like ``greet(name='ada') -> hello, hi`` (the plugins, in
        call order) and ``greet -> ['hi ada', 'hello ada']`` (or ``greet !!
        KeyError: ...``). *write* defaults to the ``pepperpy.plugin`` logger at
        DEBUG level. Built on :meth:`add_monitor`.
        """
        out: Callable[[str], object] = write if write is not None else _LOG.debug

        def before(call: HookCall) -> None:
            arguments = ", ".join(f"{k}={v!r}" for k, v in call.kwargs.items())
            out(f"{call.hook}({arguments}) -> {', '.join(call.plugins) or 'no plugin'}")

        def after(call: HookCall) -> None:
            if call.error is not None:
                out(f"{call.hook} !! {type(call.error).__name__}: {call.error}")
            else:
                out(f"{call.hook} -> {call.result!r}")

        return self.add_monitor(before, after)

    # ------------------------------------------------------------------ failures

    @property
    def failures(self) -> tuple[PluginFailure, ...]:
        """Every isolated plugin failure so far (oldest first, bounded)."""
        return tuple(self._failures)

    def _report(self, failure: PluginFailure) -> None:
        self._failures.append(failure)
        message = failure.describe()
        if self.policy == "warn":
            _LOG.warning(message, exc_info=failure.error)
            warnings.warn(PluginWarning(message), stacklevel=_caller_stacklevel())
        else:
            _LOG.debug(message, exc_info=failure.error)

    def _isolate(self, failure: PluginFailure) -> None:
        """Apply the policy to a load/start/stop failure: raise it or report it."""
        if self.policy == "raise":
            error = failure.error
            if isinstance(error, PluginError):
                raise error
            raise PluginError(
                failure.describe(),
                context={
                    "plugin": failure.plugin,
                    "distribution": failure.distribution,
                    "phase": failure.phase,
                },
                hint="Fix or remove the plugin, or use policy='warn' to isolate it.",
            ) from error
        self._report(failure)

    def _hook_failed(self, record: PluginRecord, hook: str, exc: Exception) -> None:
        if isinstance(exc, PluginHookError):
            raise exc
        failure = PluginFailure(record.name, record.distribution, "hook", exc, hook)
        if self.policy == "raise":
            raise PluginHookError(
                failure.describe(),
                context={"plugin": record.name, "distribution": record.distribution, "hook": hook},
                hint="Fix the plugin, or use policy='warn' to isolate failing plugins.",
            ) from exc
        self._report(failure)

    def _guard(self, fn: Callable[..., Any], record: PluginRecord, hook: str) -> Any:
        """Wrap an implementation so its failures follow the policy (what pluggy calls)."""
        failed = self._hook_failed
        if inspect.iscoroutinefunction(fn):

            async def aguard(*args: Any, **kwargs: Any) -> Any:
                try:
                    return await fn(*args, **kwargs)
                except Exception as exc:
                    failed(record, hook, exc)
                    return None

            guard: Callable[..., Any] = aguard
        else:

            def sguard(*args: Any, **kwargs: Any) -> Any:
                try:
                    return fn(*args, **kwargs)
                except Exception as exc:
                    failed(record, hook, exc)
                    return None

            guard = sguard
        functools.update_wrapper(guard, fn)  # pluggy reads the signature through __wrapped__
        setattr(guard, _ORIGINAL, fn)
        setattr(guard, _RECORD, record)
        return guard

    # ------------------------------------------------------------------ registration

    def __contains__(self, name: object) -> bool:
        return name in self._records

    def __len__(self) -> int:
        return len(self._records)

    @property
    def plugins(self) -> tuple[PluginRecord, ...]:
        """The registered plugins, in registration order."""
        return tuple(self._records.values())

    def get_plugin(self, name: str) -> object:
        """Return the plugin registered as *name*.

        Raises:
            PluginNotFoundError: nothing is registered under that name.
        """
        try:
            return self._records[name].plugin
        except KeyError:
            raise PluginNotFoundError(
                f"no plugin named {name!r} is registered",
                context={"plugin": name, "registered": sorted(self._records)},
                hint="Check the name; 'manager.plugins' lists what is registered.",
            ) from None

    def register(
        self,
        plugin: object,
        *,
        name: str | None = None,
        distribution: str | None = None,
        version: str | None = None,
        source: str = "explicit",
    ) -> str:
        """Register *plugin* (a module, an instance, or a class, which is instantiated).

        The plugin's hook implementations are validated against the specs,
        and its ``requires_api`` range (if any) against :attr:`api_version`.

        Returns:
            The name it was registered under: *name*, else the plugin's
            ``plugin_name`` attribute, else its module or class name.

        Raises:
            IncompatiblePluginError: the plugin does not support this host API version.
            PluginValidationError: an implementation does not match its spec.
            PluginError: the name is already taken (code ``pepperpy.plugin.duplicate``).
        """
        if isinstance(plugin, type):
            plugin = plugin()
        if name is None:
            name = getattr(plugin, "plugin_name", None)
        if name is None:
            name = (
                getattr(plugin, "__name__", None)
                if inspect.ismodule(plugin)
                else type(plugin).__name__
            )
        assert isinstance(name, str)
        if name in self._blocked:
            raise PluginError(
                f"plugin {name!r} is blocked",
                code="pepperpy.plugin.blocked",
                context={"plugin": name, "distribution": distribution},
                hint="Call manager.unblock(name) first if it should be allowed again.",
            )
        if name in self._records:
            raise PluginError(
                f"a plugin named {name!r} is already registered",
                code="pepperpy.plugin.duplicate",
                context={"plugin": name, "distribution": distribution},
                hint="Register it under another name, or unregister the first one.",
            )
        for other in self._records.values():
            if other.plugin is plugin:
                raise PluginError(
                    f"this plugin object is already registered as {other.name!r}",
                    code="pepperpy.plugin.duplicate",
                    context={"plugin": name, "registered_as": other.name},
                    hint="Register a new instance, or unregister the first one.",
                )
        requires = self._check_compatible(plugin, name, distribution)
        record = PluginRecord(name, plugin, distribution, version, source, requires)
        proxy = _Proxy(record, self._implementations(plugin, record))
        try:
            self._pm.register(proxy, name=name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            if self._pm.is_registered(proxy):
                self._pm.unregister(proxy, name=name)
            raise PluginValidationError(
                f"plugin {name!r} is invalid: {exc}",
                context={"plugin": name, "distribution": distribution},
                hint="Make the functions it marks with @hookimpl match the hook specifications.",
            ) from exc
        except BaseException:  # a historic replay raised (policy "raise")
            if self._pm.is_registered(proxy):
                self._pm.unregister(proxy, name=name)
            raise
        self._records[name] = record
        self._proxies[name] = proxy
        self._stale()
        if self.state is LifecycleState.RUNNING:
            self._start_late(record)
        return name

    def _check_compatible(self, plugin: object, name: str, distribution: str | None) -> str | None:
        requires = getattr(plugin, "requires_api", None)
        if requires is None:
            return None
        try:
            api_range = ApiRange(str(requires))
        except PepperPyError as exc:
            raise PluginValidationError(
                f"plugin {name!r} declares an unreadable requires_api {requires!r}",
                context={"plugin": name, "distribution": distribution, "requires_api": requires},
                hint="Use a range such as '>=1.0,<2'.",
            ) from exc
        if self._api_tuple is not None and self._api_tuple not in api_range:
            dist = f" from distribution {distribution!r}" if distribution else ""
            raise IncompatiblePluginError(
                f"plugin {name!r}{dist} requires host API {api_range}, "
                f"but this host provides API {self.api_version}",
                context={
                    "plugin": name,
                    "distribution": distribution,
                    "requires_api": str(api_range),
                    "api_version": self.api_version,
                },
                hint="Install a version of the plugin that supports this host, or upgrade "
                "the host.",
            )
        return str(requires)

    def _implementations(self, plugin: object, record: PluginRecord) -> dict[str, Any]:
        """Validate *plugin*'s hook implementations; return what pluggy is to be given.

        Plain implementations are guarded (failures follow the policy), async
        generator wrappers get a generator stand-in; the rest is given as is.
        """
        functions: dict[str, Any] = {}
        for attr in dir(plugin):
            opts = self._pm.parse_hookimpl_opts(plugin, attr)
            if opts is None:
                continue
            fn = getattr(plugin, attr)
            hook = opts.get("specname") or attr
            spec = self._by_name.get(hook)
            wrapper = bool(opts.get("wrapper") or opts.get("hookwrapper"))
            problem = None
            if spec is None and not opts.get("optionalhook"):
                problem = f"implements {hook!r}, which is not a known hook"
            elif spec is not None and not spec.is_async and _is_async_impl(fn):
                problem = f"implements the synchronous hook {hook!r} with an async function"
            elif spec is not None and spec.is_async and opts.get("hookwrapper"):
                problem = f"uses an old-style hookwrapper on the async hook {hook!r}"
            if problem is not None:
                raise PluginValidationError(
                    f"plugin {record.name!r} {problem}",
                    context={
                        "plugin": record.name,
                        "distribution": record.distribution,
                        "hook": hook,
                        "known": sorted(self._by_name),
                    },
                    hint="Check the hook name and whether the spec is sync or async; "
                    "use @hookimpl(optionalhook=True) for optional hooks.",
                )
            if not wrapper:
                function = self._guard(fn, record, hook)
            elif inspect.isasyncgenfunction(fn):
                function = _stand_in(fn)
            else:
                function = fn  # a generator wrapper: pluggy runs it for sync hooks
            if function is not fn:
                setattr(function, f"{PROJECT}_impl", opts)
            functions[attr] = function
        return functions

    def unregister(self, name: str) -> object:
        """Unregister the plugin named *name* and return it.

        A started plugin is stopped: a synchronous ``stop`` runs now, an async
        one is started on the running event loop and :meth:`stop` waits for it.

        Raises:
            PluginNotFoundError: nothing is registered under that name.
        """
        plugin = self.get_plugin(name)
        self._pm.unregister(self._proxies.pop(name), name=name)
        record = self._records.pop(name)
        self._stale()
        if self._started.get(name) is record:
            del self._started[name]
            self._stop_soon(record)
        return plugin

    def block(self, name: str) -> None:
        """Block the plugin *name*: unregister (and stop) it now; never register it again."""
        self._blocked.add(name)
        if name in self._records:
            self.unregister(name)

    def unblock(self, name: str) -> None:
        """Allow a blocked plugin name again."""
        self._blocked.discard(name)

    def is_blocked(self, name: str) -> bool:
        """Whether *name* is blocked."""
        return name in self._blocked

    # ------------------------------------------------------------------ discovery

    def _group(self) -> str:
        if not self.entry_point_group:
            raise InvalidArgumentError(
                "this PluginManager has no entry_point_group",
                code="pepperpy.plugin.no_group",
                hint="Pass entry_point_group='yourapp.plugins' when creating it.",
            )
        return self.entry_point_group

    def available(self, *, refresh: bool = False) -> tuple[PluginInfo, ...]:
        """List the plugins advertised in :attr:`entry_point_group`; imports nothing.

        The scan is cached per process; ``refresh=True`` scans again.
        """
        return discover_entry_points(self._group(), refresh=refresh)

    def load_entry_points(
        self, *names: str, exclude: Iterable[str] = (), refresh: bool = False
    ) -> list[str]:
        """Import and register entry-point plugins; return the names registered now.

        Args:
            *names: Only these plugins (all of them when omitted).
            exclude: Plugins never to load (a block list).
            refresh: Scan the installed distributions again first.

        A plugin that fails to import, is incompatible or is invalid is handled
        by the policy: reported and skipped, or raised. Plugins already
        registered are left alone.

        Raises:
            PluginNotFoundError: one of *names* is not advertised.
        """
        infos = {info.name: info for info in self.available(refresh=refresh)}
        missing = [n for n in names if n not in infos]
        if missing:
            raise PluginNotFoundError(
                f"no plugin named {missing[0]!r} in entry point group {self._group()!r}",
                context={"plugin": missing[0], "available": sorted(infos)},
                hint="Install the distribution that provides it; available() lists what "
                "is installed.",
            )
        blocked = set(exclude)
        loaded: list[str] = []
        for info in infos.values():
            if (names and info.name not in names) or info.name in blocked:
                continue
            if info.name in self._blocked:
                continue
            if info.name in self._records:
                continue
            if self._load_one(info):
                loaded.append(info.name)
        return loaded

    def _load_one(self, info: PluginInfo) -> bool:
        try:
            obj = info.load()
            self.register(
                obj,
                name=info.name,
                distribution=info.distribution,
                version=info.version,
                source="entry point",
            )
        except Exception as exc:
            phase = (
                "register"
                if isinstance(exc, PluginError) and not isinstance(exc, PluginLoadError)
                else "load"
            )
            self._isolate(PluginFailure(info.name, info.distribution, phase, exc))
            return False
        return True

    def load_path(self, target: str | Path, *, name: str | None = None) -> str | None:
        """Import a plugin from a ``.py`` file, a package directory or a module name.

        **This runs the imported code**: use it only for trusted locations.
        Failures follow the policy; returns the registered name, or ``None``
        when the plugin was skipped.
        """
        if not isinstance(target, (str, os.PathLike)):
            raise InvalidArgumentError(
                f"load_path() takes a file, directory or module name, not {type(target).__name__}",
                code="pepperpy.plugin.invalid_target",
                hint="Pass a str or pathlib.Path.",
            )
        label = name or _label(target)
        if label in self._blocked:
            return None
        try:
            module = import_path(target)
            return self.register(module, name=name or _default_name(module) or label, source="path")
        except Exception as exc:
            self._isolate(PluginFailure(label, None, "load", exc))
            return None

    def load_directory(self, directory: str | Path) -> list[str]:
        """Import every plugin file and package in *directory* (sorted by name).

        **This runs the imported code**: use it only for trusted locations.
        Names starting with ``_`` or ``.`` are ignored. Returns the names registered.
        """
        loaded: list[str] = []
        for path in iter_directory(directory):
            name = self.load_path(path, name=path.stem if path.is_file() else path.name)
            if name is not None:
                loaded.append(name)
        return loaded

    # ------------------------------------------------------------------ lifecycle

    @staticmethod
    def _begin(record: PluginRecord, what: str) -> Awaitable[object] | None:
        """Call the plugin's *what* (``start``/``stop``) if it has one; return what to await."""
        fn = getattr(record.plugin, what, None)
        if not callable(fn):
            return None
        result = fn()
        return result if inspect.isawaitable(result) else None

    async def _start_record(self, record: PluginRecord) -> None:
        try:
            pending = self._begin(record, "start")
            if pending is not None:
                await _await_plugin(pending, record, "start")
        except Exception as exc:
            self._isolate(PluginFailure(record.name, record.distribution, "start", exc))
            return
        if self._records.get(record.name) is record:
            self._started[record.name] = record
        else:  # unregistered while it was starting
            await self._stop_record(record)

    async def _stop_record(self, record: PluginRecord) -> None:
        try:
            pending = self._begin(record, "stop")
            if pending is not None:
                await _await_plugin(pending, record, "stop")
        except Exception as exc:
            self._isolate(PluginFailure(record.name, record.distribution, "stop", exc))

    def _start_late(self, record: PluginRecord) -> None:
        """Start a plugin registered while the manager runs (an async start as a task)."""
        try:
            pending = self._begin(record, "start")
        except Exception as exc:
            self._isolate(PluginFailure(record.name, record.distribution, "start", exc))
            return
        if pending is None:
            self._started[record.name] = record
            return

        async def finish(awaitable: Awaitable[object]) -> None:
            try:
                await _await_plugin(awaitable, record, "start")
            except Exception as exc:
                self._isolate(PluginFailure(record.name, record.distribution, "start", exc))
                return
            if self._records.get(record.name) is record:
                self._started[record.name] = record
            else:  # unregistered while it was starting
                await self._stop_record(record)

        self._spawn(record, "start", finish(pending))

    def _stop_soon(self, record: PluginRecord) -> None:
        """Stop a plugin that left while started (an async stop as a task)."""
        try:
            pending = self._begin(record, "stop")
        except Exception as exc:
            self._isolate(PluginFailure(record.name, record.distribution, "stop", exc))
            return
        if pending is None:
            return

        async def finish(awaitable: Awaitable[object]) -> None:
            try:
                await _await_plugin(awaitable, record, "stop")
            except Exception as exc:
                self._isolate(PluginFailure(record.name, record.distribution, "stop", exc))

        self._spawn(record, "stop", finish(pending))

    def _spawn(self, record: PluginRecord, phase: str, work: Coroutine[Any, Any, None]) -> None:
        try:
            task = asyncio.get_running_loop().create_task(work)
        except RuntimeError:
            work.close()
            self._isolate(
                PluginFailure(
                    record.name,
                    record.distribution,
                    phase,
                    PluginError(
                        f"the async {phase} of plugin {record.name!r} needs the event loop",
                        code="pepperpy.plugin.no_loop",
                        context={"plugin": record.name},
                        hint="Register and unregister plugins of a running manager from "
                        "the event loop's thread.",
                    ),
                )
            )
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _on_start(self) -> None:
        self._started = {}
        attempted: set[str] = set()
        while True:  # plugins registered by another plugin's start are started too
            todo = [r for n, r in self._records.items() if n not in attempted]
            if not todo:
                return
            for record in todo:
                attempted.add(record.name)
                if self._records.get(record.name) is record:
                    await self._start_record(record)

    async def _on_stop(self) -> None:
        first_error: BaseException | None = None
        while self._tasks:  # starts and stops begun by register/unregister while running
            for outcome in await asyncio.gather(*self._tasks, return_exceptions=True):
                if isinstance(outcome, PluginError):
                    first_error = first_error or outcome
        started, self._started = self._started, {}
        for record in reversed(list(started.values())):
            try:
                await self._stop_record(record)
            except PluginError as error:
                first_error = first_error or error
        if first_error is not None:
            raise first_error


async def _await_plugin(awaitable: Awaitable[object], record: PluginRecord, phase: str) -> None:
    """Await a plugin's async start/stop in its own task.

    A ``CancelledError`` the plugin raises itself (``stop()`` awaiting its own cancelled
    task is the usual way) is its failure, raised as :class:`PluginError`; only a
    cancellation of the caller propagates as one.
    """
    inner = asyncio.ensure_future(awaitable)
    try:
        await asyncio.wait((inner,))
    except BaseException:
        inner.cancel()
        await asyncio.gather(inner, return_exceptions=True)
        raise
    if inner.cancelled():
        raise PluginError(
            f"the {phase} of plugin {record.name!r} raised CancelledError",
            code="pepperpy.plugin.cancelled_itself",
            context={"plugin": record.name, "phase": phase},
            hint="A plugin that cancels its own task should await it with "
            "asyncio.gather(task, return_exceptions=True) instead of re-raising.",
        )
    inner.result()


def _caller_stacklevel() -> int:
    """The ``stacklevel`` of the first frame outside this package, pluggy and Lifecycle."""
    frame = inspect.currentframe()
    level = 0
    while frame is not None and frame.f_code.co_filename.startswith(_INTERNAL):
        frame = frame.f_back
        level += 1
    return max(level, 1)


class PluginSubset:
    """Hook calls that skip some plugins (see :meth:`PluginManager.subset`).

    Built on :meth:`pluggy.PluginManager.subset_hook_caller`; the methods
    match :class:`PluginManager`'s.
    """

    def __init__(self, manager: PluginManager, exclude: tuple[object, ...]) -> None:
        self._manager = manager
        self._exclude = exclude

    def _caller(self, spec: _Spec) -> pluggy.HookCaller:
        return self._manager._pm.subset_hook_caller(spec.name, self._exclude)

    def _bind(
        self, hook: Callable[..., Any], mode: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[_Spec, dict[str, Any]]:
        spec = self._manager._spec_for(hook, mode)
        bound = spec.bind(args, kwargs) if args else kwargs
        if bound.keys() != spec.argset:
            spec.check(bound)
        return spec, bound

    def call(
        self, hook: Callable[Concatenate[Any, P], R], /, *args: P.args, **kwargs: P.kwargs
    ) -> list[R]:
        """Like :meth:`PluginManager.call`, without the excluded plugins."""
        spec, bound = self._bind(hook, _LIST, args, kwargs)
        result: list[R] = self._caller(spec)(**bound)
        return result

    def call_first(
        self, hook: Callable[Concatenate[Any, P], R], /, *args: P.args, **kwargs: P.kwargs
    ) -> R | None:
        """Like :meth:`PluginManager.call_first`, without the excluded plugins."""
        spec, bound = self._bind(hook, _FIRST, args, kwargs)
        result: R | None = self._caller(spec)(**bound)
        return result

    async def acall(
        self,
        hook: Callable[Concatenate[Any, P], Awaitable[R]],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> list[R]:
        """Like :meth:`PluginManager.acall`, without the excluded plugins."""
        spec, bound = self._bind(hook, _ALIST, args, kwargs)
        result: list[R] = await self._manager._acall_caller(spec, self._caller(spec), bound, False)
        return result

    async def acall_first(
        self,
        hook: Callable[Concatenate[Any, P], Awaitable[R]],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R | None:
        """Like :meth:`PluginManager.acall_first`, without the excluded plugins."""
        spec, bound = self._bind(hook, _AFIRST, args, kwargs)
        result: R | None = await self._manager._acall_caller(spec, self._caller(spec), bound, True)
        return result


def _label(target: str | Path) -> str:
    if isinstance(target, str) and not target.endswith(".py") and "/" not in target:
        return target
    path = Path(target)
    return path.stem if path.suffix == ".py" else path.name


def _default_name(module: object) -> str | None:
    name = getattr(module, "plugin_name", None)
    return name if isinstance(name, str) else None
