"""Tests for pepperpy.net._websocket: echo, modes, heartbeat, reconnect, bounded queues."""

from __future__ import annotations

import asyncio
from typing import Any

import attrs
import pytest

from pepperpy.core import (
    ClosedError,
    InvalidArgumentError,
    ManualClock,
    OperationTimeoutError,
    ValidationError,
)
from pepperpy.net import (
    BlockedAddressError,
    HttpClient,
    InvalidURLError,
    Reconnect,
    WebSocketClosedError,
    WebSocketError,
)


class InstantClock(ManualClock):
    """Sleeps return at once; the requested waits are recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await asyncio.sleep(0)


def assert_no_tasks() -> None:
    current = asyncio.current_task()
    assert [t for t in asyncio.all_tasks() if t is not current and not t.done()] == []


@attrs.frozen
class Event:
    kind: str
    n: int


async def test_json_echo_and_stats(client: HttpClient) -> None:
    async with client.websocket("/ws") as ws:
        assert str(ws.url).startswith("ws://127.0.0.1")
        await ws.send({"hello": [1, 2]})
        assert await ws.receive(timeout=2) == {"hello": [1, 2]}
        stats = ws.stats()
        assert stats.connected
        assert (stats.connects, stats.sent, stats.received) == (1, 1, 1)
    assert not ws.connected
    assert_no_tasks()


async def test_text_and_bytes_modes(client: HttpClient) -> None:
    async with client.websocket("/ws", mode="text") as ws:
        await ws.send("plain")
        assert await ws.receive(timeout=2) == "plain"
        with pytest.raises(InvalidArgumentError, match="must be str"):
            await ws.send(b"x")
    async with client.websocket("/ws", mode="bytes") as ws:
        await ws.send(b"\x00\x01")
        assert await ws.receive(timeout=2) == b"\x00\x01"
        with pytest.raises(InvalidArgumentError, match="must be bytes"):
            await ws.send("x")


async def test_typed_messages(client: HttpClient) -> None:
    pytest.importorskip("pepperpy.serialization")
    async with client.websocket("/ws", type_=Event) as ws:
        await ws.send(Event("tick", 3))
        assert await ws.receive(timeout=2) == Event("tick", 3)


async def test_invalid_json_message_raises_and_the_socket_goes_on(client: HttpClient) -> None:
    async with client.websocket("/ws", mode="json") as ws:
        ws.send_nowait("garbage")  # the server answers "{not json"
        with pytest.raises(ValidationError, match="not valid JSON"):
            await ws.receive(timeout=2)
        await ws.send([1])
        assert await ws.receive(timeout=2) == [1]


async def test_receive_timeout(client: HttpClient) -> None:
    async with client.websocket("/ws") as ws:
        with pytest.raises(OperationTimeoutError):
            await ws.receive(timeout=0.05)


async def test_peer_close_without_reconnect_ends_iteration(client: HttpClient) -> None:
    async with client.websocket("/ws", mode="text") as ws:
        await ws.send("one")
        await ws.send("close-me")
        received = [message async for message in ws]
        assert received == ["one"]
        with pytest.raises(WebSocketClosedError, match="reconnect"):
            await ws.receive()
        with pytest.raises(WebSocketClosedError):
            await ws.send("late")
    assert_no_tasks()


async def test_reconnects_after_the_peer_closes(servers: Any) -> None:
    clock = InstantClock()
    async with HttpClient(servers.url, clock=clock) as client:
        before = servers.hits["ws-connect"]
        reconnect = Reconnect(delay=0.5, jitter=0)
        async with client.websocket("/ws", mode="text", reconnect=reconnect) as ws:
            await ws.send("close-me")
            for _ in range(200):
                if ws.stats().reconnects == 1:
                    break
                await asyncio.sleep(0.01)
            await ws.wait_connected(timeout=2)
            await ws.send("after")
            assert await ws.receive(timeout=2) == "after"
            assert ws.stats().reconnects == 1
        assert servers.hits["ws-connect"] - before == 2
        assert clock.sleeps[0] == 0.5
        assert_no_tasks()


async def test_heartbeat_detects_a_dead_peer_and_reconnects(servers: Any) -> None:
    clock = InstantClock()
    async with HttpClient(servers.url, clock=clock) as client:
        async with client.websocket(
            "/ws-deaf", mode="text", heartbeat=0.4, reconnect=Reconnect(delay=0.01)
        ) as ws:
            for _ in range(300):  # the first connection never answers pings
                if ws.stats().reconnects >= 1:
                    break
                await asyncio.sleep(0.01)
            await ws.wait_connected(timeout=2)
            await ws.send("ping?")
            assert await ws.receive(timeout=3) == "ping?"  # echoed by a later connection
            assert ws.stats().reconnects >= 1
    assert servers.hits["ws-deaf"] >= 2


async def test_reconnect_gives_up_after_its_attempts(servers: Any) -> None:
    clock = InstantClock()
    async with HttpClient(servers.url, clock=clock) as client:
        ws = client.websocket(
            "/ws-once?key=giveup", mode="text", reconnect=Reconnect(attempts=3, jitter=0)
        )
        async with ws:
            await ws.send("bye")  # the server closes; every reconnect gets 403
            with pytest.raises(WebSocketClosedError, match="after 3 attempts"):
                await ws.receive(timeout=3)
    assert servers.hits["ws-once-giveup"] == 4
    assert len(clock.sleeps) == 3
    assert_no_tasks()


async def test_send_queue_is_bounded(client: HttpClient) -> None:
    async with client.websocket("/ws", send_queue_size=2) as ws:
        ws.send_nowait(1)
        ws.send_nowait(2)
        with pytest.raises(WebSocketError, match="full") as info:
            ws.send_nowait(3)  # no await in between: the writer had no chance to run
        assert info.value.code == "pepperpy.net.websocket.backpressure"
        assert await ws.receive(timeout=2) == 1
        assert await ws.receive(timeout=2) == 2


async def test_client_stop_closes_its_websockets(servers: Any) -> None:
    client = HttpClient(servers.url)
    async with client:
        ws = client.websocket("/ws")
        await ws.start()
    assert not ws.is_running
    assert_no_tasks()
    with pytest.raises(ClosedError):
        await ws.send(1)


async def test_websocket_needs_a_running_client(servers: Any) -> None:
    client = HttpClient(servers.url)
    ws = client.websocket("/ws")
    with pytest.raises(Exception, match="not running"):
        await ws.start()


async def test_ssrf_guard_applies_to_websockets(servers: Any) -> None:
    async with HttpClient(ssrf_guard=True) as client:
        ws = client.websocket(f"ws://127.0.0.1:{servers.port}/ws")
        with pytest.raises(Exception, match="failed to start") as info:
            await ws.start()
        assert isinstance(info.value.__cause__, BlockedAddressError)


def test_websocket_arguments_are_validated() -> None:
    client = HttpClient("http://127.0.0.1:1")
    with pytest.raises(InvalidArgumentError, match="mode"):
        client.websocket("/ws", mode="xml")
    with pytest.raises(InvalidArgumentError, match="bounded"):
        client.websocket("/ws", send_queue_size=0)
    with pytest.raises(InvalidArgumentError, match="heartbeat"):
        client.websocket("/ws", heartbeat=0)
    with pytest.raises(InvalidURLError):
        client.websocket("ftp://x/ws")
    assert str(client.websocket("https://example.org/ws").url).startswith("wss://")


async def test_flush_waits_for_queued_messages(client: HttpClient) -> None:
    async with client.websocket("/ws", mode="text") as ws:
        for n in range(20):
            ws.send_nowait(str(n))
        await ws.flush(timeout=5)
        assert ws.stats().sent == 20
        assert ws.stats().queued == 0
        received = [await ws.receive(timeout=2) for _ in range(20)]
        assert received == [str(n) for n in range(20)]
    assert_no_tasks()


async def test_flush_reports_a_closed_socket(client: HttpClient) -> None:
    async with client.websocket("/ws", mode="text") as ws:
        await ws.send("close-me")
        with pytest.raises(WebSocketClosedError):
            for _ in range(100):  # the close arrives, then flush sees a dead socket
                await ws.flush(timeout=1)
                await asyncio.sleep(0.01)


async def test_messages_received_before_a_close_are_kept(client: HttpClient) -> None:
    async with client.websocket("/ws", mode="text", receive_queue_size=2) as ws:
        await ws.send("a")
        await ws.send("b")
        await ws.flush(timeout=2)
        for _ in range(200):  # both echoes are in the (now full) inbox
            if ws.stats().received == 2:
                break
            await asyncio.sleep(0.01)
        await ws.send("close-me")
        received = [message async for message in ws]
        assert received == ["a", "b"]
