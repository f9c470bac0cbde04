"""Tests for pepperpy.core.exceptions."""

from __future__ import annotations

import json
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pepperpy.core import exceptions as exc_mod
from pepperpy.core.exceptions import (
    ClosedError,
    ConfigurationError,
    ConflictError,
    ErrorDetail,
    ExternalError,
    InvalidArgumentError,
    LifecycleError,
    NotFoundError,
    OperationTimeoutError,
    PepperPyError,
    PluginError,
    SecurityError,
    StartupError,
    ValidationError,
    safe_repr,
)

ALL_ERRORS = [
    PepperPyError,
    ConfigurationError,
    InvalidArgumentError,
    NotFoundError,
    ConflictError,
    OperationTimeoutError,
    LifecycleError,
    StartupError,
    ClosedError,
    SecurityError,
    ExternalError,
    PluginError,
    ValidationError,
]


class TestPepperPyError:
    def test_str_renders_message_context_and_hint(self):
        """str() shows the message, the context and the hint on one line."""
        err = PepperPyError("key not stored", context={"key": "a"}, hint="Use a shorter key.")
        assert str(err) == "key not stored [key='a'] Hint: Use a shorter key."

    def test_defaults_come_from_the_class(self):
        """code, retryable and hint default to the class attributes; arguments override."""
        assert ConflictError("x").code == "pepperpy.conflict"
        assert ConflictError("x").retryable is True
        assert ConflictError("x", retryable=False).retryable is False
        assert ConflictError("x", code="my.code").code == "my.code"
        assert ClosedError("x").hint is not None

    @pytest.mark.parametrize("cls", ALL_ERRORS)
    def test_pickle_round_trip(self, cls):
        """Every category survives pickling with its code, context, hint and details."""
        kwargs = (
            {"errors": [ErrorDetail("/a", "bad", code="type")]} if cls is ValidationError else {}
        )
        err = cls("boom", context={"n": 1}, hint="h", **kwargs)
        clone = pickle.loads(pickle.dumps(err))
        assert type(err) is type(clone)
        assert err.to_dict() == clone.to_dict()
        assert str(err) == str(clone)

    def test_to_dict_is_json_safe_and_chains_causes(self):
        """to_dict() nests the cause and renders non-JSON context values with repr."""
        try:
            try:
                raise KeyError("inner")
            except KeyError as inner:
                raise NotFoundError("outer", context={"obj": object(), "ok": [1, 2]}) from inner
        except NotFoundError as err:
            data = err.to_dict()
        json.dumps(data)
        assert data["type"] == "NotFoundError"
        assert data["cause"]["type"] == "KeyError"
        assert data["context"]["ok"] == [1, 2]
        assert data["context"]["obj"].startswith("<object object")

    def test_nested_pepperpy_cause(self):
        """A PepperPy cause is described in full."""
        with pytest.raises(ConfigurationError) as info:
            raise ConfigurationError("outer") from ExternalError("db down")
        assert info.value.to_dict()["cause"]["code"] == "pepperpy.external"

    def test_builtin_bases_keep_generic_handlers_working(self):
        """Categories also subclass the matching builtin."""
        assert issubclass(InvalidArgumentError, ValueError)
        assert issubclass(ValidationError, ValueError)
        assert issubclass(NotFoundError, LookupError)
        assert issubclass(OperationTimeoutError, TimeoutError)
        assert issubclass(ClosedError, RuntimeError)
        assert issubclass(StartupError, LifecycleError)

    def test_with_context_adds_and_returns_self(self):
        """with_context() adds entries for re-raising."""
        err = PepperPyError("x").with_context(path="/tmp/a")
        assert err.context == {"path": "/tmp/a"}

    def test_repr(self):
        """repr names the class, message and code."""
        assert repr(NotFoundError("gone")) == "NotFoundError('gone', code='pepperpy.not_found')"


class TestValidationError:
    def test_lists_every_detail(self):
        """str() and to_dict() carry every problem with its path."""
        err = ValidationError(
            errors=[
                ErrorDetail("/items/3/price", "must be >= 0", code="range", value="-1"),
                ErrorDetail("/name", "is required", code="missing"),
            ]
        )
        assert err.message == "2 validation errors"
        assert list(err.paths) == ["/items/3/price", "/name"]
        text = str(err)
        assert "/items/3/price: must be >= 0 (got -1)" in text
        assert "/name: is required" in text
        assert len(err.to_dict()["errors"]) == 2

    def test_detail_equality_and_repr(self):
        """Details compare by value, hash and render."""
        a = ErrorDetail("/a", "bad")
        assert a == ErrorDetail("/a", "bad")
        assert a != ErrorDetail("/b", "bad")
        assert hash(a) == hash(ErrorDetail("/a", "bad"))
        assert "ErrorDetail(path='/a'" in repr(a)
        assert str(ErrorDetail("", "whole")) == "/: whole"
        assert a.__eq__(1) is NotImplemented


class TestSafeRepr:
    @given(st.text())
    def test_never_longer_than_limit(self, text):
        """safe_repr truncates any value to its limit."""
        assert len(safe_repr(text, limit=20)) <= 20

    def test_broken_repr_does_not_raise(self):
        """A value whose __repr__ raises is still rendered."""

        class Broken:
            def __repr__(self):
                raise RuntimeError

        assert "repr failed" in safe_repr(Broken())


def test_all_is_complete():
    """__all__ lists every public name of the module."""
    public = {
        n for n in dir(exc_mod) if (not n.startswith("_") and n[0].isupper()) or n == "safe_repr"
    }
    public -= {"Any", "ClassVar", "Iterable", "Iterator", "Mapping", "Sequence"}
    assert public == set(exc_mod.__all__)
