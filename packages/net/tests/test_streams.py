"""Tests for streaming: uploads from files and async iterables, downloads to files."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from pepperpy.core import InvalidArgumentError
from pepperpy.net import HttpClient, HTTPStatusError, Progress, ReadTimeoutError, Timeout


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


async def test_upload_file_streams_with_content_length(
    client: HttpClient, tmp_path: Path, no_leaks: Any
) -> None:
    data = bytes(range(256)) * 1000  # 256 000 bytes
    source = tmp_path / "blob.bin"
    source.write_bytes(data)
    seen: list[Progress] = []
    response = await client.upload("/upload", source, progress=seen.append)
    result = await response.json()
    assert result["size"] == len(data)
    assert result["sha256"] == hashlib.sha256(data).hexdigest()
    assert result["content_length"] == str(len(data))
    assert seen[-1] == Progress(len(data), len(data))
    assert seen[-1].fraction == 1.0
    assert [p.done for p in seen] == sorted(p.done for p in seen)
    no_leaks(client)


async def test_upload_async_iterable_is_chunked(client: HttpClient) -> None:
    async def chunks() -> Any:
        for i in range(10):
            yield bytes([i]) * 1000

    progress: list[int] = []

    async def report(p: Progress) -> None:  # async callbacks work too
        progress.append(p.done)

    response = await client.upload("/upload", chunks(), method="POST", progress=report)
    result = await response.json()
    assert result["size"] == 10_000
    assert result["chunked"] is True
    assert progress[-1] == 10_000


async def test_upload_sync_iterable_and_str(client: HttpClient) -> None:
    result = await (await client.put("/upload", content=[b"ab", b"cd"])).json()
    assert result["size"] == 4
    result = await (await client.put("/upload", content="héllo")).json()
    assert result["size"] == len("héllo".encode())


async def test_upload_bytes_with_progress(client: HttpClient) -> None:
    seen: list[Progress] = []
    data = b"x" * 200_000
    result = await (await client.upload("/upload", data, progress=seen.append)).json()
    assert result["size"] == len(data)
    assert seen[-1] == Progress(len(data), len(data))


async def test_bad_body_types_are_refused(client: HttpClient, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="cannot send a int"):
        await client.put("/upload", content=12)
    with pytest.raises(InvalidArgumentError, match="cannot upload"):
        await client.upload("/upload", tmp_path / "missing.bin")


async def test_download_to_file(
    client: HttpClient, tmp_path: Path, payload: Any, no_leaks: Any
) -> None:
    dest = tmp_path / "out.bin"
    seen: list[Progress] = []
    size = await client.download("/bytes/300000", dest, progress=seen.append, chunk_size=8192)
    assert size == 300_000
    assert dest.read_bytes() == payload(300_000)
    assert seen[-1] == Progress(300_000, 300_000)
    assert files(tmp_path) == [dest.name]
    no_leaks(client)


async def test_download_chunked_without_length(
    client: HttpClient, tmp_path: Path, payload: Any
) -> None:
    dest = tmp_path / "out.bin"
    seen: list[Progress] = []
    await client.download("/bytes/50000", dest, params={"chunked": "1"}, progress=seen.append)
    assert dest.read_bytes() == payload(50000)
    assert seen[-1].total is None
    assert seen[-1].fraction is None


async def test_failed_download_leaves_no_file(servers: Any, tmp_path: Path, no_leaks: Any) -> None:
    dest = tmp_path / "out.bin"
    async with HttpClient(servers.url, retry=None) as client:
        with pytest.raises(ReadTimeoutError):
            await client.download("/stall-body", dest, timeout=Timeout(read=0.2))
        assert files(tmp_path) == []
        with pytest.raises(HTTPStatusError):
            await client.download("/status/404", dest)
        assert files(tmp_path) == []
        no_leaks(client)


async def test_stream_iter_bytes_and_early_exit(client: HttpClient, no_leaks: Any) -> None:
    async with client.stream("GET", "/bytes/100000") as response:
        assert response.status == 200
        assert not response.closed
        async for chunk in response.iter_bytes(1000):
            assert len(chunk) <= 1000
            break
    assert response.closed
    no_leaks(client)


async def test_stream_read_whole_body(client: HttpClient, payload: Any) -> None:
    async with client.stream("GET", "/bytes/1234") as response:
        assert await response.read() == payload(1234)
        assert await response.read() == payload(1234)  # cached
        chunks = [c async for c in response.iter_bytes(1000)]
        assert b"".join(chunks) == payload(1234)


async def test_stream_rejects_unknown_arguments(client: HttpClient) -> None:
    with pytest.raises(InvalidArgumentError, match="bogus"):
        async with client.stream("GET", "/json", bogus=1):
            pass


async def test_stream_is_awaitable(client: HttpClient) -> None:
    response = await client.stream("GET", "/json")
    try:
        assert (await response.json())["id"] == 1
    finally:
        await response.close()
