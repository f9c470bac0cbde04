"""issue 24: every code pepperpy-serialization raises is in ``pepperpy.serialization.ERRORS``.

A program that catches a serialization error looks its code up in the catalogue
to learn what it means and what to do; the entry names a class the error is an
instance of. The per-problem detail codes inside ``StructureError.errors`` and
``DecodeError.errors`` ("type", "missing", "syntax") are not error codes.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from pepperpy import serialization
from pepperpy.core.exceptions import InvalidArgumentError, PepperPyError


@attrs.define
class Point:
    x: int
    y: int


def _assert_catalogued(error: PepperPyError) -> None:
    entry = serialization.ERRORS[error.code]
    assert entry.code == error.code
    assert isinstance(error, entry.error)
    assert entry.meaning.strip() and entry.action.strip()


def test_data_that_does_not_fit_is_a_catalogued_structure_error() -> None:
    with pytest.raises(serialization.StructureError) as info:
        serialization.structure({"x": "one"}, Point)
    assert info.value.code == "pepperpy.serialization.structure"
    assert {(d.path, d.code) for d in info.value.errors} == {("/x", "type"), ("/y", "missing")}
    _assert_catalogued(info.value)


def test_malformed_input_is_a_catalogued_decode_error() -> None:
    with pytest.raises(serialization.DecodeError) as info:
        serialization.loads(b'{"x": ', Point)
    assert info.value.code == "pepperpy.serialization.decode"
    assert [d.code for d in info.value.errors] == ["syntax"]
    _assert_catalogued(info.value)


@pytest.mark.parametrize(
    ("value", "fmt", "code"),
    [
        ([1, 2], "toml", "pepperpy.serialization.encode"),
        ({1: "a", "1": "b"}, "json", "pepperpy.serialization.duplicate_key"),
    ],
)
def test_unwritable_values_are_catalogued_encode_errors(value: object, fmt: str, code: str) -> None:
    with pytest.raises(serialization.EncodeError) as info:
        serialization.dumps(value, format=fmt)
    assert info.value.code == code
    _assert_catalogued(info.value)


def test_other_failures_carry_catalogued_codes(tmp_path: Path) -> None:
    with pytest.raises(serialization.UnsupportedTypeError) as unsupported:
        serialization.unstructure(object())
    with pytest.raises(serialization.FormatUnavailableError) as unavailable:
        serialization.dumps({}, format="no-such-format")
    with pytest.raises(InvalidArgumentError) as bad_path:
        serialization.load_file(str(tmp_path / "a\x00.json"), Point)
    assert unsupported.value.code == "pepperpy.serialization.unsupported_type"
    assert unavailable.value.code == "pepperpy.serialization.format_unavailable"
    assert bad_path.value.code == "pepperpy.serialization.invalid_path"
    for error in (unsupported.value, unavailable.value, bad_path.value):
        _assert_catalogued(error)
    assert serialization.ERRORS.package == "pepperpy.serialization"
    assert len(serialization.ERRORS) == 8
