"""Tests for pepperpy.security._tokens: issue, verify, tamper, expiry, rotation, revocation."""

from __future__ import annotations

import asyncio
import base64
import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pepperpy.core.exceptions import ConfigurationError, InvalidArgumentError, SecurityError
from pepperpy.core.types import ManualClock
from pepperpy.security import (
    AuthenticationError,
    AuthFailure,
    Claims,
    KeyRing,
    KeyType,
    RevocationList,
    TokenManager,
)

FIXED = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _reason(manager: TokenManager, token: object) -> AuthFailure:
    with pytest.raises(AuthenticationError) as info:
        manager.verify(token)
    return info.value.reason


class TestIssueVerify:
    def test_roundtrip_carries_every_claim(self, tokens: TokenManager, clock: ManualClock):
        token = tokens.issue(
            "ann", scopes=["docs:read"], roles=["editor"], tenant="t1", claims={"plan": "pro"}
        )
        claims = tokens.verify(token)
        assert claims.sub == "ann"
        assert claims.scopes == ("docs:read",)
        assert claims.roles == ("editor",)
        assert claims.tenant == "t1"
        assert claims.aud == ("api",)
        assert claims.iss == "auth"
        assert claims.iat == int(clock.time())
        assert claims.exp == int(clock.time()) + 600
        assert claims.extra == {"plan": "pro"}
        assert len(claims.jti) >= 20

    def test_every_token_has_a_unique_id(self, tokens: TokenManager):
        ids = {tokens.verify(tokens.issue("ann")).jti for _ in range(50)}
        assert len(ids) == 50

    def test_principal_from_claims(self, tokens: TokenManager):
        claims = tokens.verify(tokens.issue("ann", roles=["a"], scopes=["s"], tenant="t"))
        principal = claims.to_principal()
        assert (principal.id, principal.roles, principal.scopes, principal.tenant) == (
            "ann",
            frozenset({"a"}),
            frozenset({"s"}),
            "t",
        )
        assert principal.credential_id == claims.jti

    def test_payload_is_canonical_json(self, tokens: TokenManager):
        token = tokens.issue("ann", claims={"b": 1, "a": 2})
        payload = token.split(".")[2]
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        assert raw == json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()

    def test_reserved_claims_cannot_be_overridden(self, tokens: TokenManager):
        with pytest.raises(InvalidArgumentError, match="Reserved"):
            tokens.issue("ann", claims={"exp": 9999999999})

    def test_non_json_claims_rejected(self, tokens: TokenManager):
        with pytest.raises(InvalidArgumentError, match="JSON"):
            tokens.issue("ann", claims={"x": object()})

    def test_empty_subject_rejected(self, tokens: TokenManager):
        with pytest.raises(InvalidArgumentError):
            tokens.issue("")

    def test_ed25519_tokens_verify_with_public_ring_only(self, clock: ManualClock):
        ring = KeyRing.generate(KeyType.ED25519, clock=clock)
        issuer = TokenManager(ring, key_type=KeyType.ED25519, clock=clock)
        token = issuer.issue("svc")
        verifier = TokenManager(ring.public(), key_type=KeyType.ED25519, clock=clock)
        assert verifier.verify(token).sub == "svc"
        with pytest.raises(ConfigurationError):
            verifier.issue("svc")  # a public-only ring cannot sign

    def test_ed25519_signature_from_another_key_refused(self, clock: ManualClock):
        ring = KeyRing.generate(KeyType.ED25519, clock=clock)
        other = KeyRing([], clock=clock)
        other.create(KeyType.ED25519, kid=ring.active(KeyType.ED25519).kid)
        forged = TokenManager(other, key_type=KeyType.ED25519, clock=clock).issue("root")
        verifier = TokenManager(ring, key_type=KeyType.ED25519, clock=clock)
        assert _reason(verifier, forged) is AuthFailure.BAD_SIGNATURE

    def test_mac_from_another_key_with_same_kid_refused(self, clock: ManualClock):
        ring = KeyRing.generate(clock=clock)
        attacker = KeyRing(clock=clock)
        attacker.create(kid=ring.active().kid)
        forged = TokenManager(attacker, clock=clock).issue("root")
        assert _reason(TokenManager(ring, clock=clock), forged) is AuthFailure.BAD_SIGNATURE


