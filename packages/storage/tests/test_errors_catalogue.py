"""issue 24: every code pepperpy-storage raises is in ``pepperpy.storage.ERRORS``.

A program that catches a storage error looks its code up in the catalogue to
learn what it means and what to do; the entry names a class the error is an
instance of.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pepperpy.core.exceptions import ConfigurationError, PepperPyError
from pepperpy.storage import (
    ERRORS,
    Storage,
    StorageError,
    StorageKeyError,
    StorageValueError,
    VersionConflictError,
)
from pepperpy.storage._postgres import DSN_ENV


def _assert_catalogued(error: PepperPyError) -> None:
    entry = ERRORS[error.code]
    assert entry.code == error.code
    assert isinstance(error, entry.error)
    assert entry.meaning.strip()
    assert entry.action.strip()


async def test_caller_mistakes_on_every_backend_carry_catalogued_codes(store: Storage) -> None:
    version = await store.put("k", {"n": 1})
    with pytest.raises(VersionConflictError) as conflict:
        await store.put("k", {"n": 2}, version=version + 1000)
    with pytest.raises(StorageKeyError) as bad_key:
        await store.put("", 1)
    with pytest.raises(StorageValueError) as bad_value:
        await store.put("k", {"n": float("nan")})
    assert conflict.value.code == "pepperpy.storage.version_conflict"
    assert bad_key.value.code == "pepperpy.storage.bad_key"
    assert bad_value.value.code == "pepperpy.storage.bad_value"
    for error in (conflict.value, bad_key.value, bad_value.value):
        _assert_catalogued(error)
    assert await store.get("k") == {"n": 1}  # none of them changed anything


async def test_a_damaged_database_file_is_a_catalogued_corruption(tmp_path: Path) -> None:
    (tmp_path / "app.sqlite3").write_bytes(b"this is not a database" * 100)
    storage = Storage.create("app", data_dir=tmp_path)
    with pytest.raises(StorageError) as info:
        async with storage:
            pass
    assert info.value.code == "pepperpy.storage.corrupted"
    _assert_catalogued(info.value)


async def test_postgres_without_a_dsn_is_a_catalogued_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DSN_ENV, raising=False)
    with pytest.raises(ConfigurationError) as info:
        storage = Storage.create("app", data_dir=tmp_path, backend="postgres")
        async with storage:
            pass
    assert info.value.code == "pepperpy.storage.no_dsn"
    _assert_catalogued(info.value)
