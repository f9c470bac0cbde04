"""Validated JSON bodies, framework-neutral (``pepperpy-web[validation]``).

:func:`read_json` does what the adapters' ``json_body`` helpers do, from the
raw parts: the content type, the body bytes and a schema. Use it with any
framework; the ASGI and aiohttp modules wrap it for their request objects.
"""

from __future__ import annotations

from typing import Any, TypeVar, overload

from pepperpy.validation import Schema
from pepperpy.web._body import check_content_type, limit_of, parse_json, too_large, validate

__all__ = ["read_json"]

T = TypeVar("T")


@overload
async def read_json(body: bytes, content_type: str | None, schema: type[T]) -> T: ...
@overload
async def read_json(body: bytes, content_type: str | None, schema: Schema[T]) -> T: ...
@overload
async def read_json(body: bytes, content_type: str | None, schema: Any = None) -> Any: ...


async def read_json(body: bytes, content_type: str | None, schema: Any = None) -> Any:
    """Check, parse and validate a JSON body.

    Args:
        body: The raw body.
        content_type: The request's ``Content-Type`` header.
        schema: A pepperpy-validation ``Schema``, a dict spec or an attrs
            class; ``None`` returns the parsed JSON.

    Raises:
        UnsupportedMediaTypeError: not JSON (415).
        PayloadTooLargeError: over the limit of the :class:`~pepperpy.web.Web`
            serving the request (413).
        BadRequestError: ``pepperpy.web.malformed_json`` (400).
        ValidationError: every problem, with JSON pointers (422).
    """
    check_content_type(content_type)
    if len(body) > limit_of():
        raise too_large()
    return await validate(parse_json(body), schema)
