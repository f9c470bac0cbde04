"""PepperPy web: serve HTTP with request context, problem details, auth, metrics and DI.

One framework-neutral core (:class:`Web`) and two thin adapters:

* :class:`pepperpy.web.asgi.PepperPyMiddleware` for Starlette, FastAPI and
  any ASGI application;
* :func:`pepperpy.web.aiohttp.setup` for aiohttp's web server.

The core install needs pepperpy-core and pepperpy-context only; the extras
add what you use: ``[telemetry]`` (metrics, spans, ``/metrics``,
``/healthz``, ``/readyz``), ``[security]`` (bearer tokens, per-route
permissions), ``[validation]`` (validated JSON bodies), ``[registry]``
(lifespan and a registry scope per request), ``[aiohttp]``.

Every :class:`~pepperpy.core.PepperPyError` escaping a handler becomes an
RFC 9457 ``application/problem+json`` response (see :func:`default_status`);
:data:`ERRORS` lists every error code the package raises, with its meaning.
"""

from __future__ import annotations

from pepperpy.web._core import METHOD, PRINCIPAL, ROUTE, UNMATCHED, Exchange, Web, current_web
from pepperpy.web._errors import (
    ERRORS,
    BadRequestError,
    HTTPError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)
from pepperpy.web._problem import PROBLEM_CONTENT_TYPE, Problem, default_status, problem_for
from pepperpy.web._version import __version__

__all__ = [
    "ERRORS",
    "METHOD",
    "PRINCIPAL",
    "PROBLEM_CONTENT_TYPE",
    "ROUTE",
    "UNMATCHED",
    "BadRequestError",
    "Exchange",
    "HTTPError",
    "PayloadTooLargeError",
    "Problem",
    "UnsupportedMediaTypeError",
    "Web",
    "__version__",
    "current_web",
    "default_status",
    "problem_for",
]
