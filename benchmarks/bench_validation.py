"""pepperpy.validation: a dict schema validating a 6-field record, valid and invalid.

Peer: pydantic v2 TypeAdapter over an equivalent TypedDict with the same constraints.
Target (issue 3): within 2x of pydantic v2. Issue 26 asked 0.8x for the valid record
without the email check; packages/validation/README.md ("Performance") has where it
stands and why.
"""

from __future__ import annotations

from typing import Annotated

import pydantic
from typing_extensions import TypedDict

from harness import compare
from pepperpy.validation import Validation, ValidationError, length, one_of, range_

REQUIRES = ["pydantic>=2", "email-validator", "typing-extensions"]

SCHEMA = Validation.create_schema(
    {
        "name": (str, length(min=1, max=80)),
        "age": (int, range_(min=0, max=150)),
        "email": "email",
        "score": float,
        "active": bool,
        "role": (str, one_of(["admin", "user", "guest"])),
    }
)


class Person(TypedDict):
    __pydantic_config__ = pydantic.ConfigDict(strict=True)  # type: ignore[misc]

    name: Annotated[str, pydantic.StringConstraints(min_length=1, max_length=80)]
    age: Annotated[int, pydantic.Field(ge=0, le=150)]
    email: pydantic.EmailStr
    score: float
    active: bool
    role: Annotated[str, pydantic.StringConstraints(pattern=r"^(admin|user|guest)$")]


ADAPTER = pydantic.TypeAdapter(Person)

VALID = {
    "name": "Ada Lovelace",
    "age": 36,
    "email": "ada@example.com",
    "score": 9.5,
    "active": True,
    "role": "admin",
}
INVALID = {
    "name": "",
    "age": -3,
    "email": "not-an-email",
    "score": "high",
    "active": "yes",
    "role": "root",
}


def bench_validate_valid():
    assert SCHEMA.validate(VALID) == ADAPTER.validate_python(VALID)
    return compare(
        "validation: 6-field dict, valid",
        {
            "pepperpy": lambda: SCHEMA.validate(VALID),
            "pydantic v2 TypeAdapter": lambda: ADAPTER.validate_python(VALID),
        },
        inner=3000,
    )


def bench_validate_invalid():
    def ours():
        try:
            SCHEMA.validate(INVALID)
        except ValidationError:
            pass

    def peer():
        try:
            ADAPTER.validate_python(INVALID)
        except pydantic.ValidationError:
            pass

    return compare(
        "validation: 6-field dict, 6 errors",
        {"pepperpy": ours, "pydantic v2 TypeAdapter": peer},
        inner=1000,
    )


PLAIN = Validation.create_schema(
    {
        "name": (str, length(min=1, max=80)),
        "age": (int, range_(min=0, max=150)),
        "email": str,
        "score": float,
        "active": bool,
        "role": (str, one_of(["admin", "user", "guest"])),
    }
)


class PlainPerson(TypedDict):
    __pydantic_config__ = pydantic.ConfigDict(strict=True)  # type: ignore[misc]

    name: Annotated[str, pydantic.StringConstraints(min_length=1, max_length=80)]
    age: Annotated[int, pydantic.Field(ge=0, le=150)]
    email: str
    score: float
    active: bool
    role: Annotated[str, pydantic.StringConstraints(pattern=r"^(admin|user|guest)$")]


PLAIN_ADAPTER = pydantic.TypeAdapter(PlainPerson)


def bench_validate_valid_without_email():
    assert PLAIN.validate(VALID) == PLAIN_ADAPTER.validate_python(VALID)
    return compare(
        "validation: 6-field dict, valid, no email check",
        {
            "pepperpy": lambda: PLAIN.validate(VALID),
            "pydantic v2 TypeAdapter": lambda: PLAIN_ADAPTER.validate_python(VALID),
        },
        inner=3000,
    )
