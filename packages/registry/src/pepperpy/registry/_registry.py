"""The component registry: registration, resolution, scopes, lifecycle, health and overrides."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
import math
import threading
from collections.abc import Awaitable, Callable, Hashable, Iterator, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

import attrs

from pepperpy.core import safe_str
from pepperpy.core.exceptions import (
    ConflictError,
    InvalidArgumentError,
    LifecycleError,
)
from pepperpy.core.types import Clock, Lifecycle, LifecycleState, system_clock
from pepperpy.core.utils import cancel_requested
from pepperpy.registry._errors import (
    AsyncResolutionError,
    CircularDependencyError,
    LifetimeError,
    RegistryValidationError,
    ScopeError,
    ServiceNotFoundError,
)
from pepperpy.registry._graph import (
    chain_text,
    dependents_of,
    find_problems,
    to_mermaid,
    topological_order,
)
from pepperpy.registry._keys import (
    _MARKER,
    Dependency,
    Kind,
    Lifetime,
    _hints,
    dependencies_of,
    describe,
    factory_kind,
    key_from_hint,
    returned_type,
)

if TYPE_CHECKING:
    from types import TracebackType

__all__ = [
    "HealthReport",
    "HealthResult",
    "Registry",
    "Scope",
    "ServiceInfo",
    "current_registry",
    "inject",
]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
Key = Hashable

_LOG = logging.getLogger("pepperpy.registry")
_ASYNC_KINDS = frozenset({Kind.ASYNC_FACTORY, Kind.ASYNC_GENERATOR, Kind.ASYNC_CONTEXT_MANAGER})
_MISS: Any = object()
_RETRY: Any = object()  # a creator was cancelled: a waiter creates the instance itself
_NOTHING: dict[Any, Any] = {}  # never written: the "no ready instances" view
_SINGLETON = Lifetime.SINGLETON
_SCOPED = Lifetime.SCOPED
_FACTORY = Kind.FACTORY
_CURRENT: ContextVar[Registry | None] = ContextVar("pepperpy.registry.current", default=None)

_Exit = tuple[str, Callable[[], Any]]


class _Layer:
    """The overrides active in one context (see :meth:`Registry.override`).

    *values* are the fakes; *affected* are the keys that must be resolved
    through this layer (the fakes and everything depending on them);
    singletons and scoped instances built with the fakes are kept here, never
    in the registry's shared caches, so other contexts never see them.
    """

    __slots__ = ("affected", "building", "instances", "scoped", "values")

    def __init__(self, values: dict[Key, Any], affected: frozenset[Key]) -> None:
        self.values = values
        self.affected = affected
        self.instances: dict[Key, Any] = {}
        self.building: dict[Key, asyncio.Future[Any]] = {}
        self.scoped: dict[Scope, tuple[dict[Key, Any], dict[Key, asyncio.Future[Any]]]] = {}

    def scope_stores(self, scope: Scope) -> tuple[dict[Key, Any], dict[Key, asyncio.Future[Any]]]:
        stores = self.scoped.get(scope)
        if stores is None:
            stores = self.scoped[scope] = ({}, {})
        return stores


class _Registration:
    """What the registry knows about one service."""

    __slots__ = (
        "deps",
        "enter",
        "health_check",
        "key",
        "kind",
        "lifetime",
        "needs_async",
        "plan",
        "provider",
    )

    def __init__(
        self,
        key: Key,
        provider: Any,
        lifetime: Lifetime,
        kind: Kind,
        deps: tuple[Dependency, ...],
        health_check: Callable[[Any], Any] | None,
        enter: bool | None,
    ) -> None:
        self.key = key
        self.provider = provider
        self.lifetime = lifetime
        self.kind = kind
        self.deps = deps
        self.health_check = health_check
        self.enter = enter
        self.needs_async = kind in _ASYNC_KINDS or enter is True
        self.plan = tuple((d.param, d.key, d.optional, d.positional) for d in deps)


@attrs.frozen
class ServiceInfo:
    """A read-only view of one registration (see :meth:`Registry.services`).

    Attributes:
        key: The key it is registered under (a type, a string, or ``(type, name)``).
        name: A readable name for the key.
        lifetime: Its :class:`Lifetime`.
        kind: How it is produced (:class:`Kind`).
        dependencies: The readable names of the services it needs.
        optional: The readable names of the dependencies that have defaults.
        has_health_check: Whether a health check is registered.
        instantiated: Whether a singleton instance exists right now.
    """

    key: Any
    name: str
    lifetime: Lifetime
    kind: Kind
    dependencies: tuple[str, ...]
    optional: tuple[str, ...]
    has_health_check: bool
    instantiated: bool


@attrs.frozen
class HealthResult:
    """The outcome of one health check.

    Attributes:
        name: The service's readable name.
        ok: ``True`` when the check returned anything but ``False`` without raising.
        value: What the check returned (latency, version, row count ...).
        error: ``"Type: message"`` when the check raised or timed out.
        duration: Seconds the check took.
    """

    name: str
    ok: bool
    value: Any = None
    error: str | None = None
    duration: float = 0.0


@attrs.frozen
class HealthReport:
    """Every health check's result; truthy when all are ok."""

    results: tuple[HealthResult, ...]

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return all(result.ok for result in self.results)

    def __bool__(self) -> bool:
        return self.ok

    def __iter__(self) -> Iterator[HealthResult]:
        return iter(self.results)

    def __getitem__(self, name: str) -> HealthResult:
        for result in self.results:
            if result.name == name:
                return result
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly summary (values are rendered with ``repr`` if needed)."""
        return {
            "ok": self.ok,
            "services": {
                r.name: {
                    "ok": r.ok,
                    "value": r.value
                    if r.value is None or isinstance(r.value, (bool, int, float, str))
                    else repr(r.value),
                    "error": r.error,
                    "duration": r.duration,
                }
                for r in self.results
            },
        }


def _finish_generator(gen: Any, label: str) -> Callable[[], None]:
    def finish() -> None:
        try:
            next(gen)
        except StopIteration:
            return
        gen.close()
        raise LifecycleError(
            f"the generator factory of {label} yielded more than once",
            code="pepperpy.registry.generator",
            context={"service": label},
            hint="A generator factory yields exactly one instance, then cleans up.",
        )

    return finish


def _finish_async_generator(agen: Any, label: str) -> Callable[[], Awaitable[None]]:
    async def finish() -> None:
        try:
            await agen.__anext__()
        except StopAsyncIteration:
            return
        await agen.aclose()
        raise LifecycleError(
            f"the async generator factory of {label} yielded more than once",
            code="pepperpy.registry.generator",
            context={"service": label},
            hint="An async generator factory yields exactly one instance, then cleans up.",
        )

    return finish


def _is_async_cm(obj: object) -> bool:
    return hasattr(obj, "__aenter__") and hasattr(obj, "__aexit__")


# Python 3.10 has no Task.cancelling(): there a CancelledError cannot be told apart.
_CAN_TELL_CANCELLATIONS = hasattr(asyncio.Task, "cancelling")


def _raised_by_the_work() -> bool:
    """Whether a ``CancelledError`` just caught came from the awaited work itself.

    True when the current task was not asked to stop (the shared
    :func:`~pepperpy.core.utils.cancel_requested`): the service's own code raised
    it, say by awaiting a task it had cancelled. Python 3.10 cannot tell the two
    apart: there it is always taken as a cancellation of the caller.
    """
    return _CAN_TELL_CANCELLATIONS and not cancel_requested()


async def _run_exits(exits: list[_Exit], what: str) -> None:
    """Run cleanups newest first; every one runs; the first failure is raised after."""
    failures: list[tuple[str, BaseException]] = []
    while exits:
        label, cleanup = exits.pop()
        try:
            result = cleanup()
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            _LOG.warning("cleanup of %s failed", label, exc_info=exc)
            failures.append((label, exc))
        except asyncio.CancelledError as exc:
            if not _raised_by_the_work():
                raise
            # The cleanup's own CancelledError: a failed cleanup, the others still run.
            _LOG.warning("cleanup of %s raised CancelledError", label, exc_info=exc)
            failures.append((label, exc))
    _raise_cleanup_failures(failures, what)


def _run_exits_sync(exits: list[_Exit], what: str) -> None:
    failures: list[tuple[str, Exception]] = []
    while exits:
        label, cleanup = exits.pop()
        try:
            result = cleanup()
            if inspect.isawaitable(result):
                close = getattr(result, "close", None)
                if close is not None:
                    close()
                raise AsyncResolutionError(
                    f"{label} needs an async cleanup",
                    context={"service": label},
                    hint="Use 'await registry.aclose()' or 'async with'.",
                )
        except Exception as exc:
            _LOG.warning("cleanup of %s failed", label, exc_info=exc)
            failures.append((label, exc))
    _raise_cleanup_failures(failures, what)


def _raise_cleanup_failures(failures: Sequence[tuple[str, BaseException]], what: str) -> None:
    if failures:
        names = ", ".join(label for label, _ in failures)
        raise LifecycleError(
            f"{len(failures)} service(s) failed to clean up when closing {what}: {names}",
            code="pepperpy.registry.cleanup",
            context={"services": [label for label, _ in failures]},
            hint="Every other cleanup ran; see the chained error and the log for details.",
        ) from failures[0][1]


class Scope:
    """One scope (a request, a task, a unit of work) for scoped services.

    Created by :meth:`Registry.scope`; use ``async with`` (or ``with`` when every
    scoped service is sync). Scoped instances are created once per scope and
    cleaned up, newest first, when the scope ends. The scope is carried by a
    context variable, so tasks started inside it share it.
    """

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._instances: dict[Key, Any] = {}
        self._building: dict[Key, asyncio.Future[Any]] = {}
        self._exits: list[_Exit] = []
        self._token: Any = None

    def _enter(self) -> None:
        if self._token is not None:
            raise LifecycleError(
                "this scope is already active",
                code="pepperpy.registry.scope_reentered",
                hint="Create a new scope with registry.scope() for each unit of work.",
            )
        self._token = self._registry._scope_var.set(self)

    def _leave(self) -> None:
        token, self._token = self._token, None
        try:
            self._registry._scope_var.reset(token)
        except ValueError:  # left from another context: still stop being current there
            self._registry._scope_var.set(None)

    async def __aenter__(self) -> Scope:
        self._enter()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._leave()
        self._instances.clear()
        await _run_exits(self._exits, "a scope")

    def __enter__(self) -> Scope:
        self._enter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._leave()
        self._instances.clear()
        _run_exits_sync(self._exits, "a scope")

    @property
    def instances(self) -> dict[str, Any]:
        """The scoped instances created so far, by readable name (a copy)."""
        return {describe(key): value for key, value in self._instances.items()}


class Registry(Lifecycle):
    """A typed component registry, service locator and dependency injector.

    Register services by type (or by name) as values or factories, then ask
    for them by type: ``await registry.get(Database)`` or, for sync services,
    ``registry.resolve(Database)``. Factory parameters are wired from their type
    hints (attrs classes from their fields), so no string keys are needed.

    Factories may be plain or ``async`` callables, classes, (async) generators
    (the code after ``yield`` is the cleanup), or (async) context managers;
    instances that are async context managers (for example
    :class:`~pepperpy.core.types.Lifecycle` components) are entered and exited.

    ``async with registry:`` validates the graph, creates every singleton in
    dependency order (entering/starting them), and on exit cleans them up in
    reverse order. Lazy use without ``async with`` works too; then call
    :meth:`aclose` at the end.

    Args:
        eager: Create every singleton on :meth:`start` (default). With
            ``False`` they are created on first use.
        clock: Where health check durations are measured.
    """

    def __init__(self, *, eager: bool = True, clock: Clock = system_clock) -> None:
        self._regs: dict[Key, _Registration] = {}
        self._ready: dict[Key, Any] = {}
        self._exits: list[_Exit] = []
        self._building: dict[Key, asyncio.Future[Any]] = {}
        self._rlock = threading.RLock()
        self._scope_var: ContextVar[Scope | None] = ContextVar(
            "pepperpy.registry.scope", default=None
        )
        self._eager = eager
        self._clock = clock
        # overrides live in a context variable; the counter keeps lookups fast without any
        self._layer_var: ContextVar[_Layer | None] = ContextVar(
            "pepperpy.registry.overrides", default=None
        )
        self._overridden = 0
        self._fast = self._ready  # the ready singletons, or nothing while overrides exist

    # ------------------------------------------------------------------ registration

    @staticmethod
    def _key(key: Any, name: str | None) -> Key:
        try:
            hash(key)
        except TypeError:
            raise InvalidArgumentError(
                f"service key {key!r} is not hashable",
                code="pepperpy.registry.invalid_key",
                hint="Register services under a type or a string.",
            ) from None
        if name is None:
            return cast(Key, key)
        if not isinstance(name, str) or not name:
            raise InvalidArgumentError(
                f"service name must be a non-empty string, got {name!r}",
                code="pepperpy.registry.invalid_key",
                hint="Pass name='primary' (or leave it out).",
            )
        return (key, name)

    def _add(self, reg: _Registration, replace: bool) -> None:
        with self._rlock:
            if reg.key in self._regs and not replace:
                raise ConflictError(
                    f"{describe(reg.key)} is already registered",
                    code="pepperpy.registry.duplicate",
                    context={"service": describe(reg.key)},
                    hint="Pass replace=True to replace it, or use override() in tests.",
                    retryable=False,
                )
            self._regs[reg.key] = reg
            self._ready.pop(reg.key, None)
            if reg.kind is Kind.VALUE:
                self._ready[reg.key] = reg.provider

    def register(
        self,
        key: Any,
        factory: Callable[..., Any] | None = None,
        /,
        *,
        lifetime: Lifetime | str = Lifetime.SINGLETON,
        name: str | None = None,
        health_check: Callable[[Any], Any] | None = None,
        enter: bool | None = None,
        replace: bool = False,
    ) -> None:
        """Register a factory for *key* (a type or a string).

        Args:
            key: What callers ask for; usually the interface or class.
            factory: A class, function, async function, (async) generator or
                (async) context manager function. Omit it to register the class
                *key* itself (auto-wired from its ``__init__`` or attrs fields).
            lifetime: ``"singleton"`` (default), ``"scoped"`` or ``"transient"``.
            name: Register a second implementation under ``(key, name)``; select
                it with ``Annotated[Key, Named(name)]`` or ``get(key, name)``.
            health_check: ``check(instance)`` returning a value (sync or async);
                run by :meth:`check_health`.
            enter: Whether to enter an async context manager instance.
                ``None`` (auto) enters instances from async factories and
                classes defining ``__aenter__``; ``True`` also enters the result
                of a sync factory; ``False`` never enters.
            replace: Replace an existing registration instead of raising.

        Raises:
            ConflictError: *key* is already registered.
            InvalidArgumentError: the factory cannot be wired (unannotated parameter ...).
        """
        if factory is None:
            if not isinstance(key, type):
                raise InvalidArgumentError(
                    f"register({describe(key)}) needs a factory when the key is not a class",
                    code="pepperpy.registry.no_factory",
                    hint="Pass a factory, or use register_value() for a ready-made value.",
                )
            factory = key
        if not callable(factory):
            raise InvalidArgumentError(
                f"the factory for {describe(key)} is not callable: {factory!r}",
                code="pepperpy.registry.not_callable",
                hint="Use register_value() to register a ready-made value.",
            )
        try:
            life = Lifetime(lifetime)
        except ValueError:
            raise InvalidArgumentError(
                f"unknown lifetime {lifetime!r}",
                code="pepperpy.registry.lifetime_name",
                hint="Use 'singleton', 'scoped' or 'transient'.",
            ) from None
        kind = factory_kind(factory)
        if enter is False and kind is Kind.ASYNC_CONTEXT_MANAGER and isinstance(factory, type):
            kind = Kind.FACTORY
        reg = _Registration(
            self._key(key, name),
            factory,
            life,
            kind,
            dependencies_of(factory),
            health_check,
            enter,
        )
        self._add(reg, replace)

    register_factory = register

    def factory(
        self,
        key: Any = None,
        /,
        *,
        lifetime: Lifetime | str = Lifetime.SINGLETON,
        name: str | None = None,
        health_check: Callable[[Any], Any] | None = None,
        enter: bool | None = None,
        replace: bool = False,
    ) -> Callable[[F], F]:
        """Decorator form of :meth:`register`; the key defaults to the return annotation.

        ::

            @registry.factory(lifetime="scoped")
            async def open_session(db: Database) -> AsyncIterator[Session]:
                ...

        registers ``open_session`` for ``Session`` (the ``T`` of ``Iterator[T]``
        and ``AsyncIterator[T]`` is used for generator factories).
        """

        def decorate(fn: F) -> F:
            self.register(
                key if key is not None else returned_type(fn),
                fn,
                lifetime=lifetime,
                name=name,
                health_check=health_check,
                enter=enter,
                replace=replace,
            )
            return fn

        return decorate

    def register_value(
        self,
        key: Any,
        value: Any,
        /,
        *,
        name: str | None = None,
        health_check: Callable[[Any], Any] | None = None,
        replace: bool = False,
    ) -> None:
        """Register a ready-made *value* for *key* (it is never cleaned up by the registry)."""
        reg = _Registration(
            self._key(key, name), value, Lifetime.SINGLETON, Kind.VALUE, (), health_check, False
        )
        self._add(reg, replace)

    def unregister(self, key: Any, /, *, name: str | None = None) -> None:
        """Remove a registration (an existing singleton stays alive until :meth:`aclose`)."""
        full = self._key(key, name)
        with self._rlock:
            if self._regs.pop(full, None) is None:
                raise self._not_found(full, ())
            self._ready.pop(full, None)

    def __contains__(self, key: object) -> bool:
        return key in self._regs

    def __len__(self) -> int:
        return len(self._regs)

    def __repr__(self) -> str:
        return f"<Registry services={len(self._regs)} state={self.state.value}>"

    # ------------------------------------------------------------------ errors

    def _not_found(self, key: Key, chain: tuple[Key, ...]) -> ServiceNotFoundError:
        needed = f" (needed by {chain_text([*chain, key])})" if chain else ""
        return ServiceNotFoundError(
            f"no service registered for {describe(key)}{needed}",
            context={"service": describe(key), "chain": [describe(k) for k in (*chain, key)]},
            hint=f"Register it: registry.register({describe(key)}, factory) or "
            "registry.register_value(...).",
        )

    # ------------------------------------------------------------------ sync resolution

    @overload
    def resolve(self, key: type[T], /, name: str | None = None) -> T: ...

    @overload
    def resolve(self, key: str, /, name: str | None = None) -> Any: ...

    def resolve(self, key: Any, /, name: str | None = None) -> Any:
        """Return the service for *key* synchronously.

        Works for services whose factories (and dependencies) are sync, and for
        any singleton already created (for example by ``async with registry``).

        Raises:
            ServiceNotFoundError: nothing is registered (the chain says who needed it).
            AsyncResolutionError: the service needs ``await registry.get(...)``.
            ScopeError: a scoped service was asked for outside a scope.
            CircularDependencyError: the services depend on each other in a loop.
        """
        try:
            return self._fast[key if name is None else (key, name)]
        except (KeyError, TypeError):
            pass  # resolve outside the handler so errors do not chain a KeyError
        return self._resolve(self._key(key, name), (), None)

    def _cycle(self, key: Key, chain: tuple[Key, ...]) -> CircularDependencyError:
        loop = [*chain[chain.index(key) :], key]
        return CircularDependencyError(
            f"dependency cycle: {chain_text(loop)}",
            context={"chain": [describe(k) for k in loop]},
            hint="Break the loop: let one side depend on a factory or resolve lazily.",
        )

    def _captive(self, key: Key, chain: tuple[Key, ...], captor: Key) -> LifetimeError:
        start = chain.index(captor) if captor in chain else 0
        path = [*chain[start:], key]
        return LifetimeError(
            f"singleton {describe(captor)} depends on scoped {describe(key)}: {chain_text(path)}",
            context={"chain": [describe(k) for k in path]},
            hint=f"Make {describe(captor)} scoped or transient, or {describe(key)} a singleton.",
        )

    def _layer(self, key: Key) -> _Layer | None:
        """The override layer *key* must be resolved in here, if any."""
        layer = self._layer_var.get()
        return layer if layer is not None and key in layer.affected else None

    def _resolve(self, key: Key, chain: tuple[Key, ...], captor: Key | None) -> Any:
        layer = self._layer(key) if self._overridden else None
        if layer is not None:
            fake = layer.values.get(key, _MISS)
            if fake is not _MISS:
                return fake
        reg = self._regs.get(key)
        if reg is None:
            return self._unregistered(key, chain, captor)
        if key in chain:
            raise self._cycle(key, chain)
        lifetime = reg.lifetime
        if lifetime is _SINGLETON:
            store = self._ready if layer is None else layer.instances
            with self._rlock:
                obj = store.get(key, _MISS)
                if obj is _MISS:
                    obj = self._create(reg, (*chain, key), self._exits, key)
                    store[key] = obj
                return obj
        scope = self._scope_var.get()
        if lifetime is _SCOPED:
            if captor is not None:
                raise self._captive(key, chain, captor)
            if scope is None:
                raise self._no_scope(key, chain)
            store = scope._instances if layer is None else layer.scope_stores(scope)[0]
            obj = store.get(key, _MISS)
            if obj is _MISS:
                obj = self._create(reg, (*chain, key), scope._exits, None)
                store[key] = obj
            return obj
        # a transient's cleanup goes with its holder: the registry for a singleton (captor)
        exits = self._exits if captor is not None or scope is None else scope._exits
        return self._create(reg, (*chain, key), exits, captor)

    def _unregistered(self, key: Key, chain: tuple[Key, ...], captor: Key | None) -> Any:
        """Resolve a key nobody registered: the registry itself, or the current scope.

        Anything else is a :class:`ServiceNotFoundError`; the sync and async paths share this.
        """
        if key is Registry:
            return self
        if key is Scope:
            if captor is not None:
                raise self._captive(key, chain, captor)
            return self._current_scope(key, chain)
        raise self._not_found(key, chain)

    def _current_scope(self, key: Key, chain: tuple[Key, ...]) -> Scope:
        scope = self._scope_var.get()
        if scope is None:
            raise self._no_scope(key, chain)
        return scope

    def _no_scope(self, key: Key, chain: tuple[Key, ...]) -> ScopeError:
        via = f" (needed by {chain_text([*chain, key])})" if chain else ""
        return ScopeError(
            f"{describe(key)} is scoped and no scope is active{via}",
            context={"service": describe(key)},
            hint="Resolve it inside 'async with registry.scope():' (one scope per request/task).",
        )

    def _needs_async(self, reg: _Registration, chain: tuple[Key, ...]) -> AsyncResolutionError:
        label = describe(reg.key)
        return AsyncResolutionError(
            f"{label} is created by an {reg.kind.value}"
            + (" and entered as an async context manager" if reg.enter else "")
            + (f" (needed by {chain_text(chain)})" if len(chain) > 1 else "")
            + "; it cannot be resolved synchronously",
            context={"service": label, "chain": [describe(k) for k in chain]},
            hint=f"Use 'await registry.get({label})', or start the registry first "
            "('async with registry:') so singletons are ready for resolve().",
        )

    def _create(
        self, reg: _Registration, chain: tuple[Key, ...], exits: list[_Exit], captor: Key | None
    ) -> Any:
        if reg.needs_async:
            raise self._needs_async(reg, chain)
        kwargs: dict[str, Any] = {}
        args: list[Any] | None = None
        ready = self._fast
        for param, dkey, optional, positional in reg.plan:
            if optional and dkey not in self._regs:
                continue
            value = ready.get(dkey, _MISS)
            if value is _MISS:
                value = self._resolve(dkey, chain, captor)
            if positional:
                if args is None:
                    args = []
                args.append(value)
            else:
                kwargs[param] = value
        provider = reg.provider
        kind = reg.kind
        if kind is _FACTORY:
            return provider(*args, **kwargs) if args else provider(**kwargs)
        label = describe(reg.key)
        if kind is Kind.GENERATOR:
            gen = provider(*(args or ()), **kwargs)
            obj = next(gen)
            exits.append((label, _finish_generator(gen, label)))
            return obj
        cm = provider(*(args or ()), **kwargs)  # Kind.CONTEXT_MANAGER
        obj = cm.__enter__()
        exits.append((label, functools.partial(cm.__exit__, None, None, None)))
        return obj

    # ------------------------------------------------------------------ async resolution

    @overload
    async def get(self, key: type[T], /, name: str | None = None) -> T: ...

    @overload
    async def get(self, key: str, /, name: str | None = None) -> Any: ...

    async def get(self, key: Any, /, name: str | None = None) -> Any:
        """Return the service for *key*, creating it (and its dependencies) if needed.

        Concurrent first requests for a singleton share one creation.

        Raises:
            ServiceNotFoundError: nothing is registered (the chain says who needed it).
            ScopeError: a scoped service was asked for outside a scope.
            CircularDependencyError: the services depend on each other in a loop.
            LifetimeError: a singleton would capture a scoped service.
        """
        try:
            return self._fast[key if name is None else (key, name)]
        except (KeyError, TypeError):
            pass  # resolve outside the handler so errors do not chain a KeyError
        return await self._aresolve(self._key(key, name), (), None)

    async def _aresolve(self, key: Key, chain: tuple[Key, ...], captor: Key | None) -> Any:
        layer = self._layer(key) if self._overridden else None
        if layer is not None:
            fake = layer.values.get(key, _MISS)
            if fake is not _MISS:
                return fake
        reg = self._regs.get(key)
        if reg is None:
            return self._unregistered(key, chain, captor)
        if key in chain:
            raise self._cycle(key, chain)
        lifetime = reg.lifetime
        if lifetime is Lifetime.SINGLETON:
            store, building = (
                (self._ready, self._building)
                if layer is None
                else (layer.instances, layer.building)
            )
            obj = store.get(key, _MISS)
            if obj is not _MISS:
                return obj
            return await self._once(store, building, key, reg, chain, self._exits, key)
        scope = self._scope_var.get()
        if lifetime is Lifetime.SCOPED:
            if captor is not None:
                raise self._captive(key, chain, captor)
            if scope is None:
                raise self._no_scope(key, chain)
            store, building = (
                (scope._instances, scope._building) if layer is None else layer.scope_stores(scope)
            )
            obj = store.get(key, _MISS)
            if obj is not _MISS:
                return obj
            return await self._once(store, building, key, reg, chain, scope._exits, None)
        exits = self._exits if captor is not None or scope is None else scope._exits
        return await self._acreate(reg, (*chain, key), exits, captor)

    async def _once(
        self,
        store: dict[Key, Any],
        building: dict[Key, asyncio.Future[Any]],
        key: Key,
        reg: _Registration,
        chain: tuple[Key, ...],
        exits: list[_Exit],
        captor: Key | None,
    ) -> Any:
        """Create *key* once even when several tasks ask for it at the same time.

        A waiter is cancelled only by its own cancellation: when the task
        creating the instance is cancelled, the next waiter creates it anew.
        """
        pending = building.get(key)
        while pending is not None:
            obj = await asyncio.shield(pending)
            if obj is not _RETRY:
                return obj
            obj = store.get(key, _MISS)
            if obj is not _MISS:
                return obj
            pending = building.get(key)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        building[key] = future
        try:
            obj = await self._acreate(reg, (*chain, key), exits, captor)
        except BaseException as exc:
            if isinstance(exc, Exception):
                future.set_exception(exc)
                future.exception()  # retrieved: waiters re-raise it, nobody else logs it
            else:  # cancelled or interrupted: not the waiters' business
                future.set_result(_RETRY)
            raise
        finally:
            building.pop(key, None)
        store[key] = obj
        future.set_result(obj)
        return obj

    async def _acreate(
        self, reg: _Registration, chain: tuple[Key, ...], exits: list[_Exit], captor: Key | None
    ) -> Any:
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        ready = self._fast
        for param, dkey, optional, positional in reg.plan:
            if optional and dkey not in self._regs:
                continue
            value = ready.get(dkey, _MISS)
            if value is _MISS:
                value = await self._aresolve(dkey, chain, captor)
            if positional:
                args.append(value)
            else:
                kwargs[param] = value
        label = describe(reg.key)
        provider = reg.provider
        kind = reg.kind
        if kind is Kind.FACTORY:
            obj = provider(*args, **kwargs)
            if reg.enter and _is_async_cm(obj):
                return await self._enter(obj, label, exits)
            return obj
        if kind is Kind.ASYNC_FACTORY:
            obj = await provider(*args, **kwargs)
            if reg.enter is not False and _is_async_cm(obj):
                return await self._enter(obj, label, exits)
            return obj
        if kind is Kind.ASYNC_CONTEXT_MANAGER:
            return await self._enter(provider(*args, **kwargs), label, exits)
        if kind is Kind.ASYNC_GENERATOR:
            agen = provider(*args, **kwargs)
            obj = await agen.__anext__()
            exits.append((label, _finish_async_generator(agen, label)))
            return obj
        if kind is Kind.GENERATOR:
            gen = provider(*args, **kwargs)
            obj = next(gen)
            exits.append((label, _finish_generator(gen, label)))
            return obj
        cm = provider(*args, **kwargs)  # Kind.CONTEXT_MANAGER
        obj = cm.__enter__()
        exits.append((label, functools.partial(cm.__exit__, None, None, None)))
        return obj

    @staticmethod
    async def _enter(cm: Any, label: str, exits: list[_Exit]) -> Any:
        obj = await cm.__aenter__()
        exits.append((label, functools.partial(cm.__aexit__, None, None, None)))
        return obj

    # ------------------------------------------------------------------ scopes

    def scope(self) -> Scope:
        """Open a scope for scoped services: ``async with registry.scope(): ...``."""
        return Scope(self)

    def scoped(self, fn: F) -> F:
        """Decorate *fn* so every call runs in a fresh scope (request handlers, tasks).

        Put it outside :meth:`inject` so injected scoped services come from that scope::

            @registry.scoped
            @registry.inject
            async def handle(request: Request, session: Session = INJECT) -> Response: ...
        """
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                async with self.scope():
                    return await fn(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self.scope():
                return fn(*args, **kwargs)

        return run  # type: ignore[return-value]

    @property
    def current_scope(self) -> Scope | None:
        """The scope active in this context, if any."""
        return self._scope_var.get()

    # ------------------------------------------------------------------ validation and view

    def validate(self) -> None:
        """Check the whole graph before anything runs.

        Reports every missing dependency, dependency cycle and captive
        dependency (a singleton that would keep a scoped service), each with
        the full chain from the service that needs it.

        Raises:
            RegistryValidationError: listing every problem.
        """
        problems = find_problems(
            self._regs, frozenset({Registry, Scope}), scoped=frozenset({Scope})
        )
        if problems:
            raise RegistryValidationError(
                f"the registry has {len(problems)} problem{'s' if len(problems) != 1 else ''}",
                errors=problems,
                hint="Register the missing services, break the cycles and fix the lifetimes "
                "listed above.",
            )

    def services(self) -> list[ServiceInfo]:
        """Describe every registration, in registration order."""
        return [
            ServiceInfo(
                key=reg.key,
                name=describe(reg.key),
                lifetime=reg.lifetime,
                kind=reg.kind,
                dependencies=tuple(describe(d.key) for d in reg.deps),
                optional=tuple(describe(d.key) for d in reg.deps if d.optional),
                has_health_check=reg.health_check is not None,
                instantiated=reg.key in self._ready,
            )
            for reg in self._regs.values()
        ]

    def to_mermaid(self, *, direction: str = "TD") -> str:
        """Return the dependency graph as a Mermaid flowchart.

        Nodes show the service, its lifetime and kind; an arrow points from a
        service to each dependency (dotted when optional); missing services are
        drawn dashed.
        """
        return to_mermaid(
            self._regs, {k: r.kind.value for k, r in self._regs.items()}, direction=direction
        )

    # ------------------------------------------------------------------ lifecycle

    async def _on_start(self) -> None:
        self.validate()
        if self._eager:
            for key in topological_order(self._regs):
                reg = self._regs[key]
                if reg.lifetime is Lifetime.SINGLETON and key not in self._ready:
                    await self._aresolve(key, (), None)
        _CURRENT.set(self)

    async def _on_stop(self) -> None:
        if _CURRENT.get() is self:
            _CURRENT.set(None)
        try:
            await _run_exits(self._exits, "the registry")
        finally:
            self._forget_instances()

    def _forget_instances(self) -> None:
        for key in list(self._ready):
            reg = self._regs.get(key)
            if reg is None or reg.kind is not Kind.VALUE:
                del self._ready[key]

    async def aclose(self) -> None:
        """Clean up every instance created so far, newest first, whatever the state.

        Singletons are forgotten (values are kept), so the registry can be used again.
        """
        if self.state is LifecycleState.RUNNING:
            await self.stop()
            return
        try:
            await _run_exits(self._exits, "the registry")
        finally:
            self._forget_instances()

    def close(self) -> None:
        """Synchronous :meth:`aclose`, for registries whose cleanups are all sync."""
        try:
            _run_exits_sync(self._exits, "the registry")
        finally:
            self._forget_instances()
            if self.state is LifecycleState.RUNNING:
                self._lc_state = LifecycleState.STOPPED

    def activate(self) -> contextlib.AbstractContextManager[Registry]:
        """Make this the registry module-level :func:`inject` uses, within a ``with`` block."""

        @contextlib.contextmanager
        def activate() -> Iterator[Registry]:
            token = _CURRENT.set(self)
            try:
                yield self
            finally:
                _CURRENT.reset(token)

        return activate()

    # ------------------------------------------------------------------ health

    async def check_health(self, *, timeout: float = 5.0) -> HealthReport:
        """Run every registered health check concurrently and collect their values.

        Each check receives the service instance (resolved as usual; scoped
        services need an active scope) and may return anything: ``False``
        means unhealthy, an exception or a timeout too. *timeout* (seconds, finite
        and > 0) bounds creating the service and running its check together.
        """

        async def run(key: Key, reg: _Registration) -> HealthResult:
            check = reg.health_check
            assert check is not None
            started = self._clock.monotonic()

            async def probe() -> Any:
                instance = await self._aresolve(key, (), None)
                value = check(instance)
                if inspect.isawaitable(value):
                    value = await _awaited(value)
                return value

            try:
                # The timeout covers creating the service too: a factory that never
                # returns (a database that never answers) must not hang the report.
                value = await asyncio.wait_for(probe(), timeout)
            except (Exception, asyncio.CancelledError) as exc:
                if isinstance(exc, asyncio.CancelledError) and not _raised_by_the_work():
                    raise  # check_health() itself is cancelled
                kind = "TimeoutError" if isinstance(exc, asyncio.TimeoutError) else None
                # The error leaves the process (health endpoints): rendered through the
                # redactor, which never raises on an exception whose __str__ does.
                text = safe_str(exc, 500)
                return HealthResult(
                    describe(key),
                    False,
                    None,
                    f"{kind or type(exc).__name__}: {text}" if text else kind or type(exc).__name__,
                    self._clock.monotonic() - started,
                )
            return HealthResult(
                describe(key), value is not False, value, None, self._clock.monotonic() - started
            )

        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, (int, float))
            or not math.isfinite(timeout)
            or timeout <= 0
        ):
            raise InvalidArgumentError(
                f"check_health() timeout must be a finite number of seconds > 0, "
                f"got {safe_str(timeout, 50)}",
                code="pepperpy.registry.health_timeout",
                hint="Pass timeout=5 (seconds) or leave it unset.",
            )
        checks = [run(k, r) for k, r in list(self._regs.items()) if r.health_check is not None]
        return HealthReport(tuple(await asyncio.gather(*checks)))

    # ------------------------------------------------------------------ overrides

    @contextlib.contextmanager
    def override(self, key: Any, value: Any, /, *, name: str | None = None) -> Iterator[Any]:
        """Replace *key* with *value* in this context only (for tests), as a context manager.

        Services that depend on *key*, directly or not, are rebuilt with the
        fake while the block runs. The override is carried by a context
        variable, like :meth:`scope`: tasks started inside the block see it,
        other tasks (a test running in parallel, say) and the code after the
        block see the original registrations and instances. Overrides nest.
        Instances built with the fake are cleaned up with their lifetime's
        owner (the registry for singletons, the scope for scoped services).
        """
        full = self._key(key, name)
        parent = self._layer_var.get()
        values = {**parent.values, full: value} if parent is not None else {full: value}
        with self._rlock:
            affected = frozenset(values).union(*(dependents_of(self._regs, k) for k in values))
        layer = _Layer(values, affected)
        token = self._layer_var.set(layer)
        with self._rlock:
            self._overridden += 1
            self._fast = _NOTHING
        try:
            yield value
        finally:
            with self._rlock:
                self._overridden -= 1
                if not self._overridden:
                    self._fast = self._ready
            try:
                self._layer_var.reset(token)
            except ValueError:  # left from another context: still stop applying there
                self._layer_var.set(parent)

    # ------------------------------------------------------------------ injection

    def inject(self, fn: F) -> F:
        """Decorate *fn* so its marked parameters are filled from this registry.

        Mark a parameter with the default :data:`INJECT` or the annotation
        ``Injected[T]``; an argument the caller passes is used as is. Async
        functions resolve with :meth:`get`, sync ones with :meth:`resolve`.
        """
        return _injector(fn, lambda: self)


async def _awaited(value: Awaitable[Any]) -> Any:
    return await value


def current_registry() -> Registry:
    """Return the registry module-level :func:`inject` uses in this context.

    It is the registry most recently started here (``async with registry:``)
    or activated with :meth:`Registry.activate`.

    Raises:
        LifecycleError: no registry is active.
    """
    registry = _CURRENT.get()
    if registry is None:
        raise LifecycleError(
            "no registry is active in this context",
            code="pepperpy.registry.no_current",
            hint="Start one with 'async with registry:' or use 'with registry.activate():', "
            "or decorate with '@registry.inject' instead.",
        )
    return registry


def inject(fn: F) -> F:
    """Like :meth:`Registry.inject`, resolving from :func:`current_registry` at call time."""
    return _injector(fn, current_registry)


def _injector(fn: F, registry_of: Callable[[], Registry]) -> F:
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(
            f"cannot inspect {fn!r} for injection",
            code="pepperpy.registry.inject",
            hint="Decorate a plain function or method.",
        ) from exc
    hints = _hints(fn, fn)
    targets: list[tuple[str, Key, int | None]] = []
    for index, param in enumerate(signature.parameters.values()):
        hint = hints.get(param.name)
        key, _, marked = key_from_hint(hint) if hint is not None else (None, False, False)
        if not (marked or param.default is _MARKER):
            continue
        if key is None:
            raise InvalidArgumentError(
                f"parameter {param.name!r} of {fn.__qualname__} is marked for injection "
                "but has no type annotation",
                code="pepperpy.registry.inject",
                context={"parameter": param.name},
                hint="Annotate it with the service type to inject.",
            )
        positional = param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD)
        targets.append((param.name, key, index if positional else None))
    if not targets:
        raise InvalidArgumentError(
            f"{fn.__qualname__} has no parameter marked for injection",
            code="pepperpy.registry.inject",
            hint="Give parameters the default INJECT or the annotation Injected[T].",
        )
    positional_only = {
        name for name, p in signature.parameters.items() if p.kind is p.POSITIONAL_ONLY
    }
    if positional_only & {name for name, _, _ in targets}:
        raise InvalidArgumentError(
            f"{fn.__qualname__}: positional-only parameters cannot be injected",
            code="pepperpy.registry.inject",
            hint="Make the injected parameters regular or keyword-only.",
        )

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            registry = registry_of()
            for name, key, index in targets:
                if name in kwargs or (index is not None and index < len(args)):
                    continue
                kwargs[name] = await registry.get(cast(Any, key))
            return await fn(*args, **kwargs)

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        registry = registry_of()
        for name, key, index in targets:
            if name in kwargs or (index is not None and index < len(args)):
                continue
            kwargs[name] = registry.resolve(cast(Any, key))
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
