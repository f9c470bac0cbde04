"""Hostile review of pepperpy-security's 0.1.1 fixes (after issue 17 #8-15).

Each test attacks one promise next to a fixed finding; the docstring names it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from pepperpy.core.exceptions import InvalidArgumentError, PepperPyError
from pepperpy.security import KeyRing, Policy, Predicate, Principal, predicate


def _editor() -> Principal:
    return Principal(id="u1", roles=frozenset({"editor"}))


def test_async_condition_on_an_allow_rule_does_not_allow() -> None:
    """Next to issue 17 #12 (fail closed): an ``async def`` condition returns a coroutine,
    which is truthy, so the allow rule used to allow whatever the condition would say."""

    async def is_admin(principal: Principal, resource: Any) -> bool:
        return False

    policy = Policy().role("editor", "doc:read")
    policy.allow("doc:delete", when=Predicate(is_admin, "is_admin"))
    decision = policy.authorize(_editor(), "doc:delete")
    assert decision.allowed is False
    assert "async" in decision.explain()


def test_async_condition_on_a_deny_rule_denies_and_says_why() -> None:
    """Next to issue 17 #12: an async deny condition cannot be evaluated, so it denies
    (fail closed) and the explanation names the cause."""

    async def is_banned(principal: Principal, resource: Any) -> bool:
        return False

    policy = Policy().role("editor", "doc:*")
    policy.deny("doc:*", when=Predicate(is_banned, "is_banned"))
    decision = policy.authorize(_editor(), "doc:edit")
    assert decision.allowed is False
    assert "async" in decision.explain()


@pytest.mark.parametrize("effect", ["allow", "deny"])
def test_a_plain_async_function_as_when_is_refused(effect: str) -> None:
    """Next to issue 17 #12: ``when=<async def>`` is refused when the rule is added."""

    async def cond(principal: Principal, resource: Any) -> bool:
        return True

    policy = Policy().role("editor", "doc:*")
    with pytest.raises(InvalidArgumentError):
        getattr(policy, effect)("doc:*", when=cond)


def test_predicate_decorator_refuses_an_async_function() -> None:
    """Next to issue 17 #12: ``@predicate`` on an ``async def`` is refused where it is written."""
    with pytest.raises(InvalidArgumentError) as info:

        @predicate
        async def owner(principal: Principal, resource: Any) -> bool:
            return True

    assert info.value.hint


def test_composed_async_condition_fails_closed() -> None:
    """Next to issue 17 #12: ``~`` and ``|`` around an async condition must not turn the
    truthy coroutine into an allow (``not coro`` is False, ``coro or x`` is the coroutine)."""

    async def nope(principal: Principal, resource: Any) -> bool:
        return False

    raw: Predicate[Any] = Predicate(nope, "nope")
    never: Predicate[Any] = Predicate(lambda p, r: False, "never")
    policy = Policy().role("editor", "doc:read")
    policy.allow("doc:delete", when=raw | never)
    policy.allow("doc:purge", when=never | raw)
    assert policy.authorize(_editor(), "doc:delete").allowed is False
    assert policy.authorize(_editor(), "doc:purge").allowed is False


@pytest.mark.parametrize("path", ["/", "", "."])
def test_to_file_with_a_path_that_has_no_name(path: str) -> None:
    """Hostile path: ``Path('/').with_name`` raised a raw ValueError out of ``to_file``."""
    with pytest.raises(PepperPyError):
        KeyRing.generate().to_file(path)


@pytest.mark.parametrize(
    ("field", "value"),
    [("opslimit", float("inf")), ("memlimit", float("-inf")), ("opslimit", float("nan"))],
)
def test_sealed_ring_with_non_finite_limits(field: str, value: float) -> None:
    """Hostile sealed file: ``int(inf)`` raised a raw OverflowError (``json`` reads Infinity)."""
    ring = KeyRing.generate()
    sealed = json.loads(ring.seal("pw", opslimit=1, memlimit=8192))
    sealed[field] = value
    with pytest.raises(PepperPyError):
        KeyRing.from_json(json.dumps(sealed), password="pw")


