"""The pytest plugin (entry point ``pytest11``): fixtures and markers.

Loaded automatically wherever pepperpy-testing is installed. Fixtures:

- ``manual_clock``: a :class:`pepperpy.core.types.ManualClock`.
- ``virtual_clock``: a :class:`VirtualClock`; run async code with ``virtual_clock.run(...)``,
  or mark an ``async def`` test ``@pytest.mark.pepperpy_virtual_time`` to run it on
  virtual time without calling ``run``.
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

import functools
import importlib.util
import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

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

VIRTUAL_TIME = "pepperpy_virtual_time"
"""The marker putting an ``async def`` test on virtual time."""


def pytest_configure(config: pytest.Config) -> None:
    """Register the plugin's markers."""
    config.addinivalue_line(
        "markers", "pepperpy_slow: a PepperPy test that takes more than a few seconds"
    )
    config.addinivalue_line(
        "markers",
        f"{VIRTUAL_TIME}(autojump=True): run this async test on a VirtualClock's event loop "
        "(asyncio.sleep, timeouts and the virtual_clock fixture all on virtual time)",
    )


def _marker(obj: Any) -> Any:
    marks = getattr(obj, "pytestmark", [])
    for mark in marks if isinstance(marks, list) else [marks]:
        if getattr(mark, "name", None) == VIRTUAL_TIME:
            return mark
    return None


def _on_virtual_time(fn: Callable[..., Any], autojump: bool) -> Callable[..., Any]:
    """A sync test function running the coroutine test *fn* on a virtual-time loop."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        clock = kwargs.get("virtual_clock")
        if not isinstance(clock, VirtualClock):
            clock = VirtualClock(autojump=autojump)
        else:  # the fixture's clock follows the marker's autojump=
            clock.autojump = autojump
            if clock._loop is not None:
                clock._loop.autojump = autojump
        return clock.run(fn(*args, **kwargs))

    return run


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> None:
    """Turn ``@pytest.mark.pepperpy_virtual_time`` coroutine tests into virtual-time tests.

    The test function is replaced (in its module or class) by a plain function
    running the coroutine on a :class:`VirtualClock` (the ``virtual_clock``
    fixture's, when the test asks for it); pytest then collects that as usual
    (parametrize included), and no asyncio plugin runs it on a real-time loop.
    """
    if not inspect.iscoroutinefunction(obj):
        return
    # The mark on the function, else on its class or module (``pytestmark = ...``).
    mark = _marker(obj) or next(iter(collector.iter_markers(name=VIRTUAL_TIME)), None)
    holder = getattr(collector, "obj", None)
    if mark is None or holder is None or getattr(holder, name, None) is not obj:
        return
    test = cast("Callable[..., Any]", obj)
    setattr(holder, name, _on_virtual_time(test, bool(mark.kwargs.get("autojump", True))))


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
