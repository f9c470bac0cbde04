"""PepperPy testing: a pytest plugin and helpers for testing PepperPy applications.

Installed, it registers itself with pytest (entry point ``pytest11``); see
:mod:`pepperpy.testing._plugin` for the fixtures. The helpers work without pytest too:

- :class:`VirtualClock`: a core ``Clock`` that *is* the event loop's clock, so an hour of
  sleeps, timeouts, retries and schedules runs instantly.
- :func:`eventually`, :func:`run_with_timeout`: async waiting that fails readably.
- :func:`async_autospec`, :func:`spy`: mocks that check signatures, and recording spies.
- :func:`assert_raises_pepperpy`, :func:`assert_attrs_equal`: assertions with clear diffs.
- :class:`HttpTestServer`: a real aiohttp server on 127.0.0.1 with canned routes.
- :class:`RedisServer`: a private redis-server to kill and restart in fault tests.
- :func:`wheel_venv`: a fresh venv with this checkout's wheels, to test installed artefacts.
- :mod:`pepperpy.testing.hostile` (extra ``hypothesis``): hostile-input strategies and
  the "only a PepperPyError may escape" check.
"""

from pepperpy.testing._assertions import (
    RaisedInfo,
    assert_attrs_equal,
    assert_raises_pepperpy,
    attrs_diff,
)
from pepperpy.testing._clock import VirtualClock, VirtualTimeLoop
from pepperpy.testing._errors import ERRORS
from pepperpy.testing._fakes import ConfigBuilder, EventRecorder, LogCapture, metrics_snapshot
from pepperpy.testing._helpers import eventually, run_with_timeout
from pepperpy.testing._http import HttpTestServer, RecordedRequest
from pepperpy.testing._mocks import Call, Spy, async_autospec, spy
from pepperpy.testing._redis_server import RedisServer
from pepperpy.testing._services import services_unavailable
from pepperpy.testing._version import __version__
from pepperpy.testing._wheels import WheelVenv, find_uv, wheel_venv

__all__ = [
    "ERRORS",
    "Call",
    "ConfigBuilder",
    "EventRecorder",
    "HttpTestServer",
    "LogCapture",
    "RaisedInfo",
    "RecordedRequest",
    "RedisServer",
    "Spy",
    "VirtualClock",
    "VirtualTimeLoop",
    "WheelVenv",
    "__version__",
    "assert_attrs_equal",
    "assert_raises_pepperpy",
    "async_autospec",
    "attrs_diff",
    "eventually",
    "find_uv",
    "metrics_snapshot",
    "run_with_timeout",
    "services_unavailable",
    "spy",
    "wheel_venv",
]
