"""The errors raised by :mod:`pepperpy.registry`."""

from __future__ import annotations

from pepperpy.core.exceptions import (
    ConfigurationError,
    ConflictError,
    ErrorCatalogue,
    ErrorCode,
    InvalidArgumentError,
    LifecycleError,
    NotFoundError,
    ValidationError,
)

__all__ = [
    "ERRORS",
    "AsyncResolutionError",
    "CircularDependencyError",
    "LifetimeError",
    "RegistryValidationError",
    "ScopeError",
    "ServiceNotFoundError",
]


class ServiceNotFoundError(NotFoundError):
    """Nothing is registered for the requested type or name (the chain says who asked)."""

    code = "pepperpy.registry.not_found"


class CircularDependencyError(ConfigurationError):
    """Services depend on each other in a loop; the message shows the whole loop."""

    code = "pepperpy.registry.cycle"


class LifetimeError(ConfigurationError):
    """A longer-lived service depends on a shorter-lived one (a captive dependency)."""

    code = "pepperpy.registry.lifetime"


class ScopeError(LifecycleError):
    """A scoped service was requested outside ``registry.scope()``."""

    code = "pepperpy.registry.scope"


class AsyncResolutionError(InvalidArgumentError):
    """A service that needs ``await`` was requested through the sync ``resolve()``."""

    code = "pepperpy.registry.needs_async"


class RegistryValidationError(ValidationError):
    """:meth:`Registry.validate` found problems; :attr:`errors` lists each with its chain.

    Each :class:`~pepperpy.core.exceptions.ErrorDetail` has ``path`` set to the
    chain (``"App -> Service -> Repo"``) and ``code`` one of ``"missing"``,
    ``"cycle"`` or ``"lifetime"``.
    """

    code = "pepperpy.registry.invalid"


ERRORS = ErrorCatalogue(
    "pepperpy.registry",
    ErrorCode(
        "pepperpy.registry.not_found",
        ServiceNotFoundError,
        "Nothing is registered for the requested key; the message shows who needed it.",
        "Register the service (or a factory for it) before resolving, or mark it optional.",
    ),
    ErrorCode(
        "pepperpy.registry.cycle",
        CircularDependencyError,
        "Services depend on each other in a loop; the message shows the whole loop.",
        "Break the loop: let one side depend on a factory or resolve lazily.",
    ),
    ErrorCode(
        "pepperpy.registry.lifetime",
        LifetimeError,
        "A singleton would capture a scoped service (a captive dependency).",
        "Make the singleton scoped or transient, or the dependency a singleton.",
    ),
    ErrorCode(
        "pepperpy.registry.scope",
        ScopeError,
        "A scoped service (or the Scope) was requested outside registry.scope().",
        "Resolve it inside 'async with registry.scope():'.",
    ),
    ErrorCode(
        "pepperpy.registry.needs_async",
        AsyncResolutionError,
        "A service (or its cleanup) needs await but was resolved or closed synchronously.",
        "Use 'await registry.get(...)' / 'await registry.aclose()', or start the registry first.",
    ),
    ErrorCode(
        "pepperpy.registry.invalid",
        RegistryValidationError,
        "Registry.validate() found missing services, cycles or captive dependencies.",
        "Read error.errors (each with its chain) and fix every registration it names.",
    ),
    ErrorCode(
        "pepperpy.registry.hints",
        InvalidArgumentError,
        "A factory's type hints (parameters, attrs fields or return) cannot be evaluated.",
        "Make every annotation importable at module level (not only under TYPE_CHECKING).",
    ),
    ErrorCode(
        "pepperpy.registry.unannotated",
        InvalidArgumentError,
        "A factory parameter without a default has no type annotation to inject by.",
        "Annotate it with the service type, give it a default, or use another factory.",
    ),
    ErrorCode(
        "pepperpy.registry.no_key",
        InvalidArgumentError,
        "A factory registered without a key has no return annotation to register it under.",
        "Annotate the return type (-> Database) or pass the key explicitly.",
    ),
    ErrorCode(
        "pepperpy.registry.invalid_key",
        InvalidArgumentError,
        "A service key is not hashable, or its name is not a non-empty string.",
        "Register and resolve services under a type or a string, with name='...' if any.",
    ),
    ErrorCode(
        "pepperpy.registry.no_factory",
        InvalidArgumentError,
        "register() got no factory and the key is not a class to build.",
        "Pass a factory, or use register_value() for a ready-made value.",
    ),
    ErrorCode(
        "pepperpy.registry.not_callable",
        InvalidArgumentError,
        "The factory passed to register() is not callable.",
        "Pass a class or function, or use register_value() for a ready-made value.",
    ),
    ErrorCode(
        "pepperpy.registry.lifetime_name",
        InvalidArgumentError,
        "register() got a lifetime that is not singleton, scoped or transient.",
        "Pass a Lifetime member or one of 'singleton', 'scoped', 'transient'.",
    ),
    ErrorCode(
        "pepperpy.registry.health_timeout",
        InvalidArgumentError,
        "check_health() got a timeout that is not a finite number of seconds > 0.",
        "Pass timeout=5 (seconds) or leave it unset.",
    ),
    ErrorCode(
        "pepperpy.registry.inject",
        InvalidArgumentError,
        "A function decorated for injection cannot be injected (nothing marked, "
        "an unannotated or positional-only marked parameter, or no signature).",
        "Mark regular or keyword-only parameters with INJECT or Injected[T] and annotate them.",
    ),
    ErrorCode(
        "pepperpy.registry.duplicate",
        ConflictError,
        "The key is already registered.",
        "Pass replace=True to replace it, or use override() in tests.",
    ),
    ErrorCode(
        "pepperpy.registry.generator",
        LifecycleError,
        "A generator factory yielded more than once.",
        "Yield exactly one instance, then clean up.",
    ),
    ErrorCode(
        "pepperpy.registry.cleanup",
        LifecycleError,
        "One or more services failed to clean up when a scope or the registry closed.",
        "Every other cleanup ran; read the chained error and the log, then fix that cleanup.",
    ),
    ErrorCode(
        "pepperpy.registry.scope_reentered",
        LifecycleError,
        "A scope object was entered while it was already active.",
        "Create a new scope with registry.scope() for each unit of work.",
    ),
    ErrorCode(
        "pepperpy.registry.no_current",
        LifecycleError,
        "Module-level inject()/current_registry() ran with no registry active here.",
        "Start one with 'async with registry:' or 'with registry.activate():'.",
    ),
)
"""The error codes pepperpy-registry raises: code -> class, meaning and what to do."""
