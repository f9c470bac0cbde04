"""Secure random ids and tokens, and constant-time comparison.

All randomness comes from libsodium's ``randombytes`` (through
:func:`nacl.utils.random`), never from :mod:`random`.
"""

from __future__ import annotations

import base64
import hmac

import nacl.utils

from pepperpy.core.exceptions import InvalidArgumentError, safe_repr

__all__ = ["constant_time_equals", "random_bytes", "random_id", "random_token"]


_MAX_RANDOM = 1 << 20


def random_bytes(size: int = 32) -> bytes:
    """Return *size* cryptographically secure random bytes (1 byte to 1 MiB)."""
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= _MAX_RANDOM:
        raise InvalidArgumentError(
            f"random_bytes() needs an int size from 1 to {_MAX_RANDOM}",
            context={"size": safe_repr(size)},
            hint="Ask for at least 16 bytes for anything that must be unguessable.",
        )
    return bytes(nacl.utils.random(size))


def random_token(nbytes: int = 32) -> str:
    """Return a URL-safe, unpadded base64 token carrying *nbytes* random bytes.

    32 bytes (the default) give 256 bits of entropy: fit for session ids,
    reset links and API key secrets.
    """
    return base64.urlsafe_b64encode(random_bytes(nbytes)).rstrip(b"=").decode("ascii")


def random_id(prefix: str = "", *, nbytes: int = 16) -> str:
    """Return a random identifier such as ``"usr_5x0k7r..."`` (lower-case base32, ``a-z2-7``).

    Args:
        prefix: Prepended with an underscore when given (``"usr"`` -> ``"usr_..."``).
        nbytes: Random bytes in the id; 16 bytes (128 bits) makes collisions
            practically impossible.
    """
    if not isinstance(prefix, str):
        raise InvalidArgumentError(
            f"random_id() prefix must be a str, not {type(prefix).__name__}",
            context={"prefix": type(prefix).__name__},
        )
    body = base64.b32encode(random_bytes(nbytes)).decode("ascii").rstrip("=").lower()
    return f"{prefix}_{body}" if prefix else body


def constant_time_equals(a: str | bytes, b: str | bytes) -> bool:
    """Compare two secrets in time independent of where they differ.

    ``str`` values are compared as UTF-8.  Values of different lengths
    return ``False`` (the length is not treated as secret).
    """
    return hmac.compare_digest(_secret_bytes(a), _secret_bytes(b))


def _secret_bytes(value: object) -> bytes:
    if isinstance(value, str):
        # surrogatepass: a lone surrogate still compares (equal only to itself), never raises
        return value.encode("utf-8", "surrogatepass")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise InvalidArgumentError(
        f"constant_time_equals() compares str or bytes, not {type(value).__name__}",
        context={"type": type(value).__name__},
    )
