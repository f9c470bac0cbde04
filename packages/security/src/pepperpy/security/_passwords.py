"""Password hashing (Argon2id through ``nacl.pwhash``) and password policies."""

from __future__ import annotations

import asyncio
import enum
import inspect
import re
import unicodedata
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, Union

import attrs
import nacl.bindings
import nacl.exceptions
import nacl.pwhash
import nacl.pwhash.argon2id as argon2id

from pepperpy.core.exceptions import ConfigurationError, ErrorDetail, InvalidArgumentError
from pepperpy.security._checks import str_tuple
from pepperpy.security._errors import WeakPasswordError
from pepperpy.security._keys import _path, file_error

__all__ = [
    "BreachedPasswords",
    "BreachedHook",
    "HashProfile",
    "PasswordCheck",
    "PasswordHasher",
    "PasswordPolicy",
]

MAX_PASSWORD_BYTES = 4096
"""Longer passwords are refused before hashing, so a huge input cannot tie up the CPU."""

_PARAMS_RE = re.compile(r"^\$(argon2id|argon2i)\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$")
_PHC_RE = re.compile(
    r"^\$(argon2id|argon2i)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{16,}$"
)


class HashProfile(enum.Enum):
    """libsodium's Argon2id limits as ``(opslimit, memlimit_bytes)``.

    On the reference 2-core machine, one hash takes roughly: ``MIN`` 0.1 ms
    (tests only!), ``INTERACTIVE`` 40-70 ms (t=2, 64 MiB), ``MODERATE`` 0.4-0.5 s
    (t=3, 256 MiB), ``SENSITIVE`` 2.5 s (t=4, 1 GiB).  ``INTERACTIVE`` is
    above the OWASP minimum (t=2, 19 MiB) and is the default for logins.
    """

    MIN = (argon2id.OPSLIMIT_MIN, argon2id.MEMLIMIT_MIN)
    INTERACTIVE = (argon2id.OPSLIMIT_INTERACTIVE, argon2id.MEMLIMIT_INTERACTIVE)
    MODERATE = (argon2id.OPSLIMIT_MODERATE, argon2id.MEMLIMIT_MODERATE)
    SENSITIVE = (argon2id.OPSLIMIT_SENSITIVE, argon2id.MEMLIMIT_SENSITIVE)


@attrs.frozen
class PasswordCheck:
    """The outcome of :meth:`PasswordHasher.verify`.

    Attributes:
        ok: Whether the password matches.
        needs_rehash: The hash was made with other (older/weaker) parameters
            or algorithm; store ``hasher.hash(password)`` now that you have
            the plain password (only meaningful when ``ok``).

    ``bool(check)`` is ``check.ok``.
    """

    ok: bool
    needs_rehash: bool = False

    def __bool__(self) -> bool:
        return self.ok


def _password_bytes(password: Any) -> bytes:
    """The bytes Argon2id sees: NFKC-normalised UTF-8, for str and UTF-8 bytes alike.

    Bytes that are valid UTF-8 are text and are normalised exactly like the
    same password given as str, so ``hash("\ufb01")`` verifies ``"fi".encode()``
    and the other way round.  Bytes that are not UTF-8 (binary secrets) are
    used as they are.
    """
    for name in ("get_secret_value", "reveal"):
        getter = getattr(password, name, None)
        if callable(getter):
            password = getter()
            break
    if isinstance(password, (bytes, bytearray, memoryview)):
        raw = bytes(password)
        try:
            password = raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw
    if isinstance(password, str):
        try:
            return unicodedata.normalize("NFKC", password).encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidArgumentError(
                "A password must be valid Unicode text (this one holds a lone surrogate)",
                code="pepperpy.security.password.invalid_text",
                hint="Decode passwords with errors='strict', or pass the raw bytes.",
            ) from None
    raise InvalidArgumentError(
        f"A password must be str or bytes, not {type(password).__name__}",
        context={"type": type(password).__name__},
    )


