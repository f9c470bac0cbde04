"""Optional siblings, imported lazily: pepperpy.serialization and pepperpy.context.

pepperpy-net depends only on core (and aiohttp). Structuring JSON into attrs
types needs pepperpy-serialization and request-id propagation needs
pepperpy-context; each is imported the first time it is needed.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, MutableMapping
from typing import Any

from pepperpy.net._errors import MissingDependencyError

__all__ = [
    "context_headers",
    "context_injector",
    "decode_json",
    "encode_json",
    "structure",
    "unstructure",
]

_UNSET: Any = object()
_context_module: Any = _UNSET


def _serialization() -> Any:
    try:
        return importlib.import_module("pepperpy.serialization")
    except ImportError as exc:
        raise MissingDependencyError(
            "converting JSON to and from typed objects needs pepperpy-serialization",
            context={"module": "pepperpy.serialization"},
            hint="pip install pepperpy-serialization",
        ) from exc


def structure(data: Any, type_: Any) -> Any:
    """Structure JSON-like *data* into *type_* with :mod:`pepperpy.serialization`."""
    return _serialization().structure(data, type_)


def unstructure(obj: Any) -> Any:
    """Unstructure *obj* (attrs instance, dataclass ...) into JSON-like builtins."""
    return _serialization().unstructure(obj)


def decode_json(data: str | bytes) -> Any:
    """Parse JSON text; malformed, non-UTF-8 or too deeply nested input is a ``ValueError``.

    (The standard library raises ``RecursionError`` for input nested a few
    thousand levels deep, which callers would otherwise let escape raw.)
    """
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply to parse") from None


def _dumps(obj: Any) -> bytes:
    try:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    except RecursionError:
        raise _not_json("it is nested too deeply (or refers to itself)") from None
    except UnicodeEncodeError:
        raise _not_json("a string holds a lone surrogate, which UTF-8 cannot encode") from None
    except ValueError as exc:  # NaN or an infinity: JSON has none
        raise _not_json(str(exc)) from None


def _not_json(reason: str) -> Exception:
    from pepperpy.core.exceptions import InvalidArgumentError

    return InvalidArgumentError(
        f"the value cannot be sent as JSON: {reason}",
        code="pepperpy.net.invalid_json_body",
        hint="Send JSON data: finite numbers, valid text, nesting of reasonable depth.",
    )


def encode_json(obj: Any) -> bytes:
    """Encode *obj* as compact UTF-8 JSON; typed objects go through pepperpy.serialization.

    Raises:
        InvalidArgumentError: *obj* holds NaN or an infinity, a lone surrogate,
            or nests too deeply.
    """
    try:
        return _dumps(obj)
    except TypeError:
        pass
    return _dumps(unstructure(obj))


def _context() -> Any:
    global _context_module
    if _context_module is _UNSET:
        try:
            _context_module = importlib.import_module("pepperpy.context")
        except ImportError:
            _context_module = None
    return _context_module


def context_injector() -> Callable[[MutableMapping[str, str]], None] | None:
    """Return pepperpy.context's ``inject_headers``, or ``None`` when it is not installed."""
    module = _context()
    if module is None:
        return None
    inject: Callable[[MutableMapping[str, str]], None] = module.inject_headers
    return inject


def context_headers(headers: MutableMapping[str, str]) -> None:
    """Add the pepperpy.context propagation headers (request id, traceparent).

    A no-op when pepperpy-context is not installed; headers the caller set
    explicitly win over the context's.
    """
    module = _context()
    if module is None:
        return
    extra: dict[str, str] = {}
    module.inject_headers(extra)
    for name, value in extra.items():
        if name not in headers:
            headers[name] = value
