"""Attacks on pepperpy-security's promises (issue 17, findings 8-15, and the hostile-input sweep).

Each test tries to break one promise the README or docs/security.md makes.  The
comment or docstring of each names the finding it covers ("issue 17 #N") and, where a
peer library defines the expected behaviour, which peer and how.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import stat
import subprocess
import sys
import textwrap
import unicodedata
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pepperpy.core.exceptions import ConfigurationError, InvalidArgumentError, PepperPyError
from pepperpy.core.types import ManualClock
from pepperpy.security import (
    APIKeys,
    AuthenticationError,
    AuthFailure,
    BoxKeyPair,
    BreachedPasswords,
    Claims,
    Encryptor,
    EphemeralKeyRingWarning,
    FieldEncryptor,
    HashProfile,
    Key,
    KeyRing,
    KeyType,
    PasswordHasher,
    PasswordPolicy,
    Policy,
    Principal,
    Redactor,
    RevocationList,
    Security,
    TokenManager,
    constant_time_equals,
    mask,
    predicate,
    random_bytes,
    random_id,
    random_token,
    redact,
    same_tenant,
    seal,
    unseal,
    use_principal,
)

TYPES = [KeyType.SYMMETRIC, KeyType.ED25519]
DOCS = Path(__file__).resolve().parents[3] / "docs" / "security.md"
README = Path(__file__).resolve().parents[1] / "README.md"


def _reason(manager: TokenManager, token: object, **kwargs: Any) -> AuthFailure:
    with pytest.raises(AuthenticationError) as info:
        manager.verify(token, **kwargs)
    return info.value.reason


async def _auth_reason(security: Security, token: object) -> AuthFailure:
    with pytest.raises(AuthenticationError) as info:
        await security.authenticate(token)
    return info.value.reason


@pytest.fixture
def full_ring(clock: ManualClock) -> KeyRing:
    """A ring holding an active key of every type."""
    return KeyRing.generate(KeyType.SYMMETRIC, KeyType.ED25519, clock=clock)


# -- issue 17 #8: the verifier matrix -------------------------------------------------------


class TestVerifierMatrix:
    """issue 17 #8: a verifier accepts only the key type it was configured for.

    Peer: PyJWT's ``jwt.decode(token, key, algorithms=[...])`` allow-list; a token whose
    algorithm is not in the list is refused (``InvalidAlgorithmError``) even when the key
    would check it.  Here the configured ``key_type`` is that allow-list.
    """

    @pytest.mark.parametrize("configured", TYPES)
    @pytest.mark.parametrize("signed_with", TYPES)
    def test_verify_matrix_token_manager(
        self, full_ring: KeyRing, clock: ManualClock, configured: KeyType, signed_with: KeyType
    ):
        token = TokenManager(full_ring, key_type=signed_with, clock=clock).issue("admin")
        verifier = TokenManager(full_ring, key_type=configured, clock=clock)
        if configured is signed_with:
            assert verifier.verify(token).sub == "admin"
        else:
            assert _reason(verifier, token) is AuthFailure.UNKNOWN_KEY

    @pytest.mark.parametrize("configured", TYPES)
    @pytest.mark.parametrize("signed_with", TYPES)
    async def test_verify_matrix_security(
        self, full_ring: KeyRing, clock: ManualClock, configured: KeyType, signed_with: KeyType
    ):
        """The issue's case: Security(token_key_type="ed25519") took MAC tokens."""
        token = TokenManager(full_ring, key_type=signed_with, clock=clock).issue("admin")
        security = Security(keyring=full_ring, token_key_type=configured, clock=clock)
        if configured is signed_with:
            assert (await security.authenticate(token)).id == "admin"
        else:
            assert await _auth_reason(security, token) is AuthFailure.UNKNOWN_KEY

    @pytest.mark.parametrize("configured", TYPES)
    @pytest.mark.parametrize("signed_with", TYPES)
    def test_verify_matrix_retired_keys(
        self, full_ring: KeyRing, clock: ManualClock, configured: KeyType, signed_with: KeyType
    ):
        """Retired keys inside their grace window obey the same allow-list."""
        token = TokenManager(full_ring, key_type=signed_with, clock=clock).issue("admin")
        full_ring.rotate(KeyType.SYMMETRIC, grace=3600)
        full_ring.rotate(KeyType.ED25519, grace=3600)
        verifier = TokenManager(full_ring, key_type=configured, clock=clock)
        if configured is signed_with:
            assert verifier.verify(token).sub == "admin"
        else:
            assert _reason(verifier, token) is AuthFailure.UNKNOWN_KEY

    @pytest.mark.parametrize("configured", TYPES)
    @pytest.mark.parametrize("signed_with", TYPES)
    def test_verify_matrix_public_ring(
        self, full_ring: KeyRing, clock: ManualClock, configured: KeyType, signed_with: KeyType
    ):
        """A public-only ring verifies Ed25519 tokens only, and only when configured for them."""
        token = TokenManager(full_ring, key_type=signed_with, clock=clock).issue("admin")
        verifier = TokenManager(full_ring.public(), key_type=configured, clock=clock)
        if configured is signed_with is KeyType.ED25519:
            assert verifier.verify(token).sub == "admin"
        else:
            assert _reason(verifier, token) is AuthFailure.UNKNOWN_KEY

    @pytest.mark.parametrize("configured", TYPES)
    @pytest.mark.parametrize(
        "ring_types",
        [(KeyType.SYMMETRIC,), (KeyType.ED25519,), (KeyType.SYMMETRIC, KeyType.ED25519), ()],
        ids=["symmetric", "ed25519", "both", "empty"],
    )
    def test_sign_matrix(self, clock: ManualClock, configured: KeyType, ring_types: tuple):
        """Signing uses only a key of the configured type; without one it refuses."""
        ring = KeyRing(clock=clock)
        for kind in ring_types:
            ring.create(kind)
        before = ring.kids
        manager = TokenManager(ring, key_type=configured, clock=clock)
        if configured in ring_types:
            token = manager.issue("admin")
            assert ring.get(token.split(".")[1]).type is configured
            assert manager.verify(token).sub == "admin"
        else:
            with pytest.raises(ConfigurationError) as info:
                manager.issue("admin")
            assert info.value.code == "pepperpy.security.tokens.cannot_issue"
        assert ring.kids == before

    @pytest.mark.parametrize("configured", TYPES)
    def test_sign_matrix_public_ring(self, full_ring: KeyRing, clock: ManualClock, configured):
        public = full_ring.public()
        with pytest.raises(ConfigurationError) as info:
            TokenManager(public, key_type=configured, clock=clock).issue("admin")
        assert info.value.code == "pepperpy.security.tokens.cannot_issue"


