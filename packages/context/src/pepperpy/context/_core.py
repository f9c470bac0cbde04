"""The context store: one :class:`contextvars.ContextVar` holding an immutable mapping.

The variable holds a pair ``(values, owner)``. ``values`` is a plain dict that
is never mutated once stored (every change stores a new dict), so a mapping
handed out by :func:`current` or captured by a task can never change under
its reader. ``owner`` is the innermost :class:`scope` still open in this
context, or ``None``; it lets a scope tell a clean LIFO exit (restore
exactly) from an out-of-order one (patch only its own keys).
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from types import MappingProxyType, TracebackType
from typing import Any, Generic, Optional, TypeVar

from pepperpy.core.exceptions import (
    ConflictError,
    InvalidArgumentError,
    NotFoundError,
    safe_repr,
)

__all__ = [
    "Key",
    "bind",
    "clear",
    "current",
    "get",
    "scope",
    "unbind",
]

T = TypeVar("T")

_State = tuple[dict[str, Any], Optional["scope"]]

_EMPTY_STATE: _State = ({}, None)
_VAR: contextvars.ContextVar[_State] = contextvars.ContextVar(
    "pepperpy.context", default=_EMPTY_STATE
)

# name -> required type, filled by Key(..., type=...); checked on bind/scope.
_TYPED: dict[str, type[Any]] = {}


def _check_types(values: Mapping[str, Any]) -> None:
    for name, value in values.items():
        expected = _TYPED.get(name)
        if expected is not None and not isinstance(value, expected):
            raise InvalidArgumentError(
                f"context key {name!r} must be {expected.__name__}, "
                f"got {type(value).__name__} {safe_repr(value)}",
                code="pepperpy.context.type",
                context={"key": name, "expected": expected.__name__},
                hint=f"Bind a {expected.__name__} value, as declared by Key({name!r}, ...).",
            )


# Bound methods and the view type as module globals: one global load per call
# on the scope hot path instead of a global load plus an attribute lookup.
_get = _VAR.get
_set = _VAR.set
_ReadOnly = MappingProxyType


def _merge_mapping(values: Mapping[str, Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Return ``{**values, **kwargs}`` after checking *values* is a mapping with str keys."""
    if not isinstance(values, Mapping):
        raise InvalidArgumentError(
            f"scope() takes a mapping of values, got {type(values).__name__}",
            code="pepperpy.context.scope",
            hint="Pass keyword arguments, a dict or a Snapshot.",
        )
    merged = {**values, **kwargs}
    for key in merged:
        if not isinstance(key, str):
            raise InvalidArgumentError(
                f"context keys must be strings, got {safe_repr(key)}",
                code="pepperpy.context.key",
                hint="Use str keys.",
            )
    return merged


def _values() -> dict[str, Any]:
    """Return the current values dict itself (never mutate it)."""
    return _VAR.get()[0]


def _set_values(values: dict[str, Any]) -> None:
    """Replace the current values, keeping the current scope owner."""
    _VAR.set((values, _VAR.get()[1]))


def bind(**values: Any) -> None:
    """Add *values* to the current context until it ends (or the enclosing scope exits).

    In an asyncio task the change is visible to that task and to every task
    or thread it starts afterwards, never to its parent or its siblings.
    Inside a :class:`scope`, the binding is undone when the scope exits.

    Raises:
        InvalidArgumentError: A value does not match the type declared by a :class:`Key`.
    """
    if not values:
        return
    if _TYPED:
        _check_types(values)
    state = _VAR.get()
    _VAR.set(({**state[0], **values}, state[1]))


def unbind(*keys: str) -> None:
    """Remove *keys* from the current context; missing keys are ignored."""
    state = _VAR.get()
    if any(key in state[0] for key in keys):
        _VAR.set(({k: v for k, v in state[0].items() if k not in keys}, state[1]))


def clear() -> None:
    """Remove every value from the current context."""
    state = _VAR.get()
    if state[0]:
        _VAR.set(({}, state[1]))


def get(key: str, default: Any = None) -> Any:
    """Return the context value bound to *key*, or *default*."""
    return _VAR.get()[0].get(key, default)


def current() -> Mapping[str, Any]:
    """Return a read-only view of every value bound in the current context.

    The view never changes: later binds store a new mapping.
    """
    return MappingProxyType(_VAR.get()[0])


