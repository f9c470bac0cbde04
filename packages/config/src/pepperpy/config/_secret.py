"""``Secret[T]``: a value that never shows itself in repr, str, logs or dumps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, get_args

__all__ = ["MASK", "Secret"]

T = TypeVar("T")

MASK = "**********"
"""What a secret looks like wherever it is displayed or serialized."""


class Secret(Generic[T]):
    """Wraps a sensitive value so it is never displayed by accident.

    ``repr``, ``str``, ``format`` and serialization (``pepperpy.serialization``
    unstructures it to ``"**********"``) all show the mask; error messages
    about a ``Secret`` field name the key, never the value. Call
    :meth:`reveal` (or :meth:`get_secret_value`) where the value is used.

    Equality compares the values (in constant time for ``str`` and
    ``bytes``); two secrets with the same value are equal.

    Example::

        @attrs.define
        class Db:
            password: Secret[str]

        settings.db.password            # Secret('**********')
        settings.db.password.reveal()   # 'hunter2'
    """

    __slots__ = ("_value",)
    __pepperpy_redact__ = True

    def __init__(self, value: T) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        object.__setattr__(self, "_value", value)

    def reveal(self) -> T:
        """The wrapped value."""
        value: T = object.__getattribute__(self, "_value")
        return value

    def get_secret_value(self) -> T:
        """The wrapped value (pydantic's name for :meth:`reveal`)."""
        return self.reveal()

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Secret is immutable")

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return format(MASK, spec)

    def __bool__(self) -> bool:
        return bool(self.reveal())

    def __len__(self) -> int:
        return len(self.reveal())  # type: ignore[arg-type]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        import hmac

        mine, theirs = self.reveal(), other.reveal()
        if isinstance(mine, str) and isinstance(theirs, str):
            return hmac.compare_digest(mine.encode(), theirs.encode())
        if isinstance(mine, bytes) and isinstance(theirs, bytes):
            return hmac.compare_digest(mine, theirs)
        return bool(mine == theirs)

    def __hash__(self) -> int:
        return hash(("Secret", self.reveal()))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Secret, (self.reveal(),))

    @classmethod
    def __pepperpy_structure__(
        cls, value: Any, type_: Any, structure: Callable[[Any, Any], Any]
    ) -> Secret[Any]:
        """Structure the inner value as ``T`` (used by pepperpy.serialization)."""
        if isinstance(value, Secret):
            value = value.reveal()
        args = get_args(type_)
        inner = args[0] if args else Any
        return cls(value if inner is Any else structure(value, inner))

    def __pepperpy_unstructure__(self, unstructure: Callable[[Any], Any]) -> str:
        """Always the mask: serializing a secret never writes its value."""
        return MASK
