"""Signed, expiring tokens: :class:`Claims`, :class:`TokenManager`, revocation.

Wire format (ASCII, URL-safe)::

    pp1.<kid>.<base64url(canonical JSON claims)>.<base64url(tag)>

The tag covers everything before the last dot.  The algorithm is decided by
the *type of the key* that ``kid`` names in the :class:`KeyRing`, never by
anything in the token, so algorithm-confusion attacks (``alg: none``, HMAC
with a public key) cannot exist:

* symmetric key: keyed BLAKE2b-256 MAC (libsodium ``crypto_generichash``) with
  a per-purpose derived sub-key; 32-byte tag.
* Ed25519 key: a libsodium Ed25519 signature; 64-byte tag.

Base64 is checked to be canonical, so two different strings never carry the
same bytes: every single-character change of a token is refused.
"""

from __future__ import annotations

import base64
import binascii
import inspect
import json
import math
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Union

import attrs
import nacl.bindings
import nacl.exceptions

from pepperpy.core.exceptions import ConfigurationError, InvalidArgumentError
from pepperpy.core.types import Clock, system_clock
from pepperpy.security._checks import instance, number, opt_str, str_tuple, text, type_name
from pepperpy.security._errors import AuthenticationError, AuthFailure
from pepperpy.security._keys import Key, KeyRing, KeyType, _key_type
from pepperpy.security._principal import Principal
from pepperpy.security._random import random_token
from pepperpy.security._sodium import blake2b_keyed

__all__ = [
    "TOKEN_PREFIX",
    "Claims",
    "RevocationList",
    "RevocationHook",
    "TokenManager",
    "VerifiedToken",
]

TOKEN_PREFIX = "pp1"
"""Version prefix of every token (``pp1.``)."""

_TOKEN_PURPOSE = b"pepperpy.token.1"  # 16 bytes: BLAKE2b personalisation
_MAX_TOKEN = 8192
_B64_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_KID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_MAX_TIME = 2**53  # iat/exp beyond this are not times (and would overflow float arithmetic)
_RESERVED = frozenset({"sub", "scopes", "aud", "iss", "iat", "exp", "jti", "roles", "tenant"})

RevocationHook = Callable[["Claims"], Union[bool, Awaitable[bool]]]
"""Called with verified claims; return (or resolve to) ``True`` to refuse the token."""


def _strs(value: Iterable[str] | str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


@attrs.frozen
class Claims:
    """The verified content of a token.

    Attributes:
        sub: Subject: who the token is about.
        iat: Issued-at, Unix seconds.
        exp: Expiry, Unix seconds.
        jti: Unique token id (for revocation).
        scopes: Granted scopes.
        aud: Audiences the token is meant for (empty: any).
        iss: The issuer, if set.
        roles: Roles for RBAC.
        tenant: Tenant for tenant-isolation rules.
        extra: Application claims (JSON values) under names not listed above.
    """

    sub: str
    iat: int
    exp: int
    jti: str
    scopes: tuple[str, ...] = attrs.field(default=(), converter=_strs)
    aud: tuple[str, ...] = attrs.field(default=(), converter=_strs)
    iss: str | None = None
    roles: tuple[str, ...] = attrs.field(default=(), converter=_strs)
    tenant: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=dict, hash=False)

    def to_dict(self) -> dict[str, Any]:
        """Return the claims as the JSON object carried in the token."""
        data: dict[str, Any] = dict(self.extra)
        data.update(sub=self.sub, iat=self.iat, exp=self.exp, jti=self.jti)
        if self.scopes:
            data["scopes"] = list(self.scopes)
        if self.aud:
            data["aud"] = list(self.aud)
        if self.iss is not None:
            data["iss"] = self.iss
        if self.roles:
            data["roles"] = list(self.roles)
        if self.tenant is not None:
            data["tenant"] = self.tenant
        return data

    @classmethod
    def from_dict(cls, data: Any) -> Claims:
        """Parse a claims object strictly; raise ``AuthenticationError(MALFORMED)``."""
        if not isinstance(data, dict):
            raise AuthenticationError(AuthFailure.MALFORMED)
        try:
            sub, iat, exp, jti = data["sub"], data["iat"], data["exp"], data["jti"]
        except KeyError:
            raise AuthenticationError(AuthFailure.MALFORMED) from None
        if not (
            isinstance(sub, str) and isinstance(jti, str) and type(iat) is int and type(exp) is int
        ):
            raise AuthenticationError(AuthFailure.MALFORMED)
        if not (-_MAX_TIME < iat < _MAX_TIME and -_MAX_TIME < exp < _MAX_TIME) or not sub:
            raise AuthenticationError(AuthFailure.MALFORMED)
        scopes = _str_list(data.get("scopes", []))
        aud = _str_list(data.get("aud", []))
        roles = _str_list(data.get("roles", []))
        iss = data.get("iss")
        tenant = data.get("tenant")
        if not (iss is None or isinstance(iss, str)) or not (
            tenant is None or isinstance(tenant, str)
        ):
            raise AuthenticationError(AuthFailure.MALFORMED)
        extra = {k: v for k, v in data.items() if k not in _RESERVED}
        return cls(
            sub=sub,
            iat=iat,
            exp=exp,
            jti=jti,
            scopes=scopes,
            aud=aud,
            iss=iss,
            roles=roles,
            tenant=tenant,
            extra=extra,
        )

    def to_principal(self) -> Principal:
        """Return the :class:`Principal` these claims describe."""
        return Principal(
            id=self.sub,
            kind="user",
            roles=frozenset(self.roles),
            scopes=frozenset(self.scopes),
            tenant=self.tenant,
            attributes=dict(self.extra),
            claims=self,
            credential_id=self.jti,
        )


