"""Authentication hooks applied to each outgoing request."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol, Union, runtime_checkable

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.net._models import check_headers

if TYPE_CHECKING:
    from pepperpy.net._models import Request

__all__ = ["Auth", "BasicAuth", "BearerAuth", "TokenProvider"]

TokenProvider = Callable[[], Union[str, Awaitable[str]]]
"""A sync or async function returning the current token (called per request)."""


@runtime_checkable
class Auth(Protocol):
    """An authentication hook: sets credentials on a request before it is sent.

    It runs for every attempt (so a refreshed token is picked up on retry),
    and only for the origin the client was asked to call: credentials are not
    sent along a redirect to another host.
    """

    async def apply(self, request: Request) -> None:
        """Add credentials to *request* (usually its ``Authorization`` header)."""
        ...


class BearerAuth:
    """``Authorization: Bearer <token>``.

    Args:
        token: The token, or a sync/async function returning it (called for
            each request, so it can refresh tokens, e.g. from pepperpy-security).
    """

    __slots__ = ("_token",)

    def __init__(self, token: str | TokenProvider) -> None:
        if not isinstance(token, str) and not callable(token):
            raise InvalidArgumentError(
                "BearerAuth needs a token string or a function returning one",
                code="pepperpy.net.invalid_auth",
            )
        if isinstance(token, str):
            check_headers({"Authorization": f"Bearer {token}"})
        self._token = token

    async def apply(self, request: Request) -> None:
        """Set the bearer ``Authorization`` header."""
        token = self._token
        if not isinstance(token, str):
            from pepperpy.core.utils import call_maybe_async

            token = await call_maybe_async(token)
            if not isinstance(token, str):
                raise InvalidArgumentError(
                    "the BearerAuth token provider must return a str",
                    code="pepperpy.net.invalid_auth",
                    context={"returned": type(token).__name__},
                )
            check_headers({"Authorization": f"Bearer {token}"})
        request.headers["Authorization"] = f"Bearer {token}"

    def __repr__(self) -> str:
        return "BearerAuth(token=***)"


class BasicAuth:
    """``Authorization: Basic base64(username:password)`` (RFC 7617).

    Args:
        username: The user name; must not contain ``":"``.
        password: The password.
        encoding: How the credentials are encoded before base64.
    """

    __slots__ = ("_header", "username")

    def __init__(self, username: str, password: str, *, encoding: str = "utf-8") -> None:
        if ":" in username:
            raise InvalidArgumentError(
                "a Basic auth user name cannot contain ':'",
                code="pepperpy.net.invalid_auth",
                hint="RFC 7617 separates user and password with the first ':'.",
            )
        self.username = username
        raw = f"{username}:{password}".encode(encoding)
        self._header = "Basic " + base64.b64encode(raw).decode("ascii")

    async def apply(self, request: Request) -> None:
        """Set the basic ``Authorization`` header."""
        request.headers["Authorization"] = self._header

    def __repr__(self) -> str:
        return f"BasicAuth(username={self.username!r}, password=***)"
