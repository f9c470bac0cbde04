"""Export cache statistics as Prometheus metrics (``prometheus-client`` imported lazily)."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pepperpy.cache._cache import Cache

__all__ = ["CacheMetricsCollector", "register_cache"]

_REGISTERED: weakref.WeakKeyDictionary[Any, dict[str, CacheMetricsCollector]] = (
    weakref.WeakKeyDictionary()
)
_REGISTER_LOCK = threading.Lock()


class CacheMetricsCollector:
    """A Prometheus custom collector reporting the stats of one or more caches.

    Metrics (label ``cache`` is the cache's name; evictions also have ``reason``):
    ``<prefix>_hits_total``, ``<prefix>_misses_total``,
    ``<prefix>_evictions_total``, ``<prefix>_size``, ``<prefix>_weight`` and
    ``<prefix>_hit_ratio``.

    Register it on any ``prometheus_client`` registry (pepperpy-telemetry uses
    the same library)::

        from prometheus_client import REGISTRY
        REGISTRY.register(cache.metrics_collector())

    Args:
        caches: The caches to report; more can be added with :meth:`add`.
        prefix: The metric name prefix.
    """

    def __init__(self, caches: Iterable[Cache[Any, Any]] = (), *, prefix: str = "pepperpy_cache"):
        self._caches = list(caches)
        self._prefix = prefix
        self._lock = threading.Lock()

    def add(self, cache: Cache[Any, Any]) -> None:
        """Report *cache* too."""
        with self._lock:
            self._caches.append(cache)

    def collect(self) -> Iterator[Any]:
        """Yield the metric families (called by the Prometheus registry)."""
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        p = self._prefix
        hits = CounterMetricFamily(
            f"{p}_hits", "Cache lookups that found a live entry.", labels=["cache"]
        )
        misses = CounterMetricFamily(
            f"{p}_misses", "Cache lookups that found nothing.", labels=["cache"]
        )
        evictions = CounterMetricFamily(
            f"{p}_evictions",
            "Entries removed from the cache, by reason.",
            labels=["cache", "reason"],
        )
        size = GaugeMetricFamily(f"{p}_size", "Entries currently stored.", labels=["cache"])
        weight = GaugeMetricFamily(
            f"{p}_weight", "Total weight currently stored.", labels=["cache"]
        )
        ratio = GaugeMetricFamily(f"{p}_hit_ratio", "hits / (hits + misses).", labels=["cache"])
        with self._lock:
            caches = list(self._caches)
        for cache in caches:
            stats = cache.stats()
            hits.add_metric([stats.name], stats.hits)
            misses.add_metric([stats.name], stats.misses)
            for reason, count in stats.evictions.items():
                evictions.add_metric([stats.name, reason], count)
            size.add_metric([stats.name], stats.size)
            weight.add_metric([stats.name], stats.weight)
            ratio.add_metric([stats.name], stats.hit_ratio)
        yield from (hits, misses, evictions, size, weight, ratio)


def register_cache(registry: Any, cache: Cache[Any, Any], prefix: str) -> CacheMetricsCollector:
    """Add *cache* to the collector for (*registry*, *prefix*), registering it once."""
    with _REGISTER_LOCK:
        collectors = _REGISTERED.get(registry)
        if collectors is None:
            collectors = _REGISTERED[registry] = {}
        collector = collectors.get(prefix)
        if collector is None:
            collector = CacheMetricsCollector([cache], prefix=prefix)
            registry.register(collector)
            collectors[prefix] = collector
        elif cache not in collector._caches:
            collector.add(cache)
        return collector
