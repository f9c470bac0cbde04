"""``${other.key}`` spells a non-string value the way the configuration file does.

Review finding (bug found in review): ``flag = true`` in TOML, referenced as
``"${db.flag}"``, interpolated to ``"True"``, Python's spelling, not the
``true`` the user wrote. The class: every non-string scalar was rendered with
``str()``. Peers: TOML 1.0 and JSON (RFC 8259) spell booleans ``true``/``false``
and JSON/YAML spell the null ``null``; TOML spells the special floats ``nan``,
``inf`` and ``-inf`` and its date-times in RFC 3339 (``T`` between date and time,
which ``datetime.isoformat()`` writes and ``str()`` does not).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import pytest

from pepperpy.config import Config
from pepperpy.core.exceptions import PepperPyError
from pepperpy.testing.hostile import Unprintable


def _toml(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "app.toml"
    path.write_text(text, encoding="utf-8")
    return Config.load(path, env={})


@pytest.mark.parametrize(
    ("literal", "spelled"),
    [
        ("true", "true"),
        ("false", "false"),
        ("1e100", "1e+100"),
        ("0.1", "0.1"),
        ("-0.0", "-0.0"),
        ("nan", "nan"),
        ("+nan", "nan"),
        ("inf", "inf"),
        ("+inf", "inf"),
        ("-inf", "-inf"),
        ("12", "12"),
        ("0x1F", "31"),
        ("1979-05-27T07:32:00Z", "1979-05-27T07:32:00+00:00"),
        ("1979-05-27 07:32:00-07:00", "1979-05-27T07:32:00-07:00"),
        ("1979-05-27T07:32:00.5", "1979-05-27T07:32:00.500000"),
        ("1979-05-27", "1979-05-27"),
        ("07:32:00", "07:32:00"),
    ],
)
def test_toml_values_interpolate_in_toml_spelling(
    literal: str, spelled: str, tmp_path: Path
) -> None:
    """Review finding: ``${db.flag}`` with ``flag = true`` gave "True"."""
    config = _toml(tmp_path, f'text = "[${{db.flag}}]"\n[db]\nflag = {literal}\n')
    assert config["text"] == f"[{spelled}]"


@pytest.mark.parametrize(
    ("literal", "spelled"),
    [("true", "true"), ("false", "false"), ("null", "null"), ("1e100", "1e+100")],
)
def test_json_values_interpolate_in_json_spelling(
    literal: str, spelled: str, tmp_path: Path
) -> None:
    """Review finding, JSON: ``null`` gave "None" and ``true`` gave "True"."""
    path = tmp_path / "app.json"
    path.write_text(json.dumps({"text": "<${v}>"})[:-1] + f', "v": {literal}}}', encoding="utf-8")
    assert Config.load(path, env={})["text"] == f"<{spelled}>"


@pytest.mark.parametrize(
    ("literal", "spelled"),
    [("yes", "true"), ("~", "null"), ("null", "null"), (".inf", "inf"), (".nan", "nan")],
)
def test_yaml_values_interpolate_in_json_spelling(
    literal: str, spelled: str, tmp_path: Path
) -> None:
    """Review finding, YAML: booleans and the null were spelled as Python spells them."""
    pytest.importorskip("yaml")
    path = tmp_path / "app.yaml"
    path.write_text(f'text: "<${{v}}>"\nv: {literal}\n', encoding="utf-8")
    assert Config.load(path, env={})["text"] == f"<{spelled}>"


@pytest.mark.parametrize(
    ("value", "spelled"),
    [
        (True, "true"),
        (None, "null"),
        (math.inf, "inf"),
        (dt.datetime(2026, 12, 5, 1, 2, 3), "2026-12-05T01:02:03"),
        (10**30, "1" + "0" * 30),
    ],
)
def test_values_from_defaults_referenced_by_a_file(
    value: Any, spelled: str, tmp_path: Path
) -> None:
    """The same spelling when the referenced key came from defaults= (verbatim Python)."""
    path = tmp_path / "app.toml"
    path.write_text('text = "${v}"\n', encoding="utf-8")
    assert Config.load(path, defaults={"v": value}, env={})["text"] == spelled


@pytest.mark.parametrize("value", [10**5000, Unprintable()], ids=["5000-digits", "unprintable"])
def test_a_value_that_cannot_be_spelled_is_a_config_error(value: Any, tmp_path: Path) -> None:
    """An int past Python's digit limit, or an object whose str() raises (from defaults=).

    Before the fix str() raised ValueError out of Config.load.
    """
    path = tmp_path / "app.toml"
    path.write_text('text = "${v}"\n', encoding="utf-8")
    with pytest.raises(PepperPyError, match=r"\$\{v\} cannot be written as text") as info:
        Config.load(path, defaults={"v": value}, env={})
    assert info.value.errors[0].code == "interpolation"  # type: ignore[attr-defined]
