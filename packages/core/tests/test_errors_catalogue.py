"""pepperpy.core.ERRORS: the codes core raises and the class defaults (issue 24).

A program that catches a PepperPyError looks ``error.code`` up in the
catalogue to learn what it means and what to do; these drive real failures
and check that the lookup answers with the class the error really is.
"""

from __future__ import annotations

import pytest

import pepperpy.core
from pepperpy.core import ERRORS, ErrorCatalogue, ErrorCode
from pepperpy.core.exceptions import (
    ConfigurationError,
    InvalidArgumentError,
    PepperPyError,
    PluginError,
)
from pepperpy.core.utils import Backends, deep_merge, parse_duration


def _failure(fn, *args, **kwargs) -> PepperPyError:
    with pytest.raises(PepperPyError) as caught:
        fn(*args, **kwargs)
    return caught.value


def _documented(error: PepperPyError) -> ErrorCode:
    entry = ERRORS[error.code]
    assert isinstance(error, entry.error)
    assert entry.meaning and entry.action
    return entry


def test_real_failures_are_catalogued_with_their_class() -> None:
    """issue 24: a raised code looks up to the class the error is an instance of."""
    nested: dict[str, object] = {}
    nested["self"] = nested
    error = _failure(deep_merge, nested, {})
    assert error.code == "pepperpy.core.merge_depth"
    assert _documented(error).error is InvalidArgumentError

    error = _failure(parse_duration, "soon")  # a class default code
    assert error.code == "pepperpy.invalid_argument"
    assert _documented(error).error is InvalidArgumentError


def test_backend_codes_are_found_through_their_area_slot() -> None:
    """issue 24: pepperpy.{area}.x codes answer for any area (the shared helpers' codes)."""
    backends = Backends("widgets", "widget backend", "pepperpy.widgets.backends", {})
    error = _failure(backends.load, "nope")
    assert error.code == "pepperpy.widgets.unknown_backend"
    entry = _documented(error)
    assert entry.code == "pepperpy.{area}.unknown_backend"
    assert entry.error is ConfigurationError

    error = _failure(backends.for_url, "not a url", noun="queue", env="X", examples="a://")
    assert error.code == "pepperpy.widgets.queue_url"
    assert _documented(error).code == "pepperpy.{area}.{noun}_url"

    error = _failure(backends.load, 42)
    assert _documented(error).code == "pepperpy.{area}.backend_name"
    assert "pepperpy.widgets.Backend_Name" not in ERRORS  # slots match lower-case words only
    assert "pepperpy.nothing_like_this" not in ERRORS
    assert 42 not in ERRORS
    with pytest.raises(KeyError):
        ERRORS["pepperpy.nothing_like_this"]


def test_malformed_entries_are_refused_with_the_catalogue_code() -> None:
    """issue 24: a package's catalogue fails at import when an entry is malformed."""
    good = ErrorCode("pepperpy.demo.broken", PluginError, "It broke.", "Fix it.")
    cases = [
        lambda: ErrorCode("Not A Code", PluginError, "m", "a"),
        lambda: ErrorCode("pepperpy.demo.x", ValueError, "m", "a"),  # type: ignore[arg-type]
        lambda: ErrorCode("pepperpy.demo.x", PluginError, "  ", "a"),
        lambda: ErrorCatalogue("pepperpy.other", good),  # not this package's code
        lambda: ErrorCatalogue("pepperpy.demo", good, good),  # twice
    ]
    for case in cases:
        error = _failure(case)
        assert error.code == "pepperpy.core.error_code"
        assert _documented(error).error is InvalidArgumentError

    catalogue = ErrorCatalogue("pepperpy.demo", good)
    assert list(catalogue) == ["pepperpy.demo.broken"] and len(catalogue) == 1
    assert catalogue["pepperpy.demo.broken"] is good
    assert repr(catalogue) == "ErrorCatalogue('pepperpy.demo', 1 codes)"
    assert repr(good) == "ErrorCode('pepperpy.demo.broken', PluginError)"


def test_every_class_default_is_catalogued() -> None:
    """issue 24: each category's default code is in the catalogue under that class."""
    for name in pepperpy.core.exceptions.__all__:
        cls = getattr(pepperpy.core.exceptions, name)
        if isinstance(cls, type) and issubclass(cls, PepperPyError):
            assert ERRORS[cls.code].error is cls, name