def _str_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise AuthenticationError(AuthFailure.MALFORMED)
    return tuple(value)


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64d_strict(text: str) -> bytes:
    """Decode unpadded URL-safe base64, refusing any non-canonical spelling."""
    if not _B64_RE.fullmatch(text) or len(text) % 4 == 1:
        raise AuthenticationError(AuthFailure.MALFORMED)
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise AuthenticationError(AuthFailure.MALFORMED) from None
    if _b64e(raw) != text:  # unused trailing bits set: another spelling of the same bytes
        raise AuthenticationError(AuthFailure.MALFORMED)
    return raw


def _canonical(data: Mapping[str, Any]) -> bytes:
    try:
        return json.dumps(
            data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
        ).encode("ascii")
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidArgumentError(
            "Token claims must be JSON values (str, int, float, bool, None, list, dict)",
            context={"error": str(exc)},
            hint="Convert custom objects to JSON values before putting them in a token.",
        ) from None


@attrs.frozen
class VerifiedToken:
    """The result of :meth:`TokenManager.verify_and_rotate`.

    Attributes:
        claims: The verified claims.
        kid: The key id that signed the token.
        rotated: A re-signed token (same claims, active key) when the token
            was signed by a retired key; ``None`` when it is already current.
    """

    claims: Claims
    kid: str
    rotated: str | None = attrs.field(default=None, repr=False)


