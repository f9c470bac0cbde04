"""Tests for pepperpy.security._security: the Security facade."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pepperpy.core.types import ManualClock
from pepperpy.security import (
    AuthenticationError,
    AuthFailure,
    AuthorizationError,
    HashProfile,
    KeyRing,
    KeyType,
    PasswordHasher,
    Policy,
    Principal,
    RevocationList,
    Security,
    WeakPasswordError,
)

ANY_INPUT = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def security(clock: ManualClock) -> Security:
    return Security(
        keyring=KeyRing.generate(clock=clock),
        policy=Policy().role("editor", "doc:*"),
        issuer="auth",
        audience="api",
        password_hasher=PasswordHasher(HashProfile.MIN),
        clock=clock,
    )


async def _reason(security: Security, credential: object) -> AuthFailure:
    with pytest.raises(AuthenticationError) as info:
        await security.authenticate(credential)
    return info.value.reason


class TestAuthenticate:
    async def test_token(self, security: Security):
        token = security.issue_token("ann", roles=["editor"], scopes=["doc:read"], tenant="t1")
        user = await security.authenticate(token)
        assert isinstance(user, Principal)
        assert (user.id, user.kind, user.tenant) == ("ann", "user", "t1")
        assert security.authorize(user, "doc:read").allowed

    async def test_bearer_header_and_bytes(self, security: Security):
        token = security.issue_token("ann")
        assert (await security.authenticate(f"Bearer {token}")).id == "ann"
        assert (await security.authenticate(token.encode())).id == "ann"

    async def test_api_key(self, security: Security):
        key = await security.create_api_key("svc", roles=["editor"])
        principal = await security.authenticate(key)
        assert principal.kind == "api_key" and principal.roles == {"editor"}
        assert (await security.authenticate(f"Bearer {key}")).id == "svc"

    async def test_expired(self, security: Security, clock: ManualClock):
        token = security.issue_token("ann", ttl=10)
        await clock.advance(41)
        assert await _reason(security, token) is AuthFailure.EXPIRED

    async def test_retired_key_only_within_window(self, security: Security, clock: ManualClock):
        token = security.issue_token("ann", ttl=3600)
        security.keyring.rotate(grace=60)
        assert (await security.authenticate(token)).id == "ann"
        await clock.advance(60)
        assert await _reason(security, token) is AuthFailure.UNKNOWN_KEY

    async def test_revocation(self, clock: ManualClock):
        revoked = RevocationList(clock=clock)
        security = Security(keyring=KeyRing.generate(clock=clock), revocation=revoked, clock=clock)
        token = security.issue_token("ann")
        revoked.revoke(security.tokens.verify(token).jti)
        assert await _reason(security, token) is AuthFailure.REVOKED

    @ANY_INPUT
    @given(value=st.one_of(st.none(), st.integers(), st.text(), st.binary(), st.lists(st.text())))
    async def test_any_input_gives_authentication_error_only(self, security: Security, value):
        with pytest.raises(AuthenticationError):
            await security.authenticate(value)

    @ANY_INPUT
    @given(data=st.data())
    async def test_every_single_character_change_rejected(self, security: Security, data):
        token = security.issue_token("ann", roles=["editor"])
        index = data.draw(st.integers(0, len(token) - 1))
        char = data.draw(st.characters(codec="utf-8").filter(lambda c: c != token[index]))
        with pytest.raises(AuthenticationError):
            await security.authenticate(token[:index] + char + token[index + 1 :])

    @pytest.mark.parametrize("value", ["", "Bearer ", "x" * 20_000, "pp1.ké.a.b", "\x00", "é"])
    async def test_empty_oversized_non_ascii(self, security: Security, value: str):
        assert await _reason(security, value) is AuthFailure.MALFORMED


class TestDefaults:
    async def test_no_arguments_works(self, monkeypatch: pytest.MonkeyPatch):
        monkeypatch.delenv("PEPPERPY_KEYRING", raising=False)
        security = Security()
        token = security.issue_token("ann")
        assert (await security.authenticate(token)).id == "ann"
        assert security.decrypt(security.encrypt(b"x")) == b"x"
        assert "Security(" in repr(security)

    async def test_keyring_from_environment(self, monkeypatch: pytest.MonkeyPatch):
        ring = KeyRing.generate()
        monkeypatch.setenv("PEPPERPY_KEYRING", ring.to_json(include_secrets=True))
        token = Security().issue_token("ann")
        assert token.split(".")[1] == ring.active().kid
        assert (await Security(keyring=ring).authenticate(token)).id == "ann"

    async def test_ed25519_tokens(self, clock: ManualClock):
        security = Security(token_key_type=KeyType.ED25519, clock=clock)
        token = security.issue_token("ann")
        assert len(token.split(".")[3]) == 86  # 64-byte signature
        assert (await security.authenticate(token)).id == "ann"


class TestPasswordsAndAuthz:
    async def test_hash_password_applies_policy(self, security: Security):
        with pytest.raises(WeakPasswordError):
            await security.hash_password("short")
        hashed = await security.hash_password("a long enough passphrase")
        assert (await security.verify_password(hashed, "a long enough passphrase")).ok
        assert not (await security.verify_password(hashed, "wrong passphrase here"))

    def test_check(self, security: Security):
        with pytest.raises(AuthorizationError):
            security.check(Principal("bob"), "doc:read")
        assert security.check(Principal("ann", roles={"editor"}), "doc:read").allowed
