"""Tests for pepperpy.io._paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pepperpy.core import InvalidArgumentError
from pepperpy.io import PathTraversalError, is_within, safe_join


def test_relative_paths_resolve_inside(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    assert safe_join(tmp_path, "a", "b.txt") == root / "a" / "b.txt"
    assert safe_join(tmp_path, "a/./b/../c") == root / "a" / "c"
    assert safe_join(tmp_path, "") == root


@pytest.mark.parametrize(
    "bad",
    [
        "../etc/passwd",
        "a/../../x",
        "/etc/passwd",
        "\\\\server\\share",
        "C:\\windows",
        "C:x",
        "a\x00b",
    ],
)
def test_escapes_are_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(PathTraversalError):
        safe_join(tmp_path, bad)


def test_symlinks(tmp_path: Path) -> None:
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "inner").mkdir()
    os.symlink(outside, root / "escape")
    os.symlink(root / "inner", root / "alias")
    with pytest.raises(PathTraversalError, match="symlink"):
        safe_join(root, "escape/file")
    assert safe_join(root, "alias/f") == (root / "inner" / "f").resolve()
    with pytest.raises(PathTraversalError):
        safe_join(root, "alias/f", follow_symlinks=False)
    assert is_within(root / "inner", root)
    assert not is_within(root / "escape", root)


def test_non_string_part(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError):
        safe_join(tmp_path, 42)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "..", ".", "/", "x/../..", "c/.."]), max_size=8))
def test_result_is_always_inside_root(
    tmp_path_factory: pytest.TempPathFactory, parts: list[str]
) -> None:
    root = tmp_path_factory.getbasetemp()
    try:
        result = safe_join(root, "/".join(parts) if parts and parts[0] != "/" else "a")
    except PathTraversalError:
        return
    assert is_within(result, root)
