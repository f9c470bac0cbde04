"""Issue 26: the faster write paths keep what other processes and callers rely on.

No timings here (the machine is noisy): these pin the behaviour the speed-ups
must not change.
"""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from pepperpy.storage._postgres import _lock_id, _lock_ids


def _lock_id_1_0_0(table: str, store: str, key: str) -> int:
    """The advisory-lock id as pepperpy-storage 1.0.0 computes it (hash of the whole string)."""
    digest = hashlib.blake2b(
        b"pepperpy.storage\x00" + f"{table}\x00{store}\x00{key}".encode(), digest_size=8
    ).digest()
    return int.from_bytes(digest, "big", signed=True)


_TEXT = st.characters(exclude_categories=("Cs",))  # keys are valid Unicode


@settings(max_examples=60, deadline=None)
@given(
    table=st.from_regex(r"[a-z_][a-z0-9_]{0,20}", fullmatch=True),
    store=st.text(_TEXT, max_size=20),
    keys=st.lists(st.text(_TEXT, min_size=1, max_size=30), max_size=20),
)
def test_lock_ids_are_those_of_1_0_0(table: str, store: str, keys: list[str]) -> None:
    """Issue 26: the per-key lock ids are a protocol between processes sharing a table.

    A 1.0.0 process and this one must take the same lock for the same key, or
    their read-then-write is no longer serialized: hashing the common prefix once
    must give exactly the ids of hashing each string whole, sorted, without duplicates.
    """
    expected = sorted({_lock_id_1_0_0(table, store, key) for key in keys})
    assert _lock_ids(table, store, keys) == expected
    assert _lock_ids(table, store, keys + keys) == expected
    for key in keys:
        assert _lock_id(table, store, key) == _lock_id_1_0_0(table, store, key)