class TestExpiry:
    def test_expired_token_refused_even_with_valid_signature(
        self, tokens: TokenManager, clock: ManualClock
    ):
        token = tokens.issue("ann", ttl=60)
        clock.advance_sync(60 + 29)
        assert tokens.verify(token).sub == "ann"  # inside the 30 s leeway
        clock.advance_sync(1)
        assert _reason(tokens, token) is AuthFailure.EXPIRED

    def test_token_from_the_future_refused_beyond_leeway(self, keyring: KeyRing):
        future = ManualClock(start=2_000_000_000.0)
        token = TokenManager(keyring, clock=future).issue("ann")
        now = TokenManager(keyring, clock=ManualClock(start=2_000_000_000.0 - 31))
        assert _reason(now, token) is AuthFailure.NOT_YET_VALID
        skew = TokenManager(keyring, clock=ManualClock(start=2_000_000_000.0 - 29))
        assert skew.verify(token).sub == "ann"


class TestClaimsChecks:
    def test_wrong_audience(self, tokens: TokenManager):
        token = tokens.issue("ann", audience="billing")
        assert _reason(tokens, token) is AuthFailure.INVALID_CLAIMS
        assert tokens.verify(token, audience="billing").sub == "ann"

    def test_audience_required_when_token_has_one(self, keyring: KeyRing, clock: ManualClock):
        token = TokenManager(keyring, audience="api", clock=clock).issue("ann")
        assert _reason(TokenManager(keyring, clock=clock), token) is AuthFailure.INVALID_CLAIMS

    def test_wrong_issuer(self, keyring: KeyRing, clock: ManualClock):
        token = TokenManager(keyring, issuer="evil", clock=clock).issue("ann")
        good = TokenManager(keyring, issuer="auth", clock=clock)
        assert _reason(good, token) is AuthFailure.INVALID_CLAIMS

    def test_claims_from_dict_is_strict(self):
        good = {"sub": "a", "iat": 1, "exp": 2, "jti": "j"}
        assert Claims.from_dict(good).sub == "a"
        for bad in (
            [],
            {"sub": "a"},
            {**good, "iat": "1"},
            {**good, "exp": 1.5},
            {**good, "exp": True},
            {**good, "scopes": [1]},
            {**good, "iss": 3},
        ):
            with pytest.raises(AuthenticationError) as info:
                Claims.from_dict(bad)
            assert info.value.reason is AuthFailure.MALFORMED


class TestRotation:
    def test_retired_key_verifies_only_within_grace(
        self, tokens: TokenManager, keyring: KeyRing, clock: ManualClock
    ):
        old = tokens.issue("ann", ttl=10_000)
        keyring.rotate(grace=300)
        assert tokens.verify(old).sub == "ann"
        new = tokens.issue("ann", ttl=10_000)
        assert new.split(".")[1] != old.split(".")[1]
        clock.advance_sync(299)
        assert tokens.verify(old).sub == "ann"
        clock.advance_sync(1)
        assert _reason(tokens, old) is AuthFailure.UNKNOWN_KEY
        assert tokens.verify(new).sub == "ann"

    def test_removed_key_is_unknown(self, tokens: TokenManager, keyring: KeyRing):
        old = tokens.issue("ann")
        previous = keyring.active().kid
        keyring.rotate()
        keyring.remove(previous)
        assert _reason(tokens, old) is AuthFailure.UNKNOWN_KEY

    async def test_verify_and_rotate_resigns_with_same_claims(
        self, tokens: TokenManager, keyring: KeyRing
    ):
        old = tokens.issue("ann", ttl=600)
        current = await tokens.verify_and_rotate(old)
        assert current.rotated is None
        keyring.rotate(grace=60)
        result = await tokens.verify_and_rotate(old)
        assert result.rotated is not None
        assert result.kid != keyring.active().kid
        again = tokens.verify(result.rotated)
        assert again == result.claims  # same jti, same exp: rotation never extends life


class TestRevocation:
    def test_revoked_token_refused(self, keyring: KeyRing, clock: ManualClock):
        revoked = RevocationList(clock=clock)
        manager = TokenManager(keyring, revocation=revoked, clock=clock)
        token = manager.issue("ann")
        claims = manager.verify(token)
        revoked.revoke(claims)
        assert _reason(manager, token) is AuthFailure.REVOKED
        assert len(revoked) == 1
        clock.advance_sync(10_000)
        assert revoked.purge() == 1

    async def test_async_revocation_hook(self, keyring: KeyRing, clock: ManualClock):
        async def hook(claims: Claims) -> bool:
            await asyncio.sleep(0)
            return claims.sub == "mallory"

        manager = TokenManager(keyring, revocation=hook, clock=clock)
        assert (await manager.averify(manager.issue("ann"))).sub == "ann"
        with pytest.raises(AuthenticationError) as info:
            await manager.averify(manager.issue("mallory"))
        assert info.value.reason is AuthFailure.REVOKED
        with pytest.raises(ConfigurationError, match="averify"):
            manager.verify(manager.issue("ann"))