# -- issue 17 #9: verify-only setups --------------------------------------------------------


class TestVerifyOnly:
    async def test_public_ring_security_cannot_issue_and_ring_is_untouched(self, clock):
        """issue 17 #9: the README's verify-only pattern minted admin tokens."""
        issuer_ring = KeyRing.generate(KeyType.ED25519, clock=clock)
        public = issuer_ring.public()
        before = public.kids
        verifier = Security(
            keyring=public, token_key_type="ed25519", issuer="auth", audience="api", clock=clock
        )
        assert public.kids == before
        assert verifier.keyring is public
        with pytest.raises(ConfigurationError) as info:
            verifier.issue_token("mallory", roles=["admin"])
        assert info.value.code == "pepperpy.security.tokens.cannot_issue"
        assert "verify" in info.value.message
        assert public.kids == before
        issuer = Security(
            keyring=issuer_ring,
            token_key_type="ed25519",
            issuer="auth",
            audience="api",
            clock=clock,
        )
        token = issuer.issue_token("ann")
        assert (await verifier.authenticate(token)).id == "ann"

    def test_caller_ring_never_gets_keys(self, clock: ManualClock):
        """issue 17 #9: no key is ever added to a ring the caller passed in."""
        for ring in (KeyRing(clock=clock), KeyRing.generate(KeyType.ED25519, clock=clock)):
            before = ring.kids
            Security(keyring=ring, clock=clock)
            Security(keyring=ring, token_key_type="ed25519", clock=clock)
            assert ring.kids == before

    def test_caller_ring_without_symmetric_key_cannot_encrypt(self, clock: ManualClock):
        security = Security(keyring=KeyRing.generate(KeyType.ED25519, clock=clock), clock=clock)
        with pytest.raises(ConfigurationError):
            security.encrypt(b"x")

    def test_env_ring_never_gets_keys(self, monkeypatch: pytest.MonkeyPatch, clock):
        """issue 17 #9: a ring from PEPPERPY_KEYRING is the caller's too; nothing is minted."""
        ring = KeyRing.generate(KeyType.SYMMETRIC, clock=clock)
        monkeypatch.setenv("PEPPERPY_KEYRING", ring.to_json(include_secrets=True))
        security = Security(token_key_type="ed25519", clock=clock)
        assert security.keyring.kids == ring.kids
        with pytest.raises(ConfigurationError):
            security.issue_token("ann")


# -- issue 17 #10: revocations and the leeway ----------------------------------------------


class TestRevocationLeeway:
    def test_revoked_token_stays_revoked_until_exp_plus_leeway(self, full_ring, clock):
        """issue 17 #10: at exp+10 s (leeway 30 s) a revoked token verified."""
        revoked = RevocationList(clock=clock)
        manager = TokenManager(full_ring, ttl=60, leeway=30, revocation=revoked, clock=clock)
        token = manager.issue("ann")
        revoked.revoke(manager.verify(token))
        clock.advance_sync(60 + 10)
        assert _reason(manager, token) is AuthFailure.REVOKED
        assert revoked.purge() == 0  # still needed: the verifier accepts until exp + leeway
        assert _reason(manager, token) is AuthFailure.REVOKED
        clock.advance_sync(21)  # exp + 31: past the leeway
        assert _reason(manager, token) is AuthFailure.EXPIRED
        assert revoked.purge() == 1

    def test_a_larger_leeway_on_the_verifier_is_honoured(self, full_ring, clock):
        """issue 17 #10: the list learns the leeway of the manager it is attached to."""
        revoked = RevocationList(clock=clock)
        manager = TokenManager(full_ring, ttl=60, leeway=600, revocation=revoked, clock=clock)
        token = manager.issue("ann")
        revoked.revoke(manager.verify(token))
        clock.advance_sync(60 + 500)
        assert revoked.purge() == 0
        assert _reason(manager, token) is AuthFailure.REVOKED

    async def test_security_facade_revocation_inside_leeway(self, full_ring, clock):
        revoked = RevocationList(clock=clock)
        security = Security(
            keyring=full_ring, token_ttl=60, leeway=30, revocation=revoked, clock=clock
        )
        token = security.issue_token("ann")
        revoked.revoke(await security.tokens.averify(token))
        clock.advance_sync(70)
        assert await _auth_reason(security, token) is AuthFailure.REVOKED

    @pytest.mark.parametrize("until", [math.nan, "soon", object()])
    def test_bad_until_is_refused(self, clock: ManualClock, until: object):
        """A NaN 'until' made the entry never match: refuse it."""
        with pytest.raises(InvalidArgumentError):
            RevocationList(clock=clock).revoke("jti", until=until)  # type: ignore[arg-type]

    @pytest.mark.parametrize("leeway", [math.nan, math.inf, -1.0])
    def test_bad_leeway_is_refused(self, clock: ManualClock, leeway: float):
        with pytest.raises(InvalidArgumentError):
            RevocationList(clock=clock, leeway=leeway)


