"""The plugin manager: typed sync and async hook calls on pluggy, isolation, lifecycle."""

from __future__ import annotations

import inspect
import logging
import operator
import warnings
from collections import deque
from collections.abc import Awaitable, Callable, Generator, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Concatenate, Literal, ParamSpec, TypeVar

import attrs
import pluggy

from pepperpy.core.exceptions import InvalidArgumentError, PepperPyError, PluginError
from pepperpy.core.types import Lifecycle
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

__all__ = ["ErrorPolicy", "PluginFailure", "PluginManager", "PluginRecord"]

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
        if self.is_async:
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


def _raise_wrapfail(gen: object, message: str) -> None:
    code = getattr(gen, "gi_code", None) or getattr(gen, "ag_code", None)
    where = f"{code.co_name!r} {code.co_filename}:{code.co_firstlineno}" if code else repr(gen)
    raise PluginValidationError(
        f"hook wrapper at {where} {message}",
        context={"wrapper": where},
        hint="A wrapper yields exactly once to receive the result (an async wrapper may "
        "yield a second time to replace it).",
    )


async def _amulticall(
    hook_name: str,
    hook_impls: Sequence[pluggy.HookImpl],
    caller_kwargs: Mapping[str, object],
    firstresult: bool,
) -> Any:
    """Await every implementation in pluggy's order, with firstresult and wrappers.

    Mirrors :func:`pluggy._multicall`: implementations run last-registered
    first (adjusted by ``tryfirst``/``trylast``), ``None`` results are dropped,
    a firstresult hook stops at the first non-``None`` result, and wrappers
    see the result (or exception) of everything inside them.
    """
    results: list[object] = []
    exception: BaseException | None = None
    teardowns: list[Any] = []
    try:
        for impl in reversed(hook_impls):
            try:
                args = [caller_kwargs[name] for name in impl.argnames]
            except KeyError as exc:
                raise InvalidArgumentError(
                    f"hook {hook_name!r} call must provide argument {exc.args[0]!r}",
                    code="pepperpy.plugin.hook_arguments",
                    context={"hook": hook_name, "argument": exc.args[0]},
                    hint="Pass every argument of the hook specification by keyword.",
                ) from None
            kwargnames = getattr(impl, "kwargnames", ())
            kwargs = {k: caller_kwargs[k] for k in kwargnames if k in caller_kwargs}
            if impl.wrapper:
                gen: Any = impl.function(*args, **kwargs)
                if inspect.isasyncgen(gen):
                    try:
                        await gen.__anext__()
                    except StopAsyncIteration:
                        _raise_wrapfail(gen, "did not yield")
                else:
                    try:
                        next(gen)
                    except StopIteration:
                        _raise_wrapfail(gen, "did not yield")
                teardowns.append(gen)
            else:
                res = impl.function(*args, **kwargs)
                if inspect.isawaitable(res):
                    res = await res
                if res is not None:
                    results.append(res)
                    if firstresult:
                        break
    except BaseException as exc:
        exception = exc
    result: Any = (results[0] if results else None) if firstresult else results
    for gen in reversed(teardowns):
        if _is_agen(gen):
            try:
                if exception is not None:
                    replacement = await gen.athrow(exception)
                else:
                    replacement = await gen.asend(result)
            except StopAsyncIteration:
                if exception is not None:  # swallowed without a replacement
                    exception = None
                    result = None if firstresult else []
                continue
            except BaseException as exc:
                exception = exc
                continue
            result, exception = replacement, None
            try:
                await gen.asend(None)
            except StopAsyncIteration:
                continue
            except BaseException as exc:
                exception = exc
                continue
            await gen.aclose()
            try:
                _raise_wrapfail(gen, "yielded more than twice")
            except PluginValidationError as exc:
                exception = exc
        else:
            try:
                if exception is not None:
                    gen.throw(exception)
                else:
                    gen.send(result)
                gen.close()
            except StopIteration as stop:
                result, exception = stop.value, None
                continue
            except BaseException as exc:
                exception = exc
                continue
            try:
                _raise_wrapfail(gen, "has second yield")
            except PluginValidationError as exc:
                exception = exc
    if exception is not None:
        raise exception
    return result


class _Pluggy(pluggy.PluginManager):
    """pluggy's manager, also accepting async generator wrappers (for async hooks)."""

    def _verify_hook(self, hook: pluggy.HookCaller, hookimpl: pluggy.HookImpl) -> None:
        function = hookimpl.function
        if hookimpl.wrapper and inspect.isasyncgenfunction(function):
            # pluggy insists on a generator function; show it a stand-in for the check
            setattr(hookimpl, "function", _generator_stand_in)  # noqa: B010
            try:
                super()._verify_hook(hook, hookimpl)
            finally:
                setattr(hookimpl, "function", function)  # noqa: B010
            return
        super()._verify_hook(hook, hookimpl)


def _generator_stand_in() -> Generator[None, None, None]:  # pragma: no cover - never run
    yield


def _is_agen(obj: object) -> bool:
    return inspect.isasyncgen(obj)  # not a TypeGuard: keeps the value typed as Any


