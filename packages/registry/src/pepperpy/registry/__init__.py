"""PepperPy registry: a typed component registry, service locator and dependency injector.

Register services by type, ask for them by type; factories are wired from
their type hints::

    registry = Registry()
    registry.register_value(Settings, Settings(url="sqlite://"))
    registry.register(Database)                       # auto-wired from __init__/attrs fields
    registry.register(Session, make_session, lifetime="scoped")

    async with registry:                              # validate, start in dependency order
        db = await registry.get(Database)
        async with registry.scope():
            session = await registry.get(Session)

Lifetimes are :class:`Lifetime` ``singleton``, ``scoped`` (per
``registry.scope()``, via context variables) and ``transient``.
"""

from __future__ import annotations

from pepperpy.registry._errors import (
    ERRORS,
    AsyncResolutionError,
    CircularDependencyError,
    LifetimeError,
    RegistryValidationError,
    ScopeError,
    ServiceNotFoundError,
)
from pepperpy.registry._keys import INJECT, Dependency, Injected, Kind, Lifetime, Named
from pepperpy.registry._registry import (
    HealthReport,
    HealthResult,
    Registry,
    Scope,
    ServiceInfo,
    current_registry,
    inject,
)
from pepperpy.registry._version import __version__

__all__ = [
    "ERRORS",
    "INJECT",
    "AsyncResolutionError",
    "CircularDependencyError",
    "Dependency",
    "HealthReport",
    "HealthResult",
    "Injected",
    "Kind",
    "Lifetime",
    "LifetimeError",
    "Named",
    "Registry",
    "RegistryValidationError",
    "Scope",
    "ScopeError",
    "ServiceInfo",
    "ServiceNotFoundError",
    "__version__",
    "current_registry",
    "inject",
]
