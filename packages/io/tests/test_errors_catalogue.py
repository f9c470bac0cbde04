"""The error-code catalogue (issue 24): real failures carry codes that ERRORS documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from pepperpy.core import ErrorCatalogue, PepperPyError
from pepperpy.io import (
    ERRORS,
    PathNotFoundError,
    PathTraversalError,
    read_json,
    read_text,
    safe_join,
)


def _documented(error: PepperPyError) -> None:
    """A caught error's code is catalogued, under a class the error is an instance of."""
    assert error.code in ERRORS
    entry = ERRORS[error.code]
    assert isinstance(error, entry.error)
    assert entry.meaning and entry.action


def test_errors_is_the_package_catalogue() -> None:
    assert isinstance(ERRORS, ErrorCatalogue)
    assert ERRORS.package == "pepperpy.io"
    assert all(code.startswith("pepperpy.io.") for code in ERRORS)


async def test_missing_file_is_documented(tmp_path: Path) -> None:
    with pytest.raises(PathNotFoundError) as info:
        await read_text(tmp_path / "absent.txt")
    assert info.value.code == "pepperpy.io.not_found"
    _documented(info.value)


async def test_bad_json_and_bad_path_are_documented(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"a": ', encoding="utf-8")
    with pytest.raises(PepperPyError) as bad_json:
        await read_json(broken)
    assert bad_json.value.code == "pepperpy.io.bad_json"
    _documented(bad_json.value)
    with pytest.raises(PepperPyError) as nul:
        await read_text(str(tmp_path / "a\x00b"))
    assert nul.value.code == "pepperpy.io.invalid_path"
    _documented(nul.value)


def test_traversal_is_documented(tmp_path: Path) -> None:
    with pytest.raises(PathTraversalError) as info:
        safe_join(tmp_path, "../../etc/passwd")
    assert info.value.code == "pepperpy.io.path_traversal"
    _documented(info.value)
