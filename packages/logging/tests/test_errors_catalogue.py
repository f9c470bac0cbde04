"""issue 24: every code pepperpy-logging raises is in ``pepperpy.logging.ERRORS``.

A program that catches a logging error looks its code up in the catalogue to
learn what it means and what to do; the entry names a class the error is an
instance of.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pepperpy import logging as plog
from pepperpy.core.exceptions import (
    ConfigurationError,
    InvalidArgumentError,
    PepperPyError,
    ValidationError,
)


def _assert_catalogued(error: PepperPyError) -> None:
    entry = plog.ERRORS[error.code]
    assert entry.code == error.code
    assert isinstance(error, entry.error)
    assert entry.meaning.strip()
    assert entry.action.strip()


def test_a_malformed_section_is_a_catalogued_validation_error() -> None:
    with pytest.raises(ValidationError) as info:
        plog.configure({"level": "LOUD", "files": 3})
    assert info.value.code == "pepperpy.logging.config"
    assert {detail.path for detail in info.value.errors} == {"/level", "/files"}
    _assert_catalogued(info.value)


def test_an_unopenable_file_sink_is_a_catalogued_configuration_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    with pytest.raises(ConfigurationError) as info:
        plog.configure({"console": False, "files": [{"path": str(blocker / "app.log")}]})
    assert info.value.code == "pepperpy.logging.file"
    _assert_catalogued(info.value)


def test_bad_arguments_carry_catalogued_codes() -> None:
    with pytest.raises(InvalidArgumentError) as level:
        plog.level_no("LOUD")
    with pytest.raises(InvalidArgumentError) as name:
        plog.get_logger(3)  # type: ignore[arg-type]
    assert level.value.code == "pepperpy.logging.level"
    assert name.value.code == "pepperpy.logging.name"
    _assert_catalogued(level.value)
    _assert_catalogued(name.value)
    assert set(plog.ERRORS) == {
        "pepperpy.logging.config",
        "pepperpy.logging.file",
        "pepperpy.logging.level",
        "pepperpy.logging.name",
    }