class RevocationList:
    """An in-memory revocation list, usable as a :data:`RevocationHook`.

    A verifier accepts a token until ``exp + leeway``, so an entry is kept
    (and refuses its token) until ``until + leeway``, and only then dropped by
    :meth:`purge`.  Given to a :class:`TokenManager` (or ``Security``) as its
    revocation hook, the list adopts that manager's leeway when it is larger
    than its own.  For several processes, implement the hook on top of a
    shared store instead (the hook may be async), keeping entries until
    ``exp + leeway`` too.

    Args:
        clock: Time source.
        leeway: Seconds an entry outlives its *until* (the verifier's
            clock-skew leeway; default 30 s, as :class:`TokenManager`).
    """

    def __init__(self, *, clock: Clock = system_clock, leeway: float = 30.0) -> None:
        self._clock = clock
        self._leeway = number(leeway, "leeway", minimum=0.0)
        self._revoked: dict[str, float] = {}

    @property
    def leeway(self) -> float:
        """Seconds each entry is kept beyond its *until*."""
        return self._leeway

    def _cover(self, leeway: float) -> None:
        """Keep entries for at least *leeway* seconds past *until* (a verifier's leeway)."""
        self._leeway = max(self._leeway, leeway)

    def revoke(self, jti: str | Claims, *, until: float | None = None) -> None:
        """Revoke token id *jti* (or the token of *claims*) until Unix time *until*.

        With *claims*, *until* defaults to the token's ``exp``; with a bare id
        and no *until*, the entry never lapses.  The entry refuses the token
        until ``until + leeway``.
        """
        if isinstance(jti, Claims):
            until = jti.exp if until is None else until
            jti = jti.jti
        text(jti, "jti")
        self._revoked[jti] = math.inf if until is None else number(until, "until", allow_inf=True)

    def is_revoked(self, jti: str | Claims) -> bool:
        """Whether the token id *jti* (or the token of *claims*) is currently revoked.

        Raises :class:`InvalidArgumentError` for anything else: a revocation check
        never answers "not revoked" for input it cannot read.
        """
        if isinstance(jti, Claims):
            jti = jti.jti
        if not isinstance(jti, str):
            raise InvalidArgumentError(
                f"is_revoked() takes a token id (str) or Claims, not {type_name(jti)}",
                code="pepperpy.security.tokens.revocation_input",
                context={"jti": type_name(jti)},
                hint="Pass claims.jti, the Claims, or give the RevocationList itself as the "
                "revocation hook.",
            )
        until = self._revoked.get(jti)
        return until is not None and self._clock.time() <= until + self._leeway

    def purge(self) -> int:
        """Drop entries whose tokens no verifier accepts any more; return how many."""
        now = self._clock.time()
        stale = [jti for jti, until in self._revoked.items() if until + self._leeway < now]
        for jti in stale:
            del self._revoked[jti]
        return len(stale)

    def __call__(self, claims: Claims) -> bool:
        return self.is_revoked(claims.jti)

    def __len__(self) -> int:
        return len(self._revoked)


