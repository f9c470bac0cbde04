"""issue 20 #1: one redactor, one word list.

pepperpy-security's ``Redactor``/``redact`` are built on pepperpy-core's ``Redactor``:
core's word list decides what a secret key is, and security adds only its own
free-text formats (pp1 tokens, API keys, JWTs, card numbers) and ``mask()``.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pepperpy.core import DEFAULT_SECRET_KEYS, default_redactor
from pepperpy.core import Redactor as CoreRedactor
from pepperpy.core import redact as core_redact
from pepperpy.core import redact_text as core_redact_text
from pepperpy.security import DEFAULT_SENSITIVE_KEYS, Redactor, redact

PLACEHOLDER = "[REDACTED]"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbm4ifQ.c2lnbmF0dXJlX19fXw"


def _variants(word: str) -> list[str]:
    """Spellings of a secret word that every redactor must catch."""
    camel = "".join(part.capitalize() for part in word.split("_"))
    return [word, word.upper(), word.replace("_", "-"), f"db{camel}", f"X-{camel}", f"user.{word}"]


def test_security_redactor_is_cores():
    """issue 20 #1: security's Redactor is core's (usable wherever core's is accepted)."""
    assert issubclass(Redactor, CoreRedactor)
    assert isinstance(Redactor(), CoreRedactor)


def test_one_word_list():
    """issue 20 #1: security's default word list is core's, not a second list."""
    assert DEFAULT_SENSITIVE_KEYS == frozenset(DEFAULT_SECRET_KEYS)
    assert Redactor().keys == default_redactor.words


@pytest.mark.parametrize("word", DEFAULT_SECRET_KEYS)
def test_every_core_secret_key_is_masked_by_both(word: str):
    """issue 20 #1: every key of core's DEFAULT_SECRET_KEYS is masked by security and core."""
    security = Redactor()
    for key in _variants(word):
        assert security.is_sensitive(key), key
        assert default_redactor.is_secret_key(key), key
        data = {key: "hunter2", "user": "ann"}
        assert redact(data) == {key: PLACEHOLDER, "user": "ann"}, key
        assert security.redact(data) == {key: PLACEHOLDER, "user": "ann"}, key
        assert core_redact(data) == {key: "***", "user": "ann"}, key
        text = f"login {key}=hunter2 ok"
        assert "hunter2" not in security.redact_text(text), key
        assert "hunter2" not in core_redact_text(text), key


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.text(max_size=30),
        st.builds(
            lambda a, w, b, sep: sep.join(p for p in (a, w, b) if p),
            st.sampled_from(["", "x", "db", "user", "max", "my"]),
            st.sampled_from([*DEFAULT_SECRET_KEYS, "tokens", "session", "author", "keys"]),
            st.sampled_from(["", "id", "count", "type", "value"]),
            st.sampled_from(["_", "-", ".", " "]),
        ),
    )
)
def test_security_and_core_agree_on_every_key(key: str):
    """issue 20 #1: for any key, security's is_sensitive() is core's is_secret_key()."""
    assert Redactor().is_sensitive(key) is default_redactor.is_secret_key(key)


def test_extra_keys_extend_the_core_list():
    """issue 20 #1: with_keys()/extra_keys add to core's list; core's words stay masked."""
    r = Redactor().with_keys("ssn")
    assert r.is_sensitive("ssn") and r.is_sensitive("api_key")
    assert redact({"ssn": "1", "otp": "2", "n": 3}, extra_keys=["ssn"]) == {
        "ssn": PLACEHOLDER,
        "otp": PLACEHOLDER,
        "n": 3,
    }


def test_security_patterns_apply_inside_values():
    """issue 20 #1: security's own formats are masked wherever core scrubs text."""
    r = Redactor()
    out = r.redact({"note": f"jwt {JWT}", "items": ["card 4111 1111 1111 1111"]})
    assert JWT not in str(out) and "4111" not in str(out)
    assert JWT not in r.safe_str({"note": JWT})
    with pytest.raises(RuntimeError) as info:
        raise RuntimeError(f"bad token {JWT}")
    assert JWT not in r.format_exception(info.value)


def test_core_text_rules_apply_in_security():
    """issue 20 #1: core's text rules (URL userinfo, secret pairs) reach security's redact_text."""
    r = Redactor()
    assert r.redact_text("connect postgresql://app:s3cret@db/x") == (
        f"connect postgresql://app:{PLACEHOLDER}@db/x"
    )
    assert "hunter2" not in r.redact_text('{"pin": "hunter2"}')
