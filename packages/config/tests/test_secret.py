"""Tests for pepperpy.config._secret."""

from __future__ import annotations

import logging
import pickle

import attrs
import pytest

from pepperpy import serialization
from pepperpy.config import MASK, Secret


@attrs.define
class Creds:
    user: str
    token: Secret[str]
    pin: Secret[int]


def test_never_displayed() -> None:
    """repr, str, format and f-strings show the mask only."""
    secret = Secret("hunter2")
    for text in (repr(secret), str(secret), f"{secret}", f"{secret:>12}", repr([secret])):
        assert "hunter2" not in text
    assert str(secret) == MASK
    assert secret.reveal() == "hunter2"
    assert secret.get_secret_value() == "hunter2"


def test_not_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    """Logging a secret (or an object holding one) logs the mask."""
    creds = Creds("ada", Secret("t0k3n"), Secret(1234))
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("creds=%s token=%s", creds, creds.token)
    assert "t0k3n" not in caplog.text
    assert "1234" not in caplog.text


def test_equality_hash_immutability_pickle() -> None:
    """Secrets compare by value, hash, are immutable and pickle."""
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert Secret(b"x") == Secret(b"x")
    assert Secret(1) == Secret(1)
    assert Secret("a") != "a"
    assert len({Secret("a"), Secret("a")}) == 1
    assert Secret(Secret("x")).reveal() == "x"
    assert bool(Secret("")) is False
    assert len(Secret("abc")) == 3
    with pytest.raises(AttributeError):
        Secret("a").x = 1  # type: ignore[attr-defined]
    assert pickle.loads(pickle.dumps(Secret("p"))) == Secret("p")


def test_serialization_masks_and_structures() -> None:
    """Structuring wraps the typed value; unstructuring writes the mask; errors hide it."""
    creds = serialization.structure({"user": "ada", "token": "t0k3n", "pin": 1234}, Creds)
    assert creds.token.reveal() == "t0k3n"
    assert creds.pin.reveal() == 1234
    dumped = serialization.dumps(creds)
    assert b"t0k3n" not in dumped
    assert MASK.encode() in dumped
    with pytest.raises(serialization.StructureError) as info:
        serialization.structure({"user": "ada", "token": "t", "pin": "not-a-pin"}, Creds)
    assert "not-a-pin" not in str(info.value)
    assert info.value.paths == ["/pin"]
