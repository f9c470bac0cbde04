"""The one redactor (issue 20 #1): one word list for logs, spans, debug() and error contexts."""

from __future__ import annotations

import dataclasses
import math

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pepperpy.core as core
from pepperpy.core import MASK, Redactor, is_secret_value, redact, redact_text, safe_str

SECRET = "hunter2-s3cret"


class Secret:
    def __init__(self, value: str) -> None:
        self._value = value

    def __repr__(self) -> str:
        return f"Secret({self._value!r})"  # careless: must still never show


class Flagged:
    __pepperpy_redact__ = True

    def __repr__(self) -> str:
        return SECRET


class Boom:
    def __str__(self) -> str:
        raise RuntimeError("str exploded")

    def __repr__(self) -> str:
        raise RuntimeError("repr exploded")


class HostileAttr:
    def __getattr__(self, name: str) -> object:
        raise RuntimeError("no attributes for you")


@dataclasses.dataclass
class Creds:
    user: str
    password: str


@attrs.define
class Db:
    host: str
    creds: Creds
    api_key: str


def test_exported_from_core() -> None:
    """issue 20 #1: the redactor is public in pepperpy.core."""
    for name in ("Redactor", "redact", "redact_text", "safe_str", "MASK", "is_secret_value"):
        assert name in core.__all__
        assert getattr(core, name) is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("login password=hunter2 user=ada", "login password=*** user=ada"),
        ("Authorization: Bearer abc.def", "Authorization: Bearer ***"),
        ('{"api_key": "k-123"}', '{"api_key": "***"}'),
        ("token='x y' next", "token='***' next"),
        ("tokens=5 max", "tokens=5 max"),
        ("no secrets here", "no secrets here"),
        ("RuntimeError: password=hunter2", "RuntimeError: password=***"),
        ("db_password_hash=abc", "db_password_hash=***"),
        ("postgresql://app:SECRET@db/x", "postgresql://app:***@db/x"),
        ("redis://:SECRET@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
        ("sent Bearer eyJhbGciOi.x.y to api", "sent Bearer *** to api"),
        ("pin=1234", "pin=***"),
        ("spinner=1 pinned=2", "spinner=1 pinned=2"),
    ],
)
def test_text(text: str, expected: str) -> None:
    """issue 20 #1/#2: key=value pairs, bearer credentials and URL userinfo."""
    assert redact_text(text) == expected


def test_dataclass_and_attrs_fields_are_masked_at_any_depth() -> None:
    """issue 20 #2: a dataclass/attrs instance with a password field, rendered via str()."""
    db = Db("h", Creds("ada", SECRET), SECRET)
    for text in (safe_str(db), Redactor().safe_repr(db), str(redact(db)), safe_str({"x": [db]})):
        assert SECRET not in text, text
        assert "ada" in text


def test_secret_objects_and_hostile_objects_never_raise() -> None:
    """issue 20 #1/#6: secret wrappers, raising __str__/__repr__ and __getattr__."""
    assert is_secret_value(Secret("x")) and is_secret_value(Flagged())
    assert is_secret_value(HostileAttr())
    assert safe_str(Secret(SECRET)) == MASK
    assert safe_str(Flagged()) == MASK
    assert safe_str(Boom()) == "<Boom object (str failed)>"
    assert Redactor().safe_repr(Boom()) == "<Boom object (repr failed)>"
    assert safe_str([Boom(), {"k": Boom()}]).count("failed") == 2
    assert redact([Secret("a"), (Flagged(),)]) == [MASK, (MASK,)]


def test_cycles_and_depth_are_bounded() -> None:
    loop: list[object] = []
    loop.append(loop)
    assert "<...>" in safe_str(loop)
    deep: dict[str, object] = {}
    node = deep
    for _ in range(100):
        node["n"] = {}
        node = node["n"]  # type: ignore[assignment]
    node["password"] = SECRET
    assert SECRET not in safe_str(deep)
    assert SECRET not in str(redact(deep))


def test_non_finite_floats_render() -> None:
    assert safe_str(math.nan) == "nan"
    assert Redactor().safe_repr({"r": math.inf}) == "{'r': inf}"


def test_limit() -> None:
    assert safe_str("x" * 100, 10) == "xxxxxxx..."


@settings(max_examples=60)
@given(
    key=st.sampled_from(["password", "api_key", "X-Api-Key", "dbPassword", "pin", "token"]),
    value=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-./+", min_size=3, max_size=20),
    sep=st.sampled_from(["=", ": ", " = ", "="]),
    quote=st.sampled_from(["", "'", '"']),
)
def test_secret_pairs_never_survive(key: str, value: str, sep: str, quote: str) -> None:
    text = f"prefix {key}{sep}{quote}{value}{quote} suffix"
    assert value not in redact_text(text).replace("prefix", "").replace("suffix", "")


def test_error_contexts_are_masked() -> None:
    """issue 20 #1: PepperPyError renders its context through the redactor."""
    from pepperpy.core import PepperPyError

    err = PepperPyError("cannot connect", context={"password": SECRET, "dsn": f"pg://u:{SECRET}@h"})
    assert SECRET not in str(err)
    assert SECRET not in repr(err.to_dict())
    assert "cannot connect" in str(err)


def test_strings_inside_structures_are_scrubbed() -> None:
    """issue 20 #2: a URL with a password as a plain value (log extra, span attribute)."""
    out = redact({"dsn": f"postgresql://app:{SECRET}@db", "list": [f"token={SECRET}"]})
    assert SECRET not in str(out)
    clean = {"a": "postgresql://app@db", "b": ["x"]}
    assert redact(clean) is clean


def test_exceptions_render_their_arguments_safely() -> None:
    """issue 20 #2: exception args that are secret objects or dataclasses, in str and traceback."""
    err = RuntimeError(Secret(SECRET), Creds("ada", SECRET))
    assert SECRET not in safe_str(err) and "ada" in safe_str(err)
    try:
        try:
            raise ValueError(f"token={SECRET}")
        except ValueError as inner:
            raise RuntimeError(Secret(SECRET)) from inner
    except RuntimeError as exc:
        text = Redactor().format_exception(exc)
    assert "ValueError" in text and "RuntimeError" in text
    assert SECRET not in text
    assert "RuntimeError" in Redactor().format_exception(RuntimeError(Boom()))
