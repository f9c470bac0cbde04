#!/usr/bin/env python3
"""Start and stop the servers the backend tests need (stdlib only).

    python tools/services.py start --env-file PATH   start redis-server and PostgreSQL
                                                      (or reuse running ones), write
                                                      PEPPERPY_REDIS_URL / PEPPERPY_POSTGRES_DSN
    python tools/services.py stop --env-file PATH    stop what `start` started
    python tools/services.py status --env-file PATH  say what is running
    python tools/services.py run [--env-file PATH] -- CMD ...
                                                      start, run CMD with the variables
                                                      set, always stop afterwards

Both servers listen on 127.0.0.1 only, on free ports, with temporary data
directories that are removed on stop. A server already described by
``PEPPERPY_REDIS_URL`` / ``PEPPERPY_POSTGRES_DSN`` in the environment (and
answering) is reused and never stopped. ``start`` is idempotent: servers it
started earlier for the same env file are reused while they answer.

redis-server is installed with ``apt-get install -y redis-server`` when missing
(``apt-get update`` first if that fails); PostgreSQL uses the newest
``/usr/lib/postgresql/*/bin`` (``apt-get install -y postgresql`` when there is
none). initdb and postgres refuse to run as root, so as root they run as the
``postgres`` system user; authentication is ``trust``, reachable from
127.0.0.1 only (``listen_addresses=127.0.0.1``, the Unix socket lives in the
temporary directory).

The env file holds ``NAME=value`` lines; the state of what was started is kept
beside it in ``PATH.state.json``.

The servers themselves are started and stopped by pepperpy-testing's
``_servers.py`` (the same code its pytest fixtures use), loaded here by path so this
tool needs nothing but the standard library; this tool adds the apt-get installs,
reuse of running servers, the env and state files, and the command line.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REDIS_VAR = "PEPPERPY_REDIS_URL"
POSTGRES_VAR = "PEPPERPY_POSTGRES_DSN"
REQUIRE_VAR = "PEPPERPY_REQUIRE_SERVICES"
HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent


def log(message: str) -> None:
    print(f"services: {message}", flush=True)


# ----------------------------------------------------------------------------- helpers


def _load_servers() -> Any:
    """pepperpy-testing's server starter, by path (stdlib-only; no install needed)."""
    path = ROOT / "packages" / "testing" / "src" / "pepperpy" / "testing" / "_servers.py"
    spec = importlib.util.spec_from_file_location("_pepperpy_servers", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


servers = _load_servers()
ServiceError = servers.ServiceError
"""A server could not be installed, started or reached."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    return int(servers._free_port())


def _host_port(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or HOST, parts.port or default_port


def redis_ping(url: str, timeout: float = 1.0) -> bool:
    """Whether a Redis server answers PING at *url* (``redis://host:port/db``)."""
    host, port = _host_port(url, 6379)
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def postgres_ready(dsn: str, timeout: float = 1.0) -> bool:
    """Whether a PostgreSQL server accepts connections at *dsn* (an SSLRequest probe).

    The server answers the 8-byte SSLRequest with ``S`` or ``N``; anything else
    (or no answer) means it is not a PostgreSQL server ready for clients.
    """
    host, port = _host_port(dsn, 5432)
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall((8).to_bytes(4, "big") + (80877103).to_bytes(4, "big"))
            return sock.recv(1) in (b"S", b"N")
    except OSError:
        return False


def _apt_install(package: str) -> None:
    if shutil.which("apt-get") is None:
        raise ServiceError(f"{package} is missing and apt-get is not available to install it")
    log(f"installing {package} with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["apt-get", "install", "-y", "-q", package]
    if os.geteuid() != 0:
        if shutil.which("sudo") is None:
            raise ServiceError(f"{package} is missing; install it: sudo {' '.join(cmd)}")
        cmd = ["sudo", "-n", *cmd]
    quiet = {"stdout": subprocess.DEVNULL, "env": env, "check": False}
    if subprocess.run(cmd, **quiet).returncode == 0:  # type: ignore[call-overload]
        return
    log("apt-get install failed; running apt-get update and trying again")
    update = [*cmd[: cmd.index("install")], "update", "-q"]
    subprocess.run(update, **quiet)  # type: ignore[call-overload]
    if subprocess.run(cmd, **quiet).returncode != 0:  # type: ignore[call-overload]
        raise ServiceError(f"apt-get could not install {package}")


def _installed(find: Any, package: str, *, install: bool) -> Any:
    """``find()``, after ``apt-get install package`` when it fails and *install* allows."""
    try:
        return find()
    except ServiceError:
        if not install:
            raise
    _apt_install(package)
    return find()


def redis_binary(*, install: bool = True) -> str:
    """The redis-server executable, installed with apt-get when missing and allowed."""
    return str(_installed(servers.redis_binary, "redis-server", install=install))


def postgres_bindir(*, install: bool = True) -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` that has initdb and pg_ctl."""
    return Path(_installed(servers.postgres_bindir, "postgresql", install=install))


# ----------------------------------------------------------------------------- servers


def start_redis(*, install: bool = True) -> dict[str, Any]:
    """Start a throwaway redis-server on a free 127.0.0.1 port; return its state."""
    redis_binary(install=install)
    state = dict(servers.start_redis())
    log(f"started redis-server {state['url']} (pid {state.get('pid')}, data {state['dir']})")
    return {**state, "started": True}


def stop_redis(state: dict[str, Any]) -> None:
    """Shut the server down (no save) and remove its directory."""
    port = state.get("port") or _host_port(state["url"], 6379)[1]
    servers.stop_redis({**state, "port": port})
    log(f"stopped redis-server {state['url']}")


def start_postgres(*, install: bool = True) -> dict[str, Any]:
    """Initdb a temporary cluster and start it on a free 127.0.0.1 port; return its state."""
    postgres_bindir(install=install)
    state = dict(servers.start_postgres())
    log(f"started PostgreSQL {state['dsn']} (bin {state['bindir']}, data {state['data']})")
    return {**state, "started": True}


def stop_postgres(state: dict[str, Any]) -> None:
    """``pg_ctl stop -m fast`` (immediate if that hangs) and remove the directory."""
    servers.stop_postgres(state)
    log(f"stopped PostgreSQL {state['dsn']}")


# ----------------------------------------------------------------------------- commands


def _state_path(env_file: Path) -> Path:
    return env_file.with_name(env_file.name + ".state.json")


def _load_state(env_file: Path) -> dict[str, Any]:
    path = _state_path(env_file)
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return {}


def _save(env_file: Path, state: dict[str, Any]) -> None:
    env_file.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    if "redis" in state:
        lines.append(f"{REDIS_VAR}={state['redis']['url']}")
    if "postgres" in state:
        lines.append(f"{POSTGRES_VAR}={state['postgres']['dsn']}")
    env_file.write_text("".join(line + "\n" for line in lines))
    _state_path(env_file).write_text(json.dumps(state, indent=2) + "\n")


def start(
    env_file: Path,
    *,
    redis: bool = True,
    postgres: bool = True,
    install: bool = True,
    environ: dict[str, str] | None = None,
) -> dict[str, str]:
    """Make sure both servers run; write and return the variables that describe them.

    Reuses, in order: a server named by the environment variable (never
    stopped by us), then one this tool started earlier for *env_file*, then
    starts a new one. Raises :class:`ServiceError` when a server cannot run.
    """
    environ = dict(os.environ if environ is None else environ)
    state = _load_state(env_file)
    errors: list[str] = []
    try:
        # (state key, variable, where its URL is kept, name in logs, is it up, start, stop)
        servers = [
            ("redis", REDIS_VAR, "url", "redis", redis_ping, start_redis, stop_redis),
            (
                "postgres",
                POSTGRES_VAR,
                "dsn",
                "PostgreSQL",
                postgres_ready,
                start_postgres,
                stop_postgres,
            ),
        ]
        wanted = {"redis": redis, "postgres": postgres}
        for key, var, field, label, ready, start_server, stop_server in servers:
            if not wanted[key]:
                continue
            external = environ.get(var)
            previous = state.get(key)
            if external and ready(external):
                log(f"reusing {label} {external} (from ${var}; will not stop it)")
                if previous and previous.get("started") and previous[field] != external:
                    stop_server(previous)
                state[key] = {field: external, "started": False}
            elif previous and ready(previous[field]):
                log(f"reusing {label} {previous[field]} started earlier")
            else:
                if external:
                    log(f"${var}={external} does not answer; starting a new server")
                try:
                    state[key] = start_server(install=install)
                except (ServiceError, OSError) as exc:
                    state.pop(key, None)
                    errors.append(f"{key}: {exc}")
    finally:
        _save(env_file, state)
    for error in errors:
        log(f"FAILED {error}")
    if errors:
        raise ServiceError("; ".join(errors))
    values = read_env_file(env_file)
    log(f"wrote {', '.join(values)} to {env_file}")
    return values


def stop(env_file: Path) -> list[str]:
    """Stop the servers that :func:`start` started for *env_file*; return their names."""
    state = _load_state(env_file)
    stopped = []
    for name, stopper in (("redis", stop_redis), ("postgres", stop_postgres)):
        entry = state.get(name)
        if entry and entry.get("started"):
            try:
                stopper(entry)
                stopped.append(name)
            except (OSError, subprocess.SubprocessError) as exc:
                log(f"could not stop {name}: {exc}")
        elif entry:
            log(f"leaving {name} running (it was not started here)")
    if not state:
        log(f"nothing to stop for {env_file}")
    for path in (env_file, _state_path(env_file)):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return stopped


def read_env_file(env_file: Path) -> dict[str, str]:
    """The ``NAME=value`` lines of *env_file* (missing file: empty)."""
    values: dict[str, str] = {}
    with contextlib.suppress(FileNotFoundError):
        for line in env_file.read_text().splitlines():
            name, sep, value = line.partition("=")
            if sep and name.strip() and not name.startswith("#"):
                values[name.strip()] = value.strip()
    return values


def status(env_file: Path) -> int:
    state = _load_state(env_file)
    if not state:
        log(f"nothing recorded for {env_file}")
        return 1
    ok = True
    for name, key, probe in (("redis", "url", redis_ping), ("postgres", "dsn", postgres_ready)):
        entry = state.get(name)
        if entry:
            alive = probe(entry[key])
            ok = ok and alive
            owner = "started here" if entry.get("started") else "external"
            log(f"{name}: {entry[key]} ({owner}) {'up' if alive else 'DOWN'}")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True)
    default_env = Path(tempfile.gettempdir()) / f"pepperpy-services-{os.getuid()}.env"
    for name in ("start", "stop", "status", "run"):
        sub = commands.add_parser(name)
        sub.add_argument("--env-file", type=Path, default=default_env)
        if name in ("start", "run"):
            sub.add_argument("--no-install", action="store_true", help="never call apt-get")
            sub.add_argument("--only", choices=["redis", "postgres"], help="just one server")
        if name == "run":
            sub.add_argument("cmd", nargs=argparse.REMAINDER, help="-- CMD ...")
    args = parser.parse_args(argv)
    env_file = args.env_file.resolve()
    only = getattr(args, "only", None)
    which = {"redis": only in (None, "redis"), "postgres": only in (None, "postgres")}
    if args.command == "start":
        try:
            start(env_file, install=not args.no_install, **which)
        except ServiceError as exc:
            log(f"error: {exc}")
            return 1
        return 0
    if args.command == "stop":
        stop(env_file)
        return 0
    if args.command == "status":
        return status(env_file)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        parser.error("run needs a command after --")
    try:
        try:
            values = start(env_file, install=not args.no_install, **which)
        except ServiceError as exc:
            log(f"error: {exc}")
            if os.environ.get(REQUIRE_VAR) == "1":
                return 1
            values = read_env_file(env_file)
        return subprocess.run(cmd, env={**os.environ, **values}, check=False).returncode
    finally:
        stop(env_file)


if __name__ == "__main__":
    sys.exit(main())
