"""PepperPy logging: structured logging on loguru, with context, redaction and a stdlib bridge.

* :func:`get_logger` / ``Logging.get_logger(name)`` return a :class:`Logger`;
  its methods work plainly and awaited (``await logger.info(...)``).
* :func:`configure` takes a config section: levels per logger name,
  console (pretty, coloured on a TTY, or JSON), file sinks in text or JSON
  lines with rotation/retention/compression, ``enqueue`` for non-blocking
  writes.
* Every record carries the current :mod:`pepperpy.context` values.
* Secrets are masked before any sink sees them, by pepperpy.core's one
  :class:`~pepperpy.core.Redactor` (re-exported here): secret keys and
  objects, ``key=value`` text, URL passwords, dataclass/attrs fields, and
  exception messages and tracebacks in every sink.
* A logging call never raises: values whose ``__str__`` raises are shown as
  ``<Type object (str failed)>``.
* stdlib ``logging`` records flow into the sinks; ours can flow to stdlib.
* A failing sink never raises into application code and is reported once.
* :data:`ERRORS` lists every error code the package raises, with its meaning.
"""

from __future__ import annotations

from pepperpy.core import DEFAULT_SECRET_KEYS, MASK, Redactor, is_secret_value
from pepperpy.logging._config import (
    ConsoleConfig,
    FileConfig,
    LoggingConfig,
    RedactionConfig,
    SinkConfig,
)
from pepperpy.logging._errors import ERRORS
from pepperpy.logging._levels import LEVELS, level_no
from pepperpy.logging._logger import (
    Logger,
    Logging,
    complete,
    configure,
    get_logger,
    shutdown,
    sink_errors,
)
from pepperpy.logging._sinks import SinkFailure
from pepperpy.logging._stdlib import InterceptHandler
from pepperpy.logging._version import __version__

__all__ = [
    "DEFAULT_SECRET_KEYS",
    "ERRORS",
    "LEVELS",
    "MASK",
    "ConsoleConfig",
    "FileConfig",
    "InterceptHandler",
    "Logger",
    "Logging",
    "LoggingConfig",
    "RedactionConfig",
    "Redactor",
    "SinkConfig",
    "SinkFailure",
    "__version__",
    "complete",
    "configure",
    "get_logger",
    "is_secret_value",
    "level_no",
    "shutdown",
    "sink_errors",
]
