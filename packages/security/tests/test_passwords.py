"""Tests for pepperpy.security._passwords: Argon2id hashing, rehash, policy, breached lists."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pepperpy.core.exceptions import ConfigurationError, InvalidArgumentError, ValidationError
from pepperpy.security import (
    BreachedPasswords,
    HashProfile,
    PasswordHasher,
    PasswordPolicy,
    WeakPasswordError,
)

FAST = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


class TestHasher:
    @FAST
    @given(password=st.text(max_size=64))
    def test_hash_verifies_only_the_right_password(self, fast_hasher: PasswordHasher, password):
        hashed = fast_hasher.hash(password)
        assert hashed.startswith("$argon2id$")
        check = fast_hasher.verify(hashed, password)
        assert check.ok and bool(check) and not check.needs_rehash
        assert not fast_hasher.verify(hashed, password + "x")

    def test_salted(self, fast_hasher: PasswordHasher):
        assert fast_hasher.hash("pw") != fast_hasher.hash("pw")

    def test_unicode_normalised(self, fast_hasher: PasswordHasher):
        hashed = fast_hasher.hash("caf\u00e9")
        assert fast_hasher.verify(hashed, "cafe\u0301").ok

    def test_needs_rehash_when_limits_change(self, fast_hasher: PasswordHasher):
        old = fast_hasher.hash("pw")
        stronger = PasswordHasher(HashProfile.MIN, opslimit=2)
        check = stronger.verify(old, "pw")
        assert check.ok and check.needs_rehash
        assert not stronger.verify(old, "nope").needs_rehash
        assert not stronger.needs_rehash(stronger.hash("pw"))

    def test_default_profile_is_interactive(self):
        hasher = PasswordHasher()
        assert (hasher.opslimit, hasher.memlimit) == HashProfile.INTERACTIVE.value
        assert hasher.memlimit >= 19 * 1024 * 1024  # OWASP minimum

    def test_argon2i_hash_verifies_and_needs_rehash(self, fast_hasher: PasswordHasher):
        import nacl.pwhash.argon2i as argon2i

        legacy = argon2i.str(b"pw", opslimit=3, memlimit=8192).decode()
        check = fast_hasher.verify(legacy, "pw")
        assert check.ok and check.needs_rehash

    @pytest.mark.parametrize(
        "stored", ["", "plain", "$2b$12$abcdefghijklmnopqrstuv", "$argon2id$v=19$m=8,t=1,p=1$AAAA"]
    )
    def test_broken_stored_hash(self, fast_hasher: PasswordHasher, stored: str):
        with pytest.raises(InvalidArgumentError, match="hash") as info:
            fast_hasher.verify(stored, "pw")
        assert "pw" not in str(info.value).replace("password", "")

    def test_limits(self, fast_hasher: PasswordHasher):
        with pytest.raises(InvalidArgumentError, match="longer"):
            fast_hasher.hash("x" * 5000)
        assert not fast_hasher.verify(fast_hasher.hash("a"), "x" * 5000)
        with pytest.raises(InvalidArgumentError, match="out of range"):
            PasswordHasher(memlimit=1)
        with pytest.raises(InvalidArgumentError, match="str or bytes"):
            fast_hasher.hash(123)  # type: ignore[arg-type]

    def test_dummy_verify_always_fails(self, fast_hasher: PasswordHasher):
        assert not fast_hasher.dummy_verify("pepperpy-dummy-password")

    async def test_async_versions(self, fast_hasher: PasswordHasher):
        hashed = await fast_hasher.ahash("pw")
        assert (await fast_hasher.averify(hashed, "pw")).ok
        assert not (await fast_hasher.adummy_verify("pw")).ok

    def test_repr_has_no_secret(self, fast_hasher: PasswordHasher):
        assert "opslimit" in repr(fast_hasher)


class TestPolicy:
    def test_good_password(self):
        PasswordPolicy().validate("correct horse battery staple")

    def test_every_problem_is_reported(self):
        policy = PasswordPolicy(min_length=12, min_classes=3, breached=BreachedPasswords(["aaaa"]))
        with pytest.raises(WeakPasswordError) as info:
            policy.validate("aaaa")
        error = info.value
        assert isinstance(error, ValidationError)
        assert [d.code for d in error.errors] == [
            "too_short",
            "too_simple",
            "too_repetitive",
            "breached",
        ]
        assert "aaaa" not in str(error) and "aaaa" not in repr(error.to_dict())

    def test_user_inputs(self):
        problems = PasswordPolicy().check("ann.smith-rules-2026", user_inputs=["Ann.Smith"])
        assert [p.code for p in problems] == ["contains_user_input"]

    def test_too_long(self):
        assert [p.code for p in PasswordPolicy(max_length=20).check("abcdefghij" * 3)] == [
            "too_long"
        ]

    def test_breached_list_from_file(self, tmp_path: Path):
        path = tmp_path / "top.txt"
        path.write_text("Password123456\n\nletmein-letmein\n", encoding="utf-8")
        breached = BreachedPasswords.from_file(path)
        assert len(breached) == 2
        assert "password123456" in breached  # case-insensitive
        assert "Password123456" not in repr(breached)
        assert [p.code for p in PasswordPolicy(breached=breached).check("PASSWORD123456")] == [
            "breached"
        ]

    async def test_async_breached_hook(self):
        async def hook(password: str) -> bool:
            await asyncio.sleep(0)
            return password.startswith("leaked")

        policy = PasswordPolicy(breached=hook)
        assert await policy.acheck("a fine long passphrase") == []
        with pytest.raises(WeakPasswordError):
            await policy.avalidate("leaked passphrase here")
        with pytest.raises(ConfigurationError, match="acheck"):
            policy.check("a fine long passphrase")
