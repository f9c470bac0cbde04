"""Throwaway redis-server and PostgreSQL processes, started from this package's own code.

The plugin's ``redis_url`` and ``postgres_dsn`` fixtures use these when no server
is named by ``$PEPPERPY_REDIS_URL`` / ``$PEPPERPY_POSTGRES_DSN``. A published
pytest plugin never executes files from the user's tree, so nothing here looks
for ``tools/services.py`` or anything else in the project being tested.

Both servers listen on 127.0.0.1 only, on free ports, with temporary data
directories removed on stop. Nothing is installed: a missing binary is a
:class:`ServiceError` (the fixtures then skip with that reason). initdb and
postgres refuse to run as root, so as root they run as the ``postgres``
system user (authentication ``trust``, reachable from 127.0.0.1 only).
"""

from __future__ import annotations

import contextlib
import functools
import glob
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = [
    "ServiceError",
    "start_postgres",
    "start_redis",
    "stop_postgres",
    "stop_redis",
]

HOST = "127.0.0.1"
START_TIMEOUT = 30.0


class ServiceError(RuntimeError):
    """A server could not be found, started or reached."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(port: int, probe: bytes, ok: Callable[[bytes], bool]) -> bool:
    try:
        with socket.create_connection((HOST, port), 1) as sock:
            sock.sendall(probe)
            return ok(sock.recv(64))
    except OSError:
        return False


def _redis_ready(port: int) -> bool:
    return _answers(port, b"*1\r\n$4\r\nPING\r\n", lambda r: r.startswith(b"+PONG"))


def _postgres_ready(port: int) -> bool:
    ssl_request = (8).to_bytes(4, "big") + (80877103).to_bytes(4, "big")
    return _answers(port, ssl_request, lambda r: r[:1] in (b"S", b"N"))


def _wait(predicate: Callable[[], bool], what: str, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise ServiceError(f"{what} did not become ready within {timeout:.0f} s")


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # a zombie child of ours counts as gone
        if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            return False
    return True


# --------------------------------------------------------------------------- redis


def redis_binary() -> str:
    """The redis-server executable on ``PATH`` (or ``/usr/bin``)."""
    found = shutil.which("redis-server")
    if found is None and os.path.exists("/usr/bin/redis-server"):
        found = "/usr/bin/redis-server"
    if found is None:
        raise ServiceError("redis-server is not installed")
    return found


def start_redis() -> dict[str, Any]:
    """Start a throwaway redis-server on a free 127.0.0.1 port; return its state."""
    binary = redis_binary()
    workdir = Path(tempfile.mkdtemp(prefix="pepperpy-redis-"))
    last_error = ""
    for _ in range(3):  # a port taken between choosing and binding: choose again
        port = _free_port()
        pidfile = workdir / "redis.pid"
        logfile = workdir / "redis.log"
        cmd = [
            binary,
            "--port", str(port),
            "--bind", HOST,
            "--protected-mode", "yes",
            "--dir", str(workdir),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "yes",
            "--pidfile", str(pidfile),
            "--logfile", str(logfile),
        ]  # fmt: skip
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode == 0:
            try:
                _wait(functools.partial(_redis_ready, port), f"redis-server on port {port}", 10)
            except ServiceError:
                last_error = _tail(logfile)
                with contextlib.suppress(OSError, ValueError):
                    os.kill(int(pidfile.read_text().strip()), 15)
                continue
            pid = int(pidfile.read_text().strip()) if pidfile.exists() else None
            return {
                "url": f"redis://{HOST}:{port}/0",
                "port": port,
                "dir": str(workdir),
                "pid": pid,
            }
        last_error = result.stderr or result.stdout
    shutil.rmtree(workdir, ignore_errors=True)
    raise ServiceError(f"redis-server did not start: {last_error.strip()}")


def stop_redis(state: dict[str, Any]) -> None:
    """Shut the server down (no save) and remove its directory."""
    with contextlib.suppress(OSError), socket.create_connection((HOST, state["port"]), 2) as sock:
        sock.sendall(b"*2\r\n$8\r\nSHUTDOWN\r\n$6\r\nNOSAVE\r\n")
        with contextlib.suppress(OSError):
            sock.recv(64)
    pid = state.get("pid")
    deadline = time.monotonic() + 10
    while pid and _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if pid and _alive(pid):
        with contextlib.suppress(OSError):
            os.kill(pid, 9)
    shutil.rmtree(state["dir"], ignore_errors=True)


# --------------------------------------------------------------------------- postgres


def postgres_bindir() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` (or ``PATH``) with initdb and pg_ctl."""
    candidates = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    usable = [c for c in candidates if (c / "pg_ctl").exists() and (c / "postgres").exists()]
    if not usable:
        raise ServiceError("PostgreSQL server binaries (initdb, pg_ctl) are not installed")

    def version(path: Path) -> tuple[int, ...]:
        digits = path.parent.name
        return tuple(int(x) for x in digits.split(".") if x.isdigit()) or (0,)

    return max(usable, key=version)