class TokenManager:
    """Issue and verify signed, expiring tokens with claims.

    Args:
        keyring: Where signing keys come from; the token's kid selects the
            verification key.
        key_type: Which active key signs new tokens (``SYMMETRIC``: keyed
            BLAKE2b MAC, the default; ``ED25519``: public-key signatures).
        issuer: Put in ``iss`` of new tokens and required on verification.
        audience: Accepted audiences; a token with an ``aud`` must name one.
        ttl: Default lifetime of new tokens, seconds.
        leeway: Clock-skew tolerance, seconds, for ``exp`` and ``iat``.
        max_length: Longer tokens are refused as malformed before any work.
        revocation: Optional hook (sync or async) deciding if claims are revoked.
        clock: Time source.
    """

    def __init__(
        self,
        keyring: KeyRing,
        *,
        key_type: KeyType | str = KeyType.SYMMETRIC,
        issuer: str | None = None,
        audience: Iterable[str] | str | None = None,
        ttl: float = 900.0,
        leeway: float = 30.0,
        max_length: int = _MAX_TOKEN,
        revocation: RevocationHook | None = None,
        clock: Clock = system_clock,
    ) -> None:
        if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 64:
            raise InvalidArgumentError(
                "TokenManager needs an int max_length >= 64",
                context={"max_length": type_name(max_length)},
            )
        self.keyring: KeyRing = instance(keyring, KeyRing, "keyring")
        self.key_type = _key_type(key_type)
        self.issuer = opt_str(issuer, "issuer")
        self.audience = frozenset(str_tuple(audience, "audience"))
        self.ttl = _lifetime(ttl)
        self.leeway = number(leeway, "leeway", minimum=0.0)
        self.max_length = max_length
        self.revocation = revocation
        self.clock = clock
        # The list (or one of its bound methods, e.g. revoked.is_revoked) keeps entries
        # as long as this verifier accepts their tokens.
        owner = getattr(revocation, "__self__", revocation)
        if isinstance(owner, RevocationList):
            owner._cover(self.leeway)

    def __repr__(self) -> str:
        return (
            f"TokenManager(key_type={self.key_type.value!r}, issuer={self.issuer!r}, "
            f"ttl={self.ttl}, leeway={self.leeway})"
        )

    # -- issue ----------------------------------------------------------------

    def issue(
        self,
        subject: str,
        *,
        scopes: Iterable[str] = (),
        audience: Iterable[str] | str | None = None,
        roles: Iterable[str] = (),
        tenant: str | None = None,
        ttl: float | None = None,
        jti: str | None = None,
        claims: Mapping[str, Any] | None = None,
    ) -> str:
        """Return a new token for *subject*, signed by the active key.

        *claims* adds application claims; the reserved names (``sub``,
        ``exp`` ...) cannot be overridden through it.
        """
        text(subject, "subject")
        if claims is not None and not isinstance(claims, Mapping):
            raise InvalidArgumentError(
                f"claims must be a mapping, not {type_name(claims)}",
                context={"claims": type_name(claims)},
            )
        extra = dict(claims or {})
        if not all(isinstance(name, str) for name in extra):
            raise InvalidArgumentError(
                "Token claim names must be strings", hint="Use str keys in claims=."
            )
        clash = sorted(_RESERVED.intersection(extra))
        if clash:
            raise InvalidArgumentError(
                f"Reserved claim names cannot be set through claims=: {clash}",
                context={"claims": clash},
                hint="Use the keyword arguments (scopes=, roles=, tenant=, ttl= ...).",
            )
        now = int(self.clock.time())
        lifetime = self.ttl if ttl is None else _lifetime(ttl)
        aud = (
            str_tuple(audience, "audience")
            if audience is not None
            else tuple(sorted(self.audience))
        )
        data = Claims(
            sub=subject,
            iat=now,
            exp=now + math.ceil(lifetime),
            jti=random_token(16) if jti is None else text(jti, "jti"),
            scopes=str_tuple(scopes, "scopes"),
            aud=aud,
            iss=self.issuer,
            roles=str_tuple(roles, "roles"),
            tenant=opt_str(tenant, "tenant"),
            extra=extra,
        )
        return self.sign(data)

    def sign(self, claims: Claims) -> str:
        """Sign *claims* exactly as given with the active key (used for re-signing).

        Raises :class:`ConfigurationError` (code
        ``pepperpy.security.tokens.cannot_issue``) when the key ring holds no
        active private key of this manager's type, as in a verify-only ring
        from :meth:`KeyRing.public`.
        """
        if not self.keyring.has_active(self.key_type):
            kind = self.key_type.value
            raise ConfigurationError(
                f"This token manager can only verify: its key ring has no active {kind} "
                "signing key",
                code="pepperpy.security.tokens.cannot_issue",
                context={"key_type": kind},
                hint=f"Issue tokens where the private keys live; a ring from KeyRing.public() "
                f"verifies only. To issue here, add a key: keyring.create({kind!r}).",
            )
        key = self.keyring.active(self.key_type)
        payload = _b64e(_canonical(claims.to_dict()))
        signing_input = f"{TOKEN_PREFIX}.{key.kid}.{payload}".encode("ascii")
        token = f"{signing_input.decode('ascii')}.{_b64e(_tag(key, signing_input))}"
        if len(token) > self.max_length:
            # Never hand out a token that this manager's own verify() refuses.
            raise InvalidArgumentError(
                f"The token would be {len(token)} characters, over max_length={self.max_length}",
                context={"length": len(token), "max_length": self.max_length},
                hint="Put less data in the claims (store it server-side), or raise max_length.",
            )
        return token

    # -- verify ---------------------------------------------------------------

    def verify(self, token: Any, *, audience: Iterable[str] | str | None = None) -> Claims:
        """Verify *token* and return its claims, or raise :class:`AuthenticationError`.

        Any input (``None``, bytes, non-ASCII text, a huge string) either
        verifies or raises :class:`AuthenticationError`; nothing else.  A
        revocation hook must be synchronous here; use :meth:`averify` for an
        async one.
        """
        claims, _ = self._check(token, audience)
        if self.revocation is not None:
            result = self.revocation(claims)
            if inspect.isawaitable(result):
                if inspect.iscoroutine(result):
                    result.close()
                raise ConfigurationError(
                    "The revocation hook is async; call averify() instead of verify()",
                    code="pepperpy.security.tokens.async_hook",
                )
            if result:
                raise AuthenticationError(AuthFailure.REVOKED)
        return claims

    async def averify(self, token: Any, *, audience: Iterable[str] | str | None = None) -> Claims:
        """Like :meth:`verify`; the revocation hook may be sync or async."""
        claims, _ = self._check(token, audience)
        await self._check_revoked(claims)
        return claims

    async def verify_and_rotate(
        self, token: Any, *, audience: Iterable[str] | str | None = None
    ) -> VerifiedToken:
        """Verify *token*; when a retired key signed it, also return it re-signed.

        The re-signed token keeps every claim (same ``jti`` and ``exp``), so
        rotation never extends a token's life.
        """
        claims, key = self._check(token, audience)
        await self._check_revoked(claims)
        rotated = None
        if not self.keyring.is_active(key.kid) and self.keyring.has_active(self.key_type):
            try:
                rotated = self.sign(claims)
            except InvalidArgumentError:  # re-signed it would exceed max_length: keep the old one
                rotated = None
        return VerifiedToken(claims=claims, kid=key.kid, rotated=rotated)

    async def _check_revoked(self, claims: Claims) -> None:
        if self.revocation is None:
            return
        result = self.revocation(claims)
        if inspect.isawaitable(result):
            result = await result
        if result:
            raise AuthenticationError(AuthFailure.REVOKED)

    def _check(self, token: Any, audience: Iterable[str] | str | None) -> tuple[Claims, Key]:
        if isinstance(token, (bytes, bytearray, memoryview)):
            try:
                token = bytes(token).decode("ascii")
            except UnicodeDecodeError:
                raise AuthenticationError(AuthFailure.MALFORMED) from None
        if not isinstance(token, str) or not token or len(token) > self.max_length:
            raise AuthenticationError(AuthFailure.MALFORMED)
        if not token.isascii():
            raise AuthenticationError(AuthFailure.MALFORMED)
        parts = token.split(".")
        if len(parts) != 4 or parts[0] != TOKEN_PREFIX or not _KID_RE.fullmatch(parts[1]):
            raise AuthenticationError(AuthFailure.MALFORMED)
        _, kid, payload_text, tag_text = parts
        payload_raw = _b64d_strict(payload_text)
        tag = _b64d_strict(tag_text)
        key = self.keyring._find(kid)
        if key is None or key.type is not self.key_type:
            # Only the configured key type may verify (PyJWT's algorithms=[...] allow-list):
            # a MAC made with the ring's symmetric key never passes an Ed25519 verifier.
            raise AuthenticationError(AuthFailure.UNKNOWN_KEY)
        signing_input = token[: len(token) - len(tag_text) - 1].encode("ascii")
        if not _check_tag(key, signing_input, tag):
            raise AuthenticationError(AuthFailure.BAD_SIGNATURE)
        # Only authenticated bytes are parsed from here on.
        try:
            data = json.loads(payload_raw)
        except (ValueError, RecursionError):
            raise AuthenticationError(AuthFailure.MALFORMED) from None
        claims = Claims.from_dict(data)
        now = self.clock.time()
        if now >= claims.exp + self.leeway:
            raise AuthenticationError(AuthFailure.EXPIRED)
        if claims.iat > now + self.leeway:
            raise AuthenticationError(AuthFailure.NOT_YET_VALID)
        accepted = (
            frozenset(str_tuple(audience, "audience")) if audience is not None else self.audience
        )
        # An audience on either side must be matched by the other: a verifier with an
        # audience requires aud (PyJWT: MissingRequiredClaimError), and a token with an
        # aud is refused by a verifier that accepts none.
        if (accepted or claims.aud) and accepted.isdisjoint(claims.aud):
            raise AuthenticationError(AuthFailure.INVALID_CLAIMS)
        if self.issuer is not None and claims.iss != self.issuer:
            raise AuthenticationError(AuthFailure.INVALID_CLAIMS)
        return claims, key


def _lifetime(value: Any) -> float:
    seconds = number(value, "ttl", positive=True)
    if seconds >= _MAX_TIME / 2:
        raise InvalidArgumentError(
            "ttl is too large", context={"ttl": repr(seconds)}, hint="Use a lifetime in seconds."
        )
    return seconds


def _tag(key: Key, message: bytes) -> bytes:
    if key.type is KeyType.ED25519:
        return bytes(key._signing_key().sign(message).signature)
    return blake2b_keyed(message, key._derive(_TOKEN_PURPOSE), _TOKEN_PURPOSE)


def _check_tag(key: Key, message: bytes, tag: bytes) -> bool:
    if key.type is KeyType.ED25519:
        if len(tag) != 64:
            return False
        try:
            key._verify_key().verify(message, tag)
        except nacl.exceptions.BadSignatureError:
            return False
        return True
    if len(tag) != 32 or not key.has_secret:
        return False
    expected = _tag(key, message)
    return bool(nacl.bindings.sodium_memcmp(expected, tag))