def _is_async_impl(fn: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn)


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
        self._pm = _Pluggy(PROJECT)
        self._specs: dict[Callable[..., Any], _Spec] = {}
        self._by_name: dict[str, _Spec] = {}
        self._records: dict[str, PluginRecord] = {}
        self._failures: deque[PluginFailure] = deque(maxlen=max_failures)
        self._started: list[PluginRecord] = []
        self._blocked: set[str] = set()
        for spec in specs:
            self.add_specs(spec)

    # ------------------------------------------------------------------ specs

    def add_specs(self, spec: type) -> None:
        """Add the hook specifications declared on the class *spec*.

        Raises:
            InvalidArgumentError: *spec* declares no hook, or a hook that is
                already declared, or a historic hook (not supported).
        """
        found: list[tuple[str, Callable[..., Any]]] = []
        for attr in dir(spec):
            fn = getattr(spec, attr, None)
            if fn is not None and getattr(fn, f"{PROJECT}_spec", None) is not None:
                if getattr(fn, f"{PROJECT}_spec").get("historic"):
                    raise InvalidArgumentError(
                        f"hook {attr!r} is historic, which pepperpy.plugin does not support",
                        code="pepperpy.plugin.historic",
                        context={"hook": attr},
                        hint="Call the hook for late plugins yourself after registering them.",
                    )
                found.append((attr, fn))
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
                "firstresult hook" if spec.firstresult else "hook"
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
        parameters) return ``None`` and go through the general call loop.
        """
        steps: list[_Step] = []
        for impl in reversed(spec.caller.get_hookimpls()):
            record = getattr(impl.function, _RECORD, None)
            optional_args: tuple[str, ...] = tuple(getattr(impl, "kwargnames", None) or ())
            if impl.wrapper or impl.hookwrapper or optional_args or not record:
                return None
            original = getattr(impl.function, _ORIGINAL)
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
            InvalidArgumentError: *hook* is unknown, async or firstresult, or an
                argument is missing or unknown.
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
            result: list[R] = await _amulticall(
                spec.name, spec.caller.get_hookimpls(), bound, False
            )
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
            result: R | None = await _amulticall(
                spec.name, spec.caller.get_hookimpls(), bound, True
            )
            return result
        return await self._arun_plan(spec, plan, bound, True)  # type: ignore[no-any-return]

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
            warnings.warn(PluginWarning(message), stacklevel=3)
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
        failed = self._hook_failed
        if inspect.iscoroutinefunction(fn):

            async def aguard(*args: Any, **kwargs: Any) -> Any:
                try:
                    return await fn(*args, **kwargs)
                except Exception as exc:
                    failed(record, hook, exc)
                    return None

            setattr(aguard, _ORIGINAL, fn)
            setattr(aguard, _RECORD, record)
            return aguard

        def guard(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                failed(record, hook, exc)
                return None

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
        requires = self._check_compatible(plugin, name, distribution)
        record = PluginRecord(name, plugin, distribution, version, source, requires)
        try:
            self._pm.register(plugin, name=name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            raise PluginValidationError(
                f"plugin {name!r} is invalid: {exc}",
                context={"plugin": name, "distribution": distribution},
                hint="Make its @hookimpl functions match the hook specifications.",
            ) from exc
        try:
            self._validate_and_guard(plugin, record)
        except BaseException:
            self._pm.unregister(plugin, name=name)
            raise
        self._records[name] = record
        self._stale()
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

    def _validate_and_guard(self, plugin: object, record: PluginRecord) -> None:
        callers = self._pm.get_hookcallers(plugin) or []
        for caller in callers:
            spec = self._by_name.get(caller.name)
            for impl in caller.get_hookimpls():
                if impl.plugin is not plugin:
                    continue
                problem = None
                if spec is None and not impl.optionalhook:
                    problem = f"implements {caller.name!r}, which is not a known hook"
                elif spec is not None and not spec.is_async and _is_async_impl(impl.function):
                    problem = (
                        f"implements the synchronous hook {caller.name!r} with an async function"
                    )
                elif spec is not None and spec.is_async and impl.hookwrapper:
                    problem = f"uses an old-style hookwrapper on the async hook {caller.name!r}"
                if problem is not None:
                    raise PluginValidationError(
                        f"plugin {record.name!r} {problem}",
                        context={
                            "plugin": record.name,
                            "distribution": record.distribution,
                            "hook": caller.name,
                            "known": sorted(self._by_name),
                        },
                        hint="Check the hook name and whether the spec is sync or async; "
                        "use @hookimpl(optionalhook=True) for optional hooks.",
                    )
        for caller in callers:
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin and not (impl.wrapper or impl.hookwrapper):
                    # HookImpl.function is Final only for type checkers: swapping in the
                    # guard keeps pluggy's ordering and argument handling untouched.
                    setattr(impl, "function", self._guard(impl.function, record, caller.name))  # noqa: B010

    def unregister(self, name: str) -> object:
        """Unregister the plugin named *name* and return it.

        Raises:
            PluginNotFoundError: nothing is registered under that name.
        """
        plugin = self.get_plugin(name)
        self._pm.unregister(plugin, name=name)
        record = self._records.pop(name)
        self._stale()
        self._started = [r for r in self._started if r is not record]
        return plugin

    def block(self, name: str) -> None:
        """Block the plugin *name*: unregister it now and never load or register it again."""
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

    async def _on_start(self) -> None:
        self._started = []
        for record in list(self._records.values()):
            start = getattr(record.plugin, "start", None)
            if not callable(start):
                continue
            try:
                result = start()
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                self._isolate(PluginFailure(record.name, record.distribution, "start", exc))
                continue
            self._started.append(record)

    async def _on_stop(self) -> None:
        first_error: BaseException | None = None
        started, self._started = self._started, []
        for record in reversed(started):
            stop = getattr(record.plugin, "stop", None)
            if not callable(stop):
                continue
            try:
                result = stop()
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                try:
                    self._isolate(PluginFailure(record.name, record.distribution, "stop", exc))
                except PluginError as error:
                    first_error = first_error or error
        if first_error is not None:
            raise first_error


def _label(target: str | Path) -> str:
    if isinstance(target, str) and not target.endswith(".py") and "/" not in target:
        return target
    path = Path(target)
    return path.stem if path.suffix == ".py" else path.name


def _default_name(module: object) -> str | None:
    name = getattr(module, "plugin_name", None)
    return name if isinstance(name, str) else None
