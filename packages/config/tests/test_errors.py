"""Tests for pepperpy.config._errors: the aggregated ConfigError."""

from __future__ import annotations

import pickle

from pepperpy.config import ConfigError
from pepperpy.config._errors import pointer_to_key
from pepperpy.core.exceptions import ConfigurationError, ErrorDetail


def test_pointer_to_key() -> None:
    """JSON Pointers become dotted keys, unescaping ~1 and ~0."""
    assert pointer_to_key("/db/port") == "db.port"
    assert pointer_to_key("/a~1b/c~0d") == "a/b.c~d"
    assert pointer_to_key("") == ""


def test_rendering_keys_sources_and_dict() -> None:
    """Each problem is one line with its key, value and source."""
    error = ConfigError(
        errors=[
            ErrorDetail("/db/port", "must be of type integer", code="type", value="'x'"),
            ErrorDetail("/name", "is required", code="missing"),
            ErrorDetail("", "malformed TOML at c.toml:3:1: Invalid value", code="syntax"),
        ],
        sources=["env APP_DB__PORT", "missing: set name in a file"],
    )
    assert isinstance(error, ConfigurationError)
    assert error.keys == ["db.port", "name", ""]
    assert error.sources == ["env APP_DB__PORT", "missing: set name in a file", None]
    lines = str(error).splitlines()
    assert lines[0] == "3 configuration errors"
    assert lines[1] == "  db.port: must be of type integer (got 'x') [env APP_DB__PORT]"
    assert lines[2] == "  name: is required [missing: set name in a file]"
    assert lines[3] == "  malformed TOML at c.toml:3:1: Invalid value"
    as_dict = error.to_dict()
    assert as_dict["errors"][0]["key"] == "db.port"
    assert as_dict["errors"][0]["source"] == "env APP_DB__PORT"
    assert as_dict["code"] == "pepperpy.config.invalid"


def test_pickles() -> None:
    """ConfigError survives pickling with its details and sources."""
    error = ConfigError("bad", errors=[ErrorDetail("/a", "x")], sources=["f.toml:1"])
    clone = pickle.loads(pickle.dumps(error))
    assert clone.errors == error.errors
    assert clone.sources == ["f.toml:1"]
    assert str(clone) == str(error)
