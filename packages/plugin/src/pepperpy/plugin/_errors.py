"""The errors and the warning raised by :mod:`pepperpy.plugin`."""

from __future__ import annotations

from pepperpy.core.exceptions import (
    ErrorCatalogue,
    ErrorCode,
    InvalidArgumentError,
    PluginError,
)

__all__ = [
    "ERRORS",
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


ERRORS = ErrorCatalogue(
    "pepperpy.plugin",
    ErrorCode(
        "pepperpy.plugin.load",
        PluginLoadError,
        "A plugin could not be imported or built (entry point, module path, directory).",
        "Read the chained error; fix the plugin's import, or remove or block it.",
    ),
    ErrorCode(
        "pepperpy.plugin.validation",
        PluginValidationError,
        "A plugin's hook implementations do not match the host's specifications "
        "(unknown hook, bad arguments, a wrapper that yields wrongly).",
        "Fix the plugin's hookimpl names and signatures to match the hook specifications.",
    ),
    ErrorCode(
        "pepperpy.plugin.incompatible",
        IncompatiblePluginError,
        "A plugin's declared host API range excludes the host's api_version.",
        "Install a plugin release built for this host API version.",
    ),
    ErrorCode(
        "pepperpy.plugin.hook",
        PluginHookError,
        "A plugin raised inside a hook implementation under policy 'raise'.",
        "Read the chained error (error.context names the plugin and hook); fix or block it.",
    ),
    ErrorCode(
        "pepperpy.plugin.not_found",
        PluginNotFoundError,
        "No plugin or entry point is registered under the requested name.",
        "Check the name against manager.plugins() or available(); register or install it.",
    ),
    ErrorCode(
        "pepperpy.plugin.blocked",
        PluginError,
        "The plugin's name is blocked, so it cannot be registered.",
        "Call manager.unblock(name) first if it should be allowed again.",
    ),
    ErrorCode(
        "pepperpy.plugin.duplicate",
        PluginError,
        "A plugin with that name (or that very object) is already registered.",
        "Register it under another name, or unregister the first one.",
    ),
    ErrorCode(
        "pepperpy.plugin.no_loop",
        PluginError,
        "An async plugin start or stop was needed outside the event loop's thread.",
        "Register and unregister plugins of a running manager from the event loop's thread.",
    ),
    ErrorCode(
        "pepperpy.plugin.cancelled_itself",
        PluginError,
        "A plugin's async start or stop raised CancelledError nobody asked for.",
        "Fix the plugin: await its own cancelled tasks with gather(..., return_exceptions=True).",
    ),
    ErrorCode(
        "pepperpy.plugin.hook_arguments",
        InvalidArgumentError,
        "A hook call's arguments do not match the hook specification (missing, unknown, "
        "too many or repeated).",
        "Pass exactly the specification's arguments, by keyword.",
    ),
    ErrorCode(
        "pepperpy.plugin.invalid_policy",
        InvalidArgumentError,
        "PluginManager got an error policy other than 'skip', 'warn' or 'raise'.",
        "Pass policy='skip', 'warn' or 'raise'.",
    ),
    ErrorCode(
        "pepperpy.plugin.historic",
        InvalidArgumentError,
        "A hook specification is both historic and async.",
        "Declare the historic hook with 'def', or drop historic=True.",
    ),
    ErrorCode(
        "pepperpy.plugin.no_specs",
        InvalidArgumentError,
        "A class given as hook specifications declares no @hookspec method.",
        "Mark its hook methods with @hookspec.",
    ),
    ErrorCode(
        "pepperpy.plugin.duplicate_spec",
        InvalidArgumentError,
        "A hook name is specified twice for one manager.",
        "Specify each hook name once per manager.",
    ),
    ErrorCode(
        "pepperpy.plugin.unknown_hook",
        InvalidArgumentError,
        "The method passed to call()/acall() is not a hook specification of this manager.",
        "Pass the spec class's method (AppSpec.hook) and add the class with add_specs().",
    ),
    ErrorCode(
        "pepperpy.plugin.wrong_call",
        InvalidArgumentError,
        "A hook was called with the wrong method for its kind (async, historic, firstresult).",
        "Use the call method the error names (call, acall, call_first, call_historic, ...).",
    ),
    ErrorCode(
        "pepperpy.plugin.no_group",
        InvalidArgumentError,
        "Entry-point discovery was asked of a manager without an entry_point_group.",
        "Pass entry_point_group='yourapp.plugins' when creating the manager.",
    ),
    ErrorCode(
        "pepperpy.plugin.invalid_group",
        InvalidArgumentError,
        "An entry point group is not a non-empty string.",
        "Use a dotted group name such as 'myapp.plugins'.",
    ),
    ErrorCode(
        "pepperpy.plugin.invalid_target",
        InvalidArgumentError,
        "load_path() got something other than a str or os.PathLike.",
        "Pass a file, directory or module name as str or pathlib.Path.",
    ),
    ErrorCode(
        "pepperpy.plugin.invalid_version",
        InvalidArgumentError,
        "An API version is not a dotted numeric version.",
        "Use a version such as '1.4' or '2.0.1'.",
    ),
    ErrorCode(
        "pepperpy.plugin.invalid_range",
        InvalidArgumentError,
        "An API range specifier is empty or cannot be read.",
        "Use a specifier such as '>=1.0,<2', '==1.*' or '~=1.4'.",
    ),
)
"""The error codes pepperpy-plugin raises: code -> class, meaning and what to do."""
