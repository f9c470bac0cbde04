"""API keys: ``<prefix>_<id>_<secret>``, stored hashed, looked up by id."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any, Protocol

import attrs
import nacl.bindings

from pepperpy.core.exceptions import InvalidArgumentError, safe_repr
from pepperpy.core.types import Clock, system_clock
from pepperpy.security._checks import number, opt_str, str_tuple, text
from pepperpy.security._errors import AuthenticationError, AuthFailure
from pepperpy.security._principal import Principal
from pepperpy.security._random import random_id, random_token
from pepperpy.security._sodium import blake2b_keyed

__all__ = ["APIKey", "APIKeyStore", "APIKeys", "InMemoryAPIKeyStore"]

_PURPOSE = b"pepperpy.apikey1"
_PREFIX_RE = re.compile(r"^[a-z]{2,8}$")
_MAX_KEY = 256


def _digest(secret: str) -> str:
    return blake2b_keyed(secret.encode("ascii"), b"", _PURPOSE).hex()


def _str_tuple(values: Iterable[str]) -> tuple[str, ...]:
    return (values,) if isinstance(values, str) else tuple(values)


@attrs.frozen
class APIKey:
    """A stored API key record.  It holds a digest of the secret, never the secret.

    Attributes:
        key_id: The public lookup id (the middle part of the key).
        digest: BLAKE2b-256 of the full key, hex.
        principal_id: Who the key acts as.
        name: A label for humans ("CI deploy key").
        roles: Roles of the resulting principal.
        scopes: Scopes of the resulting principal.
        tenant: Tenant of the resulting principal.
        created_at: Unix time of creation.
        expires_at: Unix time after which the key is refused (``None``: never).
        revoked: Whether the key was revoked.
    """

    key_id: str
    digest: str = attrs.field(repr=False)
    principal_id: str
    name: str = ""
    roles: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    scopes: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    tenant: str | None = None
    created_at: float = 0.0
    expires_at: float | None = None
    revoked: bool = False

    def to_principal(self) -> Principal:
        """Return the :class:`Principal` this key authenticates as."""
        return Principal(
            id=self.principal_id,
            kind="api_key",
            roles=frozenset(self.roles),
            scopes=frozenset(self.scopes),
            tenant=self.tenant,
            attributes={"api_key_name": self.name} if self.name else {},
            credential_id=self.key_id,
        )


class APIKeyStore(Protocol):
    """Where :class:`APIKeys` keeps records (implement it over your database)."""

    async def get(self, key_id: str) -> APIKey | None:
        """Return the record for *key_id*, or ``None``."""
        ...

    async def put(self, record: APIKey) -> None:
        """Insert or replace *record*."""
        ...

    async def delete(self, key_id: str) -> None:
        """Remove *key_id* if present."""
        ...


class InMemoryAPIKeyStore:
    """A process-local :class:`APIKeyStore` (tests, single-process apps)."""

    def __init__(self, records: Iterable[APIKey] = ()) -> None:
        self._records = {r.key_id: r for r in records}

    async def get(self, key_id: str) -> APIKey | None:
        """Return the record for *key_id*, or ``None``."""
        return self._records.get(key_id)

    async def put(self, record: APIKey) -> None:
        """Insert or replace *record*."""
        self._records[record.key_id] = record

    async def delete(self, key_id: str) -> None:
        """Remove *key_id* if present."""
        self._records.pop(key_id, None)

    def __len__(self) -> int:
        return len(self._records)

    def __repr__(self) -> str:
        return f"InMemoryAPIKeyStore(<{len(self)} keys>)"


class APIKeys:
    """Create, authenticate and revoke API keys.

    Keys look like ``pk_0123456789abcdefghjk_<43 random chars>``: the
    *prefix* makes them recognisable (and scannable by secret scanners),
    the id finds the record, and the 256-bit secret is checked by comparing
    BLAKE2b digests in constant time.  A fast hash is the right tool here:
    the secret is random, not a human password, so there is nothing to
    brute-force.

    Args:
        store: Where records live (default: in memory).
        prefix: 2-8 lower-case letters identifying your keys.
        clock: Time source for expiry.
    """

    def __init__(
        self,
        store: APIKeyStore | None = None,
        *,
        prefix: str = "pk",
        clock: Clock = system_clock,
    ) -> None:
        if not isinstance(prefix, str) or not _PREFIX_RE.fullmatch(prefix):
            raise InvalidArgumentError(
                f"API key prefix must be 2-8 lower-case letters, got {safe_repr(prefix)}",
                context={"prefix": safe_repr(prefix)},
            )
        self.store: APIKeyStore = store if store is not None else InMemoryAPIKeyStore()
        self.prefix = prefix
        self.clock = clock
        self._pattern = re.compile(rf"^{prefix}_([0-9a-z]{{20}})_([A-Za-z0-9_-]{{43}})$")

    def __repr__(self) -> str:
        return f"APIKeys(prefix={self.prefix!r}, store={self.store!r})"

    def looks_like_key(self, value: Any) -> bool:
        """Whether *value* has the shape of one of these API keys (no lookup)."""
        return isinstance(value, str) and value.startswith(self.prefix + "_")

    async def create(
        self,
        principal_id: str,
        *,
        name: str = "",
        roles: Iterable[str] = (),
        scopes: Iterable[str] = (),
        tenant: str | None = None,
        ttl: float | None = None,
    ) -> tuple[str, APIKey]:
        """Create a key; return ``(plaintext_key, record)``.

        Show the plaintext to the user once; only the record is stored.
        """
        text(principal_id, "principal_id")
        text(name, "name", empty=True)
        roles = str_tuple(roles, "roles")
        scopes = str_tuple(scopes, "scopes")
        opt_str(tenant, "tenant")
        lifetime = None if ttl is None else number(ttl, "ttl", allow_inf=True)
        key_id = random_id(nbytes=12)[:20]
        plaintext = f"{self.prefix}_{key_id}_{random_token(32)}"
        now = self.clock.time()
        record = APIKey(
            key_id=key_id,
            digest=_digest(plaintext),
            principal_id=principal_id,
            name=name,
            roles=roles,
            scopes=scopes,
            tenant=tenant,
            created_at=now,
            expires_at=None if lifetime is None or math.isinf(lifetime) else now + lifetime,
        )
        await self.store.put(record)
        return plaintext, record

    async def verify(self, api_key: Any) -> APIKey:
        """Return the record for *api_key* or raise :class:`AuthenticationError`."""
        if not isinstance(api_key, str) or len(api_key) > _MAX_KEY:
            raise AuthenticationError(AuthFailure.MALFORMED)
        match = self._pattern.fullmatch(api_key)
        if match is None:
            raise AuthenticationError(AuthFailure.MALFORMED)
        record = await self.store.get(match.group(1))
        expected = record.digest if record is not None else "0" * 64
        same = nacl.bindings.sodium_memcmp(bytes.fromhex(expected), bytes.fromhex(_digest(api_key)))
        if record is None or not same:
            raise AuthenticationError(AuthFailure.BAD_SIGNATURE)
        if record.revoked:
            raise AuthenticationError(AuthFailure.REVOKED)
        if record.expires_at is not None and self.clock.time() >= record.expires_at:
            raise AuthenticationError(AuthFailure.EXPIRED)
        return record

    async def authenticate(self, api_key: Any) -> Principal:
        """Return the :class:`Principal` of *api_key* or raise :class:`AuthenticationError`."""
        return (await self.verify(api_key)).to_principal()

    async def revoke(self, key_id: str) -> bool:
        """Revoke *key_id*; return whether it existed."""
        record = await self.store.get(text(key_id, "key_id"))
        if record is None:
            return False
        await self.store.put(attrs.evolve(record, revoked=True))
        return True

    async def rotate(self, key_id: str, *, grace: float = 0.0) -> tuple[str, APIKey]:
        """Issue a new key with the same grants; the old one expires after *grace* seconds.

        A revoked or expired key cannot be rotated (:class:`InvalidArgumentError`).
        """
        grace = number(grace, "grace", allow_inf=True)
        record = await self.store.get(text(key_id, "key_id"))
        if record is None:
            raise InvalidArgumentError(
                f"No API key with id {safe_repr(key_id)}", context={"key_id": safe_repr(key_id)}
            )
        now = self.clock.time()
        if record.revoked or (record.expires_at is not None and now >= record.expires_at):
            # Rotation hands a key's grants on; a revoked or expired key has none to hand on.
            state = "revoked" if record.revoked else "expired"
            raise InvalidArgumentError(
                f"API key {safe_repr(key_id)} is {state} and cannot be rotated",
                code="pepperpy.security.apikeys.not_rotatable",
                context={"key_id": safe_repr(key_id), "state": state},
                hint="Create a new key with create() if the principal still needs access.",
            )
        ttl = None if record.expires_at is None else max(0.0, record.expires_at - now)
        new = await self.create(
            record.principal_id,
            name=record.name,
            roles=record.roles,
            scopes=record.scopes,
            tenant=record.tenant,
            ttl=ttl,
        )
        until = self.clock.time() + max(0.0, grace)
        if record.expires_at is not None:
            until = min(until, record.expires_at)
        await self.store.put(
            attrs.evolve(record, expires_at=until if math.isfinite(until) else None)
        )
        return new
