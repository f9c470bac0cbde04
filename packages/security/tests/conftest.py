from __future__ import annotations

import pytest

from pepperpy.core.types import ManualClock
from pepperpy.security import HashProfile, KeyRing, PasswordHasher, TokenManager


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def keyring(clock: ManualClock) -> KeyRing:
    return KeyRing.generate(clock=clock)


@pytest.fixture
def tokens(keyring: KeyRing, clock: ManualClock) -> TokenManager:
    return TokenManager(keyring, issuer="auth", audience="api", ttl=600, leeway=30, clock=clock)


@pytest.fixture
def fast_hasher() -> PasswordHasher:
    """Argon2id at libsodium's MIN limits: only for tests."""
    return PasswordHasher(HashProfile.MIN)
