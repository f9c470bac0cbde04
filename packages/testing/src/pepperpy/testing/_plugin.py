"""The pytest plugin (entry point ``pytest11``): fixtures and markers.

Loaded automatically wherever pepperpy-testing is installed. Fixtures:

- ``manual_clock``: a :class:`pepperpy.core.types.ManualClock`.
- ``virtual_clock``: a :class:`VirtualClock`; run async code with ``virtual_clock.run(...)``.
- ``pepperpy_data_dir``: a temporary data directory, also set as ``PEPPERPY_DATA_DIR``.
- ``http_server``: a running :class:`HttpTestServer` (needs aiohttp and pytest-asyncio).
- ``redis_url``, ``redis_namespace``, ``redis_client``, ``postgres_dsn``: real servers for
  backend tests (see :mod:`pepperpy.testing._services`); skipped when unavailable, failed
  under ``PEPPERPY_REQUIRE_SERVICES=1``.
- ``redis_server``: a :class:`RedisServer` of the test's own, for fault tests that kill
  and restart Redis (never the shared one).

Package-specific fixtures appear when those packages are installed (imported lazily):
``event_recorder`` (pepperpy-event), ``tmp_storage`` (pepperpy-storage),
``log_capture`` (pepperpy-logging), ``metrics_registry`` (pepperpy-telemetry),
``config_builder`` (pepperpy-config), ``inline_tasks`` (pepperpy-task).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pepperpy.core.types import ManualClock
from pepperpy.testing._clock import VirtualClock
from pepperpy.testing._fakes import register_package_fixtures
from pepperpy.testing._services import (
    postgres_dsn,
    redis_namespace,
    redis_url,
    register_async_fixtures,
)


def pytest_configure(config: pytest.Config) -> None:
    """Register the plugin's markers."""
    config.addinivalue_line(
        "markers", "pepperpy_slow: a PepperPy test that takes more than a few seconds"
    )


@pytest.fixture
def manual_clock() -> ManualClock:
    """A clock that moves only when the test advances it."""
    return ManualClock()


@pytest.fixture
def virtual_clock() -> Iterator[VirtualClock]:
    """A virtual clock driving its own event loop: ``virtual_clock.run(coro)``."""
    clock = VirtualClock()
    yield clock
    if clock._loop is not None and not clock._loop.is_closed():
        clock._loop.close()


@pytest.fixture
def pepperpy_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data directory, exported as ``PEPPERPY_DATA_DIR`` for ``Storage.create``."""
    data = tmp_path / "pepperpy-data"
    data.mkdir()
    monkeypatch.setenv("PEPPERPY_DATA_DIR", str(data))
    return data


if importlib.util.find_spec("aiohttp") and importlib.util.find_spec("pytest_asyncio"):
    import pytest_asyncio

    from pepperpy.testing._http import HttpTestServer

    @pytest_asyncio.fixture
    async def http_server() -> Any:
        """A running HTTP server on 127.0.0.1 with canned routes and a request log."""
        async with HttpTestServer() as server:
            yield server


register_package_fixtures(globals())
register_async_fixtures(globals())

__all__ = ["postgres_dsn", "redis_namespace", "redis_url"]  # fixtures re-exported for pytest
