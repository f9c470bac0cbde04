from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pepperpy.logging import DEFAULT_SECRET_KEYS, MASK, Redactor, is_secret_value


class Secret:
    """Shaped like pepperpy-config's Secret: the class name alone marks it."""

    def __init__(self, value: str) -> None:
        self._value = value

    def __repr__(self) -> str:
        return f"Secret({self._value!r})"  # a careless repr: must still never show


class Revealing:
    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return self._value


class PydanticLike:
    def get_secret_value(self) -> str:
        return "x"


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "DB_PASSWORD",
        "dbPassword",
        "access_token",
        "X-Api-Key",
        "apikey",
        "Authorization",
        "client.secret",
        "set-cookie",
        "private_key",
        "sessionId",
    ],
)
def test_secret_keys(key: str) -> None:
    assert Redactor().is_secret_key(key)


@pytest.mark.parametrize("key", ["user", "max_tokens", "tokenizer", "author", "keyboard", 3])
def test_innocent_keys(key: object) -> None:
    assert not Redactor().is_secret_key(key)


def test_custom_keys_and_mask() -> None:
    redactor = Redactor(["ssn", "Card-Number"], mask="[hidden]")
    assert redactor.redact({"ssn": "1", "card_number": "2", "password": "3", "ok": 4}) == {
        "ssn": "[hidden]",
        "card_number": "[hidden]",
        "password": "[hidden]",
        "ok": 4,
    }
    assert "ssn" in redactor.words
    assert Redactor(["ssn"], defaults=False).redact({"password": "p"}) == {"password": "p"}


def test_secret_objects() -> None:
    assert is_secret_value(Secret("a"))
    assert is_secret_value(Revealing("b"))
    assert is_secret_value(PydanticLike())
    assert not is_secret_value("plain")
    assert not is_secret_value(object())
    redactor = Redactor()
    assert redactor.redact(Secret("a")) == MASK
    assert redactor.redact([1, Secret("a"), (Revealing("b"),)]) == [1, MASK, (MASK,)]


def test_nested_data_is_copied_never_modified() -> None:
    data = {"user": {"name": "ada", "password": "pw"}, "items": [{"token": "t"}], "n": 1}
    out = Redactor().redact(data)
    assert out == {"user": {"name": "ada", "password": MASK}, "items": [{"token": MASK}], "n": 1}
    assert data["user"]["password"] == "pw"
    clean = {"a": [1, 2], "b": {"c": "d"}}
    assert Redactor().redact(clean) is clean


def test_none_stays_none() -> None:
    assert Redactor().redact({"password": None}) == {"password": None}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("login password=hunter2 user=ada", "login password=*** user=ada"),
        ("Authorization: Bearer abc.def", "Authorization: Bearer ***"),
        ('{"api_key": "k-123"}', '{"api_key": "***"}'),  # quotes kept: JSON stays JSON
        ("token='x y' next", "token='***' next"),
        ("tokens=5 max", "tokens=5 max"),
        ("no secrets here", "no secrets here"),
    ],
)
def test_text_scrubbing(text: str, expected: str) -> None:
    assert Redactor().redact_text(text) == expected


def test_text_scrubbing_can_be_disabled() -> None:
    assert Redactor(messages=False).redact_text("password=1") == "password=1"


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30))
def test_password_values_never_survive_scrubbing(value: str) -> None:
    value = value.replace(" ", "x").replace(",", "x").replace(";", "x").replace("&", "x")
    value = value.replace('"', "x").replace("'", "x").replace("}", "x")
    if any(c.isspace() for c in value):
        return
    out = Redactor().redact_text(f"password={value}")
    assert out == "password=***"


def test_defaults_cover_the_issue_list() -> None:
    for word in ("password", "token", "secret", "authorization", "api_key"):
        assert word in DEFAULT_SECRET_KEYS
