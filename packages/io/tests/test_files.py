"""Tests for pepperpy.io._files."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pepperpy.core import InvalidArgumentError
from pepperpy.io import (
    FileOperationError,
    PathNotFoundError,
    StreamClosedError,
    append_text,
    atomic_open,
    copy,
    exists,
    iter_chunks,
    iter_lines,
    makedirs,
    move,
    open_file,
    read_bytes,
    read_json,
    read_text,
    remove,
    stat,
    walk,
    write_bytes,
    write_json,
    write_text,
)


async def test_text_bytes_and_json_round_trip(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    await write_text(target, "héllo\nwörld")
    assert await read_text(target) == "héllo\nwörld"
    assert await read_bytes(target) == "héllo\nwörld".encode()
    await write_bytes(target, b"\x00\x01")
    assert await read_bytes(target) == b"\x00\x01"
    await write_json(tmp_path / "d" / "x.json", {"a": [1, 2], "é": None}, mkdir=True)
    assert await read_json(tmp_path / "d" / "x.json") == {"a": [1, 2], "é": None}
    await append_text(target, "tail")
    assert (await read_bytes(target)).endswith(b"tail")


async def test_atomic_write_keeps_permissions_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "cfg"
    target.write_text("old")
    target.chmod(0o640)
    await write_text(target, "new")
    assert target.read_text() == "new"
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(os.listdir(tmp_path)) == ["cfg"]


async def test_non_atomic_write(tmp_path: Path) -> None:
    await write_text(tmp_path / "f", "x", atomic=False, fsync=False)
    assert (tmp_path / "f").read_text() == "x"


async def test_errors_name_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "missing.txt"
    with pytest.raises(PathNotFoundError) as info:
        await read_text(missing)
    assert info.value.context["path"] == str(missing)
    assert isinstance(info.value.__cause__, FileNotFoundError)
    with pytest.raises(FileOperationError) as error:
        await read_bytes(tmp_path)
    assert error.value.context["errno"] == "EISDIR"
    with pytest.raises(PathNotFoundError):
        await write_text(tmp_path / "no" / "dir" / "f", "x")
    with pytest.raises(InvalidArgumentError):
        await write_text(tmp_path / "f", b"bytes")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        await write_bytes(tmp_path / "f", "text")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="not JSON-serializable"):
        await write_json(tmp_path / "f.json", {"a": object()})
    assert not (tmp_path / "f.json").exists()


async def test_bad_content_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"a": ')
    with pytest.raises(InvalidArgumentError, match="not valid JSON") as info:
        await read_json(tmp_path / "bad.json")
    assert info.value.context["line"] == 1
    (tmp_path / "latin").write_bytes(b"caf\xe9")
    with pytest.raises(InvalidArgumentError, match="not valid utf-8"):
        await read_text(tmp_path / "latin")
    assert await read_text(tmp_path / "latin", encoding="latin-1") == "café"


async def test_read_only_directory_gives_clear_error(
    tmp_path: Path, read_only: Callable[[Path], None]
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "keep.txt").write_text("precious")
    read_only(folder)
    with pytest.raises(FileOperationError) as info:
        await write_text(folder / "keep.txt", "overwrite")
    assert info.value.context["path"] == str(folder / "keep.txt")
    assert info.value.hint
    assert (folder / "keep.txt").read_text() == "precious"


@settings(max_examples=30, deadline=None)
@given(
    text=st.lists(st.sampled_from(["a", "é", "€", "𝄞", "\n", "\r\n", "\r", "\x0c"])).map("".join),
    block=st.integers(1, 9),
)
def test_iter_lines_matches_python(
    tmp_path_factory: pytest.TempPathFactory, text: str, block: int
) -> None:
    path = tmp_path_factory.mktemp("lines") / "f.txt"
    path.write_bytes(text.encode())

    async def collect(keepends: bool) -> list[str]:
        return [line async for line in iter_lines(path, block_size=block, keepends=keepends)]

    with open(path, encoding="utf-8", newline="") as f:
        expected = f.readlines()
    assert asyncio.run(collect(True)) == expected
    assert asyncio.run(collect(False)) == [
        line[:-2] if line.endswith("\r\n") else line[:-1] if line.endswith(("\n", "\r")) else line
        for line in expected
    ]


async def test_iter_chunks_and_early_exit(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    data = os.urandom(100_000)
    path.write_bytes(data)
    chunks = [c async for c in iter_chunks(path, 4096, read_ahead=3)]
    assert b"".join(chunks) == data
    assert all(len(c) == 4096 for c in chunks[:-1])
    gen = iter_chunks(path, 10)
    first = await gen.__anext__()
    await gen.aclose()
    assert first == data[:10]
    with pytest.raises(PathNotFoundError):
        async for _ in iter_chunks(tmp_path / "nope"):
            pass
    with pytest.raises(InvalidArgumentError):
        async for _ in iter_chunks(path, 0):
            pass


async def test_walk_copy_move_remove(tmp_path: Path) -> None:
    (tmp_path / "src" / "sub").mkdir(parents=True)
    (tmp_path / "src" / "a.json").write_text("{}")
    (tmp_path / "src" / "sub" / "b.txt").write_text("b")
    found = [p.relative_to(tmp_path).as_posix() async for p in walk(tmp_path / "src")]
    assert found == ["src/a.json", "src/sub/b.txt"]
    only_json = [p.name async for p in walk(tmp_path, pattern="*.json")]
    assert only_json == ["a.json"]
    await copy(tmp_path / "src", tmp_path / "dst")
    assert (tmp_path / "dst" / "sub" / "b.txt").read_text() == "b"
    with pytest.raises(FileOperationError) as info:
        await copy(tmp_path / "src", tmp_path / "dst")
    assert info.value.context["errno"] == "EEXIST"
    await move(tmp_path / "dst", tmp_path / "moved")
    assert not await exists(tmp_path / "dst")
    assert (await stat(tmp_path / "moved" / "a.json")).st_size == 2
    await remove(tmp_path / "moved")
    await remove(tmp_path / "moved", missing_ok=True)
    with pytest.raises(PathNotFoundError):
        await remove(tmp_path / "moved")
    await makedirs(tmp_path / "x" / "y")
    assert (tmp_path / "x" / "y").is_dir()


async def test_open_file(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    async with open_file(path, "w") as f:
        await f.write("one\ntwo\n")
        await f.flush(fsync=True)
    f = await open_file(path)
    assert [line async for line in f] == ["one\n", "two\n"]
    await f.seek(0)
    assert await f.readline() == "one\n"
    assert await f.tell() == 4
    await f.close()
    assert f.closed
    with pytest.raises(StreamClosedError):
        await f.read()


async def test_atomic_open_commits_only_on_success(tmp_path: Path) -> None:
    path = tmp_path / "report.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        async with atomic_open(path, "w") as f:
            await f.write("half")
            raise RuntimeError("producer failed")
    assert path.read_text() == "old"
    async with atomic_open(path, "w") as f:
        await f.write("new")
    assert path.read_text() == "new"
    assert sorted(os.listdir(tmp_path)) == ["report.txt"]
    with pytest.raises(InvalidArgumentError):
        atomic_open(path, "a")


_MID_WRITE = textwrap.dedent(
    """
    import asyncio, sys
    from pepperpy.io import atomic_open

    async def main():
        async with atomic_open(sys.argv[1], "wb") as f:
            await f.write(b"N" * 1_000_000)
            await f.flush()
            print("WRITING", flush=True)
            await asyncio.sleep(60)

    asyncio.run(main())
    """
)

_LOOP_WRITES = textwrap.dedent(
    """
    import asyncio, sys
    from pepperpy.io import write_bytes

    async def main():
        n = 0
        while True:
            n += 1
            await write_bytes(sys.argv[1], bytes([n % 250 + 1]) * 2_000_000, fsync=False)
            print(n, flush=True)

    asyncio.run(main())
    """
)


def _spawn(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True
    )


def test_kill_mid_write_leaves_old_file_intact(tmp_path: Path) -> None:
    path = tmp_path / "state.bin"
    path.write_bytes(b"old content")
    proc = _spawn(_MID_WRITE, str(path))
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "WRITING"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert path.read_bytes() == b"old content"


@pytest.mark.parametrize("round_", range(3))
def test_kill_during_repeated_writes_never_leaves_a_torn_file(tmp_path: Path, round_: int) -> None:
    path = tmp_path / "state.bin"
    proc = _spawn(_LOOP_WRITES, str(path))
    assert proc.stdout is not None
    for _ in range(2 + round_):
        assert proc.stdout.readline()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    data = path.read_bytes()
    assert len(data) == 2_000_000
    assert data == data[:1] * len(data)


async def test_concurrent_operations_each_get_their_own_result(tmp_path: Path) -> None:
    paths = []
    for i in range(40):
        path = tmp_path / f"f{i}.txt"
        if i % 7:
            path.write_text(f"content {i}")
        paths.append(path)
    results = await asyncio.gather(*(read_text(p) for p in paths), return_exceptions=True)
    for i, result in enumerate(results):
        if i % 7:
            assert result == f"content {i}"
        else:
            assert isinstance(result, PathNotFoundError)
            assert result.context["path"] == str(paths[i])
    await asyncio.gather(*(write_text(tmp_path / f"w{i}", str(i)) for i in range(30)))
    assert [await read_text(tmp_path / f"w{i}") for i in range(30)] == [str(i) for i in range(30)]


async def test_abandoned_iteration_closes_the_file(tmp_path: Path) -> None:
    import gc
    import warnings

    path = tmp_path / "big.txt"
    path.write_text("line\n" * 50_000)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gen = iter_lines(path, block_size=1024)
        assert await gen.__anext__() == "line"
        await gen.aclose()

        async def consume() -> None:
            async for _ in iter_chunks(path, 512):
                await asyncio.sleep(0)

        task = asyncio.ensure_future(consume())
        for _ in range(5):
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.1)
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
