"""The errors and the warning raised by :mod:`pepperpy.plugin`."""

from __future__ import annotations

from pepperpy.core.exceptions import PluginError

__all__ = [
    "IncompatiblePluginError",
    "PluginHookError",
    "PluginLoadError",
    "PluginNotFoundError",
    "PluginValidationError",
    "PluginWarning",
]


class PluginLoadError(PluginError):
    """A plugin could not be imported or built (entry point, module path, directory)."""

    code = "pepperpy.plugin.load"


class PluginValidationError(PluginError):
    """A plugin's hook implementations do not match the host's hook specifications."""

    code = "pepperpy.plugin.validation"


class IncompatiblePluginError(PluginError):
    """A plugin declares a host API range that excludes the host's API version."""

    code = "pepperpy.plugin.incompatible"


class PluginHookError(PluginError):
    """A plugin raised inside a hook implementation (policy ``"raise"``)."""

    code = "pepperpy.plugin.hook"


class PluginNotFoundError(PluginError, LookupError):
    """No plugin (or entry point) is registered under the requested name."""

    code = "pepperpy.plugin.not_found"


class PluginWarning(UserWarning):
    """Issued for a plugin failure under the ``"warn"`` isolation policy."""
