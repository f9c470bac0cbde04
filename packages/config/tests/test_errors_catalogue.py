"""issue 24: every code pepperpy-config raises is in ``pepperpy.config.ERRORS``.

A program that catches a configuration error looks its code up in the catalogue
to learn what it means and what to do; the entry names a class the error is an
instance of. Argument mistakes carry core's shared codes, catalogued in
``pepperpy.core.ERRORS``.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

import pepperpy.core
from pepperpy.config import ERRORS, Config, ConfigError
from pepperpy.core.exceptions import ErrorCatalogue, InvalidArgumentError, PepperPyError


@attrs.define
class Settings:
    port: int


def _assert_catalogued(error: PepperPyError, catalogue: ErrorCatalogue = ERRORS) -> None:
    entry = catalogue[error.code]
    assert entry.code == error.code
    assert isinstance(error, entry.error)
    assert entry.meaning.strip()
    assert entry.action.strip()


def test_a_malformed_file_is_a_catalogued_config_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("port = \n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        Config.load(path)
    assert info.value.code == "pepperpy.config.invalid"
    assert [detail.code for detail in info.value.errors] == ["syntax"]
    _assert_catalogued(info.value)


def test_an_invalid_value_from_the_environment_is_a_catalogued_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        Config.load(env_prefix="APP", env={"APP_PORT": "eighty"}, schema=Settings)
    assert info.value.code == "pepperpy.config.invalid"
    assert info.value.sources == ["env APP_PORT"]
    _assert_catalogued(info.value)


def test_argument_mistakes_carry_cores_catalogued_code() -> None:
    with pytest.raises(InvalidArgumentError) as info:
        Config.load(argv="--port=80")  # a string, not a list of arguments
    assert info.value.code == "pepperpy.invalid_argument"
    assert info.value.code not in ERRORS
    _assert_catalogued(info.value, pepperpy.core.ERRORS)


def test_the_catalogue_only_holds_config_codes() -> None:
    assert ERRORS.package == "pepperpy.config"
    assert all(code.startswith("pepperpy.config.") for code in ERRORS)
