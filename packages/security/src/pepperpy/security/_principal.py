"""The authenticated identity: :class:`Principal`."""

from __future__ import annotations

import contextlib
import contextvars
import fnmatch
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.security._checks import opt_str, str_tuple, text

if TYPE_CHECKING:
    from pepperpy.security._tokens import Claims

__all__ = ["Principal", "current_principal", "use_principal"]


def _frozen_strs(values: Iterable[str] | None) -> frozenset[str]:
    return frozenset(str_tuple(values, "roles/scopes"))


def _mapping(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(
            f"Principal attributes must be a mapping, not {type(value).__name__}",
            context={"attributes": type(value).__name__},
        )
    return dict(value)


def _id(value: Any) -> str:
    return text(value, "Principal id")


def _kind(value: Any) -> str:
    return text(value, "Principal kind")


def _opt(value: Any) -> str | None:
    return opt_str(value, "Principal tenant/credential_id")


@attrs.frozen
class Principal:
    """Who is making a request, as established by authentication.

    Attributes:
        id: The subject (user id, service name, API key owner).
        kind: ``"user"`` (tokens), ``"api_key"`` or anything an application uses.
        roles: Role names used by :class:`~pepperpy.security.Policy`.
        scopes: Scopes granted to the credential (``"docs:read"``).
        tenant: The tenant the principal belongs to, for tenant-isolation rules.
        attributes: Other facts for attribute rules (department, plan ...).
        claims: The verified token claims when authenticated by token.
        credential_id: The token id (``jti``) or API key id used.
    """

    id: str = attrs.field(converter=_id)
    kind: str = attrs.field(default="user", converter=_kind)
    roles: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen_strs)
    scopes: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen_strs)
    tenant: str | None = attrs.field(default=None, converter=_opt)
    attributes: Mapping[str, Any] = attrs.field(
        factory=dict, converter=_mapping, eq=False, hash=False
    )
    claims: Claims | None = attrs.field(default=None, repr=False, eq=False, hash=False)
    credential_id: str | None = attrs.field(default=None, repr=False, converter=_opt)

    def has_role(self, role: str) -> bool:
        """Whether *role* was granted directly (hierarchies are resolved by the Policy)."""
        return role in self.roles

    def has_scope(self, scope: str) -> bool:
        """Whether a granted scope covers *scope* (granted scopes may use ``*`` wildcards)."""
        text(scope, "scope")
        return any(s == scope or fnmatch.fnmatchcase(scope, s) for s in self.scopes)


_CURRENT: contextvars.ContextVar[Principal | None] = contextvars.ContextVar(
    "pepperpy_security_principal", default=None
)


def current_principal() -> Principal | None:
    """Return the principal bound by :func:`use_principal` in this context, if any."""
    return _CURRENT.get()


@contextlib.contextmanager
def use_principal(principal: Principal) -> Iterator[Principal]:
    """Bind *principal* to the current context (task-local) for ``@requires`` handlers."""
    if not isinstance(principal, Principal):
        raise InvalidArgumentError(
            f"use_principal() takes a Principal, not {type(principal).__name__}",
            context={"principal": type(principal).__name__},
        )
    token = _CURRENT.set(principal)
    try:
        yield principal
    finally:
        _CURRENT.reset(token)
