"""Tests for pepperpy.storage._model (operation semantics shared by every backend)."""

from __future__ import annotations

import json

import pytest

from pepperpy.storage import (
    Check,
    Delete,
    Incr,
    Put,
    Record,
    StorageValueError,
    Txn,
    VersionConflictError,
    apply_op,
)


class Rows:
    def __init__(self) -> None:
        self.rows: dict[str, Record] = {}
        self.revision = 0

    def read(self, key: str) -> Record | None:
        return self.rows.get(key)

    def write(self, record: Record) -> None:
        self.rows[record.key] = record

    def remove(self, key: str) -> None:
        self.rows.pop(key, None)

    def next_version(self) -> int:
        self.revision += 1
        return self.revision


def incr(key: str, amount: int = 1) -> Incr:
    return Incr(key, amount, None, json.loads, lambda v: json.dumps(v).encode())


def test_versions_never_go_back() -> None:
    rows = Rows()
    assert apply_op(Put("k", b"1", expires_at=5.0), rows, 0.0) == 1
    assert apply_op(Put("k", b"2", expected=0), rows, 10.0) == 2  # expired = absent
    assert apply_op(Delete("k"), rows, 10.0) is True
    # issue 18 #1: a re-created key does not restart at 1 (ABA); versions come from
    # the store's revision (etcd's mod_revision), even across a failed transaction.
    assert apply_op(Put("k", b"3"), rows, 10.0) == 3
    with pytest.raises(VersionConflictError):
        apply_op(Txn((Put("k", b"4"), Check("other", 7))), rows, 10.0)
    assert apply_op(Put("k", b"5"), rows, 10.0) > 3


def test_failed_transaction_changes_nothing() -> None:
    rows = Rows()
    apply_op(Put("a", b"1"), rows, 0.0)
    with pytest.raises(VersionConflictError):
        apply_op(Txn((Put("a", b"2"), Put("b", b"2"), Check("a", 1))), rows, 0.0)
    assert rows.rows["a"].value == b"1"
    assert "b" not in rows.rows
    with pytest.raises(StorageValueError):
        apply_op(Txn((Put("c", b'"text"'), incr("c"))), rows, 0.0)
    assert "c" not in rows.rows
    results = apply_op(Txn((Check("a", 1), incr("n"), incr("n", 2), Delete("a"))), rows, 0.0)
    assert results == [None, 1, 3, True]
    assert rows.rows["n"].value == b"3"
    assert "a" not in rows.rows
