"""PepperPy core: shared types, the exception hierarchy and async-aware utilities.

The three public modules are :mod:`pepperpy.core.types`,
:mod:`pepperpy.core.exceptions` and :mod:`pepperpy.core.utils`. Their names are
re-exported here and loaded on first use, so ``import pepperpy.core`` costs
almost nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pepperpy.core._version import __version__

if TYPE_CHECKING:
    from pepperpy.core._redact import (
        DEFAULT_SECRET_KEYS,
        MASK,
        Redactor,
        default_redactor,
        is_secret_value,
        redact,
        redact_text,
        safe_str,
    )
    from pepperpy.core.exceptions import (
        ERRORS,
        ClosedError,
        ConfigurationError,
        ConflictError,
        ErrorCatalogue,
        ErrorCode,
        ErrorDetail,
        ExternalError,
        InvalidArgumentError,
        LifecycleError,
        NotFoundError,
        OperationTimeoutError,
        PepperPyError,
        PluginError,
        SecurityError,
        StartupError,
        ValidationError,
        safe_repr,
    )
    from pepperpy.core.types import (
        MISSING,
        AsyncLifecycle,
        Clock,
        JSONArray,
        JSONObject,
        JSONScalar,
        JSONValue,
        Lifecycle,
        LifecycleState,
        ManualClock,
        MaybeAwaitable,
        Missing,
        MissingType,
        SystemClock,
        system_clock,
    )
    from pepperpy.core.utils import (
        Backends,
        RetryPolicy,
        batched,
        call_maybe_async,
        cancel_requested,
        chunked,
        debounce,
        deep_merge,
        gather_limited,
        import_driver,
        import_string,
        is_async_callable,
        once,
        parse_duration,
        parse_size,
        retry,
        throttle,
        timeout,
    )

# Where lazy names live, searched in this order (each module's own __all__ decides).
_MODULES = (
    "pepperpy.core.exceptions",
    "pepperpy.core.types",
    "pepperpy.core.utils",
    "pepperpy.core._redact",
)

__all__ = [
    "__version__",
    "ClosedError",
    "ConfigurationError",
    "ConflictError",
    "ERRORS",
    "ErrorCatalogue",
    "ErrorCode",
    "ErrorDetail",
    "ExternalError",
    "InvalidArgumentError",
    "LifecycleError",
    "NotFoundError",
    "OperationTimeoutError",
    "PepperPyError",
    "PluginError",
    "SecurityError",
    "StartupError",
    "ValidationError",
    "safe_repr",
    "MISSING",
    "AsyncLifecycle",
    "Clock",
    "JSONArray",
    "JSONObject",
    "JSONScalar",
    "JSONValue",
    "Lifecycle",
    "LifecycleState",
    "ManualClock",
    "MaybeAwaitable",
    "Missing",
    "MissingType",
    "SystemClock",
    "system_clock",
    "Backends",
    "RetryPolicy",
    "batched",
    "call_maybe_async",
    "cancel_requested",
    "chunked",
    "debounce",
    "deep_merge",
    "gather_limited",
    "import_driver",
    "import_string",
    "is_async_callable",
    "once",
    "parse_duration",
    "parse_size",
    "retry",
    "throttle",
    "timeout",
    "DEFAULT_SECRET_KEYS",
    "MASK",
    "Redactor",
    "default_redactor",
    "is_secret_value",
    "redact",
    "redact_text",
    "safe_str",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        for module_name in _MODULES:
            module = importlib.import_module(module_name)
            if name in module.__all__:
                value = getattr(module, name)
                globals()[name] = value
                return value
    msg = f"module 'pepperpy.core' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(__all__)
