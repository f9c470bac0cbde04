"""PepperPy resources: own resources, pool them, and load package data.

* :class:`ResourceManager` starts registered resources in order and closes
  them in reverse, shielded from cancellation, time-boxed, collecting every
  cleanup error while preserving the original one.
* :class:`Pool` is a typed async pool with min/max size, acquire timeout,
  idle and lifetime limits, health checks, fair waiting, stats and drain.
* :class:`ResourceLoader` (and :func:`read_text`/:func:`read_binary`) read
  data files shipped in packages through :mod:`importlib.resources`, cached.
"""

from __future__ import annotations

from pepperpy.resources._errors import (
    ERRORS,
    CleanupError,
    PoolCheckError,
    PoolTimeoutError,
    ResourceNotFoundError,
)
from pepperpy.resources._loading import ResourceLoader, read_binary, read_text
from pepperpy.resources._manager import ResourceManager
from pepperpy.resources._pool import Pool, PoolStats
from pepperpy.resources._version import __version__

__all__ = [
    "ERRORS",
    "CleanupError",
    "Pool",
    "PoolCheckError",
    "PoolStats",
    "PoolTimeoutError",
    "ResourceLoader",
    "ResourceManager",
    "ResourceNotFoundError",
    "__version__",
    "read_binary",
    "read_text",
]
