"""Per-route permissions backed by pepperpy-security's ``Policy`` (``pepperpy-web[security]``).

The middleware authenticates ``Authorization: Bearer`` tokens with the
``Security`` given to :class:`~pepperpy.web.Web`; these helpers require a
principal and ask the policy::

    @requires("docs:write")                     # Starlette endpoint / aiohttp handler
    async def create(request): ...

    @app.post("/docs", dependencies=[Depends(permission("docs:write"))])   # FastAPI
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pepperpy.core import InvalidArgumentError
from pepperpy.security import AuthorizationError, Principal, current_principal
from pepperpy.web._core import current_web
from pepperpy.web._errors import HTTPError

__all__ = ["authorize", "permission", "principal", "requires"]

logger = logging.getLogger("pepperpy.web.security")

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def principal() -> Principal:
    """The authenticated principal of the current request.

    Raises:
        HTTPError: ``pepperpy.web.missing_credentials`` (401) when the request
            carried no bearer token.
    """
    found = current_principal()
    if found is None:
        raise HTTPError(
            "This route needs credentials.",
            status=401,
            code="pepperpy.web.missing_credentials",
            hint="Send 'Authorization: Bearer <token>'.",
        )
    return found


def authorize(action: str, resource: Any = None) -> Principal:
    """Require a principal allowed to do *action* (on *resource*) by the policy.

    The decision's ``explain()`` goes to the ``pepperpy.web.security`` logger
    at DEBUG level.

    Raises:
        HTTPError: no credentials (401).
        AuthorizationError: the policy denies it (403).
        InvalidArgumentError: no ``Security`` is configured on the serving ``Web``.
    """
    who = principal()
    web = current_web()
    if web is None or web.security is None:
        raise InvalidArgumentError(
            "A permission check needs Web(security=...) serving the request.",
            code="pepperpy.web.no_security",
            hint="Pass security=Security(...) to Web and add the middleware.",
        )
    decision = web.security.authorize(who, action, resource)
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("%s", decision.explain())
    if not decision.allowed:
        raise AuthorizationError(decision)
    return who


def _check_action(action: object) -> str:
    if not isinstance(action, str) or not action:
        raise InvalidArgumentError(
            f"action must be a non-empty str, got {action!r}",
            code="pepperpy.web.action",
            hint='Name the action the policy checks, e.g. "docs:write".',
        )
    return action


def requires(action: str) -> Callable[[F], F]:
    """Decorate an async handler so it runs only for a principal allowed *action*."""
    _check_action(action)

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            authorize(action)
            return await fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def permission(action: str) -> Callable[[], Awaitable[Principal]]:
    """A FastAPI dependency requiring *action*; it returns the principal.

    ``Depends(permission("docs:write"))``.
    """
    _check_action(action)

    async def dependency() -> Principal:
        return authorize(action)

    dependency.__name__ = f"permission_{action}"
    return dependency
