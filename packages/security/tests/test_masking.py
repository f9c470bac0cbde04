"""Tests for pepperpy.security._masking: mask, Redactor, redact."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pepperpy.security import DEFAULT_SENSITIVE_KEYS, Redactor, mask, redact


class TestMask:
    def test_keeps_end(self):
        assert mask("4111111111111111") == "************1111"
        assert mask("secret-value", keep_start=2, keep_end=2) == "se********ue"

    def test_short_values_fully_hidden(self):
        assert mask("abc") == "***"
        assert mask("abcdefg") == "*******"

    @given(st.text(max_size=50), st.integers(0, 10), st.integers(0, 10))
    def test_never_reveals_more_than_half(self, value: str, start: int, end: int):
        masked = mask(value, keep_start=start, keep_end=end)
        assert len(masked) == len(value)
        shown = sum(1 for a, b in zip(value, masked, strict=False) if a == b and b != "*")
        assert shown * 2 <= len(value)


class TestRedactor:
    def test_nested_structures(self):
        data = {
            "user": "ann",
            "Password": "hunter2",
            "headers": {"Authorization": "Bearer abc.def.ghi", "X-Request-ID": "r1"},
            "items": [{"api-key": "k1"}, ("token", "t")],
            "nothing": None,
            "session": None,
        }
        out = redact(data)
        assert out["user"] == "ann" and out["Password"] == "[REDACTED]"
        assert out["headers"] == {"Authorization": "[REDACTED]", "X-Request-ID": "r1"}
        assert out["items"][0] == {"api-key": "[REDACTED]"}
        assert out["items"][1] == ("token", "t")
        assert out["session"] is None
        assert data["Password"] == "hunter2"  # input untouched

    def test_free_text_patterns(self):
        r = Redactor()
        text = (
            "login password=hunter2 token: 'abc' Authorization: Bearer abcdefghijkl1234 "
            "jwt eyJhbGciOi.eyJzdWIiOi.sig card 4111 1111 1111 1111 "
            "pp1.k_1.eyJzdWIiOiJhIn0.c2ln key pk_0123456789abcdefghjk_" + "A" * 43
        )
        out = r.redact_text(text)
        for secret in (
            "hunter2",
            "'abc'",
            "abcdefghijkl1234",
            "eyJzdWIiOi",
            "4111 1111",
            "c2ln",
            "A" * 43,
        ):
            assert secret not in out
        assert "password=[REDACTED]" in out and "[CARD]" in out

    def test_extra_keys_and_secret_objects(self):
        class Secret:
            def get_secret_value(self) -> str:
                return "s3cr3t"

        out = redact({"pin": "1234", "cfg": Secret(), "n": 3}, extra_keys=["PIN"])
        assert out == {"pin": "[REDACTED]", "cfg": "[REDACTED]", "n": 3}
        assert Redactor().with_keys("pin").is_sensitive("PIN")
        assert "password" in DEFAULT_SENSITIVE_KEYS

    def test_key_words_are_matched(self):
        r = Redactor()
        for key in ("dbPassword", "X-Api-Key", "user.password", "GITHUB_TOKEN", "client-secret"):
            assert r.is_sensitive(key), key
        for key in ("user", "tokenizer", "max_tokens", "author"):
            assert not r.is_sensitive(key), key
        # issue 20 #1: core's word list also catches a secret word spelled inside a
        # longer word ("passwords_count_total"); the old security list did not.
        assert r.is_sensitive("passwords_count_total")

    def test_reveal_style_secrets(self):
        class Secret:
            def reveal(self) -> str:
                return "s3cr3t"

        assert redact([Secret()]) == ["[REDACTED]"]

    def test_deep_nesting_is_bounded(self):
        value: object = "x"
        for _ in range(100):
            value = [value]
        redact(value)  # no RecursionError
