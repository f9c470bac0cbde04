"""The errors raised by :mod:`pepperpy.registry`."""

from __future__ import annotations

from pepperpy.core.exceptions import (
    ConfigurationError,
    InvalidArgumentError,
    LifecycleError,
    NotFoundError,
    ValidationError,
)

__all__ = [
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
