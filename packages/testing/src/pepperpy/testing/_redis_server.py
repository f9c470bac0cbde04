"""A private redis-server for fault tests: kill it mid-test and restart it on the same data."""

from __future__ import annotations

import asyncio
import shutil
import signal
import socket
import tempfile
from pathlib import Path
from types import TracebackType

from pepperpy.testing._services import services_unavailable

__all__ = ["RedisServer"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _pong(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), 0.2) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """A redis-server of the test's own on 127.0.0.1, to kill and restart.

    The shared server behind ``redis_url`` must never be killed; fault tests
    start one of these instead. :meth:`start` (again after :meth:`kill`) runs
    it on the same port and data directory, so clients reconnect to the same
    URL and, with ``persist=True``, find every write acknowledged before the
    kill (append-only file, fsync on every write).

    Use as ``async with RedisServer() as server:`` or through the plugin's
    ``redis_server`` fixture (started, cleaned up after the test). When
    redis-server is not installed the test is skipped, or fails under
    ``PEPPERPY_REQUIRE_SERVICES=1``.

    Args:
        persist: Keep every acknowledged write across a kill (AOF, ``appendfsync always``).
    """

    def __init__(self, *, persist: bool = True) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            services_unavailable("redis-server is not installed")
        self.binary = binary
        self.persist = persist
        self.port = _free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="pepperpy-redis-server-"))
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``; the same across restarts."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._proc is not None and self._proc.returncode is None

    async def start(self, *, timeout: float = 10.0) -> None:
        """Start the server (or restart it after :meth:`kill`) and wait until it answers."""
        if self.running:
            return
        persistence = ("--appendonly", "yes", "--appendfsync", "always")
        self._proc = await asyncio.create_subprocess_exec(
            self.binary,
            *("--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir)),
            *("--save", ""),
            *(persistence if self.persist else ("--appendonly", "no")),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not await asyncio.to_thread(_pong, self.port):
            if self._proc.returncode is not None or loop.time() > deadline:
                await self.kill()
                raise AssertionError(f"redis-server did not start on port {self.port}")
            await asyncio.sleep(0.01)

    async def kill(self) -> None:
        """SIGKILL the server (no shutdown, no final save) and wait for it to die."""
        proc = self._proc
        if proc is not None and proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()

    async def aclose(self) -> None:
        """Kill the server and delete its data directory."""
        await self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    async def __aenter__(self) -> RedisServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<RedisServer {self.url} {state}>"
