"""issue 24: every code pepperpy-security raises is in ``pepperpy.security.ERRORS``.

A program that catches a security error looks its code up in the catalogue to
learn what it means and what to do; the entry names a class the error is an
instance of.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pepperpy.core.exceptions import (
    ConfigurationError,
    ExternalError,
    NotFoundError,
    PepperPyError,
)
from pepperpy.core.types import ManualClock
from pepperpy.security import (
    ERRORS,
    AuthenticationError,
    AuthFailure,
    BreachedPasswords,
    Encryptor,
    KeyRing,
    TokenManager,
)


def _assert_catalogued(error: PepperPyError) -> None:
    entry = ERRORS[error.code]
    assert entry.code == error.code
    assert isinstance(error, entry.error)
    assert entry.meaning.strip()
    assert entry.action.strip()


def test_refused_tokens_carry_their_reason_in_a_catalogued_code() -> None:
    clock = ManualClock()
    tokens = TokenManager(KeyRing.generate(clock=clock), ttl=60, clock=clock)
    token = tokens.issue("ann")
    clock.advance_sync(3600)
    with pytest.raises(AuthenticationError) as expired:
        tokens.verify(token)
    with pytest.raises(AuthenticationError) as malformed:
        tokens.verify("not a token")
    assert expired.value.code == "pepperpy.security.authentication.expired"
    assert malformed.value.code == "pepperpy.security.authentication.malformed"
    _assert_catalogued(expired.value)
    _assert_catalogued(malformed.value)


@pytest.mark.parametrize("reason", list(AuthFailure))
def test_every_authentication_reason_has_its_own_catalogued_code(reason: AuthFailure) -> None:
    # The code a caller matches on is the reason's value under the class's code,
    # as it was before the catalogue (issue 24 must not change what users see).
    error = AuthenticationError(reason)
    assert error.code == f"pepperpy.security.authentication.{reason.value}"
    assert error.reason is reason
    _assert_catalogued(error)


def test_a_missing_file_and_an_unreadable_one_are_told_apart(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError) as missing:
        BreachedPasswords.from_file(tmp_path / "absent.txt")
    with pytest.raises(ExternalError) as unreadable:
        BreachedPasswords.from_file(tmp_path)  # a directory
    assert missing.value.code == "pepperpy.security.file.not_found"
    assert unreadable.value.code == "pepperpy.security.file.read"
    _assert_catalogued(missing.value)
    _assert_catalogued(unreadable.value)


async def test_writing_into_a_missing_directory_is_a_catalogued_not_found(
    tmp_path: Path,
) -> None:
    source = tmp_path / "plain.bin"
    source.write_bytes(b"secret")
    with pytest.raises(NotFoundError) as info:
        await Encryptor(KeyRing.generate()).encrypt_file(source, tmp_path / "no" / "out.bin")
    assert info.value.code == "pepperpy.security.file.not_found"
    _assert_catalogued(info.value)


def test_malformed_key_ring_data_is_a_catalogued_configuration_error() -> None:
    with pytest.raises(ConfigurationError) as info:
        KeyRing.from_json("{not json")
    assert info.value.code == "pepperpy.security.keyring.format"
    _assert_catalogued(info.value)
