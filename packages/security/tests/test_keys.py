"""Tests for pepperpy.security._keys: keys, rotation windows, loading and safe export."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from pepperpy.core.exceptions import ConfigurationError, InvalidArgumentError
from pepperpy.core.types import ManualClock
from pepperpy.security import (
    DecryptionError,
    Key,
    KeyNotFoundError,
    KeyRing,
    KeyType,
)


class _Secret:
    """Stands in for pepperpy-config's Secret."""

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"


def _secret_texts(ring: KeyRing) -> list[str]:
    out = []
    for key in ring:
        if key._material is not None:
            out += [
                key._material.hex(),
                base64.urlsafe_b64encode(key._material).decode().rstrip("="),
            ]
    return out


class TestKey:
    def test_generate_has_unique_kids_and_material(self):
        a, b = Key.generate(), Key.generate()
        assert a.kid != b.kid and a != b
        assert a.has_secret and not a.retired

    def test_from_bytes_and_base64(self):
        raw = os.urandom(32)
        text = base64.urlsafe_b64encode(raw).decode()
        assert Key.from_bytes(raw, kid="k1") == Key.from_bytes(text, kid="k1")
        assert Key.from_bytes(_Secret(text), kid="k1") == Key.from_bytes(raw, kid="k1")

    @pytest.mark.parametrize("kid", ["", "a b", "x" * 65, "é", "a.b", "abc\n"])
    def test_bad_kid(self, kid: str):
        with pytest.raises(InvalidArgumentError, match="key id"):
            Key.from_bytes(os.urandom(32), kid=kid)

    def test_wrong_length(self):
        with pytest.raises(InvalidArgumentError, match="32 bytes"):
            Key.from_bytes(b"short", kid="k")

    def test_repr_and_str_hide_material(self):
        key = Key.generate(KeyType.ED25519)
        assert key._material is not None
        for text in (repr(key), str(key), str(key.to_dict())):
            assert key._material.hex() not in text
            assert base64.urlsafe_b64encode(key._material).decode().rstrip("=") not in text

    def test_public_copy(self):
        key = Key.generate(KeyType.ED25519)
        public = key.public()
        assert not public.has_secret and public.public_key == key.public_key
        with pytest.raises(InvalidArgumentError):
            Key.generate().public()


class TestKeyRing:
    def test_generate_and_active(self, clock: ManualClock):
        ring = KeyRing.generate(KeyType.SYMMETRIC, KeyType.ED25519, clock=clock)
        assert ring.has_active() and ring.has_active(KeyType.ED25519)
        assert len(ring) == 2
        assert ring.is_active(ring.active().kid)

    def test_no_active_key_is_a_clear_error(self):
        with pytest.raises(ConfigurationError, match="no active symmetric key"):
            KeyRing().active()

    def test_rotate_retires_with_window(self, clock: ManualClock):
        ring = KeyRing.generate(clock=clock)
        old = ring.active()
        new = ring.rotate(grace=60)
        assert ring.active() == new
        assert ring.get(old.kid).retired
        assert ring.usable(old.kid) is not None
        clock.advance_sync(60)
        with pytest.raises(KeyNotFoundError, match="grace period"):
            ring.usable(old.kid)
        assert ring.prune() == [old.kid]
        assert old.kid not in ring

    def test_retired_key_cannot_be_activated(self, clock: ManualClock):
        ring = KeyRing.generate(clock=clock)
        old = ring.active().kid
        ring.rotate()
        with pytest.raises(InvalidArgumentError, match="cannot be made active"):
            ring.activate(old)

    def test_duplicate_kid(self):
        ring = KeyRing([Key.generate(kid="a")])
        with pytest.raises(InvalidArgumentError, match="already"):
            ring.add(Key.generate(kid="a"))

    def test_unknown_kid(self):
        with pytest.raises(KeyNotFoundError) as info:
            KeyRing().get("nope")
        assert isinstance(info.value, LookupError)

    def test_json_export_without_secrets_is_safe(self, clock: ManualClock):
        ring = KeyRing.generate(KeyType.SYMMETRIC, KeyType.ED25519, clock=clock)
        text = ring.to_json()
        for secret in _secret_texts(ring):
            assert secret not in text
        assert "material" not in text
        for secret in _secret_texts(ring):
            assert secret not in repr(ring)

    def test_json_roundtrip_with_secrets(self, clock: ManualClock):
        ring = KeyRing.generate(clock=clock)
        ring.rotate(grace=100)
        again = KeyRing.from_json(ring.to_json(include_secrets=True), clock=clock)
        assert again.kids == ring.kids
        assert again.active() == ring.active()
        assert list(again) == list(ring)

    def test_public_ring(self):
        ring = KeyRing.generate(KeyType.SYMMETRIC, KeyType.ED25519)
        public = ring.public()
        assert len(public) == 1
        assert not next(iter(public)).has_secret
        assert "material" not in public.to_json(include_secrets=True)

    def test_from_env(self, monkeypatch: pytest.MonkeyPatch):
        ring = KeyRing.generate()
        monkeypatch.setenv("MY_KEYS", ring.to_json(include_secrets=True))
        assert KeyRing.from_env("MY_KEYS").active() == ring.active()
        monkeypatch.setenv("ONE_KEY", base64.urlsafe_b64encode(os.urandom(32)).decode())
        assert KeyRing.from_env("ONE_KEY").active().kid == "default"
        monkeypatch.delenv("MISSING_KEYS", raising=False)
        with pytest.raises(ConfigurationError, match="MISSING_KEYS"):
            KeyRing.from_env("MISSING_KEYS")

    def test_from_config_secret(self):
        ring = KeyRing.generate()
        loaded = KeyRing.from_json(_Secret(ring.to_json(include_secrets=True)))
        assert loaded.active() == ring.active()

    @pytest.mark.parametrize(
        "text",
        [
            "{",
            "{}",
            '{"format": "pepperpy.keyring/1"}',
            "c2hvcnQ",
            '{"format":"pepperpy.keyring/1","keys":[{"kid":"a"}]}',
        ],
    )
    def test_bad_data(self, text: str):
        with pytest.raises(ConfigurationError):
            KeyRing.from_json(text)

    def test_file_roundtrip_with_private_permissions(self, tmp_path: Path):
        ring = KeyRing.generate()
        path = ring.to_file(tmp_path / "keys.json")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert KeyRing.from_file(path).active() == ring.active()
        with pytest.raises(ConfigurationError, match="Cannot read"):
            KeyRing.from_file(tmp_path / "missing.json")

    def test_sealed_export(self, tmp_path: Path):
        ring = KeyRing.generate(KeyType.SYMMETRIC, KeyType.ED25519)
        sealed = ring.seal("correct horse", opslimit=1, memlimit=8192)
        assert json.loads(sealed)["format"] == "pepperpy.keyring.sealed/1"
        for secret in _secret_texts(ring):
            assert secret not in sealed
        assert KeyRing.from_json(sealed, password="correct horse").active() == ring.active()
        with pytest.raises(DecryptionError, match="wrong password"):
            KeyRing.from_json(sealed, password="wrong")
        with pytest.raises(ConfigurationError, match="sealed"):
            KeyRing.from_json(sealed)
