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

__all__ = ["context_headers", "context_injector", "encode_json", "structure", "unstructure"]

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


def encode_json(obj: Any) -> bytes:
    """Encode *obj* as compact UTF-8 JSON; typed objects go through pepperpy.serialization."""
    try:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
    except TypeError:
        pass
    return json.dumps(unstructure(obj), separators=(",", ":"), ensure_ascii=False).encode()


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
