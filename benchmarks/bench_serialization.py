"""pepperpy.serialization: dumps+loads JSON of an attrs object with 10 mixed fields.

Peers: hand-written cattrs + orjson (the floor we build on), pydantic v2 and msgspec
(its own Struct, and decoding straight into the same attrs class).
Targets (issue 26): round trip and dumps <= 1.0x pydantic v2, the invalid payload with
all 4 errors <= 2x pydantic v2. See packages/serialization/README.md for where they stand.
"""

from __future__ import annotations

import datetime
import uuid

import attrs
import cattrs
import msgspec
import orjson
import pydantic

from harness import compare
from pepperpy import serialization

REQUIRES = ["cattrs", "orjson", "pydantic>=2", "msgspec"]

WHEN = datetime.datetime(2026, 11, 26, 12, 30, tzinfo=datetime.timezone.utc)
IDENT = uuid.UUID(int=12345)


@attrs.define
class Record:
    id: int
    name: str
    price: float
    active: bool
    tags: list[str]
    counts: list[int]
    labels: dict[str, str]
    created: datetime.datetime
    ref: uuid.UUID
    note: str | None = None


class PydRecord(pydantic.BaseModel):
    id: int
    name: str
    price: float
    active: bool
    tags: list[str]
    counts: list[int]
    labels: dict[str, str]
    created: datetime.datetime
    ref: uuid.UUID
    note: str | None = None


class SpecRecord(msgspec.Struct):
    id: int
    name: str
    price: float
    active: bool
    tags: list[str]
    counts: list[int]
    labels: dict[str, str]
    created: datetime.datetime
    ref: uuid.UUID
    note: str | None = None


FIELDS = {
    "id": 42,
    "name": "espresso machine",
    "price": 349.99,
    "active": True,
    "tags": ["kitchen", "coffee", "sale"],
    "counts": [1, 2, 3, 5, 8],
    "labels": {"color": "red", "size": "m"},
    "created": WHEN,
    "ref": IDENT,
}


def _hand_converter() -> cattrs.Converter:
    conv = cattrs.Converter()
    conv.register_unstructure_hook(datetime.datetime, lambda d: d.isoformat())
    conv.register_structure_hook(datetime.datetime, lambda v, _: datetime.datetime.fromisoformat(v))
    conv.register_unstructure_hook(uuid.UUID, str)
    conv.register_structure_hook(uuid.UUID, lambda v, _: uuid.UUID(v))
    return conv


def bench_json_round_trip():
    record = Record(**FIELDS)
    pyd = PydRecord(**FIELDS)
    spec = SpecRecord(**FIELDS)
    hand = _hand_converter()
    encoder, decoder = msgspec.json.Encoder(), msgspec.json.Decoder(SpecRecord)
    attrs_decoder = msgspec.json.Decoder(Record)
    assert serialization.loads(serialization.dumps(record), Record) == record

    return compare(
        "serialization: attrs 10 fields, JSON dumps+loads",
        {
            "pepperpy": lambda: serialization.loads(serialization.dumps(record), Record),
            "cattrs+orjson by hand": lambda: hand.structure(
                orjson.loads(orjson.dumps(hand.unstructure(record))), Record
            ),
            "pydantic v2": lambda: PydRecord.model_validate_json(pyd.model_dump_json()),
            "msgspec": lambda: decoder.decode(encoder.encode(spec)),
            "msgspec on the attrs class": lambda: attrs_decoder.decode(encoder.encode(record)),
        },
        inner=2000,
    )


def bench_json_dumps_only():
    record = Record(**FIELDS)
    pyd = PydRecord(**FIELDS)
    hand = _hand_converter()
    return compare(
        "serialization: attrs 10 fields, JSON dumps",
        {
            "pepperpy": lambda: serialization.dumps(record),
            "cattrs+orjson by hand": lambda: orjson.dumps(hand.unstructure(record)),
            "pydantic v2": pyd.model_dump_json,
        },
        inner=3000,
    )


def bench_error_report():
    bad = {**{k: v for k, v in FIELDS.items() if k not in ("created", "ref")}, "id": "x"}
    bad.update(created="not a date", ref="nope", price="free")
    payload = orjson.dumps(bad)

    def ours():
        try:
            serialization.loads(payload, Record)
        except serialization.StructureError:
            pass

    def pyd():
        try:
            PydRecord.model_validate_json(payload)
        except pydantic.ValidationError:
            pass

    first_only = msgspec.json.Decoder(Record)

    def spec_first():  # msgspec stops at the first error: not the same service
        try:
            first_only.decode(payload)
        except msgspec.ValidationError:
            pass

    return compare(
        "serialization: invalid payload, all 4 errors reported",
        {"pepperpy": ours, "pydantic v2": pyd, "msgspec (first error only)": spec_first},
        inner=1000,
    )
