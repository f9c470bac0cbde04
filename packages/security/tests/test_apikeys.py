"""Tests for pepperpy.security._apikeys: create, verify, revoke, rotate, tamper."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.core.types import ManualClock
from pepperpy.security import APIKeys, AuthenticationError, AuthFailure, InMemoryAPIKeyStore


@pytest.fixture
def keys(clock: ManualClock) -> APIKeys:
    return APIKeys(InMemoryAPIKeyStore(), prefix="pk", clock=clock)


async def _reason(keys: APIKeys, value: object) -> AuthFailure:
    with pytest.raises(AuthenticationError) as info:
        await keys.verify(value)
    return info.value.reason


class TestAPIKeys:
    async def test_create_and_authenticate(self, keys: APIKeys):
        plaintext, record = await keys.create(
            "svc", name="ci", roles=["deployer"], scopes=["deploy"]
        )
        assert plaintext.startswith(f"pk_{record.key_id}_")
        assert plaintext not in repr(record) and record.digest not in repr(record)
        principal = await keys.authenticate(plaintext)
        assert principal.id == "svc" and principal.kind == "api_key"
        assert principal.roles == {"deployer"} and principal.credential_id == record.key_id

    async def test_only_a_digest_is_stored(self, keys: APIKeys):
        plaintext, record = await keys.create("svc")
        stored = await keys.store.get(record.key_id)
        assert stored is not None
        assert plaintext.split("_", 2)[2] not in repr(stored)
        assert plaintext.split("_", 2)[2] not in stored.digest

    async def test_revoked_and_expired(self, keys: APIKeys, clock: ManualClock):
        plaintext, _record = await keys.create("svc", ttl=60)
        clock.advance_sync(60)
        assert await _reason(keys, plaintext) is AuthFailure.EXPIRED
        other, record2 = await keys.create("svc")
        assert await keys.revoke(record2.key_id)
        assert not await keys.revoke("nope")
        assert await _reason(keys, other) is AuthFailure.REVOKED

    async def test_rotate_keeps_grants_and_expires_old(self, keys: APIKeys, clock: ManualClock):
        old, record = await keys.create("svc", roles=["r"])
        new, new_record = await keys.rotate(record.key_id, grace=30)
        assert new_record.roles == ("r",)
        assert (await keys.authenticate(old)).id == "svc"
        clock.advance_sync(30)
        assert await _reason(keys, old) is AuthFailure.EXPIRED
        assert (await keys.authenticate(new)).id == "svc"
        with pytest.raises(InvalidArgumentError):
            await keys.rotate("missing")

    @settings(
        max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(data=st.data())
    async def test_every_single_character_change_rejected(self, keys: APIKeys, data):
        plaintext, _ = await keys.create("svc")
        index = data.draw(st.integers(0, len(plaintext) - 1))
        char = data.draw(st.characters().filter(lambda c: c != plaintext[index]))
        with pytest.raises(AuthenticationError):
            await keys.verify(plaintext[:index] + char + plaintext[index + 1 :])

    @pytest.mark.parametrize(
        "value", [None, "", "pk_", "pk_x_y", "x" * 1000, b"pk", "pk_" + "a" * 20 + "_" + "b" * 43]
    )
    async def test_junk(self, keys: APIKeys, value: object):
        assert await _reason(keys, value) in {AuthFailure.MALFORMED, AuthFailure.BAD_SIGNATURE}

    async def test_trailing_newline_is_malformed(self, keys: APIKeys):
        plaintext, _ = await keys.create("svc")
        assert await _reason(keys, plaintext + "\n") is AuthFailure.MALFORMED

    def test_prefix_validated(self):
        with pytest.raises(InvalidArgumentError, match="prefix"):
            APIKeys(prefix="Bad_")
