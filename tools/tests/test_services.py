"""Tests for tools/services.py: real redis-server and PostgreSQL, started and stopped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import services

TOOL = Path(services.__file__).resolve()


@pytest.fixture(scope="module")
def installed() -> None:
    """The server binaries are here (the tool installs them; the test never runs apt-get)."""
    try:
        services.redis_binary(install=False)
        services.postgres_bindir(install=False)
    except services.ServiceError as exc:
        if os.environ.get(services.REQUIRE_VAR) == "1":
            pytest.fail(f"{exc} ({services.REQUIRE_VAR}=1)")
        pytest.skip(str(exc))


@pytest.mark.usefixtures("installed")
def test_start_is_idempotent_and_stop_cleans_up(tmp_path: Path) -> None:
    env_file = tmp_path / "svc.env"
    clean = {
        k: v for k, v in os.environ.items() if k not in (services.REDIS_VAR, services.POSTGRES_VAR)
    }
    try:
        values = services.start(env_file, install=False, environ=clean)
        assert set(values) == {services.REDIS_VAR, services.POSTGRES_VAR}
        assert values[services.REDIS_VAR].startswith("redis://127.0.0.1:")
        assert values[services.POSTGRES_VAR].startswith("postgresql://postgres@127.0.0.1:")
        assert services.redis_ping(values[services.REDIS_VAR])
        assert services.postgres_ready(values[services.POSTGRES_VAR])
        assert services.read_env_file(env_file) == values
        again = services.start(env_file, install=False, environ=clean)  # reuses both
        assert again == values
        state = services._load_state(env_file)
        dirs = [Path(state["redis"]["dir"]), Path(state["postgres"]["dir"])]
        assert all(d.exists() for d in dirs)
    finally:
        stopped = services.stop(env_file)
    assert sorted(stopped) == ["postgres", "redis"]
    assert not services.redis_ping(values[services.REDIS_VAR])
    assert not services.postgres_ready(values[services.POSTGRES_VAR])
    assert not any(d.exists() for d in dirs)
    assert not env_file.exists()
    assert services.stop(env_file) == []  # nothing left: a no-op


@pytest.mark.usefixtures("installed")
def test_servers_named_by_the_environment_are_reused_not_stopped(tmp_path: Path) -> None:
    owner = tmp_path / "owner.env"
    try:
        values = services.start(owner, install=False, postgres=False, environ={})
        guest = tmp_path / "guest.env"
        env = {services.REDIS_VAR: values[services.REDIS_VAR]}
        assert services.start(guest, install=False, postgres=False, environ=env) == values
        assert services.stop(guest) == []
        assert services.redis_ping(values[services.REDIS_VAR])  # still up: not ours to stop
    finally:
        services.stop(owner)
    assert not services.redis_ping(values[services.REDIS_VAR])


@pytest.mark.usefixtures("installed")
def test_run_passes_the_variables_and_always_stops(tmp_path: Path) -> None:
    env_file = tmp_path / "run.env"
    script = (
        "import os, sys; print(os.environ['PEPPERPY_REDIS_URL']); "
        "print(os.environ['PEPPERPY_POSTGRES_DSN']); sys.exit(3)"
    )
    env = {
        k: v for k, v in os.environ.items() if k not in (services.REDIS_VAR, services.POSTGRES_VAR)
    }
    result = subprocess.run(
        [sys.executable, str(TOOL), "run", "--no-install", "--env-file", str(env_file), "--",
         sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )  # fmt: skip
    assert result.returncode == 3, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    url = next(line for line in lines if line.startswith("redis://"))
    dsn = next(line for line in lines if line.startswith("postgresql://"))
    assert "stopped redis-server" in result.stdout
    assert "stopped PostgreSQL" in result.stdout
    assert not services.redis_ping(url)
    assert not services.postgres_ready(dsn)
    assert not env_file.exists()


def test_probes_say_no_for_a_closed_port() -> None:
    port = services.free_port()
    assert not services.redis_ping(f"redis://127.0.0.1:{port}/0")
    assert not services.postgres_ready(f"postgresql://u@127.0.0.1:{port}/db")
    assert services.read_env_file(Path("/nonexistent/x.env")) == {}
