"""Tests for pepperpy.testing._redis_server: a private redis-server that fault tests kill."""

from __future__ import annotations

import socket

import pytest

from pepperpy.testing import RedisServer


def command(port: int, *args: str) -> bytes:
    """Send one RESP command over a fresh connection and return the raw reply."""
    payload = f"*{len(args)}\r\n".encode()
    for arg in args:
        payload += f"${len(arg.encode())}\r\n{arg}\r\n".encode()
    with socket.create_connection(("127.0.0.1", port), 2) as conn:
        conn.sendall(payload)
        return conn.recv(1024)


def refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), 0.5):
            return False
    except OSError:
        return True


async def test_acknowledged_writes_survive_a_kill_and_restart(redis_server: RedisServer) -> None:
    port = redis_server.port
    assert redis_server.url == f"redis://127.0.0.1:{port}/0"
    assert command(port, "SET", "k", "v1") == b"+OK\r\n"
    await redis_server.kill()
    assert not redis_server.running
    assert refused(port)
    await redis_server.start()  # same port, same data directory
    assert redis_server.running
    assert command(port, "GET", "k") == b"$2\r\nv1\r\n"
    assert "running" in repr(redis_server)


async def test_without_persistence_a_kill_loses_the_data() -> None:
    async with RedisServer(persist=False) as server:
        assert command(server.port, "SET", "k", "v1") == b"+OK\r\n"
        await server.kill()
        await server.start()
        assert command(server.port, "GET", "k") == b"$-1\r\n"
    assert not server.running
    assert not server.dir.exists()


async def test_start_is_idempotent_and_a_missing_binary_skips(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with RedisServer() as server:
        await server.start()
        assert command(server.port, "PING") == b"+PONG\r\n"
    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.delenv("PEPPERPY_REQUIRE_SERVICES", raising=False)
    with pytest.raises(pytest.skip.Exception, match="redis-server is not installed"):
        RedisServer()
