"""Wiring: every component registered once with pepperpy-registry.

``async with registry:`` validates the graph (missing dependencies, cycles),
creates the singletons in dependency order, starts the Lifecycle ones (storage,
event bus, state, task manager, API server on pepperpy-web) and stops them in reverse. Classes
with ``__aenter__`` are entered by themselves; a plain factory function that
returns a Lifecycle says so with ``enter=True``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from app.api import ApiServer, CustomerReader, make_policy
from app.domain import CustomerStored, Totals
from app.ingest import Ingestor
from app.observability import AppMetrics
from app.plugins import make_plugins
from app.settings import Settings
from pepperpy.cache import TieredCache, connect_cache
from pepperpy.config import Config
from pepperpy.event import EventManager
from pepperpy.logging import Logging
from pepperpy.plugin import PluginManager
from pepperpy.registry import Registry
from pepperpy.security import KeyRing, Security
from pepperpy.state import StateManager
from pepperpy.storage import Storage
from pepperpy.task import TaskManager
from pepperpy.telemetry import Health, JsonLinesExporter, Metrics, Tracer

log = Logging.get_logger("example.container")


def load_keyring(settings: Settings) -> KeyRing:
    """The service's keys: read from data_dir, or generated and written (0600) on first run."""
    path = settings.data_path / settings.security.keyring_file
    if path.exists():
        return KeyRing.from_file(path)
    ring = KeyRing.generate()
    ring.to_file(path)
    return ring


def make_security(settings: Settings, keyring: KeyRing) -> Security:
    return Security(
        keyring=keyring,
        policy=make_policy(),
        issuer=settings.name,
        audience="example-api",
        token_ttl=settings.token_ttl_seconds,
    )


def make_storage(settings: Settings) -> Storage:
    # One setting picks the engine: APP_STORAGE__BACKEND=postgres runs the same code on
    # PostgreSQL (APP_STORAGE__DSN or $PEPPERPY_POSTGRES_DSN).
    return Storage.create("customers", data_dir=settings.data_path, **settings.storage.options())


async def make_cache(settings: Settings) -> AsyncIterator[TieredCache[Any, Any]]:
    # A memory front over the tier cache.url names: memory:// in one process,
    # APP_CACHE__URL=redis://... shares it (and its invalidations) between processes.
    cache = connect_cache(settings.cache.url, **settings.cache.options(), name="customers")
    yield cache
    await cache.aclose()


def make_metrics(cache: TieredCache[Any, Any]) -> Metrics:
    metrics = Metrics(namespace="example")
    metrics.registry.register(cache.memory.metrics_collector())  # hits, misses, hit ratio, size
    return metrics


def make_tracer(settings: Settings, metrics: Metrics) -> Iterator[Tracer]:
    """Spans as JSON lines in data_dir/logs/spans.jsonl; flushed when the registry stops."""
    spans = JsonLinesExporter(settings.data_path / "logs" / "spans.jsonl")
    tracer = Tracer(settings.name, exporters=[spans], metrics=metrics)
    yield tracer
    tracer.shutdown()


def make_state() -> StateManager:
    state = StateManager(name="example")
    state.register("totals", Totals, default=Totals())
    return state


def make_tasks(settings: Settings) -> TaskManager:
    return TaskManager(concurrency=settings.ingest.concurrency)


def make_health(storage: Storage, events: EventManager, tasks: TaskManager) -> Health:
    health = Health()

    async def storage_ok() -> bool:
        await storage.get("health/probe")  # a real read through the SQLite reader pool
        return True

    health.register_check("storage", storage_ok, timeout=2)
    health.register_check("events", lambda: events.is_running)
    health.register_check("tasks", lambda: tasks.is_running)
    return health


class Totalizer:
    """Keeps the ``totals`` slice current: one update per ``customers.stored`` event."""

    def __init__(self, events: EventManager, state: StateManager, app_metrics: AppMetrics) -> None:
        self.state = state
        self.app_metrics = app_metrics
        # Queued delivery: publishers never wait for this subscriber; drain() waits for it.
        events.subscribe(CustomerStored, self.on_stored, delivery="queued", queue_size=1000)

    async def on_stored(self, event: CustomerStored) -> None:
        await self.state.update("totals", lambda totals: totals.add(event), origin="ingest")
        self.app_metrics.events.inc()


def build_registry(config: Config[Settings]) -> Registry:
    """Register every component of the service."""
    registry = Registry()
    registry.register_value(Config, config)
    registry.register_value(Settings, config.settings)
    registry.register(KeyRing, load_keyring)
    registry.register(Security, make_security)
    registry.register(Storage, make_storage, enter=True)
    registry.register(TieredCache[Any, Any], make_cache)
    registry.register(Metrics, make_metrics)
    registry.register(AppMetrics, AppMetrics)
    registry.register(Tracer, make_tracer)
    registry.register(EventManager, EventManager)
    registry.register(StateManager, make_state, enter=True)
    registry.register(TaskManager, make_tasks, enter=True)
    registry.register(Health, make_health)
    registry.register(PluginManager, make_plugins, enter=True)
    registry.register(Totalizer)
    registry.register(Ingestor)
    registry.register(CustomerReader, CustomerReader)
    registry.register(ApiServer)
    return registry
