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

from pepperpy.core.exceptions import (
    ConfigurationError,
    ErrorCatalogue,
    ErrorCode,
    ErrorDetail,
    ExternalError,
    InvalidArgumentError,
    NotFoundError,
    SecurityError,
    ValidationError,
)

if TYPE_CHECKING:
    from pepperpy.security._authz import Decision

__all__ = [
    "ERRORS",
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


class _Failure:
    """What an :class:`AuthenticationError` of one :class:`AuthFailure` says."""

    __slots__ = ("code", "hint", "text")

    def __init__(self, text: str, *, code: str, hint: str) -> None:
        self.text = text
        self.code = code
        self.hint = hint


# One entry per reason, each code written out so the catalogue check sees it.
_FAILURES = {
    AuthFailure.MALFORMED: _Failure(
        "the credential is malformed",
        code="pepperpy.security.authentication.malformed",
        hint="Send the token exactly as it was issued.",
    ),
    AuthFailure.BAD_SIGNATURE: _Failure(
        "the credential's signature is invalid",
        code="pepperpy.security.authentication.bad_signature",
        hint="Obtain a new credential from the issuer.",
    ),
    AuthFailure.UNKNOWN_KEY: _Failure(
        "the credential was signed by an unknown or retired key",
        code="pepperpy.security.authentication.unknown_key",
        hint=(
            "Obtain a new credential from the issuer. If the issuer is another Security() "
            "instance or process, both must use the same key ring: a Security() without "
            "keyring= (and without PEPPERPY_KEYRING) makes its own temporary keys, so pass "
            "keyring=KeyRing.from_file(...) everywhere. Otherwise the key was retired past its "
            "grace period, or is not of the token key type this verifier accepts."
        ),
    ),
    AuthFailure.EXPIRED: _Failure(
        "the credential has expired",
        code="pepperpy.security.authentication.expired",
        hint="Obtain a new credential (refresh the token).",
    ),
    AuthFailure.NOT_YET_VALID: _Failure(
        "the credential is not valid yet",
        code="pepperpy.security.authentication.not_yet_valid",
        hint="Check that the issuer's clock is correct.",
    ),
    AuthFailure.INVALID_CLAIMS: _Failure(
        "the credential is not meant for this service",
        code="pepperpy.security.authentication.invalid_claims",
        hint="Request a credential for this audience and issuer.",
    ),
    AuthFailure.REVOKED: _Failure(
        "the credential has been revoked",
        code="pepperpy.security.authentication.revoked",
        hint="Obtain a new credential.",
    ),
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
        failure = _FAILURES[reason]
        super().__init__(
            f"Authentication failed: {failure.text}",
            code=failure.code,
            context={"reason": reason.value},
            hint=failure.hint,
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


_AUTH_ACTION = "Ask the client for a new credential; never tell it more than that it was refused."

ERRORS = ErrorCatalogue(
    "pepperpy.security",
    ErrorCode(
        "pepperpy.security.authentication",
        AuthenticationError,
        "A credential was refused (the class default; every raised error carries a reason code).",
        "Catch AuthenticationError and read .reason; answer 401 without the details.",
    ),
    ErrorCode(
        "pepperpy.security.authentication.malformed",
        AuthenticationError,
        "The credential is not in the expected shape (empty, truncated, not ASCII, too long).",
        "Send the credential exactly as it was issued.",
    ),
    ErrorCode(
        "pepperpy.security.authentication.bad_signature",
        AuthenticationError,
        "The credential's signature or MAC does not match, or the secret is wrong.",
        _AUTH_ACTION,
    ),
    ErrorCode(
        "pepperpy.security.authentication.unknown_key",
        AuthenticationError,
        "The credential names a key this ring does not have, retired it, or does not accept.",
        "Share one key ring between issuer and verifier (KeyRing.from_file); obtain a new "
        "credential.",
    ),
    ErrorCode(
        "pepperpy.security.authentication.expired",
        AuthenticationError,
        "The credential's lifetime (plus the clock-skew leeway) is over.",
        "Obtain a new credential (refresh the token).",
    ),
    ErrorCode(
        "pepperpy.security.authentication.not_yet_valid",
        AuthenticationError,
        "The credential was issued in the future (beyond the clock-skew leeway).",
        "Check the issuer's clock.",
    ),
    ErrorCode(
        "pepperpy.security.authentication.invalid_claims",
        AuthenticationError,
        "The credential's audience or issuer is not one this verifier accepts.",
        "Request a credential for this audience and issuer.",
    ),
    ErrorCode(
        "pepperpy.security.authentication.revoked",
        AuthenticationError,
        "The credential was revoked (token id on the revocation list, API key revoked).",
        _AUTH_ACTION,
    ),
    ErrorCode(
        "pepperpy.security.authorization",
        AuthorizationError,
        "The principal may not perform the action; .decision explains which rule decided.",
        "Answer 403, or grant the role or permission the decision names.",
    ),
    ErrorCode(
        "pepperpy.security.decryption",
        DecryptionError,
        "A ciphertext is tampered, truncated, or from a key or context this ring does not accept.",
        "Treat the data as untrusted; re-encrypt it with a current key if it is yours.",
    ),
    ErrorCode(
        "pepperpy.security.key_not_found",
        KeyNotFoundError,
        "A key id is not in the key ring, or is no longer usable.",
        "Add the key to the ring, or re-encrypt/re-sign the data with a current key.",
    ),
    ErrorCode(
        "pepperpy.security.weak_password",
        WeakPasswordError,
        "A password breaks a PasswordPolicy rule; .errors lists every rule that failed.",
        "Show the listed rules to the user and ask for another password.",
    ),
    ErrorCode(
        "pepperpy.security.keyring.format",
        ConfigurationError,
        "Key ring data (JSON, a key entry or base64 key material) is malformed.",
        "Use the output of KeyRing.to_json(include_secrets=True) or KeyRing.generate().",
    ),
    ErrorCode(
        "pepperpy.security.keyring.missing",
        ConfigurationError,
        "The key ring's environment variable is unset, or its file cannot be read.",
        "Set the variable (or fix the path/permissions) to a saved key ring.",
    ),
    ErrorCode(
        "pepperpy.security.keyring.sealed",
        ConfigurationError,
        "The key ring is sealed with a password and none was given.",
        "Pass password= to KeyRing.from_json() / from_file().",
    ),
    ErrorCode(
        "pepperpy.security.keyring.no_active_key",
        ConfigurationError,
        "The key ring has no active key of the type an operation needs.",
        "Call keyring.create(type) or keyring.rotate(type).",
    ),
    ErrorCode(
        "pepperpy.security.file.not_found",
        NotFoundError,
        "A file to read (or the directory of one to write) does not exist.",
        "Check the path.",
    ),
    ErrorCode(
        "pepperpy.security.file.read",
        ExternalError,
        "The operating system refused to read a file (permissions, a directory, a device error).",
        "Check that the path is a readable file for this process.",
    ),
    ErrorCode(
        "pepperpy.security.file.write",
        ExternalError,
        "The operating system refused to write a file (permissions, disk full, bad path).",
        "Check that the directory is writable for this process and has space.",
    ),
    ErrorCode(
        "pepperpy.security.stream.read",
        ExternalError,
        "Reading the source of a stream encryption failed (closed file, device error).",
        "Pass an open binary file object; retry if the device error was transient.",
    ),
    ErrorCode(
        "pepperpy.security.stream.write",
        ExternalError,
        "Writing the sink of a stream encryption failed (closed file, broken pipe, disk full).",
        "Pass an open binary file object; discard the partial output.",
    ),
    ErrorCode(
        "pepperpy.security.password.invalid_text",
        InvalidArgumentError,
        "A password is text that cannot be encoded (it holds a lone surrogate).",
        "Decode passwords with errors='strict', or pass the raw bytes.",
    ),
    ErrorCode(
        "pepperpy.security.password.bad_hash",
        InvalidArgumentError,
        "A stored password hash is not str/bytes or not an Argon2 PHC string.",
        "Store and pass back the output of PasswordHasher.hash() unchanged.",
    ),
    ErrorCode(
        "pepperpy.security.password.async_hook",
        ConfigurationError,
        "The breached-password hook is async but a synchronous check was called.",
        "Call acheck()/avalidate(), or give a synchronous hook.",
    ),
    ErrorCode(
        "pepperpy.security.tokens.cannot_issue",
        ConfigurationError,
        "The token manager's key ring has no active signing key (a verify-only ring).",
        "Issue tokens where the private keys live, or add a key: keyring.create(type).",
    ),
    ErrorCode(
        "pepperpy.security.tokens.async_hook",
        ConfigurationError,
        "The revocation hook is async but verify() was called.",
        "Call averify(), or give a synchronous revocation hook.",
    ),
    ErrorCode(
        "pepperpy.security.tokens.revocation_input",
        InvalidArgumentError,
        "RevocationList.is_revoked() got something other than a token id or Claims.",
        "Pass claims.jti or the Claims, or give the RevocationList itself as the hook.",
    ),
    ErrorCode(
        "pepperpy.security.apikeys.not_rotatable",
        InvalidArgumentError,
        "An API key that is revoked or expired was asked to rotate.",
        "Create a new key with create() if the principal still needs access.",
    ),
    ErrorCode(
        "pepperpy.security.policy",
        ValidationError,
        "A policy document is malformed; .errors lists every problem with its path.",
        "Fix the listed paths in the policy document.",
    ),
    ErrorCode(
        "pepperpy.security.policy.async_condition",
        InvalidArgumentError,
        "A policy condition is async; conditions must decide synchronously.",
        "Load what the condition needs before authorize(), then decide in a plain def.",
    ),
)
"""The error codes pepperpy-security raises: code -> class, meaning and what to do."""
