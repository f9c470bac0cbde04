"""PepperPy: typed, async-first Python micro-libraries under one namespace.

This facade is shipped only by the meta-package ``pepperpy``. It keeps the
namespace open, so every ``pepperpy.<area>`` portion imports wherever it is
installed (site-packages, editable paths, ``PYTHONPATH``), and re-exports the
headline names lazily: ``from pepperpy import Config`` imports
``pepperpy.config`` on first use, and only then. A name whose distribution is
not installed raises an :class:`ImportError` that says what to install.
"""

from __future__ import annotations

import importlib
from pkgutil import extend_path
from typing import TYPE_CHECKING, Any

__path__ = extend_path(__path__, __name__)

from pepperpy._version import __version__

# name -> (module, attribute); the distribution is pepperpy-<area>.
_EXPORTS: dict[str, tuple[str, str]] = {
    # core
    "Lifecycle": ("pepperpy.core.types", "Lifecycle"),
    "ManualClock": ("pepperpy.core.types", "ManualClock"),
    "NotFoundError": ("pepperpy.core.exceptions", "NotFoundError"),
    "PepperPyError": ("pepperpy.core.exceptions", "PepperPyError"),
    "RetryPolicy": ("pepperpy.core.utils", "RetryPolicy"),
    "ValidationError": ("pepperpy.core.exceptions", "ValidationError"),
    "retry": ("pepperpy.core.utils", "retry"),
    "timeout": ("pepperpy.core.utils", "timeout"),
    # areas
    "Cache": ("pepperpy.cache", "Cache"),
    "Config": ("pepperpy.config", "Config"),
    "DurableQueue": ("pepperpy.task", "DurableQueue"),
    "EventManager": ("pepperpy.event", "EventManager"),
    "Health": ("pepperpy.telemetry", "Health"),
    "HttpClient": ("pepperpy.net", "HttpClient"),
    "KeyRing": ("pepperpy.security", "KeyRing"),
    "Logging": ("pepperpy.logging", "Logging"),
    "Metrics": ("pepperpy.telemetry", "Metrics"),
    "Pipeline": ("pepperpy.pipeline", "Pipeline"),
    "PluginManager": ("pepperpy.plugin", "PluginManager"),
    "Policy": ("pepperpy.security", "Policy"),
    "Pool": ("pepperpy.resources", "Pool"),
    "Registry": ("pepperpy.registry", "Registry"),
    "ResourceManager": ("pepperpy.resources", "ResourceManager"),
    "Secret": ("pepperpy.config", "Secret"),
    "Security": ("pepperpy.security", "Security"),
    "StateManager": ("pepperpy.state", "StateManager"),
    "Storage": ("pepperpy.storage", "Storage"),
    "TaskManager": ("pepperpy.task", "TaskManager"),
    "TieredCache": ("pepperpy.cache", "TieredCache"),
    "Tracer": ("pepperpy.telemetry", "Tracer"),
    "Validation": ("pepperpy.validation", "Validation"),
    "cached": ("pepperpy.cache", "cached"),
    "connect_cache": ("pepperpy.cache", "connect_cache"),
    "connect_queue": ("pepperpy.task", "connect_queue"),
    "connect_stream": ("pepperpy.event", "connect_stream"),
    "debug": ("pepperpy.dev", "debug"),
    "progress": ("pepperpy.dev", "progress"),
}

__all__ = ["__version__", *sorted(_EXPORTS)]

if TYPE_CHECKING:  # real types for checkers; at run time every name loads lazily
    # Generated from _EXPORTS by `python tools/ws.py sync-meta`; `ws.py check` fails on drift.
    # BEGIN TYPES
    from pepperpy.cache import Cache as Cache
    from pepperpy.cache import TieredCache as TieredCache
    from pepperpy.cache import cached as cached
    from pepperpy.cache import connect_cache as connect_cache
    from pepperpy.config import Config as Config
    from pepperpy.config import Secret as Secret
    from pepperpy.core.exceptions import NotFoundError as NotFoundError
    from pepperpy.core.exceptions import PepperPyError as PepperPyError
    from pepperpy.core.exceptions import ValidationError as ValidationError
    from pepperpy.core.types import Lifecycle as Lifecycle
    from pepperpy.core.types import ManualClock as ManualClock
    from pepperpy.core.utils import RetryPolicy as RetryPolicy
    from pepperpy.core.utils import retry as retry
    from pepperpy.core.utils import timeout as timeout
    from pepperpy.dev import debug as debug
    from pepperpy.dev import progress as progress
    from pepperpy.event import EventManager as EventManager
    from pepperpy.event import connect_stream as connect_stream
    from pepperpy.logging import Logging as Logging
    from pepperpy.net import HttpClient as HttpClient
    from pepperpy.pipeline import Pipeline as Pipeline
    from pepperpy.plugin import PluginManager as PluginManager
    from pepperpy.registry import Registry as Registry
    from pepperpy.resources import Pool as Pool
    from pepperpy.resources import ResourceManager as ResourceManager
    from pepperpy.security import KeyRing as KeyRing
    from pepperpy.security import Policy as Policy
    from pepperpy.security import Security as Security
    from pepperpy.state import StateManager as StateManager
    from pepperpy.storage import Storage as Storage
    from pepperpy.task import DurableQueue as DurableQueue
    from pepperpy.task import TaskManager as TaskManager
    from pepperpy.task import connect_queue as connect_queue
    from pepperpy.telemetry import Health as Health
    from pepperpy.telemetry import Metrics as Metrics
    from pepperpy.telemetry import Tracer as Tracer
    from pepperpy.validation import Validation as Validation
    # END TYPES


def _distribution(module: str) -> str:
    return "pepperpy-" + module.split(".")[1]


def __getattr__(name: str) -> Any:
    target = _EXPORTS.get(name)
    if target is None:
        msg = f"module 'pepperpy' has no attribute {name!r}"
        raise AttributeError(msg)
    module_name, attribute = target
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            dist = _distribution(module_name)
            area = module_name.split(".")[1]
            msg = (
                f"pepperpy.{name} needs the distribution {dist!r}, which is not installed. "
                f"Install it with 'pip install {dist}' (or 'pip install \"pepperpy[{area}]\"')."
            )
            raise ImportError(msg, name=module_name) from None
        raise
    value = getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
