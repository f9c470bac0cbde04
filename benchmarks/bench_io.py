"""pepperpy.io against aiofiles and plain pathlib.

Target (issue 5): read_text of 1,000 small files, ours (one thread hop per file)
against aiofiles (a hop per open/read/close) and sync pathlib (the floor, but it
blocks the event loop).
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from harness import acompare

REQUIRES = ["aiofiles"]

FILES = 1_000


def _make_files() -> list[Path]:
    root = Path(tempfile.mkdtemp(prefix="bench-io-"))
    paths = []
    for i in range(FILES):
        path = root / f"f{i:04d}.txt"
        path.write_text(f"file {i}\n" * 20, encoding="utf-8")
        paths.append(path)
    return paths


async def bench_read_text_1000_files():
    import aiofiles

    from pepperpy.io import read_text

    paths = _make_files()

    async def ours() -> None:
        await asyncio.gather(*(read_text(p) for p in paths))

    async def aiofiles_read(path: Path) -> str:
        async with aiofiles.open(path, encoding="utf-8") as f:
            return await f.read()

    async def peer() -> None:
        await asyncio.gather(*(aiofiles_read(p) for p in paths))

    async def pathlib_sync() -> None:
        for p in paths:
            p.read_text(encoding="utf-8")

    return await acompare(
        f"io: read_text of {FILES} small files (per batch)",
        {"pepperpy": ours, "aiofiles": peer, "pathlib (sync, blocks the loop)": pathlib_sync},
        inner=1,
        samples=15,
    )


async def bench_read_text_sequential():
    import aiofiles

    from pepperpy.io import read_text

    paths = _make_files()[:50]

    async def ours() -> None:
        for p in paths:
            await read_text(p)

    async def peer() -> None:
        for p in paths:
            async with aiofiles.open(p, encoding="utf-8") as f:
                await f.read()

    async def to_thread() -> None:
        for p in paths:
            await asyncio.to_thread(p.read_text, encoding="utf-8")

    return await acompare(
        "io: read_text, 50 files one after another (per batch)",
        {"pepperpy": ours, "aiofiles": peer, "asyncio.to_thread(Path.read_text)": to_thread},
        inner=1,
        samples=15,
    )