# -- issue 17 #11: audience required when configured ------------------------------------------


class TestAudienceRequired:
    """issue 17 #11.  Peer: PyJWT ``jwt.decode(..., audience="api")`` on a token without
    ``aud`` raises ``MissingRequiredClaimError('aud')``."""

    def test_token_without_aud_is_refused_by_a_verifier_with_an_audience(self, full_ring, clock):
        token = TokenManager(full_ring, clock=clock).issue("ann")  # no audience: no aud claim
        assert "aud" not in TokenManager(full_ring, clock=clock).verify(token).to_dict()
        verifier = TokenManager(full_ring, audience="api", clock=clock)
        assert _reason(verifier, token) is AuthFailure.INVALID_CLAIMS

    def test_per_call_audience_also_requires_aud(self, full_ring, clock):
        token = TokenManager(full_ring, clock=clock).issue("ann")
        manager = TokenManager(full_ring, clock=clock)
        assert _reason(manager, token, audience="api") is AuthFailure.INVALID_CLAIMS

    async def test_security_with_audience_refuses_token_without_aud(self, full_ring, clock):
        token = Security(keyring=full_ring, clock=clock).issue_token("ann")
        verifier = Security(keyring=full_ring, audience="api", clock=clock)
        assert await _auth_reason(verifier, token) is AuthFailure.INVALID_CLAIMS
        good = Security(keyring=full_ring, audience="api", clock=clock).issue_token("ann")
        assert (await verifier.authenticate(good)).id == "ann"


# -- issue 17 #12: deny rules fail closed ------------------------------------------------------


def _editor_policy(condition: Any) -> Policy:
    return Policy().role("editor", "doc:write").deny("doc:*", when=condition, name="guard")


class _Boom(Exception):
    def __str__(self) -> str:
        raise RuntimeError("__str__ raised")


class _BadBool:
    def __bool__(self) -> bool:
        raise ValueError("no truth value")


class TestDenyFailsClosed:
    @predicate
    @staticmethod
    def _key_error(principal: Principal, resource: Any) -> bool:
        return bool(resource["classified"])  # KeyError when missing

    @pytest.mark.parametrize(
        "condition",
        [
            predicate(lambda p, r: r["classified"]),
            ~predicate(lambda p, r: r["classified"]),
            predicate(lambda p, r: r["classified"]) & same_tenant(),
            same_tenant() | predicate(lambda p, r: r["classified"]),
            predicate(lambda p, r: _BadBool()),
        ],
        ids=["plain", "inverted", "and", "or", "bad-bool"],
    )
    def test_deny_whose_condition_raises_denies(self, condition: Any):
        """issue 17 #12: the editor's allow won when the deny condition raised."""
        policy = _editor_policy(condition)
        editor = Principal("ann", roles={"editor"})
        decision = policy.authorize(editor, "doc:write", {"title": "x"})
        assert decision.allowed is False
        assert decision.rule is not None and decision.rule.name == "guard"
        explained = policy.explain(editor, "doc:write", {"title": "x"})
        assert explained.startswith("DENY")
        assert "raised" in explained
        assert ("KeyError" in explained) or ("ValueError" in explained)

    def test_explain_shows_the_error_message(self):
        policy = _editor_policy(predicate(lambda p, r: r["classified"]))
        text = policy.explain(Principal("ann", roles={"editor"}), "doc:write", {})
        assert "KeyError" in text and "classified" in text

    def test_error_whose_str_raises_still_denies_and_explains(self):
        def boom(principal: Principal, resource: Any) -> bool:
            raise _Boom()

        policy = _editor_policy(predicate(boom))
        editor = Principal("ann", roles={"editor"})
        assert policy.authorize(editor, "doc:write").allowed is False
        assert "_Boom" in policy.explain(editor, "doc:write")

    def test_allow_whose_condition_raises_does_not_allow(self):
        policy = Policy().allow("doc:delete", when=predicate(lambda p, r: r["owner"] == p.id))
        decision = policy.authorize(Principal("ann"), "doc:delete", {})
        assert decision.allowed is False
        assert "KeyError" in decision.explain()


# -- issue 17 #13: key files and plaintext files are 0600 --------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    """Run with umask 0, the worst case: only an explicit chmod gives 0600."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


