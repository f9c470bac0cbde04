"""Across the public API: no secret appears in any repr, str or error."""

from __future__ import annotations

import base64

import attrs
import pytest

from pepperpy.core.exceptions import PepperPyError
from pepperpy.core.types import ManualClock
from pepperpy.security import (
    BoxKeyPair,
    Encryptor,
    FieldEncryptor,
    HashProfile,
    KeyRing,
    KeyType,
    PasswordHasher,
    Security,
    encrypted,
)

PASSWORD = "Tr0ub4dor&3-horse-staple"
PLAINTEXT = b"PLAINTEXT-NEVER-SHOWN"


@attrs.frozen
class Card:
    holder: str
    number: str = encrypted()


def _forms(secret: bytes) -> list[str]:
    return [
        secret.hex(),
        base64.urlsafe_b64encode(secret).decode().rstrip("="),
        base64.b64encode(secret).decode().rstrip("="),
    ]


async def test_no_secret_in_any_repr_str_or_error():
    clock = ManualClock()
    ring = KeyRing.generate(KeyType.SYMMETRIC, KeyType.ED25519, clock=clock)
    security = Security(keyring=ring, password_hasher=PasswordHasher(HashProfile.MIN), clock=clock)
    token = security.issue_token("ann", roles=["r"])
    api_key = await security.create_api_key("svc")
    hashed = await security.hash_password(PASSWORD)
    pair = BoxKeyPair.generate()
    envelope = security.encrypt(PLAINTEXT)
    card = Card("ann", "4111111111111111")
    stored = security.fields.encrypt_fields(card)
    principal = await security.authenticate(token)
    api_principal = await security.authenticate(api_key)
    record = await security.api_keys.verify(api_key)

    secrets: list[str] = [
        token.split(".")[3],
        api_key.split("_", 2)[2],
        PASSWORD,
        "4111111111111111",
    ]
    secrets += [PLAINTEXT.decode()]
    for key in ring:
        assert key._material is not None
        secrets += _forms(key._material)
    secrets += _forms(pair.private_bytes())
    secrets += [record.digest]

    errors: list[BaseException] = []
    for attempt in (
        lambda: security.tokens.verify(token[:-3] + "abc"),
        lambda: security.decrypt(envelope[:-1] + bytes([envelope[-1] ^ 1])),
        lambda: security.passwords.verify("broken", PASSWORD),
        lambda: security.password_policy.validate(PASSWORD[:5]),
        lambda: security.check(principal, "nothing"),
        lambda: ring.from_json(ring.seal(PASSWORD, opslimit=1, memlimit=8192), password="x"),
        lambda: security.fields.decrypt_fields(Card("ann", stored.number[:-4] + "AAAA")),
    ):
        with pytest.raises(PepperPyError) as info:
            attempt()
        errors.append(info.value)
    with pytest.raises(PepperPyError) as failed:
        await security.authenticate(api_key[:-1] + ("A" if api_key[-1] != "A" else "B"))
    errors.append(failed.value)

    objects: list[object] = [
        security,
        ring,
        *ring,
        ring.public(),
        security.tokens,
        security.api_keys,
        security.api_keys.store,
        record,
        security.passwords,
        security.password_policy,
        security.encryptor,
        security.fields,
        security.encryptor.stream_encrypter(),
        security.encryptor.stream_decrypter(),
        security.policy,
        pair,
        principal,
        api_principal,
        card,
        stored,
        Encryptor(ring),
        FieldEncryptor(Encryptor(ring)),
        *errors,
    ]
    texts = [repr(o) for o in objects] + [str(o) for o in objects]
    texts += [str(e.to_dict()) for e in errors if isinstance(e, PepperPyError)]
    texts += [ring.to_json(), ring.public().to_json(include_secrets=True)]
    for text in texts:
        for secret in secrets:
            assert secret not in text, (secret, text)
    assert hashed not in " ".join(texts)
