"""The bridge from stdlib ``logging`` into pepperpy.logging sinks."""

from __future__ import annotations

import logging
import threading

__all__ = ["InterceptHandler"]

_busy = threading.local()


class InterceptHandler(logging.Handler):
    """A stdlib handler that sends records into the pepperpy.logging sinks.

    :func:`~pepperpy.logging.configure` installs one on the root logger when
    ``capture_stdlib`` is true (the default), so records from aiohttp,
    asyncio and other stdlib users appear in every sink with their own level
    and logger name, their ``extra={...}`` values, the current context
    values, and the same redaction. Records that pepperpy.logging itself
    forwarded to stdlib (``to_stdlib``) are skipped, so nothing loops.
    """

    def __init__(self, level: int = logging.NOTSET) -> None:
        super().__init__(level)

    def emit(self, record: logging.LogRecord) -> None:
        """Forward *record*; never raises."""
        if getattr(record, "pepperpy", False) or getattr(_busy, "active", False):
            return
        _busy.active = True
        try:
            from pepperpy.logging._logger import _stdlib_emit

            _stdlib_emit(record)
        except Exception:
            self.handleError(record)
        finally:
            _busy.active = False
