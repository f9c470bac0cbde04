"""Tests for pepperpy.security._errors."""

from __future__ import annotations

import pickle

import pytest

from pepperpy.core.exceptions import ErrorDetail, SecurityError, ValidationError
from pepperpy.security import (
    AuthenticationError,
    AuthFailure,
    DecryptionError,
    KeyNotFoundError,
    WeakPasswordError,
)


@pytest.mark.parametrize("reason", list(AuthFailure))
def test_authentication_error_is_derived_from_reason_only(reason: AuthFailure):
    error = AuthenticationError(reason)
    assert isinstance(error, SecurityError)
    assert error.code == f"pepperpy.security.authentication.{reason.value}"
    assert error.context == {"reason": reason.value}
    assert error.hint
    again = pickle.loads(pickle.dumps(error))
    assert again.reason is reason and str(again) == str(error)


def test_two_forgeries_give_identical_errors():
    assert str(AuthenticationError(AuthFailure.BAD_SIGNATURE)) == str(
        AuthenticationError(AuthFailure.BAD_SIGNATURE)
    )


def test_other_errors():
    assert isinstance(DecryptionError(kid="k1"), SecurityError)
    assert DecryptionError(kid="k1").context == {"kid": "k1"}
    missing = KeyNotFoundError("k9")
    assert isinstance(missing, LookupError) and "k9" in str(missing)
    weak = WeakPasswordError([ErrorDetail("/password", "too short", code="too_short")])
    assert isinstance(weak, ValidationError) and weak.paths == ["/password"]