def _as_postgres(cmd: list[str]) -> list[str]:
    """Run *cmd* as the ``postgres`` user when we are root (initdb/postgres refuse root)."""
    if os.geteuid() != 0:
        return cmd
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *cmd]
    if shutil.which("su"):
        return ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(cmd)]
    raise ServiceError("running as root but neither runuser nor su is available")


def _chown_postgres(path: Path) -> None:
    if os.geteuid() != 0:
        return
    import pwd

    try:
        user = pwd.getpwnam("postgres")
    except KeyError as exc:
        raise ServiceError(
            "running as root and there is no 'postgres' user to run PostgreSQL as"
        ) from exc
    os.chown(path, user.pw_uid, user.pw_gid)


def start_postgres() -> dict[str, Any]:
    """Initdb a temporary cluster and start it on a free 127.0.0.1 port; return its state."""
    bindir = postgres_bindir()
    workdir = Path(tempfile.mkdtemp(prefix="pepperpy-postgres-"))
    workdir.chmod(0o700)
    try:
        _chown_postgres(workdir)
    except ServiceError:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    data = workdir / "data"
    logfile = workdir / "postgres.log"
    init = [
        str(bindir / "initdb"),
        "-D", str(data),
        "-U", "postgres",
        "--auth=trust",
        "--encoding=UTF8",
        "--no-locale",
        "--no-sync",
    ]  # fmt: skip
    result = subprocess.run(_as_postgres(init), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        shutil.rmtree(workdir, ignore_errors=True)
        raise ServiceError(f"initdb failed: {(result.stderr or result.stdout).strip()}")
    last_error = ""
    for _ in range(3):
        port = _free_port()
        options = " ".join(
            [
                f"-p {port}",
                f"-c listen_addresses={HOST}",
                f"-c unix_socket_directories={workdir}",
                "-c fsync=off",
                "-c full_page_writes=off",
                "-c max_connections=200",
                "-c shared_buffers=64MB",
            ]
        )
        ctl = [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(logfile), "-o", options]
        started = subprocess.run(
            _as_postgres([*ctl, "-w", "-t", str(int(START_TIMEOUT)), "start"]),
            capture_output=True,
            text=True,
            check=False,
        )
        if started.returncode == 0 and _postgres_ready(port):
            return {
                "dsn": f"postgresql://postgres@{HOST}:{port}/postgres",
                "dir": str(workdir),
                "data": str(data),
                "bindir": str(bindir),
            }
        last_error = _tail(logfile) or started.stderr
    shutil.rmtree(workdir, ignore_errors=True)
    raise ServiceError(f"PostgreSQL did not start: {last_error.strip()}")


def stop_postgres(state: dict[str, Any]) -> None:
    """``pg_ctl stop -m fast`` (immediate if that fails) and remove the directory."""
    ctl = [str(Path(state["bindir"]) / "pg_ctl"), "-D", state["data"]]
    if Path(state["data"]).exists():
        done = subprocess.run(
            _as_postgres([*ctl, "-m", "fast", "-w", "-t", "20", "stop"]),
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            subprocess.run(
                _as_postgres([*ctl, "-m", "immediate", "-w", "-t", "10", "stop"]),
                capture_output=True,
                check=False,
            )
    shutil.rmtree(state["dir"], ignore_errors=True)
