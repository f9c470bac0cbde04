"""pepperpy.security: encryption, tokens and password hashing, side by side.

Peers: raw PyNaCl SecretBox (the floor: same libsodium, no envelope), cryptography
Fernet, PyJWT (HS256 and EdDSA) and itsdangerous.
Targets (issue 8): encrypt+decrypt 1 MiB within 1.1x of raw PyNaCl SecretBox;
token issue/verify at least as fast as PyJWT HS256; Argon2id time at the default
limits is reported, not compared (it is meant to be slow).
"""

from __future__ import annotations

import os

import itsdangerous
import jwt
import nacl.pwhash.argon2id as argon2id
import nacl.secret
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from harness import compare
from pepperpy.security import (
    Encryptor,
    HashProfile,
    KeyRing,
    KeyType,
    PasswordHasher,
    TokenManager,
)

REQUIRES = ["cryptography", "pyjwt", "itsdangerous"]

_RING = KeyRing.generate(KeyType.SYMMETRIC, KeyType.ED25519)
_OURS = Encryptor(_RING)
_BOX = nacl.secret.SecretBox(os.urandom(32))
_FERNET = Fernet(Fernet.generate_key())


def _roundtrip_cases(size: int) -> dict[str, object]:
    data = os.urandom(size)

    def ours() -> None:
        assert len(_OURS.decrypt(_OURS.encrypt(data))) == size

    def secretbox() -> None:
        assert len(_BOX.decrypt(_BOX.encrypt(data))) == size

    def fernet() -> None:
        assert len(_FERNET.decrypt(_FERNET.encrypt(data))) == size

    return {"pepperpy Encryptor": ours, "PyNaCl SecretBox": secretbox, "Fernet": fernet}


def bench_encrypt_decrypt_1kib():
    return compare(
        "security: encrypt+decrypt 1 KiB",
        _roundtrip_cases(1024),  # type: ignore[arg-type]
        inner=500,
        baseline="pepperpy Encryptor",
    )


def bench_encrypt_decrypt_1mib():
    return compare(
        "security: encrypt+decrypt 1 MiB",
        _roundtrip_cases(1024 * 1024),  # type: ignore[arg-type]
        inner=4,
        samples=30,
        note="target: within 1.1x of raw PyNaCl SecretBox",
    )


def bench_stream_1mib():
    data = os.urandom(1024 * 1024)

    def ours() -> None:
        cipher = b"".join(_OURS.encrypt_chunks([data]))
        assert len(b"".join(_OURS.decrypt_chunks([cipher]))) == len(data)

    def secretbox() -> None:
        assert len(_BOX.decrypt(_BOX.encrypt(data))) == len(data)

    return compare(
        "security: secretstream 64 KiB chunks, 1 MiB",
        {"pepperpy encrypt_chunks": ours, "PyNaCl SecretBox (one shot)": secretbox},
        inner=4,
        samples=30,
    )


_CLAIMS = {"sub": "user-42", "scopes": ["docs:read", "docs:write"], "aud": ["api"], "iss": "auth"}
_MAC = TokenManager(_RING, issuer="auth", audience="api")
_ED = TokenManager(_RING, key_type=KeyType.ED25519, issuer="auth", audience="api")
_HS_SECRET = os.urandom(32)
_ED_KEY = Ed25519PrivateKey.generate()
_ED_PUB = _ED_KEY.public_key()
_DANGER = itsdangerous.URLSafeTimedSerializer(os.urandom(32).hex(), salt="tokens")


def _jwt_claims() -> dict[str, object]:
    import time

    now = int(time.time())
    return {**_CLAIMS, "iat": now, "exp": now + 900, "jti": "abc"}


def bench_token_issue():
    def ours_mac() -> str:
        return _MAC.issue("user-42", scopes=["docs:read", "docs:write"])

    def ours_ed() -> str:
        return _ED.issue("user-42", scopes=["docs:read", "docs:write"])

    return compare(
        "security: token issue",
        {
            "pepperpy BLAKE2b": ours_mac,
            "pepperpy Ed25519": ours_ed,
            "PyJWT HS256": lambda: jwt.encode(_jwt_claims(), _HS_SECRET, algorithm="HS256"),
            "PyJWT EdDSA": lambda: jwt.encode(_jwt_claims(), _ED_KEY, algorithm="EdDSA"),
            "itsdangerous": lambda: _DANGER.dumps(_CLAIMS),
        },
        inner=300,
    )


def bench_token_verify():
    mac = _MAC.issue("user-42", scopes=["docs:read", "docs:write"])
    ed = _ED.issue("user-42", scopes=["docs:read", "docs:write"])
    hs = jwt.encode(_jwt_claims(), _HS_SECRET, algorithm="HS256")
    eddsa = jwt.encode(_jwt_claims(), _ED_KEY, algorithm="EdDSA")
    danger = _DANGER.dumps(_CLAIMS)
    return compare(
        "security: token verify",
        {
            "pepperpy BLAKE2b": lambda: _MAC.verify(mac),
            "pepperpy Ed25519": lambda: _ED.verify(ed),
            "PyJWT HS256": lambda: jwt.decode(
                hs, _HS_SECRET, algorithms=["HS256"], audience="api", issuer="auth"
            ),
            "PyJWT EdDSA": lambda: jwt.decode(
                eddsa, _ED_PUB, algorithms=["EdDSA"], audience="api", issuer="auth"
            ),
            "itsdangerous": lambda: _DANGER.loads(danger, max_age=900),
        },
        inner=300,
    )


def bench_password_hash_default():
    ours = PasswordHasher()  # HashProfile.INTERACTIVE: t=2, 64 MiB
    return compare(
        "security: Argon2id hash, default (interactive) limits",
        {
            "pepperpy PasswordHasher": lambda: ours.hash("correct horse battery staple"),
            "raw nacl argon2id.str": lambda: argon2id.str(
                b"correct horse battery staple",
                opslimit=argon2id.OPSLIMIT_INTERACTIVE,
                memlimit=argon2id.MEMLIMIT_INTERACTIVE,
            ),
        },
        inner=1,
        samples=8,
        note="reported time per hash; slow on purpose",
    )


def bench_password_hash_moderate():
    ours = PasswordHasher(HashProfile.MODERATE)
    return compare(
        "security: Argon2id hash, moderate limits",
        {"pepperpy PasswordHasher": lambda: ours.hash("correct horse battery staple")},
        inner=1,
        samples=3,
        note="reported time per hash",
    )