def _limit(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(
            f"{name} must be an int, not {type(value).__name__}",
            context={name: type(value).__name__},
            hint="Use a HashProfile, or opslimit >= 1 and memlimit >= 8192 bytes.",
        )
    return value


def _stored_hash(hashed: Any) -> bytes:
    if isinstance(hashed, str):
        return hashed.encode("ascii", "replace")
    if isinstance(hashed, (bytes, bytearray, memoryview)):
        return bytes(hashed)
    raise InvalidArgumentError(
        f"A stored password hash must be str or bytes, not {type(hashed).__name__}",
        code="pepperpy.security.password.bad_hash",
        hint="Store the output of PasswordHasher.hash().",
    )


class PasswordHasher:
    """Hash and verify passwords with Argon2id (libsodium ``crypto_pwhash``).

    Args:
        profile: A :class:`HashProfile` (default ``INTERACTIVE``).
        opslimit: Override the profile's time cost.
        memlimit: Override the profile's memory cost, in bytes.

    Hashes are PHC strings (``$argon2id$v=19$m=65536,t=2,p=1$...``) holding
    their own salt and parameters.  Comparison happens inside libsodium, in
    constant time.  ``ahash``/``averify`` run the work in a thread so the
    event loop never blocks.  Use ``PasswordHasher(HashProfile.MIN)`` in
    tests only.
    """

    def __init__(
        self,
        profile: HashProfile = HashProfile.INTERACTIVE,
        *,
        opslimit: int | None = None,
        memlimit: int | None = None,
    ) -> None:
        if not isinstance(profile, HashProfile):
            raise InvalidArgumentError(
                f"profile must be a HashProfile, not {type(profile).__name__}",
                context={"profile": type(profile).__name__},
            )
        ops, mem = profile.value
        self.opslimit = _limit(ops if opslimit is None else opslimit, "opslimit")
        self.memlimit = _limit(mem if memlimit is None else memlimit, "memlimit")
        if not (argon2id.OPSLIMIT_MIN <= self.opslimit <= argon2id.OPSLIMIT_MAX) or not (
            argon2id.MEMLIMIT_MIN <= self.memlimit <= argon2id.MEMLIMIT_MAX
        ):
            raise InvalidArgumentError(
                "Argon2id limits are out of range",
                context={"opslimit": self.opslimit, "memlimit": self.memlimit},
                hint="Use a HashProfile, or opslimit >= 1 and memlimit >= 8192 bytes.",
            )
        self._dummy: bytes | None = None

    def __repr__(self) -> str:
        return f"PasswordHasher(opslimit={self.opslimit}, memlimit={self.memlimit})"

    def hash(self, password: str | bytes | Any) -> str:
        """Return the Argon2id hash string of *password* (NFKC-normalised UTF-8)."""
        raw = _password_bytes(password)
        if len(raw) > MAX_PASSWORD_BYTES:
            raise InvalidArgumentError(
                f"Password is longer than {MAX_PASSWORD_BYTES} bytes",
                context={"length": len(raw)},
                hint="Limit password fields to a sensible length.",
            )
        hashed = argon2id.str(raw, opslimit=self.opslimit, memlimit=self.memlimit)
        return bytes(hashed).decode("ascii")

    def verify(self, hashed: str | bytes, password: str | bytes | Any) -> PasswordCheck:
        """Check *password* against *hashed* (constant time inside libsodium).

        A wrong password gives ``PasswordCheck(ok=False)``.  A *hashed* value
        that is not an Argon2 hash raises :class:`InvalidArgumentError` (the
        stored data is broken; the value is not quoted in the error).
        """
        stored = _stored_hash(hashed)
        if _PHC_RE.fullmatch(stored.decode("ascii", "replace")) is None:
            raise InvalidArgumentError(
                "The stored password hash is not an Argon2 PHC string",
                code="pepperpy.security.password.bad_hash",
                hint="Store the output of PasswordHasher.hash().",
            )
        raw = _password_bytes(password)
        if len(raw) > MAX_PASSWORD_BYTES:
            return PasswordCheck(ok=False)
        try:
            ok = bool(nacl.pwhash.verify(stored, raw))
        except nacl.exceptions.InvalidkeyError:
            return PasswordCheck(ok=False)
        except (nacl.exceptions.CryptoError, ValueError, TypeError):
            raise InvalidArgumentError(
                "The stored password hash is damaged",
                code="pepperpy.security.password.bad_hash",
                hint="Store the output of PasswordHasher.hash().",
            ) from None
        return PasswordCheck(ok=ok, needs_rehash=ok and self.needs_rehash(stored))

    def needs_rehash(self, hashed: str | bytes) -> bool:
        """Whether *hashed* was made with another algorithm or other limits than this hasher's."""
        text = _stored_hash(hashed).decode("ascii", "replace")
        match = _PARAMS_RE.match(text)
        if match is None:
            return True
        alg, version, mem_kib, ops, _ = match.groups()
        return (
            alg != "argon2id"
            or int(version) != 19
            or int(mem_kib) * 1024 != self.memlimit
            or int(ops) != self.opslimit
        )

    def dummy_verify(self, password: str | bytes | Any) -> PasswordCheck:
        """Spend the same time as :meth:`verify` and fail: call it for unknown users.

        Makes "no such user" and "wrong password" take equally long, so login
        timing does not reveal which accounts exist.
        """
        if self._dummy is None:
            self._dummy = self.hash(b"pepperpy-dummy-password").encode("ascii")
        self.verify(self._dummy, password)
        return PasswordCheck(ok=False)

    async def ahash(self, password: str | bytes | Any) -> str:
        """:meth:`hash` in a worker thread."""
        return await asyncio.to_thread(self.hash, password)

    async def averify(self, hashed: str | bytes, password: str | bytes | Any) -> PasswordCheck:
        """:meth:`verify` in a worker thread."""
        return await asyncio.to_thread(self.verify, hashed, password)

    async def adummy_verify(self, password: str | bytes | Any) -> PasswordCheck:
        """:meth:`dummy_verify` in a worker thread."""
        return await asyncio.to_thread(self.dummy_verify, password)


BreachedHook = Callable[[str], Union[bool, Awaitable[bool]]]
"""Returns (or resolves to) ``True`` when the password is known to be breached."""


class BreachedPasswords:
    """A local breached-password list usable as a :data:`BreachedHook`.

    Only BLAKE2b digests of the (case-folded) passwords are kept in memory.
    Load a list such as the top-N common passwords with :meth:`from_file`
    (one password per line).  For the HIBP range API, write an async hook.
    """

    def __init__(self, passwords: Iterable[str] = ()) -> None:
        self._digests = {self._digest(p) for p in str_tuple(passwords, "passwords")}

    @staticmethod
    def _digest(password: str) -> bytes:
        if not isinstance(password, str):
            raise InvalidArgumentError(
                f"A breached password must be str, not {type(password).__name__}",
                context={"type": type(password).__name__},
            )
        data = unicodedata.normalize("NFKC", password).casefold().encode("utf-8", "surrogatepass")
        return bytes(
            nacl.bindings.crypto_generichash_blake2b_salt_personal(
                data, digest_size=16, person=b"pepperpy.breach1"
            )
        )

    @classmethod
    def from_file(cls, path: str | Path, *, encoding: str = "utf-8") -> BreachedPasswords:
        """Read one password per line (blank lines ignored)."""
        file = _path(path)
        try:
            with open(file, encoding=encoding, errors="replace") as handle:
                return cls([line.rstrip("\r\n") for line in handle if line.strip()])
        except (OSError, ValueError, LookupError) as exc:
            raise file_error(file, exc, "read", code="pepperpy.security.file.read") from exc

    def add(self, password: str) -> None:
        """Add one password to the list."""
        self._digests.add(self._digest(password))

    def __contains__(self, password: object) -> bool:
        return isinstance(password, str) and self._digest(password) in self._digests

    def __call__(self, password: str) -> bool:
        return password in self

    def __len__(self) -> int:
        return len(self._digests)

    def __repr__(self) -> str:
        return f"BreachedPasswords(<{len(self)} entries>)"


_CLASSES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("lower-case letter", str.islower),
    ("upper-case letter", str.isupper),
    ("digit", str.isdigit),
    ("symbol", lambda c: not c.isalnum() and not c.isspace()),
)