class TestFileModes:
    @pytest.mark.parametrize("sealed", [False, True])
    def test_to_file_over_existing_0644_file(self, tmp_path: Path, open_umask, sealed: bool):
        """issue 17 #13: to_file over an existing 0644 file left it 0644."""
        path = tmp_path / "keys.json"
        path.write_text("old")
        path.chmod(0o644)
        ring = KeyRing.generate()
        if sealed:
            ring.to_file(path, password="pw")
        else:
            ring.to_file(path)
        assert _mode(path) == 0o600
        if not sealed:
            assert KeyRing.from_file(path).kids == ring.kids

    def test_to_file_new_file_with_open_umask(self, tmp_path: Path, open_umask):
        path = tmp_path / "new.json"
        KeyRing.generate().to_file(path)
        assert _mode(path) == 0o600

    async def test_decrypt_file_output_is_0600(self, tmp_path: Path, open_umask):
        """issue 17 #13: decrypt_file wrote plaintext with the umask's mode."""
        enc = Encryptor(KeyRing.generate())
        plain, sealed, out = tmp_path / "p", tmp_path / "c", tmp_path / "out"
        plain.write_bytes(b"secret" * 1000)
        await enc.encrypt_file(plain, sealed)
        await enc.decrypt_file(sealed, out)
        assert _mode(out) == 0o600
        assert out.read_bytes() == plain.read_bytes()

    async def test_decrypt_file_over_existing_0644_file(self, tmp_path: Path, open_umask):
        enc = Encryptor(KeyRing.generate())
        plain, sealed, out = tmp_path / "p", tmp_path / "c", tmp_path / "out"
        plain.write_bytes(b"secret")
        await enc.encrypt_file(plain, sealed)
        out.write_bytes(b"old")
        out.chmod(0o644)
        await enc.decrypt_file(sealed, out)
        assert _mode(out) == 0o600
        assert out.read_bytes() == b"secret"


# -- issue 17 #14: ephemeral key rings ---------------------------------------------------------


class TestEphemeralKeyRing:
    def test_warns_once_per_process(self, tmp_path: Path):
        """issue 17 #14: Security() without a ring is silently ephemeral; warn (once)."""
        script = textwrap.dedent(
            """
            import os
            import warnings
            from pepperpy.security import EphemeralKeyRingWarning, KeyRing, Security

            def count(make):
                with warnings.catch_warnings(record=True) as seen:
                    warnings.simplefilter("always")
                    make()
                return [w for w in seen if issubclass(w.category, EphemeralKeyRingWarning)]

            # A fresh process: nothing has warned yet. A ring given or from the env: silence.
            print(len(count(lambda: Security(keyring=KeyRing.generate()))))
            os.environ["PEPPERPY_KEYRING"] = KeyRing.generate().to_json(include_secrets=True)
            print(len(count(lambda: Security())))
            del os.environ["PEPPERPY_KEYRING"]
            # No ring: exactly one warning for three instances.
            hits = count(lambda: [Security() for _ in range(3)])
            print(len(hits))
            print(str(hits[0].message) if hits else "")
            """
        )
        env = {k: v for k, v in os.environ.items() if k != "PEPPERPY_KEYRING"}
        result = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
        )
        with_ring, from_env, without, message = result.stdout.splitlines()[:4]
        assert (with_ring, from_env, without) == ("0", "0", "1")
        assert "keyring=" in message

    async def test_unknown_key_message_names_the_ephemeral_case(self, monkeypatch):
        """issue 17 #14: 'the signing key was rotated out' was wrong for two Security()s."""
        monkeypatch.delenv("PEPPERPY_KEYRING", raising=False)
        with warnings.catch_warnings():  # emitted once per process: maybe by an earlier test
            warnings.simplefilter("ignore", EphemeralKeyRingWarning)
            one, two = Security(), Security()
        with pytest.raises(AuthenticationError) as info:
            await two.authenticate(one.issue_token("ann"))
        error = info.value
        assert error.reason is AuthFailure.UNKNOWN_KEY
        text = f"{error.message} {error.hint}"
        assert "rotated out" not in text
        assert "keyring=" in text and "Security()" in text

    def test_docs_show_a_persistent_ring(self):
        """issue 17 #14: docs/security.md documents Security(keyring=KeyRing.from_file(...))."""
        if not DOCS.is_file():
            pytest.skip("docs/security.md is in the monorepo, not in the sdist")
        assert "Security(keyring=KeyRing.from_file(" in DOCS.read_text("utf-8")


# -- issue 17 #15: bytes and str passwords agree ---------------------------------------------


class TestPasswordNormalisation:
    @pytest.mark.parametrize(
        "text",
        ["ﬁle ﬂow", "Å", "\uff21\uff42\uff43\uff11\uff12\uff13", "e\u0301te\u0301", "plain ascii"],
        ids=["ligatures", "angstrom", "fullwidth", "combining", "ascii"],
    )
    def test_str_and_bytes_agree_both_ways(self, fast_hasher: PasswordHasher, text: str):
        """issue 17 #15: verify() normalised str (NFKC) but not the same password as bytes."""
        nfkc = unicodedata.normalize("NFKC", text)
        for stored in (text, text.encode(), nfkc, nfkc.encode()):
            hashed = fast_hasher.hash(stored)
            for offered in (text, text.encode("utf-8"), nfkc, nfkc.encode("utf-8")):
                assert fast_hasher.verify(hashed, offered).ok, (stored, offered)

    def test_non_utf8_bytes_still_work(self, fast_hasher: PasswordHasher):
        raw = b"\xff\xfe\x00binary"
        assert fast_hasher.verify(fast_hasher.hash(raw), raw).ok
        assert not fast_hasher.verify(fast_hasher.hash(raw), b"\xff\xfe\x00binarY").ok

    def test_lone_surrogate_password_is_a_clear_error(self, fast_hasher: PasswordHasher):
        with pytest.raises(InvalidArgumentError):
            fast_hasher.hash("abc\ud800def")
        hashed = fast_hasher.hash("abcdef")
        with pytest.raises(InvalidArgumentError):
            fast_hasher.verify(hashed, "abc\ud800def")

    def test_readme_speed_claim_matches_the_benchmark(self):
        """issue 17 #15: the README claimed 'several times faster than PyJWT' (1.4x/1.8x)."""
        text = README.read_text("utf-8")
        assert "several times faster" not in text
        assert "bench_security.py" in text


