"""Attacks on pepperpy-testing (issue 20 #14, #17) and hostile arguments.

Each test names the finding it covers; each failed on the code before the fix.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from pathlib import Path

import pytest

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.testing import VirtualClock

# --------------------------------------------------------------------------- #14


def test_autojump_waits_for_thread_work() -> None:
    """issue 20 #14: wait_for(to_thread(sleep), 30) finishes; virtual time skips no thread."""
    clock = VirtualClock()

    async def main() -> str:
        await asyncio.wait_for(asyncio.to_thread(time.sleep, 0.05), timeout=30)
        return "done"

    assert clock.run(main()) == "done"
    assert clock.monotonic() < 30  # the 30 s timeout was never reached on virtual time


def test_autojump_still_jumps_when_idle() -> None:
    """issue 20 #14: with no real work in flight, sleeping an hour is instant (unchanged)."""
    clock = VirtualClock()

    async def main() -> None:
        await asyncio.to_thread(lambda: None)
        await asyncio.sleep(3600)

    clock.run(main())
    assert clock.monotonic() >= 3600


def test_virtual_time_marker(pytester: pytest.Pytester) -> None:
    """issue 20 #14: @pytest.mark.pepperpy_virtual_time runs an async test on virtual time."""
    pytester.makepyfile(
        """
        import asyncio
        import time

        import pytest


        @pytest.mark.pepperpy_virtual_time
        async def test_an_hour_is_instant():
            loop = asyncio.get_running_loop()
            start = loop.time()
            await asyncio.sleep(3600)
            assert loop.time() - start >= 3600
            assert type(loop).__name__ == "VirtualTimeLoop"


        @pytest.mark.pepperpy_virtual_time
        async def test_with_the_fixture(virtual_clock):
            await asyncio.sleep(60)
            assert virtual_clock.monotonic() >= 60
            await asyncio.wait_for(asyncio.to_thread(time.sleep, 0.01), timeout=5)


        @pytest.mark.pepperpy_virtual_time
        @pytest.mark.parametrize("seconds", [1, 86400])
        async def test_parametrized(seconds):
            loop = asyncio.get_running_loop()
            await asyncio.sleep(seconds)
            assert loop.time() >= seconds
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


# --------------------------------------------------------------------------- #17


def test_plugin_never_executes_the_users_tools_services(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """issue 20 #17: a project with its own tools/services.py: the plugin never runs it."""
    marker = pytester.path / "EXECUTED"
    (pytester.path / "tools").mkdir()
    (pytester.path / "tools" / "services.py").write_text(
        f"open({str(marker)!r}, 'w').write('the plugin ran my file')\n"
        "raise SystemExit('never import me')\n"
    )
    pytester.makepyfile(
        """
        def test_uses_redis(redis_url):
            assert redis_url.startswith("redis://127.0.0.1:")
        """
    )
    for key in [k for k in os.environ if k.startswith("PEPPERPY_")]:
        monkeypatch.delenv(key)  # no server named: the plugin must start one itself
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs")
    assert not marker.exists(), "the plugin executed the project's tools/services.py"
    outcomes = result.parseoutcomes()
    # redis-server is started from the package's own code, or the test skips with the reason
    assert outcomes.get("passed", 0) + outcomes.get("skipped", 0) == 1, result.stdout.str()
    assert "never import me" not in result.stdout.str()


@pytest.mark.parametrize("server", ["redis", "postgres"])
def test_servers_start_from_package_code(server: str) -> None:
    """issue 20 #17: the package itself starts and stops redis/PostgreSQL on 127.0.0.1."""
    from pepperpy.testing import _servers

    start, stop, key = (
        (_servers.start_redis, _servers.stop_redis, "url")
        if server == "redis"
        else (_servers.start_postgres, _servers.stop_postgres, "dsn")
    )
    try:
        state = start()
    except _servers.ServiceError as exc:
        if os.environ.get("PEPPERPY_REQUIRE_SERVICES") == "1":
            raise
        pytest.skip(f"{server} is not installed here: {exc}")
    try:
        assert "127.0.0.1" in state[key]
        assert Path(state["dir"]).is_dir()
    finally:
        stop(state)
    assert not Path(state["dir"]).exists()


# --------------------------------------------------------------------------- hostile


@pytest.mark.parametrize("seconds", [math.nan, math.inf, -1, "60", True, None])
def test_virtual_time_rejects_hostile_steps(seconds: object) -> None:
    """issue 20 close the class: NaN/inf/negative steps would break the loop's time."""
    clock = VirtualClock()

    async def main() -> None:
        with pytest.raises(InvalidArgumentError):
            await clock.advance(seconds)  # type: ignore[arg-type]
        with pytest.raises(InvalidArgumentError):
            clock.loop.jump(seconds)  # type: ignore[arg-type]
        await asyncio.sleep(1)

    clock.run(main())
    assert clock.monotonic() == 1
