"""PepperPy plugins: typed sync and async hooks on pluggy, discovery, isolation, lifecycle.

Declare hooks as methods of a spec class marked with :data:`hookspec`
(``async def`` for asynchronous hooks), implement them in plugins with
:data:`hookimpl`, and call them through a :class:`PluginManager`, whose
``call``/``acall`` methods take the spec method so mypy checks every call::

    class AppSpec(Protocol):
        @hookspec
        def greet(self, name: str) -> str: ...

    manager = PluginManager([AppSpec], api_version="1.0")
    manager.register(MyPlugin())
    manager.call(AppSpec.greet, name="ada")   # -> list[str]

Historic hooks (:meth:`PluginManager.call_historic`), calls that skip some
plugins (:meth:`PluginManager.subset`) and call monitoring
(:meth:`PluginManager.add_monitor`, :meth:`PluginManager.enable_tracing`)
come from pluggy's public API. For "the implementation named X of area Y"
(backends), use :class:`pepperpy.core.utils.Backends`.
"""

from __future__ import annotations

from pepperpy.plugin._discovery import (
    PluginInfo,
    clear_entry_point_cache,
    discover_entry_points,
)
from pepperpy.plugin._errors import (
    ERRORS,
    IncompatiblePluginError,
    PluginHookError,
    PluginLoadError,
    PluginNotFoundError,
    PluginValidationError,
    PluginWarning,
)
from pepperpy.plugin._manager import (
    ErrorPolicy,
    HookCall,
    Monitor,
    PluginFailure,
    PluginManager,
    PluginRecord,
    PluginSubset,
)
from pepperpy.plugin._markers import hookimpl, hookspec
from pepperpy.plugin._version import __version__
from pepperpy.plugin._versions import ApiRange, is_compatible

__all__ = [
    "ERRORS",
    "ApiRange",
    "ErrorPolicy",
    "HookCall",
    "IncompatiblePluginError",
    "Monitor",
    "PluginFailure",
    "PluginHookError",
    "PluginInfo",
    "PluginLoadError",
    "PluginManager",
    "PluginNotFoundError",
    "PluginRecord",
    "PluginSubset",
    "PluginValidationError",
    "PluginWarning",
    "__version__",
    "clear_entry_point_cache",
    "discover_entry_points",
    "hookimpl",
    "hookspec",
    "is_compatible",
]
