"""Tests for pepperpy.security._sodium: the fast paths equal PyNaCl's public bindings."""

from __future__ import annotations

import nacl.bindings as sodium
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pepperpy.security._sodium import aead_decrypt, aead_encrypt, blake2b_keyed

KEYS = st.binary(min_size=32, max_size=32)
NONCES = st.binary(min_size=24, max_size=24)


@given(message=st.binary(max_size=300), key=st.binary(max_size=64))
def test_blake2b_matches_public_binding(message: bytes, key: bytes):
    person = b"pepperpy.token.1"
    expected = sodium.crypto_generichash_blake2b_salt_personal(
        message, digest_size=32, key=key, person=person
    )
    assert blake2b_keyed(message, key, person) == expected


@given(message=st.binary(max_size=300), aad=st.binary(max_size=40), nonce=NONCES, key=KEYS)
def test_aead_matches_public_binding(message: bytes, aad: bytes, nonce: bytes, key: bytes):
    ours = aead_encrypt(message, aad, nonce, key)
    assert ours == sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(message, aad, nonce, key)
    assert aead_decrypt(ours, aad, nonce, key) == message
    assert sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(ours, aad, nonce, key) == message


@pytest.mark.parametrize("cut", [0, 1, 8, 15])
def test_aead_decrypt_refuses_short_or_damaged(cut: int):
    key, nonce = b"k" * 32, b"n" * 24
    sealed = aead_encrypt(b"", b"", nonce, key)
    assert aead_decrypt(sealed, b"", nonce, key) == b""
    assert aead_decrypt(sealed[:cut], b"", nonce, key) is None
    assert aead_decrypt(sealed, b"x", nonce, key) is None
