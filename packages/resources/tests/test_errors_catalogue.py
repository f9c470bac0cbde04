"""The error-code catalogue (issue 24): real failures carry codes that ERRORS documents."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pepperpy.core import ErrorCatalogue, PepperPyError, SecurityError
from pepperpy.resources import (
    ERRORS,
    Pool,
    PoolTimeoutError,
    ResourceLoader,
    ResourceNotFoundError,
)


def _documented(error: PepperPyError) -> None:
    """A caught error's code is catalogued, under a class the error is an instance of."""
    assert error.code in ERRORS
    entry = ERRORS[error.code]
    assert isinstance(error, entry.error)
    assert entry.meaning and entry.action


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = f"ppcat_{tmp_path.name.replace('-', '_')}"
    root = tmp_path / name
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "bad.json").write_text('{"a": ')
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_errors_is_the_package_catalogue() -> None:
    assert isinstance(ERRORS, ErrorCatalogue)
    assert ERRORS.package == "pepperpy.resources"
    assert all(code.startswith("pepperpy.resources.") for code in ERRORS)


def test_loader_failures_are_documented(package: str) -> None:
    loader = ResourceLoader(package)
    with pytest.raises(ResourceNotFoundError) as missing:
        loader.read_bytes("absent.txt")
    assert missing.value.code == "pepperpy.resources.not_found"
    _documented(missing.value)
    with pytest.raises(SecurityError) as escape:
        loader.read_bytes("../secrets.txt")
    assert escape.value.code == "pepperpy.resources.unsafe_name"
    _documented(escape.value)
    with pytest.raises(PepperPyError) as bad:
        loader.read_json("bad.json")
    assert bad.value.code == "pepperpy.resources.bad_json"
    _documented(bad.value)


class _Conn:
    pass


async def test_pool_timeout_is_documented() -> None:
    async with Pool(_Conn, max_size=1, acquire_timeout=0.01) as pool:
        held = await pool.acquire()
        with pytest.raises(PoolTimeoutError) as info:
            await pool.acquire()
        assert info.value.code == "pepperpy.resources.pool_timeout"
        _documented(info.value)
        await pool.release(held)


def test_a_module_or_a_name_selects_the_package(package: str) -> None:
    """A loader takes the imported module as well as its name; list() wants a directory."""
    module = __import__(package)
    loader = ResourceLoader(module)
    assert loader.package == package
    assert repr(loader) == f"ResourceLoader({package!r}, cached=0)"
    with pytest.raises(ResourceNotFoundError) as info:
        loader.list("bad.json")
    assert info.value.code == "pepperpy.resources.not_found"
    _documented(info.value)
