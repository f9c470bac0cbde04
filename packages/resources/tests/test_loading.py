"""Tests for pepperpy.resources._loading."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pepperpy.core import InvalidArgumentError, SecurityError
from pepperpy.resources import ResourceLoader, ResourceNotFoundError, read_binary, read_text


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"ppres_{tmp_path.name.replace('-', '_')}"
    root = tmp_path / name
    (root / "data").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "data" / "hello.txt").write_text("héllo", encoding="utf-8")
    (root / "data" / "conf.json").write_text('{"a": [1, 2]}')
    (root / "data" / "bad.json").write_text('{"a": ')
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_reads_and_caches(package: str, tmp_path: Path) -> None:
    loader = ResourceLoader(package)
    assert loader.read_text("data/hello.txt") == "héllo"
    (tmp_path / package / "data" / "hello.txt").write_text("changed")
    assert loader.read_text("data/hello.txt") == "héllo"
    loader.clear_cache()
    assert loader.read_text("data/hello.txt") == "changed"
    assert ResourceLoader(package, cache=False).read_text("data/hello.txt") == "changed"


def test_json_listing_and_exists(package: str) -> None:
    loader = ResourceLoader(package)
    assert loader.read_json("data/conf.json") == {"a": [1, 2]}
    assert loader.list("data") == ["bad.json", "conf.json", "hello.txt"]
    assert loader.exists("data/conf.json")
    assert not loader.exists("data/nope.json")
    with pytest.raises(InvalidArgumentError, match="not valid JSON") as info:
        loader.read_json("data/bad.json")
    assert info.value.context["line"] == 1


def test_module_functions(package: str) -> None:
    assert read_text(package, "data/hello.txt") == "héllo"
    assert read_binary(package, "data/conf.json").startswith(b"{")


async def test_async_reads(package: str) -> None:
    loader = ResourceLoader(package)
    assert await loader.aread_text("data/hello.txt") == "héllo"
    assert await loader.aread_bytes("data/hello.txt") == "héllo".encode()


@pytest.mark.parametrize("name", ["../secret", "/etc/passwd", "data/../../x"])
def test_traversal_is_refused(package: str, name: str) -> None:
    with pytest.raises(SecurityError):
        ResourceLoader(package).read_bytes(name)


def test_missing_things(package: str) -> None:
    with pytest.raises(ResourceNotFoundError, match="no data file"):
        ResourceLoader(package).read_bytes("data/missing.txt")
    with pytest.raises(ResourceNotFoundError, match="cannot be imported"):
        ResourceLoader("no_such_package_xyz").read_bytes("a.txt")
    with pytest.raises(InvalidArgumentError):
        ResourceLoader(package).read_bytes("")
    with pytest.raises(InvalidArgumentError):
        ResourceLoader("")
