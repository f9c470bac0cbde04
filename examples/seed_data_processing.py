"""The seed's "Data Processing" example, on the real API.

    python examples/seed_data_processing.py

Two changes from the seed's text: the storage is opened with ``async with``
(it is a Lifecycle component holding a SQLite connection, and must be closed),
and ``transform_data`` and ``data`` are written out. ``validator.validate`` is
sync and returns the cleaned record, so it is a pipeline step as it is;
``storage.save`` returns the key it stored the record under.
"""

# ruff: noqa: I001
# fmt: off

import asyncio
import os
import tempfile

from pepperpy import (
    Pipeline,
    Storage,
    Validation
)
from pepperpy.validation import ValidationError

# Storage.create("data") writes ./data/data.sqlite3 unless PEPPERPY_DATA_DIR says where.
os.environ.setdefault("PEPPERPY_DATA_DIR", tempfile.mkdtemp(prefix="pepperpy-seed-"))

data = {"name": "Ada Lovelace", "age": 36, "email": "ada@example.com"}


def transform_data(record):
    return {**record, "name": record["name"].upper()}


async def process_data():
    # Validation
    validator = Validation.create_schema({
        "name": str,
        "age": int,
        "email": "email"
    })

    # Storage
    async with Storage.create("data") as storage:

        # Pipeline
        pipeline = (
            Pipeline()
            .add_step(validator.validate)
            .add_step(transform_data)
            .add_step(storage.save)
        )

        # Process
        result = await pipeline.process(data)
        print("stored as", result, "->", await storage.get(result))

        try:
            await pipeline.process({"name": "Bob", "age": "old", "email": "nope"})
        except Exception as error:
            cause = error.__cause__
            assert isinstance(cause, ValidationError)
            print("rejected:", [(d.path, d.code) for d in cause.errors])
    return result


if __name__ == "__main__":
    asyncio.run(process_data())
