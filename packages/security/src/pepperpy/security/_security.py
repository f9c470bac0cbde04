"""The :class:`Security` facade: one object for the seed's ``Security()`` API."""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.core.types import Clock, system_clock
from pepperpy.security._apikeys import APIKeys, APIKeyStore
from pepperpy.security._authz import Decision, Policy
from pepperpy.security._checks import instance, type_name
from pepperpy.security._encryption import Encryptor, FieldEncryptor
from pepperpy.security._errors import AuthenticationError, AuthFailure
from pepperpy.security._keys import DEFAULT_KEYRING_ENV, KeyRing, KeyType, _key_type
from pepperpy.security._passwords import PasswordCheck, PasswordHasher, PasswordPolicy
from pepperpy.security._principal import Principal
from pepperpy.security._tokens import RevocationHook, TokenManager

__all__ = ["EphemeralKeyRingWarning", "Security"]

_MAX_CREDENTIAL = 16384
_warned = threading.Event()


class EphemeralKeyRingWarning(UserWarning):
    """``Security()`` made its own in-memory key ring (no ``keyring=``, no ``PEPPERPY_KEYRING``).

    Tokens and ciphertexts from such an instance are accepted only by that
    same instance, and only until the process ends; another ``Security()``
    refuses them with ``unknown_key``.  Emitted once per process.
    """


def _warn_ephemeral() -> None:
    if _warned.is_set():
        return
    _warned.set()
    warnings.warn(
        EphemeralKeyRingWarning(
            "Security() without keyring= and without PEPPERPY_KEYRING made a temporary "
            "in-memory key ring: its tokens and ciphertexts are refused by every other "
            "Security() instance and lost on restart. Pass the same ring everywhere, e.g. "
            "Security(keyring=KeyRing.from_file('keys.json')), or set PEPPERPY_KEYRING."
        ),
        stacklevel=3,
    )