class scope:
    """Bind values for the duration of a ``with`` (or ``async with``) block.

    On exit the context is restored exactly as it was on entry, including
    anything :func:`bind` added inside the block. Exits are safe in the
    awkward cases other libraries trip on:

    * a generator or async generator closed later, from another task,
      thread or the garbage collector: the exit never raises
      ``ValueError: <Token> was created in a different Context`` and never
      touches a context it does not own (not even values there that equal
      its own: scopes restore what they replaced, never match by value);
    * out-of-order exits (two generators interleaved in one task): only
      this scope's own keys are put back, a newer scope's values survive.

    Args:
        values: A mapping (or a :class:`~pepperpy.context.Snapshot`) of values
            to bind, merged with the keyword arguments (keywords win).
        **kwargs: Values to bind.

    A scope object is single-use while entered; create one per ``with``.
    """

    __slots__ = ("_entered", "_prev", "_values")

    _entered: bool
    _prev: _State  # the state __enter__ replaced; set once entered, kept after exit
    _values: dict[str, Any]

    def __init__(self, values: Mapping[str, Any] | None = None, /, **kwargs: Any) -> None:
        # The hot path (keywords only) stores the keyword dict as is: two
        # slot stores. ``_prev`` is first written by __enter__ and only read
        # for a scope that has been entered.
        if values is not None:
            kwargs = _merge_mapping(values, kwargs)
        if _TYPED:
            _check_types(kwargs)
        # Never mutated after this point: __enter__ may store it as the
        # context's values dict as is when nothing else is bound.
        self._values = kwargs
        self._entered = False

    @property
    def values(self) -> Mapping[str, Any]:
        """The values this scope binds."""
        return MappingProxyType(self._values)

    def __enter__(self) -> Mapping[str, Any]:
        if self._entered:
            raise InvalidArgumentError(
                "this scope is already entered",
                code="pepperpy.context.reentered",
                hint="Create a new scope(...) for each 'with' block.",
            )
        prev = _get()
        values = self._values
        before = prev[0]
        if before:
            # Both dicts are never mutated, so an empty side needs no copy.
            values = {**before, **values} if values else before
        self._prev = prev
        self._entered = True
        _set((values, self))
        return _ReadOnly(values)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._entered:
            self._entered = False
            cur = _get()
            if cur[1] is self:
                # We are the innermost open scope of this context (or of a copy
                # of it, e.g. a generator finalised in another task): put back
                # exactly what we replaced, in this context only. A plain set is
                # used instead of Token.reset(), which raises when the token
                # comes from another Context.
                _set(self._prev)
            else:
                self._exit_out_of_order(cur)

    async def __aenter__(self) -> Mapping[str, Any]:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    def _exit_out_of_order(self, cur: _State) -> None:
        # Find ourselves below newer scopes that are still open (top first).
        above: list[scope] = []
        node = cur[1]
        while node is not None and node is not self:
            above.append(node)
            node = node._prev[1]
        shadowed: set[str] = set()
        if node is self:
            # Every newer scope remembers a state that includes our values:
            # rewrite those memories without them (keys a scope between us and
            # it rebinds stay), and unlink us from the chain.
            for index, newer in enumerate(reversed(above)):
                link = self._prev[1] if index == 0 else newer._prev[1]
                newer._prev = (self._undo(newer._prev[0], shadowed), link)
                shadowed.update(newer._values)
        else:
            # A context that never saw us (a generator closed from another
            # thread or task): nothing in it is ours, even values equal (or
            # identical, like interned strings) to ours. Restore by token,
            # never by value: leave it alone.
            return
        values = self._undo(cur[0], shadowed)
        if values is not cur[0]:
            _VAR.set((values, cur[1]))

    def _undo(
        self, values: dict[str, Any], skip: set[str] | frozenset[str] = frozenset()
    ) -> dict[str, Any]:
        """Return *values* with this scope's own keys put back as they were."""
        prev_values = self._prev[0]
        patched: dict[str, Any] | None = None
        for key, value in self._values.items():
            if key in values and values[key] is value and key not in skip:
                if patched is None:
                    patched = dict(values)
                if key in prev_values:
                    patched[key] = prev_values[key]
                else:
                    del patched[key]
        return values if patched is None else patched

    def __repr__(self) -> str:
        state = "entered" if self._entered else "idle"
        inner = ", ".join(f"{k}={safe_repr(v)}" for k, v in self._values.items())
        return f"scope({inner}) <{state}>"


class Key(Generic[T]):
    """A typed, named context key.

    ``Key`` is a typed handle over the shared context store: values bound
    through it are also visible to :func:`get`, :func:`current`, snapshots
    and log records under :attr:`name`::

        TENANT = Key("tenant", str)
        with TENANT.scope("acme"):
            assert TENANT.get() == "acme"

    Args:
        name: The key under which the value is stored.
        type: When given, every value bound under *name* (through this key,
            :func:`bind` or :class:`scope`) must be an instance of it.
        default: Returned by :meth:`get` when nothing is bound.

    Raises:
        ConflictError: *name* was already declared with a different type.
    """

    __slots__ = ("default", "name", "type")

    def __init__(
        self,
        name: str,
        type: type[T] | None = None,
        *,
        default: T | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise InvalidArgumentError(
                f"a context key name must be a non-empty string, got {safe_repr(name)}",
                code="pepperpy.context.key",
                hint="Use a short snake_case name such as 'request_id'.",
            )
        if type is not None:
            known = _TYPED.get(name)
            if known is not None and known is not type:
                raise ConflictError(
                    f"context key {name!r} is already declared as {known.__name__}",
                    code="pepperpy.context.key_conflict",
                    context={"key": name, "declared": known.__name__, "new": type.__name__},
                    hint="Declare each key once and import it where needed.",
                )
            _TYPED[name] = type
        self.name = name
        self.type = type
        self.default = default

    def get(self) -> T | None:
        """Return the bound value, or the key's default."""
        value: T | None = _VAR.get()[0].get(self.name, self.default)
        return value

    def require(self) -> T:
        """Return the bound value.

        Raises:
            NotFoundError: Nothing is bound under this key.
        """
        values = _VAR.get()[0]
        if self.name in values:
            value: T = values[self.name]
            return value
        raise NotFoundError(
            f"no value is bound for context key {self.name!r}",
            code="pepperpy.context.unbound",
            context={"key": self.name},
            hint=f"Bind it first: Key({self.name!r}).bind(...) or scope({self.name}=...).",
        )

    def bind(self, value: T) -> None:
        """Bind *value* under this key (see :func:`bind`)."""
        bind(**{self.name: value})

    def scope(self, value: T) -> scope:
        """Return a :class:`scope` binding *value* under this key."""
        return scope({self.name: value})

    def __repr__(self) -> str:
        kind = f", {self.type.__name__}" if self.type is not None else ""
        return f"Key({self.name!r}{kind})"