# -- API keys: rotation must not resurrect a revoked or expired key --------------------------

from pepperpy.core import ManualClock  # noqa: E402
from pepperpy.security import APIKeys, AuthenticationError  # noqa: E402


async def test_rotating_a_revoked_api_key_does_not_mint_a_working_one() -> None:
    """Next to issue 17 #10 (revocation holds): ``rotate()`` of a revoked key issued a new,
    valid key with the same grants, so a periodic "rotate every key" job brought revoked
    credentials back."""
    keys = APIKeys()
    plaintext, record = await keys.create("svc", roles=["admin"])
    assert await keys.revoke(record.key_id)
    with pytest.raises(InvalidArgumentError):
        await keys.rotate(record.key_id)
    with pytest.raises(AuthenticationError):
        await keys.verify(plaintext)


async def test_rotating_an_expired_api_key_is_refused() -> None:
    """Rotation keeps a key's remaining lifetime; an expired key has none left to hand on."""
    clock = ManualClock()
    keys = APIKeys(clock=clock)
    _, record = await keys.create("svc", ttl=10)
    clock.advance_sync(11)
    with pytest.raises(InvalidArgumentError):
        await keys.rotate(record.key_id)


# -- revocation: the list's own method as the hook (issue 17 #10 neighbour) ------------------

from pepperpy.security import RevocationList, Security  # noqa: E402


def test_revocation_list_is_revoked_as_the_hook_does_not_fail_open() -> None:
    """Issue 17 #10 neighbour: ``revocation=revoked.is_revoked`` (the list's method, where
    the list itself is the documented hook) received Claims, returned False for anything
    that is not a str, and so silently accepted every revoked token."""
    clock = ManualClock(start=1_000_000.0)
    revoked = RevocationList(clock=clock)
    security = Security(
        keyring=KeyRing.generate(clock=clock),
        revocation=revoked.is_revoked,
        leeway=120,
        clock=clock,
    )
    token = security.issue_token("alice", ttl=60)
    claims = security.tokens.verify(token)
    revoked.revoke(claims)
    with pytest.raises(AuthenticationError):
        security.tokens.verify(token)
    clock.advance_sync(60 + 90)  # past exp + the list's 30 s, inside the verifier's 120 s
    with pytest.raises(AuthenticationError):
        security.tokens.verify(token)


def test_is_revoked_refuses_what_is_neither_a_token_id_nor_claims() -> None:
    """A revocation check never answers "not revoked" for input it cannot read."""
    revoked = RevocationList()
    with pytest.raises(InvalidArgumentError):
        revoked.is_revoked(42)  # type: ignore[arg-type]


def test_a_too_long_password_is_not_told_to_be_longer() -> None:
    """Bad input gets a hint saying what to do: a password over max_length was told to
    "Choose a longer password"."""
    from pepperpy.security import PasswordPolicy, WeakPasswordError

    with pytest.raises(WeakPasswordError) as info:
        PasswordPolicy().validate("aB3$" * 300)
    assert "longer" not in (info.value.hint or "")


@pytest.mark.parametrize("closed", ["source", "sink"])
def test_stream_encryption_with_a_closed_file_is_a_pepperpy_error(closed: str) -> None:
    """Only PepperPyError subclasses escape: a closed source or sink made
    encrypt_stream/decrypt_stream raise a raw ValueError ("I/O operation on closed file")."""
    import io

    from pepperpy.security import Encryptor

    encryptor = Encryptor(KeyRing.generate())
    blob = io.BytesIO()
    encryptor.encrypt_stream(io.BytesIO(b"secret data"), blob)
    for call, data in ((encryptor.encrypt_stream, b"plain"), (encryptor.decrypt_stream, None)):
        source = io.BytesIO(blob.getvalue() if data is None else data)
        sink = io.BytesIO()
        (source if closed == "source" else sink).close()
        with pytest.raises(PepperPyError):
            call(source, sink)
