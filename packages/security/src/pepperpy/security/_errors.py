"""The errors raised by pepperpy.security.

Every error is a :class:`pepperpy.core.exceptions.SecurityError` (or, for a
weak password, a :class:`~pepperpy.core.exceptions.ValidationError`), and no
error message, ``context`` or ``repr`` ever contains key material, a password,
a token or a plaintext.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from pepperpy.core.exceptions import ErrorDetail, SecurityError, ValidationError

if TYPE_CHECKING:
    from pepperpy.security._authz import Decision

__all__ = [
    "AuthFailure",
    "AuthenticationError",
    "AuthorizationError",
    "DecryptionError",
    "KeyNotFoundError",
    "WeakPasswordError",
]


class AuthFailure(str, enum.Enum):
    """Why a credential was refused: the only detail a caller ever gets.

    The codes say *which kind* of check failed, never which byte, which key
    or how far off a value was, so an attacker learns nothing that helps a
    forgery.
    """

    MALFORMED = "malformed"
    """The credential is not in the expected shape (empty, truncated, not ASCII, too long)."""
    BAD_SIGNATURE = "bad_signature"
    """The signature or MAC does not match (tampered or forged), or the secret is wrong."""
    UNKNOWN_KEY = "unknown_key"
    """The key id is not in the key ring, it was retired longer ago than allowed, or it is
    not of the key type this verifier accepts for tokens (for example a MAC made with the
    ring's symmetric key at an Ed25519 verifier)."""
    EXPIRED = "expired"
    """The credential was valid but its lifetime (plus the clock-skew leeway) is over."""
    NOT_YET_VALID = "not_yet_valid"
    """The credential was issued in the future (beyond the clock-skew leeway)."""
    INVALID_CLAIMS = "invalid_claims"
    """The audience or issuer does not match what this verifier accepts."""
    REVOKED = "revoked"
    """The credential was revoked (token id on the revocation list, API key disabled)."""


_FAILURE_TEXT = {
    AuthFailure.MALFORMED: "the credential is malformed",
    AuthFailure.BAD_SIGNATURE: "the credential's signature is invalid",
    AuthFailure.UNKNOWN_KEY: "the credential was signed by an unknown or retired key",
    AuthFailure.EXPIRED: "the credential has expired",
    AuthFailure.NOT_YET_VALID: "the credential is not valid yet",
    AuthFailure.INVALID_CLAIMS: "the credential is not meant for this service",
    AuthFailure.REVOKED: "the credential has been revoked",
}

_FAILURE_HINT = {
    AuthFailure.MALFORMED: "Send the token exactly as it was issued.",
    AuthFailure.BAD_SIGNATURE: "Obtain a new credential from the issuer.",
    AuthFailure.UNKNOWN_KEY: (
        "Obtain a new credential from the issuer. If the issuer is another Security() "
        "instance or process, both must use the same key ring: a Security() without "
        "keyring= (and without PEPPERPY_KEYRING) makes its own temporary keys, so pass "
        "keyring=KeyRing.from_file(...) everywhere. Otherwise the key was retired past its "
        "grace period, or is not of the token key type this verifier accepts."
    ),
    AuthFailure.EXPIRED: "Obtain a new credential (refresh the token).",
    AuthFailure.NOT_YET_VALID: "Check that the issuer's clock is correct.",
    AuthFailure.INVALID_CLAIMS: "Request a credential for this audience and issuer.",
    AuthFailure.REVOKED: "Obtain a new credential.",
}


class AuthenticationError(SecurityError):
    """A credential (token, API key, password) was refused.

    Attributes:
        reason: The :class:`AuthFailure` code; the message and ``code`` are
            derived from it and nothing else, so two different forgeries of
            the same kind produce identical errors.
    """

    code = "pepperpy.security.authentication"

    def __init__(self, reason: AuthFailure) -> None:
        super().__init__(
            f"Authentication failed: {_FAILURE_TEXT[reason]}",
            code=f"pepperpy.security.authentication.{reason.value}",
            context={"reason": reason.value},
            hint=_FAILURE_HINT[reason],
        )
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.reason,))


class AuthorizationError(SecurityError):
    """A principal is not allowed to perform an action on a resource.

    Attributes:
        decision: The :class:`~pepperpy.security.Decision` that denied it,
            including the explanation.
    """

    code = "pepperpy.security.authorization"

    def __init__(self, decision: Decision) -> None:
        super().__init__(
            f"Permission denied: {decision.action!r} is not allowed",
            context={"action": decision.action, "principal": decision.principal_id},
            hint=decision.reason,
        )
        self.decision = decision


class DecryptionError(SecurityError):
    """A ciphertext could not be decrypted: tampered, truncated, wrong key or wrong context."""

    code = "pepperpy.security.decryption"

    def __init__(self, message: str = "Decryption failed", *, kid: str | None = None) -> None:
        context: dict[str, Any] = {}
        if kid is not None:
            context["kid"] = kid
        super().__init__(
            message,
            context=context,
            hint="The data was modified, truncated, or encrypted with a key this key ring "
            "no longer accepts.",
        )


class KeyNotFoundError(SecurityError, LookupError):
    """A key id is not in the key ring (or is no longer usable)."""

    code = "pepperpy.security.key_not_found"

    def __init__(self, kid: str, *, reason: str = "is not in the key ring") -> None:
        super().__init__(
            f"Key {kid!r} {reason}",
            context={"kid": kid},
            hint="Add the key to the KeyRing, or re-encrypt/re-sign the data with a current key.",
        )
        self.kid = kid


class WeakPasswordError(ValidationError):
    """A password does not satisfy the :class:`~pepperpy.security.PasswordPolicy`.

    ``errors`` lists every rule that failed; the password itself is never
    included.
    """

    code = "pepperpy.security.weak_password"

    def __init__(self, errors: Iterable[ErrorDetail], *, context: Mapping[str, Any] | None = None):
        details = list(errors)
        super().__init__(
            "Password rejected: " + "; ".join(d.message for d in details),
            errors=details,
            context=context,
            hint="Choose a password that meets every rule named above (the errors list "
            "says which failed).",
        )
