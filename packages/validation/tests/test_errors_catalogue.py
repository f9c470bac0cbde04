"""issue 24: every code pepperpy-validation raises is in ``pepperpy.validation.ERRORS``.

A program that catches a validation error looks its code up in the catalogue to
learn what it means and what to do; the entry names a class the error is an
instance of. The per-problem detail codes inside ``ValidationError.errors``
("type", "missing", rule codes) are not error codes and are not catalogued.
"""

from __future__ import annotations

import pytest

from pepperpy import validation as pv
from pepperpy.core.exceptions import InvalidArgumentError, PepperPyError
from pepperpy.core.exceptions import ValidationError as CoreValidationError


def _assert_catalogued(error: PepperPyError) -> None:
    entry = pv.ERRORS[error.code]
    assert entry.code == error.code
    assert isinstance(error, entry.error)
    assert entry.meaning.strip() and entry.action.strip()


def test_failed_data_is_a_catalogued_validation_error() -> None:
    schema = pv.Validation.create_schema({"name": str, "email": "email"})
    with pytest.raises(CoreValidationError) as info:
        schema.validate({"email": "nope"})
    assert info.value.code == "pepperpy.validation.invalid"
    assert {(d.path, d.code) for d in info.value.errors} == {
        ("/name", "missing"),
        ("/email", "email"),
    }
    _assert_catalogued(info.value)
    assert pv.ERRORS[info.value.code].error is pv.ValidationError


@pytest.mark.parametrize(
    "build",
    [
        lambda: pv.Validation.create_schema({"x": "no-such-format"}),
        lambda: pv.length(),
        lambda: pv.Validation.create_schema({"x": int}, extra="sometimes"),
    ],
)
def test_a_bad_schema_definition_is_a_catalogued_schema_error(build: object) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        build()  # type: ignore[operator]
    assert info.value.code == "pepperpy.validation.schema"
    assert type(info.value) is pv.SchemaError
    _assert_catalogued(info.value)


def test_the_catalogue_holds_the_package_codes_only() -> None:
    assert set(pv.ERRORS) == {"pepperpy.validation.invalid", "pepperpy.validation.schema"}
    assert pv.ERRORS.package == "pepperpy.validation"
