"""Service keys, lifetimes and reading dependencies from type hints."""

from __future__ import annotations

import collections.abc
import contextlib
import enum
import functools
import inspect
import types
import typing
from collections.abc import Callable, Hashable
from typing import Annotated, Any, Final, TypeVar, Union, get_args, get_origin

import attrs

from pepperpy.core.exceptions import InvalidArgumentError

__all__ = [
    "INJECT",
    "Dependency",
    "Injected",
    "Kind",
    "Lifetime",
    "Named",
    "describe",
    "dependencies_of",
    "factory_kind",
    "key_from_hint",
    "returned_type",
]

T = TypeVar("T")


class Lifetime(str, enum.Enum):
    """How long a service instance lives.

    * ``SINGLETON``: one instance for the registry's life (closed by ``aclose``).
    * ``SCOPED``: one instance per ``registry.scope()`` (a request, a task),
      closed when the scope ends. Tracked with :mod:`contextvars`.
    * ``TRANSIENT``: a new instance every time it is resolved.
    """

    SINGLETON = "singleton"
    SCOPED = "scoped"
    TRANSIENT = "transient"

    def __str__(self) -> str:
        return self.value


class Kind(str, enum.Enum):
    """How a provider produces its instance (see :class:`ServiceInfo`)."""

    VALUE = "value"
    FACTORY = "factory"
    ASYNC_FACTORY = "async factory"
    GENERATOR = "generator"
    ASYNC_GENERATOR = "async generator"
    CONTEXT_MANAGER = "context manager"
    ASYNC_CONTEXT_MANAGER = "async context manager"

    def __str__(self) -> str:
        return self.value


@attrs.frozen
class Named:
    """``Annotated`` metadata selecting a service registered under a name.

    ``def make(db: Annotated[Database, Named("replica")]) -> ...``
    """

    name: str


class _InjectMarker:
    __slots__ = ()

    def __repr__(self) -> str:
        return "INJECT"


_MARKER: Final = _InjectMarker()

INJECT: Any = _MARKER
"""Default value marking a parameter for :func:`inject`: ``def f(db: Database = INJECT)``."""

Injected = Annotated[T, _MARKER]
"""Annotation marking a parameter for :func:`inject`: ``def f(db: Injected[Database])``."""

Key = Hashable


def describe(key: object) -> str:
    """Return a readable name for a service key: ``Database``, ``Database[replica]``, ``'url'``."""
    if isinstance(key, tuple) and len(key) == 2 and isinstance(key[1], str):
        return f"{describe(key[0])}[{key[1]}]"
    if isinstance(key, str):
        return repr(key)
    if isinstance(key, type) and get_origin(key) is None:  # list[int] is a type on 3.10
        return key.__qualname__
    return repr(key).replace("typing.", "")


def key_from_hint(hint: Any) -> tuple[Key | None, bool, bool]:
    """Turn a parameter annotation into ``(key, optional, marked_for_inject)``."""
    marked = False
    name: str | None = None
    if get_origin(hint) is Annotated:
        base, *meta = get_args(hint)
        for item in meta:
            if item is _MARKER:
                marked = True
            elif isinstance(item, Named):
                name = item.name
        hint = base
    optional = False
    origin = get_origin(hint)
    if origin is Union or (hasattr(types, "UnionType") and origin is types.UnionType):
        members = [a for a in get_args(hint) if a is not type(None)]
        if len(members) == 1 and len(get_args(hint)) == 2:
            hint, optional = members[0], True
    if hint is Any or hint is inspect.Parameter.empty or hint is None:
        return None, optional, marked
    key: Key = (hint, name) if name is not None else hint
    return key, optional, marked


@attrs.frozen
class Dependency:
    """One parameter a factory needs from the registry.

    Attributes:
        param: The parameter name.
        key: The service key resolved for it.
        optional: Whether the parameter has a default (used when the key is not registered).
        positional: Whether it must be passed positionally.
    """

    param: str
    key: Key
    optional: bool = False
    positional: bool = False


def _hints(fn: Any, owner: object) -> dict[str, Any]:
    """Resolve the parameter annotations of *fn* (never the return annotation)."""
    target = inspect.unwrap(fn) if callable(fn) else fn
    annotations = dict(getattr(target, "__annotations__", None) or {})
    annotations.pop("return", None)
    shim = types.SimpleNamespace(__annotations__=annotations)
    try:
        return typing.get_type_hints(
            shim, globalns=getattr(target, "__globals__", {}), include_extras=True
        )
    except Exception as exc:
        name = getattr(owner, "__qualname__", None) or describe(owner)
        raise InvalidArgumentError(
            f"cannot read the type hints of {name}: {type(exc).__name__}: {exc}",
            code="pepperpy.registry.hints",
            context={"factory": name},
            hint="Make every annotation importable at module level (no names hidden "
            "behind TYPE_CHECKING) so the registry can wire the parameters.",
        ) from exc


