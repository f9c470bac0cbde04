"""Hostile input for every public validator (issue 19, "close the class").

Schemas built from dict specs and classes (strict and coercing), the
schema-less JSON check and the async entry points get deep nesting, huge
integers and floats, NaN and infinities, lone surrogates, byte-order marks,
non-UTF-8 bytes, sets, tuples and non-string keys. Only ``PepperPyError``
subclasses may come out; anything else is counted as an escape and each test
asserts the count is 0.

Examples per validator: ``PEPPERPY_FUZZ_EXAMPLES`` if set, else 10,000 on CI
(``CI=true``, set by ``.ci/run`` and GitHub Actions) and 300 otherwise; the
async entry points, which share the sync validators' code, get a tenth.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Literal, Optional, Union

import attrs
import pytest
from hypothesis import strategies as st

from pepperpy.core.exceptions import PepperPyError
from pepperpy.serialization import MAX_DEPTH
from pepperpy.testing.hostile import (
    fuzz_only_pepperpy_errors,
    fuzz_settings,
    hostile_numbers,
    weird_text,
)
from pepperpy.validation import (
    Field,
    Schema,
    Validation,
    constraints,
    hostname,
    ip,
    iso_datetime,
    length,
    multiple_of,
    not_empty,
    one_of,
    range_,
    regex,
    slug,
    url,
    uuid_,
)

FUZZ = fuzz_settings(300)
# The async entry points run the same per-field code as the sync tests above them
# (Schema._run); a tenth of the examples keeps the CI run near two minutes.
FUZZ_LIGHT = fuzz_settings(300, fraction=10)


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Mode(str, enum.Enum):
    R = "r"


@attrs.define
class Node:
    name: str = attrs.field(metadata=constraints(length(max=20), sanitize=["strip"]))
    score: float = attrs.field(default=0.0, metadata=constraints(range_(min=0)))
    kids: list[Node] = attrs.field(factory=list)
    by_name: dict[str, Node] = attrs.field(factory=dict)
    parent: Optional[Node] = None  # noqa: UP045


SPEC: dict[str, Any] = {
    "name": Field(str, not_empty(), length(max=50), sanitize=["strip", "nfkc"]),
    "age": (int, range_(min=0, lt=150), multiple_of(1)),
    "ratio": (float, multiple_of(0.1)),
    "email": "email",
    "site": (str, url()),
    "host": (str, hostname()),
    "addr": (str, ip()),
    "id": (str, uuid_()),
    "slug": (str, slug()),
    "when": (str, iso_datetime()),
    "code": (str, regex(r"[A-Z]{3}")),
    "level": Level,
    "mode": (Mode, one_of([Mode.R])),
    "pick": (object, one_of([1, "a", None, True])),
    "lit": Literal[1, "x"],
    "either": Union[int, str],
    "money": Decimal,
    "uid": uuid.UUID,
    "wait": dt.timedelta,
    "day": dt.date,
    "tags": ([str], length(max=5)),
    "scores": dict[str, float],
    "pair": tuple[int, str],
    "bag": set[int],
    "blob": bytes,
    "node": Node,
    "opt": Optional[int],  # noqa: UP045
    "nested": {"deep": {"deeper": [int]}},
}

# --------------------------------------------------------------------------- strategies

_WEIRD_TEXT = weird_text(  # the shared hostile text and validation's own
    "\ud800",
    "a\udfffb",
    "\ufeffabc",
    "\x00",
    "ada@example.com\n",
    "NaN",
    "sNaN",
    "Infinity",
    "1" * 5000,
    "1e999999",
    "P9999999999D",
    "12345678-1234-5678-1234-567812345678\n",
    "{12345678-1234-5678-1234-567812345678}",
    "[::1%eth0]",
    "http://[::1",
    "2026-02-30T25:61:61",
)
_ATOMS = (
    st.none()
    | st.booleans()
    | hostile_numbers()  # any int or float, 10**400, 2**63, 2**1024, NaN, +-inf, -0.0
    | st.text(max_size=10)
    | _WEIRD_TEXT
    | st.binary(max_size=8)
    | st.sampled_from(
        [b"\xff\xfe", b"\xed\xa0\x80", Decimal("NaN"), Decimal("sNaN"), Decimal("1e999999")]
    )
    | st.sampled_from([(1, 2), frozenset({1}), {1, 2}, object(), dt.date.max, Level.HIGH])
)
_KEYS = st.text(max_size=6) | st.sampled_from(list(SPEC)) | _WEIRD_TEXT | st.integers() | st.none()


def _deep(depth: int, key: str) -> Any:
    value: Any = {}
    for index in range(depth):
        value = (
            [value] if key == "list" else {key: value, "name": "n"} if index % 3 else {key: value}
        )
    return value


_TREES = st.recursive(
    _ATOMS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=8,
)
_DEEP = st.builds(
    _deep,
    st.sampled_from([MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 500, 3_000]),
    st.sampled_from(["parent", "kids", "node", "list", "deep"]),
)
_RECORDS = st.fixed_dictionaries({}, optional=dict.fromkeys(SPEC, _ATOMS))
VALUES = st.one_of(*[_TREES] * 3, *[_RECORDS] * 3, _DEEP)


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    runner = asyncio.new_event_loop()
    yield runner
    runner.close()


@pytest.mark.parametrize(
    ("coerce", "extra", "partial"),
    [(False, "forbid", False), (True, "keep", True)],
    ids=["strict", "coerce-partial"],
)
def test_spec_schema_only_raises_pepperpy_errors(coerce: bool, extra: Any, partial: bool) -> None:
    """Every rule and type in one dict spec, fed hostile values."""
    schema = Validation.create_schema(SPEC, coerce=coerce, extra=extra)

    def call(value: Any) -> None:
        schema.validate(value, partial=partial)

    fuzz_only_pepperpy_errors(
        call, VALUES, profile=FUZZ, name=f"spec coerce={coerce} extra={extra}"
    )


def test_class_schema_only_raises_pepperpy_errors() -> None:
    """A recursive attrs class (issue 19 #2: RecursionError ~500 deep), and its export."""
    schema = Schema.from_class(Node)
    schema.json_schema()
    fuzz_only_pepperpy_errors(schema.validate, VALUES, profile=FUZZ, name="class")


def test_async_entry_points_only_raise_pepperpy_errors(loop: asyncio.AbstractEventLoop) -> None:
    """Validation(schema).validate and the schema-less JSON check (async, as the seed calls it)."""
    with_schema = Validation(SPEC)
    plain = Validation()

    def call(value: Any) -> None:
        try:
            loop.run_until_complete(plain.validate(value))
        finally:
            loop.run_until_complete(with_schema.validate(value))

    fuzz_only_pepperpy_errors(call, VALUES, profile=FUZZ_LIGHT, name="async")


def test_schema_less_check_refuses_a_depth_beyond_the_limit() -> None:
    """Validation(max_depth=...) above MAX_DEPTH would recurse without bound."""
    with pytest.raises(PepperPyError):
        Validation(max_depth=10_000)