class Security:
    """Authentication, authorization, password hashing and encryption in one place.

    ``Security()`` with no arguments works: it loads the key ring from the
    ``PEPPERPY_KEYRING`` environment variable when set, otherwise it makes a
    fresh in-memory key ring and warns once per process
    (:class:`EphemeralKeyRingWarning`): tokens and ciphertexts then work only
    with this one instance, in this one process.  In production pass the same
    persistent ring everywhere, e.g.
    ``Security(keyring=KeyRing.from_file("keys.json"))``.

    A key ring you pass (or that comes from the environment) is never
    changed: no key is added to it.  Without an active private key of
    *token_key_type* the instance verifies tokens but cannot issue them
    (``issue_token`` raises :class:`ConfigurationError`), which is what a
    verify-only ring from :meth:`KeyRing.public` is for.

    Args:
        keyring: Keys for tokens and encryption.
        policy: Authorization :class:`Policy` (default: empty, denies everything).
        issuer: ``iss`` of issued tokens, required when verifying.
        audience: Audience(s) this service accepts.
        token_ttl: Default token lifetime in seconds.
        leeway: Clock-skew leeway in seconds.
        token_key_type: ``SYMMETRIC`` (keyed BLAKE2b, default) or ``ED25519``.
        revocation: Token revocation hook (sync or async).
        api_key_store: Where API key records live (default: in memory).
        api_key_prefix: Prefix of this service's API keys.
        password_hasher: Defaults to Argon2id with interactive limits.
        password_policy: Rules for :meth:`validate_password`.
        clock: Time source.
    """

    def __init__(
        self,
        *,
        keyring: KeyRing | None = None,
        policy: Policy | None = None,
        issuer: str | None = None,
        audience: Iterable[str] | str | None = None,
        token_ttl: float = 900.0,
        leeway: float = 30.0,
        token_key_type: KeyType | str = KeyType.SYMMETRIC,
        revocation: RevocationHook | None = None,
        api_key_store: APIKeyStore | None = None,
        api_key_prefix: str = "pk",
        password_hasher: PasswordHasher | None = None,
        password_policy: PasswordPolicy | None = None,
        clock: Clock = system_clock,
    ) -> None:
        kind = _key_type(token_key_type)
        if keyring is None:
            if os.environ.get(DEFAULT_KEYRING_ENV):
                keyring = KeyRing.from_env(clock=clock)
            else:
                keyring = KeyRing.generate(*dict.fromkeys((KeyType.SYMMETRIC, kind)), clock=clock)
                _warn_ephemeral()
        elif not isinstance(keyring, KeyRing):
            raise InvalidArgumentError(
                f"keyring must be a KeyRing, not {type_name(keyring)}",
                context={"keyring": type_name(keyring)},
                hint="Load one with KeyRing.from_file(...) or KeyRing.from_env().",
            )
        self.keyring = keyring
        self.policy: Policy = instance(policy, Policy, "policy") if policy is not None else Policy()
        self.tokens = TokenManager(
            keyring,
            key_type=kind,
            issuer=issuer,
            audience=audience,
            ttl=token_ttl,
            leeway=leeway,
            revocation=revocation,
            clock=clock,
        )
        self.api_keys = APIKeys(api_key_store, prefix=api_key_prefix, clock=clock)
        self.passwords = password_hasher if password_hasher is not None else PasswordHasher()
        self.password_policy = password_policy if password_policy is not None else PasswordPolicy()
        self.encryptor = Encryptor(keyring)
        self.fields = FieldEncryptor(self.encryptor)
        self.clock = clock

    def __repr__(self) -> str:
        return f"Security(keyring={self.keyring!r}, policy={self.policy!r})"

    # -- authentication -------------------------------------------------------

    async def authenticate(self, credential: Any) -> Principal:
        """Return the :class:`Principal` behind a token or API key.

        Accepts the raw credential or an ``Authorization`` header value
        (``"Bearer <token>"``).  Raises :class:`AuthenticationError` with a
        :class:`AuthFailure` reason for every refusal, and for any input of
        the wrong type, size or shape; nothing else.
        """
        if isinstance(credential, (bytes, bytearray)):
            try:
                credential = bytes(credential).decode("ascii")
            except UnicodeDecodeError:
                raise AuthenticationError(AuthFailure.MALFORMED) from None
        if not isinstance(credential, str) or not credential or len(credential) > _MAX_CREDENTIAL:
            raise AuthenticationError(AuthFailure.MALFORMED)
        scheme, _, rest = credential.partition(" ")
        if rest and scheme.lower() in {"bearer", "token", "apikey"}:
            credential = rest.strip()
        if self.api_keys.looks_like_key(credential):
            return await self.api_keys.authenticate(credential)
        claims = await self.tokens.averify(credential)
        return claims.to_principal()

    def issue_token(
        self,
        subject: str,
        *,
        scopes: Iterable[str] = (),
        roles: Iterable[str] = (),
        tenant: str | None = None,
        audience: Iterable[str] | str | None = None,
        ttl: float | None = None,
        claims: Mapping[str, Any] | None = None,
    ) -> str:
        """Issue a signed token (see :meth:`TokenManager.issue`)."""
        return self.tokens.issue(
            subject,
            scopes=scopes,
            roles=roles,
            tenant=tenant,
            audience=audience,
            ttl=ttl,
            claims=claims,
        )

    async def create_api_key(
        self,
        principal_id: str,
        *,
        name: str = "",
        roles: Iterable[str] = (),
        scopes: Iterable[str] = (),
        tenant: str | None = None,
        ttl: float | None = None,
    ) -> str:
        """Create an API key and return its plaintext (shown once; stored hashed)."""
        plaintext, _ = await self.api_keys.create(
            principal_id, name=name, roles=roles, scopes=scopes, tenant=tenant, ttl=ttl
        )
        return plaintext

    # -- authorization --------------------------------------------------------

    def authorize(self, principal: Principal, action: str, resource: Any = None) -> Decision:
        """Return the policy's :class:`Decision` (check ``decision.allowed``)."""
        return self.policy.authorize(principal, action, resource)

    def check(self, principal: Principal, action: str, resource: Any = None) -> Decision:
        """Raise :class:`AuthorizationError` unless allowed."""
        return self.policy.check(principal, action, resource)

    # -- passwords ------------------------------------------------------------

    async def hash_password(self, password: str) -> str:
        """Validate *password* against the policy, then hash it (in a thread)."""
        await self.password_policy.avalidate(password)
        return await self.passwords.ahash(password)

    async def verify_password(self, hashed: str, password: str) -> PasswordCheck:
        """Verify *password* against *hashed* (in a thread); see :class:`PasswordCheck`."""
        return await self.passwords.averify(hashed, password)

    # -- encryption -----------------------------------------------------------

    def encrypt(self, plaintext: bytes, *, context: bytes = b"") -> bytes:
        """Encrypt with the active key (see :meth:`Encryptor.encrypt`)."""
        return self.encryptor.encrypt(plaintext, context=context)

    def decrypt(self, envelope: bytes, *, context: bytes = b"") -> bytes:
        """Decrypt an envelope (see :meth:`Encryptor.decrypt`)."""
        return self.encryptor.decrypt(envelope, context=context)