def _attrs_dependencies(cls: type) -> list[Dependency]:
    try:
        attrs.resolve_types(cls, include_extras=True)
    except Exception as exc:
        raise InvalidArgumentError(
            f"cannot read the field types of {cls.__qualname__}: {type(exc).__name__}: {exc}",
            code="pepperpy.registry.hints",
            context={"factory": cls.__qualname__},
            hint="Make every annotation importable at module level.",
        ) from exc
    deps: list[Dependency] = []
    for field in attrs.fields(cls):
        if not field.init:
            continue
        has_default = field.default is not attrs.NOTHING
        param = field.alias or field.name.lstrip("_")
        dep = _dependency(param, field.type, has_default, False, cls)
        if dep is not None:
            deps.append(dep)
    return deps


def _dependency(
    param: str, hint: Any, has_default: bool, positional: bool, owner: object
) -> Dependency | None:
    key, optional, _ = key_from_hint(hint)
    if key is None:
        if has_default:
            return None
        name = getattr(owner, "__qualname__", None) or describe(owner)
        raise InvalidArgumentError(
            f"parameter {param!r} of {name} has no usable type annotation",
            code="pepperpy.registry.unannotated",
            context={"factory": name, "parameter": param},
            hint="Annotate it with the type of the service to inject, give it a default, "
            "or register a factory that takes no such parameter.",
        )
    return Dependency(param, key, optional or has_default, positional)


@functools.lru_cache(maxsize=1024)
def dependencies_of(factory: Callable[..., Any]) -> tuple[Dependency, ...]:
    """Read the dependencies of *factory* (a class or callable) from its type hints.

    attrs classes are read from their fields; other classes from ``__init__``;
    callables from their signature. Parameters with a default are optional
    dependencies; ``*args``/``**kwargs`` are ignored.
    """
    if isinstance(factory, type) and attrs.has(factory):
        return tuple(_attrs_dependencies(factory))
    if isinstance(factory, type):
        init = vars(factory).get("__init__") or getattr(factory, "__init__")  # noqa: B009
        if init is object.__init__:
            return ()
        hints = _hints(init, factory)
    else:
        hints = _hints(factory, factory)
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # builtins without a signature take nothing from us
        return ()
    deps: list[Dependency] = []
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        hint = hints.get(param.name, param.annotation)
        if isinstance(hint, str):
            hint = inspect.Parameter.empty
        dep = _dependency(
            param.name,
            hint,
            param.default is not param.empty,
            param.kind is param.POSITIONAL_ONLY,
            factory,
        )
        if dep is not None:
            deps.append(dep)
    return tuple(deps)


_PRODUCERS = {
    collections.abc.Iterator,
    collections.abc.Iterable,
    collections.abc.Generator,
    collections.abc.AsyncIterator,
    collections.abc.AsyncIterable,
    collections.abc.AsyncGenerator,
    contextlib.AbstractContextManager,
    contextlib.AbstractAsyncContextManager,
}


def returned_type(factory: Callable[..., Any]) -> Key:
    """The service key a factory produces, read from its return annotation.

    ``-> Database``, ``-> Iterator[Database]`` and ``-> AsyncIterator[Database]``
    (generator and context manager factories) all give ``Database``.

    Raises:
        InvalidArgumentError: the factory has no usable return annotation.
    """
    target = inspect.unwrap(factory)
    name = getattr(factory, "__qualname__", None) or describe(factory)
    try:
        hint = typing.get_type_hints(target).get("return")
    except Exception as exc:
        raise InvalidArgumentError(
            f"cannot read the return annotation of {name}: {type(exc).__name__}: {exc}",
            code="pepperpy.registry.hints",
            context={"factory": name},
            hint="Make the annotation importable at module level, or pass the key explicitly.",
        ) from exc
    if get_origin(hint) in _PRODUCERS and get_args(hint):
        hint = get_args(hint)[0]
    if hint is None or hint is Any or hint is type(None):
        raise InvalidArgumentError(
            f"{name} has no return annotation to register it under",
            code="pepperpy.registry.no_key",
            context={"factory": name},
            hint="Annotate the return type (-> Database) or pass the key: "
            "@registry.factory(Database).",
        )
    key: Key = hint
    return key


def factory_kind(factory: Callable[..., Any]) -> Kind:
    """Classify *factory* by how it produces (and cleans up) its instance."""
    target = factory
    while isinstance(target, functools.partial):
        target = target.func
    if isinstance(target, type):
        if hasattr(target, "__aenter__") and hasattr(target, "__aexit__"):
            return Kind.ASYNC_CONTEXT_MANAGER
        return Kind.FACTORY
    wrapped = getattr(target, "__wrapped__", None)
    if wrapped is not None and inspect.isasyncgenfunction(wrapped):
        return Kind.ASYNC_CONTEXT_MANAGER  # @asynccontextmanager
    if wrapped is not None and inspect.isgeneratorfunction(wrapped):
        return Kind.CONTEXT_MANAGER  # @contextmanager
    if inspect.isasyncgenfunction(target):
        return Kind.ASYNC_GENERATOR
    if inspect.isgeneratorfunction(target):
        return Kind.GENERATOR
    if inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(
        getattr(target, "__call__", None)  # noqa: B004
    ):
        return Kind.ASYNC_FACTORY
    return Kind.FACTORY
