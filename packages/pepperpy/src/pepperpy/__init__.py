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
    from pepperpy.core.exceptions import NotFoundError, PepperPyError, ValidationError
    from pepperpy.core.types import Lifecycle, ManualClock
    from pepperpy.core.utils import RetryPolicy, retry, timeout


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