class TestBadInputAndAttacks:
    @FIXED
    @given(data=st.data())
    def test_every_single_byte_change_is_rejected(self, tokens: TokenManager, data):
        token = tokens.issue("ann", scopes=["a", "b"], roles=["r"])
        index = data.draw(st.integers(0, len(token) - 1))
        replacement = data.draw(st.characters(codec="utf-8").filter(lambda c: c != token[index]))
        tampered = token[:index] + replacement + token[index + 1 :]
        with pytest.raises(AuthenticationError):
            tokens.verify(tampered)

    def test_every_position_with_every_base64_character_is_rejected(self, tokens: TokenManager):
        """Exhaustive over the token alphabet: catches non-canonical base64 spellings."""
        token = tokens.issue("ann")
        alphabet = string.ascii_letters + string.digits + "-_."
        for index in range(len(token)):
            for char in alphabet:
                if char == token[index]:
                    continue
                with pytest.raises(AuthenticationError):
                    tokens.verify(token[:index] + char + token[index + 1 :])

    @FIXED
    @given(cut=st.integers(0, 400))
    def test_truncated_tokens_rejected(self, tokens: TokenManager, cut: int):
        token = tokens.issue("ann")
        with pytest.raises(AuthenticationError):
            tokens.verify(token[: min(cut, len(token) - 1)])

    @FIXED
    @given(junk=st.one_of(st.text(max_size=300), st.binary(max_size=300)))
    def test_arbitrary_input_gives_authentication_error_only(self, tokens: TokenManager, junk):
        with pytest.raises(AuthenticationError):
            tokens.verify(junk)

    @FIXED
    @given(suffix=st.text(min_size=1, max_size=50))
    def test_appended_data_rejected(self, tokens: TokenManager, suffix: str):
        with pytest.raises(AuthenticationError):
            tokens.verify(tokens.issue("ann") + suffix)

    @pytest.mark.parametrize(
        "value",
        [
            None,
            "",
            " ",
            42,
            3.5,
            [],
            {},
            object(),
            "pp1",
            "pp1...",
            "pp1.k.a.b.c",
            "é" * 10,
            "pp1.kid.payload.sig\x00",
            b"\xff\xfe",
            bytearray(b"pp1.a.b.c"),
            "x" * 100_000,
        ],
    )
    def test_odd_inputs_are_malformed(self, tokens: TokenManager, value: object):
        assert _reason(tokens, value) is AuthFailure.MALFORMED

    @pytest.mark.parametrize("suffix", ["\n", "\r\n", " ", "\t", "=", "=="])
    def test_trailing_whitespace_or_padding_rejected(self, tokens: TokenManager, suffix: str):
        token = tokens.issue("ann")
        assert _reason(tokens, token + suffix) is AuthFailure.MALFORMED
        kid = token.split(".")[1]
        assert _reason(tokens, token.replace(kid, kid + suffix, 1)) is AuthFailure.MALFORMED

    def test_oversized_token_rejected_before_work(self, tokens: TokenManager, keyring, clock):
        big = TokenManager(keyring, issuer="auth", audience="api", max_length=65536, clock=clock)
        token = big.issue("ann", claims={"blob": "x" * 9000})
        assert big.verify(token).sub == "ann"
        assert _reason(tokens, token) is AuthFailure.MALFORMED

    def test_issue_refuses_a_token_its_verifier_would_refuse(self, tokens: TokenManager):
        """issue 17 (hostile inputs): an issued token must pass its own verifier."""
        with pytest.raises(InvalidArgumentError, match="max_length"):
            tokens.issue("ann", claims={"blob": "x" * 9000})

    def test_signed_but_non_json_payload_is_malformed(self, keyring: KeyRing, clock: ManualClock):
        from pepperpy.security._tokens import _b64e, _tag

        key = keyring.active()
        payload = _b64e(b"not json")
        signing_input = f"pp1.{key.kid}.{payload}".encode()
        token = f"{signing_input.decode()}.{_b64e(_tag(key, signing_input))}"
        assert _reason(TokenManager(keyring, clock=clock), token) is AuthFailure.MALFORMED

    def test_error_reveals_only_the_code(self, tokens: TokenManager):
        token = tokens.issue("ann")
        tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
        with pytest.raises(AuthenticationError) as info:
            tokens.verify(tampered)
        error = info.value
        assert isinstance(error, SecurityError)
        text = f"{error} {error!r} {error.to_dict()}"
        assert token.split(".")[3][:10] not in text
        assert tampered.split(".")[2][:10] not in text
        assert error.context == {"reason": error.reason.value}

    def test_repr_has_no_secrets(self, tokens: TokenManager, keyring: KeyRing):
        material = keyring.active()._material
        assert material is not None
        encoded = base64.urlsafe_b64encode(material).decode().rstrip("=")
        for text in (repr(tokens), str(keyring), repr(keyring.active())):
            assert encoded not in text
            assert material.hex() not in text
