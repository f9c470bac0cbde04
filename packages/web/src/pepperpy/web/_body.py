"""Request bodies: content type, size, JSON parsing and validation (one path for every adapter)."""

from __future__ import annotations

import json
import threading
from typing import Any

from pepperpy.web._core import current_web
from pepperpy.web._errors import BadRequestError, UnsupportedMediaTypeError

__all__ = ["check_content_type", "limit_of", "parse_json", "validate"]

_DEFAULT_LIMIT = 1024 * 1024
_validators: dict[int, tuple[Any, Any]] = {}
_lock = threading.Lock()


def limit_of() -> int:
    """The body size limit of the request being served (1 MiB outside one)."""
    web = current_web()
    return web.max_body_size if web is not None else _DEFAULT_LIMIT


def check_content_type(value: str | None) -> None:
    """Refuse a body that is not ``application/json`` or ``application/*+json`` (UTF-8).

    Raises:
        UnsupportedMediaTypeError: ``pepperpy.web.unsupported_media_type`` (415).
    """
    media, _, params = (value or "").partition(";")
    media = media.strip().lower()
    kind, _, sub = media.partition("/")
    ok = kind == "application" and (sub == "json" or sub.endswith("+json"))
    charset = ""
    for param in params.split(";"):
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset":
            charset = val.strip().strip('"').lower()
    if not ok or charset not in ("", "utf-8", "utf8"):
        raise UnsupportedMediaTypeError(
            "The request body must be JSON (Content-Type: application/json).",
            context={"content_type": media[:100] or None},
            hint="Send the body as UTF-8 JSON with Content-Type: application/json.",
        )


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(body: bytes) -> Any:
    """Parse a UTF-8 JSON body (no NaN/Infinity, bounded nesting).

    Raises:
        BadRequestError: ``pepperpy.web.malformed_json`` (400), saying where.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequestError(
            "The request body is not UTF-8.",
            code="pepperpy.web.malformed_json",
            hint="Encode the JSON body as UTF-8.",
        ) from None
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise BadRequestError(
            f"The request body is not valid JSON: {exc.msg} "
            f"at line {exc.lineno} column {exc.colno}.",
            code="pepperpy.web.malformed_json",
            context={"line": exc.lineno, "column": exc.colno},
            hint="Send a well-formed JSON document.",
        ) from None
    except (ValueError, RecursionError):
        raise BadRequestError(
            "The request body is not valid JSON (NaN, Infinity or too deeply nested).",
            code="pepperpy.web.malformed_json",
            hint="Send a well-formed JSON document.",
        ) from None


def _validator(schema: Any) -> Any:
    key = id(schema)
    with _lock:
        cached = _validators.get(key)
        if cached is not None and cached[0] is schema:
            return cached[1]
    from pepperpy.validation import Validation

    # A Validation instance is used as given (its coerce/extra/messages settings kept)
    validator = schema if isinstance(schema, Validation) else Validation(schema)
    with _lock:
        _validators[key] = (schema, validator)
    return validator


async def validate(data: Any, schema: Any) -> Any:
    """Validate *data* against *schema* (pepperpy-validation) or return it as is.

    *schema* is a ``Validation`` instance, a ``Schema``, a dict spec or an
    attrs class (the last three wrapped in a ``Validation`` once, cached).

    Raises:
        ValidationError: every problem, each with its JSON pointer (422).
    """
    if schema is None:
        return data
    return await _validator(schema).validate(data)


def too_large() -> Exception:
    """The 413 error for the request being served."""
    web = current_web()
    if web is not None:
        return web.too_large()
    from pepperpy.web._errors import PayloadTooLargeError

    return PayloadTooLargeError(
        f"The request body is larger than {_DEFAULT_LIMIT} bytes.",
        context={"limit": _DEFAULT_LIMIT},
        hint="Send a smaller body.",
    )
