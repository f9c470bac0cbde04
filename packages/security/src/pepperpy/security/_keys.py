"""Versioned keys: :class:`Key`, :class:`KeyType` and :class:`KeyRing`.

Every key has a key id (*kid*) that travels with what it protected (token
header, ciphertext envelope, stream header), so data made with an older key
can still be verified or decrypted after a rotation, for as long as that key
is allowed to.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import enum
import json
import math
import os
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import attrs
import nacl.bindings
import nacl.exceptions
import nacl.pwhash.argon2id
import nacl.secret
import nacl.signing

from pepperpy.core.exceptions import (
    ConfigurationError,
    ExternalError,
    InvalidArgumentError,
    NotFoundError,
    PepperPyError,
    safe_repr,
)
from pepperpy.core.types import Clock, system_clock
from pepperpy.security._checks import number, type_name
from pepperpy.security._errors import DecryptionError, KeyNotFoundError
from pepperpy.security._random import random_bytes, random_id
from pepperpy.security._sodium import blake2b_keyed

__all__ = ["DEFAULT_KEYRING_ENV", "Key", "KeyRing", "KeyType"]

DEFAULT_KEYRING_ENV = "PEPPERPY_KEYRING"
"""The environment variable :meth:`KeyRing.from_env` reads by default."""

_KID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_KEY_BYTES = 32
_FORMAT = "pepperpy.keyring/1"
_SEALED_FORMAT = "pepperpy.keyring.sealed/1"


class KeyType(str, enum.Enum):
    """What a key is for; the type decides the algorithm, never the data it checks."""

    SYMMETRIC = "symmetric"
    """32 random bytes: MAC-signed tokens (keyed BLAKE2b), XChaCha20-Poly1305
    envelopes, secretstream files and field encryption.  Sub-keys are derived
    per purpose, so one key never feeds two algorithms."""
    ED25519 = "ed25519"
    """An Ed25519 signing key (32-byte seed): public-key signed tokens.  A
    public-only copy can verify but not sign."""


def _key_type(value: Any) -> KeyType:
    if isinstance(value, KeyType):
        return value
    try:
        if isinstance(value, str):
            return KeyType(value)
    except ValueError:
        pass
    raise InvalidArgumentError(
        "A key type must be 'symmetric' or 'ed25519'",
        context={"type": safe_repr(value)},
        hint="Use KeyType.SYMMETRIC or KeyType.ED25519.",
    )


def _check_kid(kid: str) -> str:
    if not isinstance(kid, str) or not _KID_RE.fullmatch(kid):
        raise InvalidArgumentError(
            f"Invalid key id {safe_repr(kid)}",
            context={"kid": safe_repr(kid)},
            hint="Use 1-64 characters from A-Z, a-z, 0-9, '_' and '-'.",
        )
    return kid


def _secret_value(value: Any) -> Any:
    """Unwrap pepperpy-config ``Secret`` (``reveal()``) or pydantic ``SecretStr`` values."""
    for name in ("get_secret_value", "reveal"):
        getter = getattr(value, name, None)
        if callable(getter):
            return getter()
    return value


def _b64d(text: str) -> bytes:
    if not isinstance(text, str):
        raise ConfigurationError(
            f"Key material must be URL-safe base64 text, not {type_name(text)}",
            code="pepperpy.security.keyring.format",
        )
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ConfigurationError(
            "Key material is not valid URL-safe base64",
            code="pepperpy.security.keyring.format",
            hint="Export key rings with KeyRing.to_json(include_secrets=True).",
        ) from exc


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@attrs.frozen(repr=False, eq=False)
class Key:
    """One versioned key.  Build with :meth:`generate` or :meth:`from_bytes`.

    Attributes:
        kid: The key id stored next to everything this key protects.
        type: The :class:`KeyType`.
        created_at: Unix time the key was created.
        retired_at: When the key stopped being used for new tokens and
            ciphertexts (``None`` while it may still be made active).
        expires_at: After this Unix time the key no longer verifies or
            decrypts anything (``None``: no limit).
        public_key: For Ed25519 keys, the 32-byte verify key.

    The key material is never part of ``repr``, ``str``, equality or any
    error message.
    """

    kid: str = attrs.field(converter=_check_kid)
    type: KeyType = attrs.field(converter=_key_type)
    _material: bytes | None = attrs.field(alias="material")
    created_at: float = 0.0
    retired_at: float | None = None
    expires_at: float | None = None
    public_key: bytes | None = None
    _cache: dict[Any, Any] = attrs.field(factory=dict, init=False)

    def __attrs_post_init__(self) -> None:
        material = self._material
        if material is not None and len(material) != _KEY_BYTES:
            raise InvalidArgumentError(
                f"Key {self.kid!r} must be {_KEY_BYTES} bytes long",
                context={"kid": self.kid, "length": len(material)},
                hint="Generate keys with Key.generate() or 32 bytes from a CSPRNG.",
            )
        if self.type is KeyType.SYMMETRIC and material is None:
            raise InvalidArgumentError(
                f"Symmetric key {self.kid!r} has no key material",
                context={"kid": self.kid},
            )
        if self.type is KeyType.ED25519:
            if material is not None:
                derived = bytes(nacl.signing.SigningKey(material).verify_key)
                if self.public_key is not None and self.public_key != derived:
                    raise InvalidArgumentError(
                        f"Public key of {self.kid!r} does not match its seed",
                        context={"kid": self.kid},
                    )
                object.__setattr__(self, "public_key", derived)
            elif self.public_key is None or len(self.public_key) != _KEY_BYTES:
                raise InvalidArgumentError(
                    f"Ed25519 key {self.kid!r} needs a seed or a 32-byte public key",
                    context={"kid": self.kid},
                )

    @classmethod
    def generate(
        cls,
        type: KeyType | str = KeyType.SYMMETRIC,
        *,
        kid: str | None = None,
        clock: Clock = system_clock,
    ) -> Key:
        """Create a new random key (material from libsodium's CSPRNG)."""
        return cls(
            kid=random_id("k", nbytes=8) if kid is None else kid,
            type=_key_type(type),
            material=random_bytes(_KEY_BYTES),
            created_at=clock.time(),
        )

    @classmethod
    def from_bytes(
        cls,
        material: bytes | str | Any,
        *,
        kid: str,
        type: KeyType | str = KeyType.SYMMETRIC,
        created_at: float = 0.0,
    ) -> Key:
        """Build a key from 32 raw bytes or their URL-safe base64 text.

        *material* may also be a config ``Secret`` (anything with
        ``get_secret_value()``).
        """
        value = _secret_value(material)
        if isinstance(value, str):
            raw = _b64d(value.strip())
        elif isinstance(value, (bytes, bytearray, memoryview)):
            raw = bytes(value)
        else:
            raise InvalidArgumentError(
                f"Key material must be bytes or base64 text, not {type_name(value)}",
                context={"type": type_name(value)},
                hint="Pass 32 bytes from a CSPRNG, or their URL-safe base64.",
            )
        return cls(
            kid=kid,
            type=_key_type(type),
            material=raw,
            created_at=number(created_at, "created_at"),
        )

    @property
    def has_secret(self) -> bool:
        """Whether this key can sign/encrypt (``False`` for a public-only Ed25519 key)."""
        return self._material is not None

    @property
    def retired(self) -> bool:
        """Whether the key has been retired (it still verifies until :attr:`expires_at`)."""
        return self.retired_at is not None

    def usable_at(self, now: float) -> bool:
        """Whether the key may still verify or decrypt at Unix time *now*."""
        return self.expires_at is None or now < self.expires_at

    def public(self) -> Key:
        """Return a copy without secret material (Ed25519 keys only)."""
        if self.type is not KeyType.ED25519:
            raise InvalidArgumentError(
                f"Key {self.kid!r} is symmetric and has no public part",
                context={"kid": self.kid},
                hint="Only Ed25519 keys can be shared with verifiers.",
            )
        return attrs.evolve(self, material=None)

    def _derive(self, purpose: bytes) -> bytes:
        """Return the 32-byte sub-key for *purpose* (BLAKE2b KDF, as crypto_kdf does)."""
        cached = self._cache.get(purpose)
        if cached is None:
            if self._material is None:
                raise KeyNotFoundError(self.kid, reason="has no secret material")
            cached = blake2b_keyed(b"", self._material, purpose, _KEY_BYTES)
            self._cache[purpose] = cached
        return cached

    def _signing_key(self) -> nacl.signing.SigningKey:
        cached = self._cache.get("signing")
        if cached is None:
            if self._material is None:
                raise KeyNotFoundError(self.kid, reason="is public-only and cannot sign")
            cached = nacl.signing.SigningKey(self._material)
            self._cache["signing"] = cached
        assert isinstance(cached, nacl.signing.SigningKey)
        return cached

    def _verify_key(self) -> nacl.signing.VerifyKey:
        cached = self._cache.get("verify")
        if cached is None:
            cached = nacl.signing.VerifyKey(self.public_key or b"")
            self._cache["verify"] = cached
        assert isinstance(cached, nacl.signing.VerifyKey)
        return cached

    def to_dict(self, *, include_secrets: bool = False) -> dict[str, Any]:
        """Return a JSON-safe description; material only when *include_secrets*."""
        data: dict[str, Any] = {
            "kid": self.kid,
            "type": self.type.value,
            "created_at": self.created_at,
            "retired_at": self.retired_at,
            "expires_at": self.expires_at,
        }
        if self.public_key is not None:
            data["public_key"] = _b64e(self.public_key)
        if include_secrets and self._material is not None:
            data["material"] = _b64e(self._material)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Key:
        """Rebuild a key from :meth:`to_dict` output."""
        if not isinstance(data, Mapping):
            raise ConfigurationError(
                f"A key entry must be a JSON object, not {type_name(data)}",
                code="pepperpy.security.keyring.format",
            )
        try:
            material = data.get("material")
            public = data.get("public_key")
            return cls(
                kid=data["kid"],
                type=KeyType(data["type"]),
                material=_b64d(material) if material is not None else None,
                created_at=_time(data.get("created_at") or 0.0),
                retired_at=_opt_float(data.get("retired_at")),
                expires_at=_opt_float(data.get("expires_at")),
                public_key=_b64d(public) if public is not None else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, PepperPyError):
                raise
            raise ConfigurationError(
                "Invalid key entry in key ring data",
                code="pepperpy.security.keyring.format",
                context={"kid": safe_repr(data.get("kid", "?"), 64)},
                hint="Each key needs 'kid', 'type' and 'material' (or 'public_key').",
            ) from None

    def __repr__(self) -> str:
        state = "retired" if self.retired else "current"
        secret = "" if self.has_secret else ", public-only"
        return f"Key(kid={self.kid!r}, type={self.type.value!r}, {state}{secret})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Key):
            return NotImplemented
        return (
            self.kid == other.kid
            and self.type == other.type
            and self.public_key == other.public_key
            and nacl.bindings.sodium_memcmp(
                self._material or b"\0" * 32, other._material or b"\0" * 32
            )
            and (self._material is None) == (other._material is None)
            and self.retired_at == other.retired_at
            and self.expires_at == other.expires_at
        )

    def __hash__(self) -> int:
        return hash((self.kid, self.type))


def _grace(value: Any) -> float | None:
    """A grace period: ``None`` or a number (NaN refused; negative means 0; inf means None)."""
    if value is None:
        return None
    seconds = max(0.0, number(value, "grace", allow_inf=True))
    return None if math.isinf(seconds) else seconds


def _time(value: Any) -> float:
    try:
        return number(value, "time", allow_inf=True)
    except InvalidArgumentError:
        raise ConfigurationError(
            "A key's times must be numbers (Unix seconds)",
            code="pepperpy.security.keyring.format",
        ) from None


def _opt_float(value: Any) -> float | None:
    return None if value is None else _time(value)


class KeyRing:
    """A set of versioned keys with one *active* key per :class:`KeyType`.

    New tokens and ciphertexts always use the active key; verification and
    decryption look the key up by the kid they carry.  Rotation makes a new
    key active and retires the old one, which keeps verifying/decrypting for
    a *grace* period (or forever when ``grace=None``)::

        ring = KeyRing.generate()
        ring.rotate(grace=3600)          # old tokens stay valid for an hour

    Args:
        keys: Initial keys.  The newest non-retired key of each type becomes
            active unless *active* names them.
        active: Key ids to make active.
        clock: Time source for retirement windows (``ManualClock`` in tests).

    A key ring is safe to share between threads and tasks.
    """

    def __init__(
        self,
        keys: Iterable[Key] = (),
        *,
        active: Iterable[str] = (),
        clock: Clock = system_clock,
    ) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self._keys: dict[str, Key] = {}
        self._active: dict[KeyType, str] = {}
        given: Any = keys
        if not isinstance(given, Iterable) or isinstance(given, (str, bytes)):
            raise InvalidArgumentError(
                f"keys must be an iterable of Key, not {type_name(keys)}",
                context={"keys": type_name(keys)},
            )
        for key in keys:
            self.add(key)
        if isinstance(active, str):
            raise InvalidArgumentError("active must be an iterable of key ids, not one str")
        if not isinstance(active, Iterable):
            raise InvalidArgumentError(
                f"active must be an iterable of key ids, not {type_name(active)}",
                context={"active": type_name(active)},
            )
        for kid in active:
            self.activate(kid)

    # -- construction ---------------------------------------------------------

    @classmethod
    def generate(cls, *types: KeyType | str, clock: Clock = system_clock) -> KeyRing:
        """Return a ring with one fresh active key of each of *types* (default symmetric)."""
        ring = cls(clock=clock)
        for kind in types or (KeyType.SYMMETRIC,):
            ring.create(kind)
        return ring

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, clock: Clock = system_clock) -> KeyRing:
        """Rebuild a ring from :meth:`to_dict` output."""
        if not isinstance(data, Mapping) or data.get("format") != _FORMAT:
            raise ConfigurationError(
                "Not a pepperpy key ring",
                code="pepperpy.security.keyring.format",
                hint=f"Expected a JSON object with format={_FORMAT!r}.",
            )
        keys = data.get("keys")
        if not isinstance(keys, list):
            raise ConfigurationError(
                "Key ring data has no 'keys' list", code="pepperpy.security.keyring.format"
            )
        active = data.get("active") or {}
        if not isinstance(active, Mapping):
            raise ConfigurationError(
                "Key ring 'active' must be an object", code="pepperpy.security.keyring.format"
            )
        ring = cls((Key.from_dict(k) for k in keys), clock=clock)
        for kid in active.values():
            if not isinstance(kid, str):
                raise ConfigurationError(
                    "Key ring 'active' must map key types to key ids",
                    code="pepperpy.security.keyring.format",
                )
            ring.activate(kid)
        return ring

    @classmethod
    def from_json(
        cls,
        data: str | bytes | Any,
        *,
        password: str | bytes | Any = None,
        clock: Clock = system_clock,
    ) -> KeyRing:
        """Load a ring from :meth:`to_json` text, or sealed :meth:`seal` text with *password*.

        *data* may be a config ``Secret``.  A single URL-safe base64 key
        (32 bytes) is also accepted and becomes symmetric key ``"default"``.
        """
        text = _secret_value(data)
        if isinstance(text, (bytes, bytearray, memoryview)):
            text = bytes(text).decode("utf-8", errors="replace")
        if not isinstance(text, str):
            raise InvalidArgumentError(
                f"Key ring data must be str or bytes, not {type_name(text)}",
                context={"type": type_name(text)},
                hint="Pass the text written by KeyRing.to_json() or KeyRing.seal().",
            )
        text = text.strip()
        if not text.startswith("{"):
            raw = _b64d(text)
            if len(raw) != _KEY_BYTES:
                raise ConfigurationError(
                    "Key ring text is neither JSON nor a 32-byte base64 key",
                    code="pepperpy.security.keyring.format",
                    hint="Use KeyRing.to_json(include_secrets=True) or "
                    "base64.urlsafe_b64encode(32 random bytes).",
                )
            return cls([Key.from_bytes(raw, kid="default")], clock=clock)
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError):
            raise ConfigurationError(
                "Key ring text is not valid JSON",
                code="pepperpy.security.keyring.format",
                hint="Use the output of KeyRing.to_json(include_secrets=True).",
            ) from None
        if isinstance(parsed, Mapping) and parsed.get("format") == _SEALED_FORMAT:
            if password is None:
                raise ConfigurationError(
                    "This key ring is sealed with a password",
                    code="pepperpy.security.keyring.sealed",
                    hint="Pass password= to KeyRing.from_json().",
                )
            parsed = _unseal(parsed, password)
        return cls.from_dict(parsed, clock=clock)

    @classmethod
    def from_env(
        cls,
        name: str = DEFAULT_KEYRING_ENV,
        *,
        password: str | bytes | Any = None,
        clock: Clock = system_clock,
    ) -> KeyRing:
        """Load a ring from environment variable *name* (JSON, sealed JSON, or one base64 key)."""
        if not isinstance(name, str) or not name or "\x00" in name or "=" in name:
            raise InvalidArgumentError(
                "The environment variable name must be a non-empty str without '=' or NUL",
                context={"name": safe_repr(name)},
            )
        try:
            value = os.environ.get(name)
        except UnicodeEncodeError:
            value = None
        if not value:
            raise ConfigurationError(
                f"Environment variable {name} is not set",
                code="pepperpy.security.keyring.missing",
                context={"variable": name},
                hint="Set it to the output of KeyRing.generate().to_json(include_secrets=True).",
            )
        return cls.from_json(value, password=password, clock=clock)

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike[str],
        *,
        password: str | bytes | Any = None,
        clock: Clock = system_clock,
    ) -> KeyRing:
        """Load a ring from a file written by :meth:`to_file`."""
        file = _path(path)
        try:
            text = file.read_text("utf-8")
        except (OSError, ValueError) as exc:
            raise ConfigurationError(
                f"Cannot read key ring file {str(file)!r}",
                code="pepperpy.security.keyring.missing",
                context={"path": str(file)},
                hint="Check the path and its permissions.",
            ) from exc
        return cls.from_json(text, password=password, clock=clock)

    # -- mutation -------------------------------------------------------------

    def add(self, key: Key, *, activate: bool = False) -> Key:
        """Add *key*; it becomes active if asked, or if it is the first usable key of its type."""
        if not isinstance(key, Key):
            raise InvalidArgumentError(
                f"KeyRing.add() takes a Key, not {type_name(key)}",
                context={"key": type_name(key)},
                hint="Build keys with Key.generate() or Key.from_bytes().",
            )
        with self._lock:
            if key.kid in self._keys:
                raise InvalidArgumentError(
                    f"Key id {key.kid!r} is already in the key ring",
                    context={"kid": key.kid},
                    hint="Key ids must be unique; generate a new id.",
                )
            self._keys[key.kid] = key
            if activate or (key.type not in self._active and not key.retired and key.has_secret):
                self.activate(key.kid)
            return key

    def create(
        self,
        type: KeyType | str = KeyType.SYMMETRIC,
        *,
        kid: str | None = None,
        activate: bool = True,
    ) -> Key:
        """Generate a new key, add it and (by default) make it active."""
        key = Key.generate(type, kid=kid, clock=self._clock)
        return self.add(key, activate=activate)

    def activate(self, kid: str) -> Key:
        """Make *kid* the key used for new tokens/ciphertexts of its type."""
        with self._lock:
            key = self.get(kid)
            if key.retired or not key.has_secret:
                raise InvalidArgumentError(
                    f"Key {kid!r} cannot be made active",
                    context={"kid": kid},
                    hint="Only keys that are not retired and have secret material can be active.",
                )
            self._active[key.type] = kid
            return key

    def retire(self, kid: str, *, grace: float | None = None) -> Key:
        """Retire *kid*: it no longer signs/encrypts; it verifies/decrypts for *grace* seconds.

        ``grace=None`` keeps it usable for verification and decryption with no
        time limit (needed for data at rest until it is re-encrypted).
        """
        grace = _grace(grace)
        with self._lock:
            key = self.get(kid)
            now = self._clock.time()
            expires = None if grace is None or math.isinf(grace) else now + grace
            if key.expires_at is not None and (expires is None or key.expires_at < expires):
                expires = key.expires_at
            updated = attrs.evolve(key, retired_at=key.retired_at or now, expires_at=expires)
            self._keys[kid] = updated
            if self._active.get(key.type) == kid:
                del self._active[key.type]
            return updated

    def rotate(
        self,
        type: KeyType | str = KeyType.SYMMETRIC,
        *,
        grace: float | None = None,
        kid: str | None = None,
    ) -> Key:
        """Create a new active key of *type* and retire the previous one with *grace*."""
        kind = _key_type(type)
        grace = _grace(grace)
        with self._lock:
            previous = self._active.get(kind)
            key = self.create(kind, kid=kid, activate=True)
            if previous is not None:
                self.retire(previous, grace=grace)
            return key

    def remove(self, kid: str) -> None:
        """Forget *kid* entirely: nothing it protected can be verified or decrypted any more."""
        with self._lock:
            key = self.get(kid)
            del self._keys[kid]
            if self._active.get(key.type) == kid:
                del self._active[key.type]

    def prune(self) -> list[str]:
        """Remove every retired key whose window is over; return their kids."""
        now = self._clock.time()
        with self._lock:
            gone = [k.kid for k in self._keys.values() if k.retired and not k.usable_at(now)]
            for kid in gone:
                del self._keys[kid]
            return gone

    # -- lookup ---------------------------------------------------------------

    @property
    def clock(self) -> Clock:
        """The clock used for retirement windows."""
        return self._clock

    def active(self, type: KeyType | str = KeyType.SYMMETRIC) -> Key:
        """Return the active key of *type*."""
        kind = type if isinstance(type, KeyType) else _key_type(type)
        kid = self._active.get(kind)
        key = None if kid is None else self._keys.get(kid)  # no KeyError if removed meanwhile
        if key is None:
            raise ConfigurationError(
                f"The key ring has no active {kind.value} key",
                code="pepperpy.security.keyring.no_active_key",
                context={"type": kind.value},
                hint=f"Call keyring.create({kind.value!r}) or keyring.rotate({kind.value!r}).",
            )
        return key

    def has_active(self, type: KeyType | str = KeyType.SYMMETRIC) -> bool:
        """Whether there is an active key of *type*."""
        return _key_type(type) in self._active

    def is_active(self, kid: str) -> bool:
        """Whether *kid* is the active key of its type."""
        key = self._keys.get(kid) if isinstance(kid, str) else None
        return key is not None and self._active.get(key.type) == kid

    def get(self, kid: str) -> Key:
        """Return the key *kid* whatever its state; raise :class:`KeyNotFoundError`."""
        if not isinstance(kid, str):
            raise InvalidArgumentError(
                f"A key id must be a str, not {type_name(kid)}", context={"kid": type_name(kid)}
            )
        key = self._keys.get(kid)
        if key is None:
            raise KeyNotFoundError(kid)
        return key

    def usable(self, kid: str) -> Key:
        """Return *kid* if it may verify/decrypt now; raise :class:`KeyNotFoundError` otherwise."""
        key = self.get(kid)
        if not key.usable_at(self._clock.time()):
            raise KeyNotFoundError(kid, reason="was retired and its grace period is over")
        return key

    def _find(self, kid: str) -> Key | None:
        key = self._keys.get(kid)
        if key is None or not key.usable_at(self._clock.time()):
            return None
        return key

    @property
    def kids(self) -> list[str]:
        """Every key id, oldest first."""
        return list(self._keys)

    def __iter__(self) -> Iterator[Key]:
        return iter(list(self._keys.values()))

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, kid: object) -> bool:
        return isinstance(kid, str) and kid in self._keys

    def __repr__(self) -> str:
        active = {t.value: kid for t, kid in self._active.items()}
        return f"KeyRing(kids={self.kids!r}, active={active!r})"

    # -- export ---------------------------------------------------------------

    def public(self) -> KeyRing:
        """Return a verify-only ring with the public halves of the Ed25519 keys."""
        ring = KeyRing(clock=self._clock)
        for key in self:
            if key.type is KeyType.ED25519:
                ring.add(key.public())
        return ring

    def to_dict(self, *, include_secrets: bool = False) -> dict[str, Any]:
        """Return a JSON-safe description; key material only with *include_secrets*."""
        return {
            "format": _FORMAT,
            "active": {t.value: kid for t, kid in self._active.items()},
            "keys": [k.to_dict(include_secrets=include_secrets) for k in self],
        }

    def to_json(self, *, include_secrets: bool = False) -> str:
        """Serialize the ring; without *include_secrets* the output is safe to log or share."""
        return json.dumps(self.to_dict(include_secrets=include_secrets), sort_keys=True)

    def seal(
        self,
        password: str | bytes | Any,
        *,
        opslimit: int | None = None,
        memlimit: int | None = None,
    ) -> str:
        """Serialize the ring with its secrets, encrypted under *password*.

        The password is stretched with Argon2id (``nacl.pwhash.argon2id.kdf``,
        moderate limits by default) and the JSON is encrypted with a
        SecretBox.  Load it back with ``KeyRing.from_json(text, password=...)``.
        """
        ops = nacl.pwhash.argon2id.OPSLIMIT_MODERATE if opslimit is None else opslimit
        mem = nacl.pwhash.argon2id.MEMLIMIT_MODERATE if memlimit is None else memlimit
        argon = nacl.pwhash.argon2id
        for name, value, low, high in (
            ("opslimit", ops, argon.OPSLIMIT_MIN, argon.OPSLIMIT_MAX),
            ("memlimit", mem, argon.MEMLIMIT_MIN, argon.MEMLIMIT_MAX),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise InvalidArgumentError(
                    f"seal() {name} must be an int from {low} to {high}",
                    context={name: safe_repr(value)},
                    hint="Leave opslimit/memlimit unset for Argon2id's moderate limits.",
                )
        salt = random_bytes(nacl.pwhash.argon2id.SALTBYTES)
        box_key = nacl.pwhash.argon2id.kdf(
            nacl.secret.SecretBox.KEY_SIZE,
            _password_bytes(password),
            salt,
            opslimit=ops,
            memlimit=mem,
        )
        plain = self.to_json(include_secrets=True).encode("utf-8")
        sealed = nacl.secret.SecretBox(box_key).encrypt(plain)
        return json.dumps(
            {
                "format": _SEALED_FORMAT,
                "kdf": "argon2id",
                "opslimit": ops,
                "memlimit": mem,
                "salt": _b64e(salt),
                "box": _b64e(bytes(sealed)),
            },
            sort_keys=True,
        )

    def to_file(
        self,
        path: str | os.PathLike[str],
        *,
        password: str | bytes | Any = None,
        include_secrets: bool = True,
    ) -> Path:
        """Write the ring to *path* with mode ``0600`` (sealed when *password* is given).

        The mode is set explicitly (``fchmod``) whatever the umask, and also
        when *path* already exists with a wider mode: the ring is written to
        a new ``0600`` file next to *path*, flushed to disk and renamed over
        it, so a crash never leaves a half-written key ring either.
        """
        file = _path(path)
        text = (
            self.seal(password)
            if password is not None
            else self.to_json(include_secrets=include_secrets)
        )
        write_private(file, text.encode("utf-8"))
        return file


def _path(path: Any) -> Path:
    try:
        return Path(path)
    except TypeError:
        raise InvalidArgumentError(
            f"A file path must be str or os.PathLike, not {type_name(path)}",
            context={"path": type_name(path)},
        ) from None


def write_private(target: Path, data: bytes) -> None:
    """Atomically replace *target* with *data* in a file of mode ``0600``."""
    with private_file(target) as handle:
        handle.write(data)


def file_error(path: Path, exc: Exception, action: str, *, code: str) -> PepperPyError:
    """The PepperPyError for an OS error while *action* (``"read"``/``"write"``) *path*.

    A missing file (or directory) is a :class:`NotFoundError` coded
    ``pepperpy.security.file.not_found``; any other OS error is an
    :class:`ExternalError` with the caller's *code*.
    """
    message = f"Cannot {action} {path.name!r}: {type(exc).__name__}"
    context = {"path": str(path), "error": type(exc).__name__}
    hint = "Check that the path exists and that this process may use it."
    if isinstance(exc, FileNotFoundError):
        return NotFoundError(
            message, code="pepperpy.security.file.not_found", context=context, hint=hint
        )
    return ExternalError(message, code=code, context=context, hint=hint)


@contextlib.contextmanager
def private_file(target: Path) -> Iterator[IO[bytes]]:
    """Yield a new ``0600`` file next to *target*; on success it replaces *target*.

    The mode is set with ``fchmod`` after creation, so neither the umask nor
    an existing file's mode can widen it.  On error the partial file is
    removed and *target* is left as it was.
    """
    try:
        # Path("/") and Path("") have no name: with_name() raises ValueError for them.
        partial = target.with_name(f".{target.name}.{random_bytes(4).hex()}.part")
        handle = open(  # noqa: SIM115 - closed below; the rename must follow the close
            os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb"
        )
    except (OSError, ValueError) as exc:
        raise file_error(target, exc, "write", code="pepperpy.security.file.write") from exc
    try:
        with handle:
            if hasattr(os, "fchmod"):  # POSIX (and Windows from Python 3.13)
                os.fchmod(handle.fileno(), 0o600)
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)
    except OSError as exc:
        raise file_error(target, exc, "write", code="pepperpy.security.file.write") from exc
    finally:
        with contextlib.suppress(OSError):
            os.unlink(partial)


def _password_bytes(password: Any) -> bytes:
    value = _secret_value(password)
    if isinstance(value, str):
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidArgumentError(
                "The password is not valid Unicode text (it holds a lone surrogate)",
                hint="Pass the password as str of valid text, or as bytes.",
            ) from None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise InvalidArgumentError(
        f"A password must be str or bytes, not {type_name(value)}",
        context={"type": type_name(value)},
    )


def _unseal(data: Mapping[str, Any], password: Any) -> Any:
    secret = _password_bytes(password)
    try:
        box_key = nacl.pwhash.argon2id.kdf(
            nacl.secret.SecretBox.KEY_SIZE,
            secret,
            _b64d(data["salt"]),
            opslimit=int(data["opslimit"]),
            memlimit=int(data["memlimit"]),
        )
        plain = nacl.secret.SecretBox(box_key).decrypt(_b64d(data["box"]))
    except (KeyError, TypeError, ValueError, OverflowError, nacl.exceptions.CryptoError):
        raise DecryptionError(
            "Cannot open the sealed key ring: wrong password or damaged data"
        ) from None
    return json.loads(plain)
