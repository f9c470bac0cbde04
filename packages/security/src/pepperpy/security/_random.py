"""Secure random ids and tokens, and constant-time comparison.

All randomness comes from libsodium's ``randombytes`` (through
:func:`nacl.utils.random`), never from :mod:`random`.
"""

from __future__ import annotations

import base64
import hmac

import nacl.utils

from pepperpy.core.exceptions import InvalidArgumentError

__all__ = ["constant_time_equals", "random_bytes", "random_id", "random_token"]


def random_bytes(size: int = 32) -> bytes:
    """Return *size* cryptographically secure random bytes."""
    if size < 1:
        raise InvalidArgumentError(
            f"random_bytes() needs a positive size, got {size}",
            context={"size": size},
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
    body = base64.b32encode(random_bytes(nbytes)).decode("ascii").rstrip("=").lower()
    return f"{prefix}_{body}" if prefix else body


def constant_time_equals(a: str | bytes, b: str | bytes) -> bool:
    """Compare two secrets in time independent of where they differ.

    ``str`` values are compared as UTF-8.  Values of different lengths
    return ``False`` (the length is not treated as secret).
    """
    a_bytes = a.encode("utf-8") if isinstance(a, str) else bytes(a)
    b_bytes = b.encode("utf-8") if isinstance(b, str) else bytes(b)
    return hmac.compare_digest(a_bytes, b_bytes)
