"""issue 24: loading behaviours the suite did not pin down (found measuring branch coverage).

Each test asserts what a user relies on: what a ``${key}`` reference to a
number, a table or a path through a value gives, what an argument of the wrong
shape raises, and where a missing key is said to be settable.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from pepperpy.config import Config, ConfigError
from pepperpy.core.exceptions import InvalidArgumentError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@attrs.define
class Named:
    name: str


def test_a_reference_to_a_number_is_its_text(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.toml", '[db]\nhost = "h"\nport = 5432\nurl = "pg://${db.host}:${db.port}"\n'
    )
    assert Config.load(path, env={})["db.url"] == "pg://h:5432"


def test_a_reference_to_a_table_is_not_a_value(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", '[db]\nhost = "h"\n[app]\nwhole = "${db}"\n')
    with pytest.raises(ConfigError) as info:
        Config.load(path, env={})
    assert info.value.keys == ["app.whole"]
    assert info.value.errors[0].code == "interpolation"
    assert info.value.sources == [f"{path}:4"]
    # ... unless the environment has a variable of that name
    assert Config.load(path, env={"db": "from env"})["app.whole"] == "from env"


def test_a_reference_through_a_value_falls_back_to_its_default(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", 'host = "h"\nurl = "${host.port:-80}"\n')
    assert Config.load(path, env={})["url"] == "80"


def test_env_must_be_a_mapping_of_strings() -> None:
    with pytest.raises(InvalidArgumentError, match="env must be a mapping"):
        Config.load(env=[("APP_NAME", "x")])  # type: ignore[call-overload]


def test_a_missing_key_without_an_env_prefix_is_to_be_set_in_a_file() -> None:
    with pytest.raises(ConfigError) as info:
        Config.load(schema=Named, env={})
    assert info.value.sources == ["missing: set name in a file"]
    with pytest.raises(ConfigError) as prefixed:
        Config.load(schema=Named, env={}, env_prefix="APP")
    assert prefixed.value.sources == ["missing: set name in a file or env APP_NAME"]


def test_a_value_replaced_by_a_table_forgets_its_old_source(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", 'db = "sqlite://"\n')
    config = Config.load(path, env={}, overrides={"db.url": "pg://"})
    assert config["db"] == {"url": "pg://"}
    explained = config.explain("db.url")
    assert str(explained.source) == "overrides"
    assert explained.overridden == []
    assert repr(explained) == "Explanation(\"db.url = 'pg://' from overrides\")"