# -- hostile inputs: only PepperPyError subclasses escape ---------------------------------------


class _StrRaises:
    def __str__(self) -> str:
        raise RuntimeError("__str__ raised")

    __repr__ = __str__


class _FloatRaises:
    def __float__(self) -> float:
        raise RuntimeError("__float__ raised")


HOSTILE: list[Any] = [
    None,
    math.nan,
    math.inf,
    -math.inf,
    10**400,
    1e308,
    "\ud800",
    b"\xff\xfe",
    _StrRaises(),
    _FloatRaises(),
    object(),
    "x" * 100_000,
    [1, 2],
    {"a": 1},
]
HOSTILE_IDS = [
    "none",
    "nan",
    "inf",
    "-inf",
    "huge-int",
    "huge-float",
    "surrogate",
    "non-utf8",
    "str-raises",
    "float-raises",
    "object",
    "long",
    "list",
    "dict",
]


def _only_pepperpy_errors(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except PepperPyError:
        return None


class TestHostileInputs:
    """issue 17, "close the class": only PepperPyError subclasses may escape a public API.

    NaN/inf/huge numbers, lone surrogates, non-UTF-8 bytes, objects whose ``__str__`` or
    ``__float__`` raises, and values of the wrong type, against tokens, the facade, policies,
    key rings, passwords, masking and encryption.  Anything a manager issues must verify.
    """

    @pytest.mark.parametrize("value", HOSTILE, ids=HOSTILE_IDS)
    def test_token_manager_arguments(self, full_ring: KeyRing, clock: ManualClock, value: Any):
        for kwargs in ({"ttl": value}, {"leeway": value}, {"max_length": value}):
            _only_pepperpy_errors(TokenManager, full_ring, clock=clock, **kwargs)
        manager = TokenManager(full_ring, clock=clock, audience="api")
        for kwargs in (
            {"ttl": value},
            {"scopes": value},
            {"roles": value},
            {"tenant": value},
            {"audience": value},
            {"jti": value},
            {"claims": value},
            {"claims": {"extra": value}},
        ):
            token = _only_pepperpy_errors(manager.issue, "ann", **kwargs)
            if token is not None:  # anything issued must verify
                assert manager.verify(token, audience=kwargs.get("audience", "api")).sub == "ann"
        token = _only_pepperpy_errors(manager.issue, value)
        if token is not None:
            manager.verify(token)
        _only_pepperpy_errors(manager.verify, value)
        _only_pepperpy_errors(manager.verify, manager.issue("ann"), audience=value)

    @pytest.mark.parametrize("ttl", [math.nan, math.inf, -math.inf, 1e400, -1, 0])
    def test_non_finite_ttl_is_refused(self, full_ring: KeyRing, clock: ManualClock, ttl: float):
        with pytest.raises(InvalidArgumentError):
            TokenManager(full_ring, clock=clock).issue("ann", ttl=ttl)
        with pytest.raises(InvalidArgumentError):
            TokenManager(full_ring, clock=clock, ttl=ttl)

    @pytest.mark.parametrize("leeway", [math.nan, math.inf])
    def test_non_finite_leeway_is_refused(self, full_ring: KeyRing, clock: ManualClock, leeway):
        """A NaN leeway made every token immortal (now >= exp + nan is False)."""
        with pytest.raises(InvalidArgumentError):
            TokenManager(full_ring, clock=clock, leeway=leeway)

    @pytest.mark.parametrize("exp", [10**400, 2**63, -(10**30)])
    def test_signed_huge_exp_is_malformed_not_overflow(self, full_ring, clock, exp: int):
        manager = TokenManager(full_ring, clock=clock)
        now = int(clock.time())
        token = manager.sign(Claims(sub="ann", iat=now, exp=exp, jti="j"))
        assert _reason(manager, token) in {AuthFailure.MALFORMED, AuthFailure.EXPIRED}

    @pytest.mark.parametrize("depth", [3000, 50_000])
    def test_deeply_nested_claims(self, full_ring: KeyRing, clock: ManualClock, depth: int):
        """json's RecursionError escaped issue() (and would escape verify() of a signed one)."""
        nested: list[Any] = []
        cursor = nested
        for _ in range(depth):
            cursor.append([])
            cursor = cursor[0]
        manager = TokenManager(full_ring, clock=clock, max_length=1 << 20)
        with pytest.raises(InvalidArgumentError):
            manager.issue("ann", claims={"x": nested})
        from pepperpy.security._tokens import _b64e, _tag

        key = full_ring.active()
        payload = _b64e(b'{"x":' + b"[" * depth + b"]" * depth + b"}")
        signing_input = f"pp1.{key.kid}.{payload}".encode()
        token = f"{signing_input.decode()}.{_b64e(_tag(key, signing_input))}"
        assert _reason(manager, token) is AuthFailure.MALFORMED
        with pytest.raises(PepperPyError):
            KeyRing.from_json('{"a":' + "[" * depth + "]" * depth + "}")

    async def test_rotation_that_would_exceed_max_length_keeps_the_token(self, clock):
        """verify_and_rotate() must not raise when the re-signed token (longer kid) is too long."""
        ring = KeyRing(clock=clock)
        ring.create(kid="a")
        token = TokenManager(ring, clock=clock, max_length=1 << 16).issue(
            "ann", claims={"pad": "x" * 500}
        )
        ring.rotate(kid="k" * 64, grace=3600)
        manager = TokenManager(ring, clock=clock, max_length=len(token))
        result = await manager.verify_and_rotate(token)
        assert result.claims.sub == "ann"
        assert result.rotated is None

    def test_issued_scopes_must_be_strings(self, full_ring: KeyRing, clock: ManualClock):
        """A token the manager issues must be one it accepts: scopes=[1] used to verify as
        malformed after issuing."""
        manager = TokenManager(full_ring, clock=clock)
        for kwargs in ({"scopes": [1]}, {"roles": [None]}, {"tenant": 5}, {"audience": [b"x"]}):
            with pytest.raises(InvalidArgumentError):
                manager.issue("ann", **kwargs)

    @pytest.mark.parametrize("value", HOSTILE, ids=HOSTILE_IDS)
    async def test_security_facade(self, full_ring: KeyRing, clock: ManualClock, value: Any):
        security = Security(
            keyring=full_ring, clock=clock, password_hasher=PasswordHasher(HashProfile.MIN)
        )
        with pytest.raises(AuthenticationError):
            await security.authenticate(value)
        with pytest.raises(AuthenticationError):
            await security.authenticate(f"Bearer {value!s}" if isinstance(value, str) else value)
        _only_pepperpy_errors(security.issue_token, "ann", ttl=value)
        await _async_only_pepperpy_errors(security.hash_password, value)
        hashed = security.passwords.hash("a long enough passphrase")
        await _async_only_pepperpy_errors(security.verify_password, hashed, value)
        await _async_only_pepperpy_errors(security.verify_password, value, "x")
        await _async_only_pepperpy_errors(security.create_api_key, "ann", ttl=value)
        await _async_only_pepperpy_errors(security.create_api_key, value)
        _only_pepperpy_errors(security.encrypt, value)
        _only_pepperpy_errors(security.decrypt, value)
        _only_pepperpy_errors(security.encrypt, b"x", context=value)

    @pytest.mark.parametrize("value", HOSTILE, ids=HOSTILE_IDS)
    def test_policy(self, value: Any):
        policy = Policy().role("editor", "doc:*").deny("doc:delete", when=~same_tenant())
        editor = Principal("ann", roles={"editor"}, tenant="t")
        _only_pepperpy_errors(policy.authorize, editor, value)
        _only_pepperpy_errors(policy.authorize, value, "doc:read")
        decision = _only_pepperpy_errors(policy.authorize, editor, "doc:delete", value)
        assert decision is None or decision.allowed is False
        _only_pepperpy_errors(policy.role, value)
        _only_pepperpy_errors(policy.allow, value)
        _only_pepperpy_errors(Policy.from_dict, value)
        _only_pepperpy_errors(Policy.from_dict, {"roles": {"r": {"permissions": value}}})
        _only_pepperpy_errors(Policy.from_dict, {"rules": [{"actions": ["a"], "name": value}]})
        _only_pepperpy_errors(Policy.from_dict, {"roles": {value: {}}} if _hashable(value) else {})

    @pytest.mark.parametrize("value", HOSTILE, ids=HOSTILE_IDS)
    def test_keys_and_rings(self, clock: ManualClock, value: Any):
        ring = KeyRing.generate(clock=clock)
        _only_pepperpy_errors(KeyRing.from_json, value)
        _only_pepperpy_errors(KeyRing.from_json, ring.to_json(include_secrets=True), password=value)
        _only_pepperpy_errors(KeyRing.from_dict, value)
        _only_pepperpy_errors(
            KeyRing.from_dict, {"format": "pepperpy.keyring/1", "keys": [{"kid": value}]}
        )
        _only_pepperpy_errors(
            KeyRing.from_dict,
            {
                "format": "pepperpy.keyring/1",
                "keys": [{"kid": "a", "type": "symmetric", "material": value}],
            },
        )
        _only_pepperpy_errors(
            KeyRing.from_dict,
            {
                "format": "pepperpy.keyring/1",
                "keys": [{"kid": "a", "type": "symmetric", "created_at": value}],
            },
        )
        _only_pepperpy_errors(Key.from_bytes, value, kid="a")
        _only_pepperpy_errors(Key.generate, value)
        _only_pepperpy_errors(Key.generate, kid=value)
        _only_pepperpy_errors(ring.rotate, grace=value)
        _only_pepperpy_errors(ring.retire, ring.active().kid, grace=value)
        _only_pepperpy_errors(ring.get, value)
        _only_pepperpy_errors(ring.activate, value)
        _only_pepperpy_errors(ring.seal, value, opslimit=1, memlimit=8192)
        _only_pepperpy_errors(KeyRing.from_file, value)
        sealed = ring.seal("pw", opslimit=1, memlimit=8192)
        _only_pepperpy_errors(KeyRing.from_json, sealed, password=value)
        # A ring with a NaN grace must not become immortal: it is refused or expires.
        fresh = KeyRing.generate(clock=clock)
        kid = fresh.active().kid
        if _only_pepperpy_errors(fresh.retire, kid, grace=value) is not None:
            expires = fresh.get(kid).expires_at
            assert expires is None or not math.isnan(expires)

    @pytest.mark.parametrize("value", HOSTILE, ids=HOSTILE_IDS)
    def test_masking_and_passwords(self, value: Any, fast_hasher: PasswordHasher):
        _only_pepperpy_errors(mask, value)
        _only_pepperpy_errors(Redactor().redact_text, value)
        _only_pepperpy_errors(Redactor().is_sensitive, value)
        Redactor().redact({"password": value, "x": [value]})
        _only_pepperpy_errors(fast_hasher.hash, value)
        _only_pepperpy_errors(fast_hasher.verify, fast_hasher.hash("pw"), value)
        _only_pepperpy_errors(fast_hasher.verify, value, "pw")
        _only_pepperpy_errors(fast_hasher.needs_rehash, value)
        _only_pepperpy_errors(PasswordPolicy().check, value)
        _only_pepperpy_errors(PasswordPolicy().check, "a fine passphrase", user_inputs=[value])
        _only_pepperpy_errors(PasswordHasher, opslimit=value)
        _only_pepperpy_errors(RevocationList().revoke, value)

    @pytest.mark.parametrize("value", HOSTILE, ids=HOSTILE_IDS)
    def test_encryption(self, value: Any):
        enc = Encryptor(KeyRing.generate())
        _only_pepperpy_errors(enc.encrypt, value)
        _only_pepperpy_errors(enc.decrypt, value)
        _only_pepperpy_errors(enc.encrypt_text, value)
        _only_pepperpy_errors(enc.decrypt_text, value)
        _only_pepperpy_errors(enc.key_id, value)
        _only_pepperpy_errors(enc.needs_rotation, value)
        _only_pepperpy_errors(enc.stream_encrypter, chunk_size=value)
        _only_pepperpy_errors(lambda: list(enc.decrypt_chunks([value])))
        _only_pepperpy_errors(lambda: list(enc.encrypt_chunks([value])))


def _other_public_calls(tmp: Path) -> dict[str, Any]:
    """One call per remaining public entry point, each taking the hostile value."""
    ring = KeyRing.generate()
    enc = Encryptor(ring)
    pair = BoxKeyPair.generate()
    keys = APIKeys()
    fields = FieldEncryptor(enc)
    out = str(tmp / "out")
    return {
        "Principal": lambda v: Principal(v),
        "Principal.roles": lambda v: Principal("a", roles=v),
        "Principal.scopes": lambda v: Principal("a", scopes=v),
        "Principal.tenant": lambda v: Principal("a", tenant=v),
        "Principal.attributes": lambda v: Principal("a", attributes=v),
        "Principal.has_scope": lambda v: Principal("a", scopes={"x:*"}).has_scope(v),
        "use_principal": lambda v: use_principal(v).__enter__(),
        "seal.data": lambda v: seal(v, pair.public_key),
        "seal.key": lambda v: seal(b"x", v),
        "unseal": lambda v: unseal(v, pair),
        "unseal.pair": lambda v: unseal(seal(b"x", pair.public_key), v),
        "BoxKeyPair.from_private_bytes": lambda v: BoxKeyPair.from_private_bytes(v),
        "constant_time_equals": lambda v: constant_time_equals(v, "abc"),
        "constant_time_equals.b": lambda v: constant_time_equals(b"abc", v),
        "random_token": lambda v: random_token(v),
        "random_id": lambda v: random_id(v),
        "random_id.nbytes": lambda v: random_id("u", nbytes=v),
        "random_bytes": lambda v: random_bytes(v),
        "APIKeys.revoke": lambda v: keys.revoke(v),
        "APIKeys.rotate": lambda v: keys.rotate(v),
        "APIKeys.rotate.grace": lambda v: keys.rotate("missing", grace=v),
        "APIKeys.verify": lambda v: keys.verify(v),
        "APIKeys.prefix": lambda v: APIKeys(prefix=v),
        "BreachedPasswords": lambda v: BreachedPasswords(v),
        "BreachedPasswords.add": lambda v: BreachedPasswords().add(v),
        "BreachedPasswords.from_file": lambda v: BreachedPasswords.from_file(v),
        "Redactor.keys": lambda v: Redactor(keys=v),
        "Redactor.with_keys": lambda v: Redactor().with_keys(v),
        "Redactor.patterns": lambda v: Redactor(patterns=v),
        "redact.extra_keys": lambda v: redact({"a": 1}, extra_keys=v),
        "mask.keep_start": lambda v: mask("abcdefgh", keep_start=v),
        "mask.keep_end": lambda v: mask("abcdefgh", keep_end=v),
        "mask.char": lambda v: mask("abcdefgh", char=v),
        "FieldEncryptor.encrypt_fields": lambda v: fields.encrypt_fields(v),
        "FieldEncryptor.decrypt_fields": lambda v: fields.decrypt_fields(v),
        "FieldEncryptor.fields": lambda v: fields.encrypt_fields(Principal("a"), fields=v),
        "Encryptor.keyring": lambda v: Encryptor(v).encrypt(b"x"),
        "Encryptor.decrypt_and_rotate": lambda v: enc.decrypt_and_rotate(v),
        "Encryptor.rotate": lambda v: enc.rotate(v),
        "Encryptor.decrypt.context": lambda v: enc.decrypt(enc.encrypt(b"x"), context=v),
        "Encryptor.encrypt_file": lambda v: enc.encrypt_file(v, out),
        "Encryptor.decrypt_file": lambda v: enc.decrypt_file(__file__, v),
        "Encryptor.encrypt_stream": lambda v: enc.encrypt_stream(v, v),
        "TokenManager.keyring": lambda v: TokenManager(v).issue("a"),
        "Security.keyring": lambda v: Security(keyring=v),
        "Security.policy": lambda v: Security(keyring=ring, policy=v),
        "Security.token_ttl": lambda v: Security(keyring=ring, token_ttl=v),
        "Security.token_key_type": lambda v: Security(keyring=ring, token_key_type=v),
        "Security.api_key_prefix": lambda v: Security(keyring=ring, api_key_prefix=v),
        "Policy.from_dict.predicate": lambda v: Policy.from_dict(
            {"rules": [{"actions": ["a"], "when": "p"}]}, predicates={"p": v}
        ),
        "Policy.from_dict.predicates": lambda v: Policy.from_dict({}, predicates=v),
        "Policy.requires": lambda v: Policy().requires(v),
        "Policy.add_rule": lambda v: Policy().add_rule(v).authorize(Principal("a"), "x"),
        "KeyRing.keys": lambda v: KeyRing(v),
        "KeyRing.active": lambda v: KeyRing(active=v),
        "KeyRing.generate": lambda v: KeyRing.generate(v),
        "KeyRing.add": lambda v: KeyRing().add(v),
        "KeyRing.remove": lambda v: KeyRing().remove(v),
        "KeyRing.usable": lambda v: ring.usable(v),
        "KeyRing.is_active": lambda v: ring.is_active(v),
        "KeyRing.contains": lambda v: v in ring,
        "KeyRing.from_env": lambda v: KeyRing.from_env(v),
        "KeyRing.to_file": lambda v: ring.to_file(v),
        "KeyRing.seal.opslimit": lambda v: ring.seal("pw", opslimit=v, memlimit=8192),
        "Claims.from_dict.roles": lambda v: Claims.from_dict(
            {"sub": "a", "iat": 1, "exp": 2, "jti": "j", "roles": v}
        ),
        "Claims.from_dict.extra": lambda v: Claims.from_dict(
            {"sub": "a", "iat": 1, "exp": 2, "jti": "j", "x": v}
        ).to_principal(),
        "PasswordHasher.dummy_verify": lambda v: PasswordHasher(HashProfile.MIN).dummy_verify(v),
        "PasswordPolicy.acheck": lambda v: PasswordPolicy().acheck(v),
        "PasswordPolicy.min_length": lambda v: PasswordPolicy(min_length=v).check("a" * 20),
    }


class TestEveryOtherPublicAPI:
    """Hostile values against every remaining public entry point (issue 17, hostile inputs):
    a refusal is a PepperPyError, never TypeError/AttributeError/MemoryError/...."""

    @pytest.mark.parametrize(
        "value", [*HOSTILE, -1, 0, 2**40], ids=[*HOSTILE_IDS, "-1", "0", "2**40"]
    )
    async def test_only_pepperpy_errors_escape(self, tmp_path: Path, value: Any):
        escaped = []
        for name, call in _other_public_calls(tmp_path).items():
            try:
                result = call(value)
                if inspect.isawaitable(result):
                    await result
            except PepperPyError:
                pass
            except Exception as exc:  # collected and reported below, never swallowed
                escaped.append(f"{name}: {type(exc).__name__}")
        assert escaped == []


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["symmetric", "ed25519", "pepperpy.keyring/1", "allow", "deny", "*"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "kid",
                    "type",
                    "material",
                    "public_key",
                    "created_at",
                    "expires_at",
                    "keys",
                    "active",
                    "format",
                    "roles",
                    "rules",
                    "effect",
                    "actions",
                    "when",
                    "name",
                    "permissions",
                    "inherits",
                    "sub",
                    "iat",
                    "exp",
                    "jti",
                    "aud",
                    "scopes",
                ]
            )
            | st.text(max_size=8),
            inner,
            max_size=5,
        )
    ),
    max_leaves=25,
)


class TestStructuredJunk:
    """issue 17 (hostile inputs): arbitrary JSON-shaped data at the parsers gives only
    PepperPyError subclasses (hypothesis)."""

    @settings(max_examples=150, deadline=None)
    @given(data=_JSON)
    def test_parsers(self, data: Any):
        for parse in (
            KeyRing.from_dict,
            lambda d: KeyRing.from_dict({"format": "pepperpy.keyring/1", "keys": [d]}),
            lambda d: KeyRing.from_json(json.dumps(d, allow_nan=True)),
            Policy.from_dict,
            lambda d: Policy.from_dict({"roles": d, "rules": d}),
            Claims.from_dict,
        ):
            try:
                parse(data)
            except PepperPyError:
                pass


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


async def _async_only_pepperpy_errors(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return await fn(*args, **kwargs)
    except PepperPyError:
        return None
