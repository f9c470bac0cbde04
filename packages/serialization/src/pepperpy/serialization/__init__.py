"""Typed (un)structuring and wire formats for PepperPy, built on cattrs and attrs.

One call shape for every format::

    from pepperpy import serialization

    data = serialization.dumps(order)                      # JSON bytes
    order = serialization.loads(data, Order)               # back, typed
    text = serialization.dumps(order, format="toml")       # or msgpack / yaml

JSON uses orjson when it is installed (``pepperpy-serialization[orjson]``)
and the standard library otherwise; both give byte-identical output.
Structuring failures raise :class:`StructureError` listing *every* problem
with its JSON-Pointer path. Nothing is ever pickled.

cattrs is imported on first use, so ``import pepperpy.serialization`` is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, overload

from pepperpy.serialization._errors import (
    ERRORS,
    DecodeError,
    EncodeError,
    FormatUnavailableError,
    StructureError,
    UnsupportedTypeError,
)
from pepperpy.serialization._formats import (
    Format,
    available_formats,
    format_for_path,
    get_format,
    register_format,
)
from pepperpy.serialization._limits import MAX_DEPTH
from pepperpy.serialization._version import __version__

if TYPE_CHECKING:
    from pathlib import PurePath

    from pepperpy.serialization._converter import (
        META_KEY,
        Converter,
        RenamePolicy,
        field_options,
    )

__all__ = [
    "ERRORS",
    "MAX_DEPTH",
    "META_KEY",
    "Converter",
    "DecodeError",
    "EncodeError",
    "Format",
    "FormatUnavailableError",
    "RenamePolicy",
    "StructureError",
    "UnsupportedTypeError",
    "__version__",
    "available_formats",
    "default_converter",
    "dump_file",
    "dumps",
    "field_options",
    "format_for_path",
    "get_format",
    "load_file",
    "loads",
    "register_format",
    "structure",
    "unstructure",
]

T = TypeVar("T")

_LAZY = frozenset({"META_KEY", "Converter", "RenamePolicy", "field_options"})
_default: Converter | None = None


def _get_default() -> Converter:
    global _default
    if _default is None:
        from pepperpy.serialization._converter import Converter

        _default = Converter()
    return _default


def __getattr__(name: str) -> Any:
    if name == "default_converter":
        # The shared strict Converter behind the module-level functions.
        return _get_default()
    if name in _LAZY:
        from pepperpy.serialization import _converter

        value = getattr(_converter, name)
        globals()[name] = value
        return value
    msg = f"module 'pepperpy.serialization' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(__all__)


def unstructure(obj: Any, type_: Any = None) -> Any:
    """Turn *obj* into JSON-like builtins with the shared default converter."""
    return (_default or _get_default()).unstructure(obj, type_)


@overload
def structure(data: Any, type_: type[T]) -> T: ...


@overload
def structure(data: Any, type_: Any) -> Any: ...


def structure(data: Any, type_: Any) -> Any:
    """Build a *type_* value from JSON-like *data* with the shared default converter.

    Raises:
        StructureError: every problem, each with its JSON-Pointer path.
    """
    return (_default or _get_default()).structure(data, type_)


def dumps(obj: Any, *, format: str = "json") -> bytes:
    """Serialize *obj* to bytes in *format* (``json``, ``toml``, ``msgpack``, ``yaml``).

    Raises:
        EncodeError: the format cannot represent the value.
        UnsupportedTypeError: a value's type has no unstructure hook.
    """
    return (_default or _get_default()).dumps(obj, format=format)


@overload
def loads(data: bytes | str, type_: type[T], *, format: str = ...) -> T: ...


@overload
def loads(data: bytes | str, type_: Any, *, format: str = ...) -> Any: ...


def loads(data: bytes | str, type_: Any, *, format: str = "json") -> Any:
    """Parse *data* in *format* and structure it as *type_*.

    Raises:
        DecodeError: malformed input (line and column in ``context`` when known).
        StructureError: the data does not fit *type_*.
    """
    return (_default or _get_default()).loads(data, type_, format=format)


def dump_file(obj: Any, path: str | PurePath, *, format: str | None = None) -> None:
    """Write *obj* to *path* atomically; the format comes from the suffix by default."""
    (_default or _get_default()).dump_file(obj, path, format=format)


def load_file(path: str | PurePath, type_: Any, *, format: str | None = None) -> Any:
    """Read *path* and structure it as *type_*; the format comes from the suffix by default."""
    return (_default or _get_default()).load_file(path, type_, format=format)