@attrs.frozen
class PasswordPolicy:
    """Rules a new password must satisfy (NIST SP 800-63B style by default).

    Args:
        min_length: Minimum length in characters (after NFKC normalisation).
        max_length: Maximum length in characters.
        min_classes: How many of lower/upper/digit/symbol must appear (0: no
            composition rule, as NIST recommends).
        min_unique: Minimum number of distinct characters.
        breached: Hook telling whether a password is breached (sync or async),
            e.g. :class:`BreachedPasswords`.
        forbid_user_inputs: Refuse passwords containing the user's own inputs
            (user name, e-mail) passed to :meth:`check`.

    :meth:`check` returns every failed rule; :meth:`validate` raises
    :class:`WeakPasswordError` listing them.  The password is never put in
    an error.
    """

    min_length: int = 12
    max_length: int = 256
    min_classes: int = 0
    min_unique: int = 4
    breached: BreachedHook | None = attrs.field(default=None, repr=False)
    forbid_user_inputs: bool = True

    def __attrs_post_init__(self) -> None:
        for name in ("min_length", "max_length", "min_classes", "min_unique"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidArgumentError(
                    f"PasswordPolicy.{name} must be an int >= 0",
                    context={name: type(value).__name__},
                )
        if self.breached is not None and not callable(self.breached):
            raise InvalidArgumentError(
                "PasswordPolicy.breached must be callable (a BreachedHook)",
                context={"breached": type(self.breached).__name__},
            )

    def _static(self, password: str, user_inputs: Iterable[str]) -> list[ErrorDetail]:
        problems: list[ErrorDetail] = []
        if not isinstance(password, str):
            raise InvalidArgumentError(
                f"A password to check must be str, not {type(password).__name__}",
                context={"type": type(password).__name__},
                hint="Decode the password to text before checking it.",
            )
        user_inputs = str_tuple(user_inputs, "user_inputs")
        text = unicodedata.normalize("NFKC", password)
        if len(text) < self.min_length:
            problems.append(
                ErrorDetail(
                    "/password",
                    f"must be at least {self.min_length} characters long",
                    code="too_short",
                    expected=f">= {self.min_length} characters",
                    value=f"{len(text)} characters",
                )
            )
        if len(text) > self.max_length:
            problems.append(
                ErrorDetail(
                    "/password",
                    f"must be at most {self.max_length} characters long",
                    code="too_long",
                    expected=f"<= {self.max_length} characters",
                    value=f"{len(text)} characters",
                )
            )
        if self.min_classes:
            present = [name for name, test in _CLASSES if any(test(c) for c in text)]
            if len(present) < self.min_classes:
                problems.append(
                    ErrorDetail(
                        "/password",
                        f"must mix at least {self.min_classes} of: lower-case, upper-case, "
                        "digits, symbols",
                        code="too_simple",
                    )
                )
        if len(set(text)) < self.min_unique:
            problems.append(
                ErrorDetail(
                    "/password",
                    f"must contain at least {self.min_unique} different characters",
                    code="too_repetitive",
                )
            )
        if self.forbid_user_inputs:
            lowered = text.casefold()
            for value in user_inputs:
                if value and len(value) >= 3 and value.casefold() in lowered:
                    problems.append(
                        ErrorDetail(
                            "/password",
                            "must not contain your user name or e-mail",
                            code="contains_user_input",
                        )
                    )
                    break
        return problems

    @staticmethod
    def _breached_detail() -> ErrorDetail:
        return ErrorDetail(
            "/password",
            "appears in a list of breached passwords",
            code="breached",
        )

    def check(self, password: str, *, user_inputs: Iterable[str] = ()) -> list[ErrorDetail]:
        """Return every rule *password* breaks (empty list: acceptable).

        Raises :class:`ConfigurationError` if the breached hook is async; use
        :meth:`acheck` then.
        """
        problems = self._static(password, user_inputs)
        if self.breached is not None:
            result = self.breached(password)
            if inspect.isawaitable(result):
                if inspect.iscoroutine(result):
                    result.close()
                raise ConfigurationError(
                    "The breached-password hook is async; call acheck()/avalidate()",
                    code="pepperpy.security.password.async_hook",
                )
            if result:
                problems.append(self._breached_detail())
        return problems

    async def acheck(self, password: str, *, user_inputs: Iterable[str] = ()) -> list[ErrorDetail]:
        """Like :meth:`check`; the breached hook may be sync or async."""
        problems = self._static(password, user_inputs)
        if self.breached is not None:
            result = self.breached(password)
            if inspect.isawaitable(result):
                result = await result
            if result:
                problems.append(self._breached_detail())
        return problems

    def validate(self, password: str, *, user_inputs: Iterable[str] = ()) -> None:
        """Raise :class:`WeakPasswordError` listing every rule *password* breaks."""
        problems = self.check(password, user_inputs=user_inputs)
        if problems:
            raise WeakPasswordError(problems)

    async def avalidate(self, password: str, *, user_inputs: Iterable[str] = ()) -> None:
        """Async :meth:`validate`."""
        problems = await self.acheck(password, user_inputs=user_inputs)
        if problems:
            raise WeakPasswordError(problems)
