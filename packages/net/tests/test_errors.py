"""Tests for pepperpy.net._errors: one hierarchy, categories from core, pickling."""

from __future__ import annotations

import pickle

import pytest

from pepperpy import net
from pepperpy.core import (
    ConfigurationError,
    ExternalError,
    InvalidArgumentError,
    OperationTimeoutError,
    PepperPyError,
    SecurityError,
)
from pepperpy.net import (
    BlockedAddressError,
    ConnectTimeoutError,
    HTTPStatusError,
    NetworkError,
    PoolTimeoutError,
    ReadTimeoutError,
    TotalTimeoutError,
)


def test_every_exported_error_is_a_pepperpy_error() -> None:
    errors = [getattr(net, name) for name in net.__all__ if name.endswith("Error")]
    assert len(errors) >= 20
    for error in errors:
        assert issubclass(error, PepperPyError)
        assert error.code.startswith("pepperpy.net.")


def test_categories() -> None:
    assert issubclass(NetworkError, ExternalError)
    assert issubclass(BlockedAddressError, SecurityError)
    assert issubclass(net.HeaderInjectionError, InvalidArgumentError)
    assert issubclass(net.InvalidURLError, ValueError)
    assert issubclass(net.MissingDependencyError, ConfigurationError)
    for timeout in (ConnectTimeoutError, ReadTimeoutError, TotalTimeoutError, PoolTimeoutError):
        assert issubclass(timeout, OperationTimeoutError)
        assert issubclass(timeout, TimeoutError)


@pytest.mark.parametrize(
    ("cls", "phase"),
    [
        (ConnectTimeoutError, "connect"),
        (ReadTimeoutError, "read"),
        (TotalTimeoutError, "total"),
        (PoolTimeoutError, "pool"),
    ],
)
def test_timeout_errors_name_their_phase(cls: type[net.NetworkTimeoutError], phase: str) -> None:
    error = cls("too slow", context={"timeout": 1.0})
    assert error.phase == phase
    assert error.hint is not None
    assert phase in error.hint


def test_errors_pickle_with_their_data() -> None:
    error = HTTPStatusError("boom", status=503, context={"url": "http://x"})
    clone = pickle.loads(pickle.dumps(error))
    assert clone.status == 503
    assert clone.retryable
    assert clone.context == {"url": "http://x"}
    assert clone.to_dict()["code"] == "pepperpy.net.status"
    assert not HTTPStatusError("nope", status=404).retryable
