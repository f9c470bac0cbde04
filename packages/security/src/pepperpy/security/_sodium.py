"""Thin, fast access to the libsodium functions PyNaCl bundles.

PyNaCl's public bindings for ``crypto_generichash_blake2b_salt_personal``
and ``crypto_aead_xchacha20poly1305_ietf_*`` spend most of their time (for
small inputs) validating arguments in Python.  Our arguments have fixed,
already validated sizes, so the hot paths call the same libsodium functions
through PyNaCl's own cffi library.  When that private
module is unavailable (a future PyNaCl), the public binding is used: same
function, same output.
"""

from __future__ import annotations

import importlib
from typing import Any

import nacl.bindings
import nacl.exceptions

__all__ = ["aead_decrypt", "aead_encrypt", "blake2b_keyed"]

_SALT_BYTES = 16
_PERSON_BYTES = 16

_lib: Any = None
_ffi: Any = None
try:  # pragma: no branch - depends on the installed PyNaCl
    _sodium = importlib.import_module("nacl._sodium")
    _lib, _ffi = _sodium.lib, _sodium.ffi
except (ImportError, AttributeError):  # pragma: no cover
    _lib = _ffi = None

_ZERO_SALT = b"\0" * _SALT_BYTES


def blake2b_keyed(message: bytes, key: bytes, person: bytes, size: int = 32) -> bytes:
    """BLAKE2b of *message* keyed with *key* (<= 64 bytes), personalised with 16-byte *person*."""
    if _lib is None or len(person) != _PERSON_BYTES:  # pragma: no cover
        return bytes(
            nacl.bindings.crypto_generichash_blake2b_salt_personal(
                message, digest_size=size, key=key, person=person
            )
        )
    out = _ffi.new("unsigned char[]", size)
    rc = _lib.crypto_generichash_blake2b_salt_personal(
        out, size, message, len(message), key, len(key), _ZERO_SALT, person
    )
    if rc != 0:  # pragma: no cover - libsodium only fails on invalid sizes
        raise RuntimeError("crypto_generichash_blake2b_salt_personal failed")
    return bytes(_ffi.buffer(out, size))


_ABYTES = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_ABYTES


def aead_encrypt(message: bytes, aad: bytes, nonce: bytes, key: bytes) -> bytes:
    """``crypto_aead_xchacha20poly1305_ietf_encrypt``; *nonce* 24 bytes, *key* 32 bytes."""
    if _lib is None:  # pragma: no cover
        return bytes(
            nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(message, aad, nonce, key)
        )
    size = len(message) + _ABYTES
    out = _ffi.new("unsigned char[]", size)
    out_len = _ffi.new("unsigned long long *")
    rc = _lib.crypto_aead_xchacha20poly1305_ietf_encrypt(
        out, out_len, message, len(message), aad, len(aad), _ffi.NULL, nonce, key
    )
    if rc != 0:  # pragma: no cover - only on invalid sizes
        raise RuntimeError("crypto_aead_xchacha20poly1305_ietf_encrypt failed")
    return _ffi.buffer(out, out_len[0])[:]  # type: ignore[no-any-return]


def aead_decrypt(ciphertext: bytes, aad: bytes, nonce: bytes, key: bytes) -> bytes | None:
    """``crypto_aead_xchacha20poly1305_ietf_decrypt``; ``None`` when authentication fails."""
    if len(ciphertext) < _ABYTES:
        return None
    if _lib is None:  # pragma: no cover
        try:
            return bytes(
                nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
                    ciphertext, aad, nonce, key
                )
            )
        except nacl.exceptions.CryptoError:
            return None
    size = max(len(ciphertext) - _ABYTES, 1)
    out = _ffi.new("unsigned char[]", size)
    out_len = _ffi.new("unsigned long long *")
    rc = _lib.crypto_aead_xchacha20poly1305_ietf_decrypt(
        out, out_len, _ffi.NULL, ciphertext, len(ciphertext), aad, len(aad), nonce, key
    )
    if rc != 0:
        return None
    return _ffi.buffer(out, out_len[0])[:]  # type: ignore[no-any-return]
