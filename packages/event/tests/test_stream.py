"""MemoryStream's hubs and connect_stream(): URLs, the environment and entry points."""

from __future__ import annotations

import asyncio
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from pepperpy.core import ConfigurationError, InvalidArgumentError, PluginError
from pepperpy.event import (
    ENTRY_POINT_GROUP,
    STREAM_URL_ENV,
    MemoryHub,
    MemoryStream,
    RedisStream,
    connect_stream,
    stream_backends,
)


async def test_streams_on_one_hub_share_entries_and_other_hubs_do_not() -> None:
    name = "test-hub-sharing"
    producer = MemoryStream("orders", hub=name)
    consumer = connect_stream(f"memory://{name}", "orders", group="g")
    mine = MemoryHub()
    private = MemoryStream("orders", group="g", hub=mine)
    await producer.publish("jobs", 1)
    assert [m.data for m in await consumer.read(block=0)] == [1]
    assert await private.read(block=0) == []
    assert MemoryStream("orders", group="g", hub=mine).hub is mine
    assert MemoryHub.named(name) is producer.hub
    producer.hub.drop(producer.key)  # forget the stream, its groups and dead letters
    assert await MemoryStream("orders", group="g", hub=name).read(block=0) == []
    with pytest.raises(InvalidArgumentError, match="hub"):
        MemoryStream(hub=42)  # type: ignore[arg-type]


async def test_a_reader_on_another_threads_loop_is_woken_by_a_publish() -> None:
    hub = MemoryHub()
    reader = MemoryStream("orders", group="g", hub=hub, block=30.0)
    writer = MemoryStream("orders", hub=hub)
    await reader.ensure_group()

    started = threading.Event()

    def read_in_thread() -> list[Any]:
        async def wait() -> list[Any]:
            started.set()
            return [m.data for m in await asyncio.wait_for(reader.read(), 20)]

        return asyncio.run(wait())

    waiting = asyncio.ensure_future(asyncio.to_thread(read_in_thread))
    await asyncio.to_thread(started.wait, 10)
    await asyncio.sleep(0.2)  # the reader is waiting on its own loop by now
    await writer.publish("jobs", "hello")
    assert await waiting == ["hello"]  # woken at once, not after block=30


async def test_memory_maxlen_keeps_exactly_the_newest() -> None:
    stream = MemoryStream("orders", hub=MemoryHub(), maxlen=3)
    ids = [await stream.publish("jobs", n) for n in range(10)]
    assert [m.id for m in await stream.read(block=0)] == ids[-3:]


def test_the_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(STREAM_URL_ENV, raising=False)
    with pytest.raises(ConfigurationError, match="needs a URL"):
        connect_stream()
    monkeypatch.setenv(STREAM_URL_ENV, "memory://from-env")
    stream = connect_stream(stream="orders", group="g", consumer="c")
    assert isinstance(stream, MemoryStream)
    assert (stream.key, stream.group, stream.consumer) == ("pepperpy:events:orders", "g", "c")
    monkeypatch.setenv(STREAM_URL_ENV, "redis://127.0.0.1:6379/0")
    assert isinstance(connect_stream(), RedisStream)  # no connection until used


def test_bad_urls() -> None:
    assert {"memory", "sqlite", "redis"} <= set(stream_backends())
    with pytest.raises(ConfigurationError, match="no event stream backend") as info:
        connect_stream("kafka://broker:9092")
    assert "memory" in info.value.context["available"]
    for url in ("events.db", 42):
        with pytest.raises(InvalidArgumentError, match="not a stream URL"):
            connect_stream(url)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="do not take clock"):
        connect_stream("redis://127.0.0.1:6379/0", clock=None)  # time is the server's


def _distribution(root: Path, name: str, entry_points: str) -> None:
    info = root / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{entry_points}\n")


async def test_third_party_backends_come_from_entry_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "echo_stream_backend.py").write_text(
        textwrap.dedent(
            """
            from pepperpy.event import MemoryHub, MemoryStream

            class EchoStream(MemoryStream):
                @classmethod
                def from_url(cls, url, stream="events", **options):
                    return cls(stream, hub=MemoryHub(), **options)
            """
        )
    )
    _distribution(tmp_path, "echo_stream", "echo = echo_stream_backend:EchoStream")
    _distribution(tmp_path, "broken_stream", "broken = no_such_module_here:Stream")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert {"echo", "broken"} <= set(stream_backends())
    stream = connect_stream("echo://anything", "orders", group="g")
    assert type(stream).__name__ == "EchoStream"
    await stream.publish("jobs", 1)
    assert [m.data for m in await stream.read(block=0)] == [1]
    with pytest.raises(PluginError, match="failed to load"):
        connect_stream("broken://x")
