"""Building a :class:`~pepperpy.net.Request` from a call's arguments.

:class:`RequestBuilder` holds what every request starts from (the base URL,
default headers, the context-header injector, the default timeout and size
limit) and checks what the caller adds: the URL, query, headers, body,
idempotency key and method. Nothing is sent here.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from multidict import CIMultiDict
from yarl import URL

from pepperpy.core.exceptions import InvalidArgumentError, safe_repr
from pepperpy.core.types import MISSING, Missing
from pepperpy.net._attempt import chunks
from pepperpy.net._config import Timeout
from pepperpy.net._errors import InvalidURLError
from pepperpy.net._models import Body, ProgressCallback, Request, check_headers
from pepperpy.net._serial import encode_json
from pepperpy.net._streams import coerce_content, with_progress

__all__ = ["RequestBuilder", "parse_base", "parse_size"]

_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "TRACE"})
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_URL_CACHE = 512  # distinct str URLs remembered before the cache starts over


def parse_base(base_url: str | URL | None) -> URL | None:
    """*base_url* as an absolute http(s) URL (``None`` stays ``None``)."""
    if base_url is None:
        return None
    url = base_url if isinstance(base_url, URL) else URL(str(base_url))
    if url.scheme not in ("http", "https") or not url.host:
        raise InvalidURLError(
            f"base_url must be an absolute http(s) URL, not {str(base_url)!r}",
            context={"base_url": str(base_url)},
            hint="Pass something like 'https://api.example.com/v1'.",
        )
    return url


def parse_size(value: int | str | None) -> int | None:
    """A body size limit in bytes (``"64MiB"`` accepted); ``None`` means no limit."""
    if value is None:
        return None
    from pepperpy.core.utils import parse_size as parse

    size = parse(value)
    if size <= 0:
        raise InvalidArgumentError(
            "max_response_size must be positive (or None for no limit)",
            code="pepperpy.net.invalid_limit",
            context={"max_response_size": value},
        )
    return size


class RequestBuilder:
    """Turn a call's arguments into a checked :class:`~pepperpy.net.Request`.

    Args:
        base_url: What relative URLs are joined to (``None``: absolute URLs only).
        headers: The default headers (the caller's override them).
        inject: Adds the pepperpy.context headers (``None``: no propagation).
        timeout: The default timeouts.
        max_size: The default body size limit (``None``: no limit).
    """

    __slots__ = ("_inject", "_urls", "base_url", "headers", "max_size", "timeout")

    def __init__(
        self,
        base_url: URL | None,
        headers: CIMultiDict[str],
        inject: Callable[[CIMultiDict[str]], Any] | None,
        timeout: Timeout,
        max_size: int | None,
    ) -> None:
        self.base_url = base_url
        self.headers = headers
        self._inject = inject
        self.timeout = timeout
        self.max_size = max_size
        self._urls: dict[str, URL] = {}

    def merge_url(self, url: str | URL) -> URL:
        """*url* made absolute against the base URL; only http(s) is accepted."""
        if isinstance(url, URL):
            target = url
        else:
            if not isinstance(url, str):
                raise InvalidURLError(
                    f"url must be a str or yarl.URL, not {type(url).__name__}",
                    context={"url": repr(url)[:80]},
                )
            try:
                target = URL(url)
            except (ValueError, TypeError) as exc:
                raise InvalidURLError(f"invalid URL {url!r}: {exc}", context={"url": url}) from exc
        if target.scheme or target.is_absolute():
            if target.scheme not in ("http", "https") or not target.host:
                raise InvalidURLError(
                    f"unsupported URL scheme {target.scheme!r} in {str(target)!r}",
                    context={"url": str(target)},
                    hint="Use http:// or https:// (websocket() takes ws:// and wss://).",
                )
            return target
        return self._join(target)

    def _join(self, target: URL) -> URL:
        base = self.base_url
        if base is None:
            raise InvalidURLError(
                f"relative URL {str(target)!r} needs a base_url",
                context={"url": str(target)},
                hint="Pass an absolute URL, or create the client with base_url=...",
            )
        path = str(target)
        if not path:
            return base
        joined = (
            str(base).rstrip("/") + "/" + path.lstrip("/")
            if path[0] not in "?#"
            else (str(base) + path)
        )
        return URL(joined)

    def _url(self, url: str | URL, params: Mapping[str, Any] | None) -> URL:
        if isinstance(url, str):
            target = self._urls.get(url)
            if target is None:
                target = self.merge_url(url)
                if len(self._urls) >= _URL_CACHE:
                    self._urls.clear()
                self._urls[url] = target
        else:
            target = self.merge_url(url)
        if params:
            try:
                target = target.extend_query(params)
            except (TypeError, ValueError) as exc:
                raise InvalidArgumentError(
                    f"params cannot become a query string: {exc}",
                    code="pepperpy.net.invalid_params",
                    hint="Use a mapping of str keys to str, int or float values (or lists).",
                ) from None
        return target

    def build(
        self,
        method: str,
        url: str | URL,
        *,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        json: Any,
        data: Mapping[str, Any] | None,
        content: Any,
        timeout: Timeout | float | None,
        idempotency_key: str | None,
        max_response_size: int | str | Missing | None,
        upload_progress: ProgressCallback | None,
        stream: bool,
    ) -> Request:
        """The checked request for one call (see :meth:`HttpClient.request`)."""
        target = self._url(url, params)
        merged = self.headers.copy()
        if self._inject is not None:
            self._inject(merged)  # context headers first: explicit ones below win
        if headers:
            check_headers(headers)
            merged.update(headers)
        body, length = _encode_body(json, data, content, merged)
        if upload_progress is not None and body is not None:
            source: AsyncIterable[bytes] = chunks(body) if isinstance(body, bytes) else body
            body = with_progress(source, length, upload_progress)
            if length is not None:
                merged["Content-Length"] = str(length)
        if idempotency_key is not None:
            check_headers({"Idempotency-Key": idempotency_key})
            merged["Idempotency-Key"] = idempotency_key
        if method not in _METHODS:
            method = check_method(method)
        return Request(
            method,
            target,
            merged,
            body,
            self.timeout if timeout is None else Timeout.coerce(timeout),
            self.max_size if max_response_size is MISSING else parse_size(max_response_size),
            stream,
        )


def check_method(method: object) -> str:
    """*method* upper-cased, if it is an RFC 9110 token."""
    if not isinstance(method, str) or not _TOKEN.fullmatch(method):
        raise InvalidArgumentError(
            f"invalid HTTP method {safe_repr(method)}: a method is an RFC 9110 token "
            "(no spaces, CR, LF or other separators)",
            code="pepperpy.net.invalid_method",
            context={"method": safe_repr(method)},
            hint="Pass a method such as 'GET' or 'POST'.",
        )
    return method.upper()


def _encode_body(
    json: Any, data: Mapping[str, Any] | None, content: Any, headers: CIMultiDict[str]
) -> tuple[Body, int | None]:
    """The body from ``json=``, ``data=`` or ``content=`` (one at most), and its length."""
    given = (json is not MISSING) + (data is not None) + (content is not None)
    if given > 1:
        raise InvalidArgumentError(
            "pass only one of json=, data= and content=",
            code="pepperpy.net.invalid_body",
        )
    if json is not MISSING:
        encoded = encode_json(json)
        headers.setdefault("Content-Type", "application/json")
        return encoded, len(encoded)
    if data is not None:
        try:
            form = urlencode(data, doseq=True).encode()
        except (TypeError, ValueError) as exc:
            raise InvalidArgumentError(
                f"data= cannot be form-encoded: {exc}",
                code="pepperpy.net.invalid_body",
                hint="Pass a mapping of field names to values (or pairs).",
            ) from None
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        return form, len(form)
    if content is not None:
        body, length = coerce_content(content)
        if length is not None and not isinstance(body, bytes):
            headers["Content-Length"] = str(length)
        return body, length
    return None, None
