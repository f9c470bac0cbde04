"""Limits shared by every decoder and encoder: nesting depth and unencodable text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pepperpy.core.exceptions import ErrorDetail
from pepperpy.serialization._errors import DecodeError, EncodeError

__all__ = ["MAX_DEPTH", "check_depth", "depth_error", "encode_failure", "may_be_deep"]

MAX_DEPTH = 128
"""How many levels of nested arrays and objects a decoder accepts (serde_json's limit).

Deeper input is refused with a :class:`DecodeError` whose detail has code ``"depth"``;
the TOML test suite suggests 128 or 256 as "more than enough" for real documents.
"""


def depth_error(fmt: str, source: str | None = None) -> DecodeError:
    """The :class:`DecodeError` for input nested deeper than :data:`MAX_DEPTH`."""
    context: dict[str, Any] = {"format": fmt, "max_depth": MAX_DEPTH}
    if source is not None:
        context["source"] = source
    message = f"nested more than {MAX_DEPTH} levels deep"
    return DecodeError(
        f"invalid {fmt.upper()}: {message}" + (f" in {source}" if source else ""),
        errors=[ErrorDetail("", message, code="depth")],
        context=context,
        hint=f"Flatten the data: arrays and objects may nest at most {MAX_DEPTH} levels.",
    )


def check_depth(value: Any, fmt: str, *, shared: bool = False, source: str | None = None) -> None:
    """Refuse decoded data nested deeper than :data:`MAX_DEPTH` (without recursing).

    *shared* is for formats with aliases (YAML): a container reachable along
    many paths is walked again only when reached deeper than before, so
    "billion laughs" documents cost no more than their size, and a container
    that holds itself is refused instead of looping.
    """
    if type(value) not in (dict, list):
        return
    stack: list[tuple[Any, int]] = [(value, 1)]
    seen: dict[int, int] = {}
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise depth_error(fmt, source)
        if shared:
            if seen.get(id(node), 0) >= depth:
                continue
            seen[id(node)] = depth
        for child in node.values() if type(node) is dict else node:
            if type(child) in (dict, list):
                stack.append((child, depth + 1))


def may_be_deep(data: bytes | str, opening: tuple[str, ...]) -> bool:
    """Cheap filter: with fewer openers (brackets, TOML dots) than the limit, no need to walk."""
    if isinstance(data, str):
        if len(data) < MAX_DEPTH:  # too short to hold MAX_DEPTH openers
            return False
        count = 0
        for char in opening:
            count += data.count(char)
        return count >= MAX_DEPTH
    raw = data if type(data) is bytes else bytes(data)  # a memoryview's len counts items
    if len(raw) < MAX_DEPTH:
        return False
    count = 0
    for char in opening:
        count += raw.count(char.encode())
    return count >= MAX_DEPTH


def _bad_text_path(value: Any, path: str = "") -> str | None:
    """The JSON Pointer of the first string (or key) that is not encodable as UTF-8."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                return where or "/"
        elif isinstance(node, Mapping):
            for key, item in reversed(list(node.items())):
                token = str(key).replace("~", "~0").replace("/", "~1")
                if isinstance(key, str):
                    try:
                        key.encode("utf-8")
                    except UnicodeEncodeError:
                        return f"{where}/{token}"
                stack.append((item, f"{where}/{token}"))
        elif isinstance(node, (list, tuple)):
            for index in range(len(node) - 1, -1, -1):
                stack.append((node[index], f"{where}/{index}"))
    return None


def encode_failure(fmt: str, exc: BaseException, value: Any) -> EncodeError:
    """Turn an encoder's own exception into an :class:`EncodeError` with a path."""
    context: dict[str, Any] = {"format": fmt}
    if isinstance(exc, RecursionError):
        message = "the value is nested too deeply to encode"
        hint = f"Flatten the data; decoders refuse more than {MAX_DEPTH} levels anyway."
    elif isinstance(exc, UnicodeEncodeError) or "surrogate" in str(exc):
        path = _bad_text_path(value)
        if path is not None:
            context["path"] = path
        message = "a string holds a lone surrogate, which UTF-8 cannot encode"
        hint = "Remove the lone surrogate (\\ud800-\\udfff) or decode the text with 'replace'."
    else:
        message = str(exc) or type(exc).__name__
        if "recursion" in message.lower():  # msgpack's and orjson's own depth limits
            message = "the value is nested too deeply to encode"
        hint = "Unstructure the value first (pepperpy.serialization.unstructure) or "
        hint += "register an unstructure hook for its type."
    where = f" at {context['path']}" if "path" in context else ""
    return EncodeError(
        f"value cannot be encoded as {fmt.upper()}: {message}{where}", context=context, hint=hint
    )
