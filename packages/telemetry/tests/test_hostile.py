"""Every public telemetry call with hostile arguments (issue 20, "close the class").

Values whose ``__str__``/``__repr__`` raise, NaN and infinities, cycles, huge
values (``pepperpy.testing.hostile.HOSTILE_OBJECTS``), huge label sets,
and secrets in every position of spans (attributes, nested fields, events,
exception arguments, URL userinfo). Nothing may raise into the caller, no secret
may reach an exported span, and the exposition must still parse with
prometheus_client's own parser.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
from prometheus_client.parser import text_string_to_metric_families

from pepperpy.telemetry import Health, InMemoryExporter, JsonLinesExporter, Metrics, Tracer
from pepperpy.testing.hostile import HOSTILE_OBJECTS, Unprintable

SECRET = "hunter2-s3cret"


@dataclasses.dataclass
class Creds:
    user: str
    password: str


@attrs.define
class Db:
    host: str
    creds: Creds


class Secret:
    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return self._value

    __str__ = __repr__


VALUES: dict[str, Callable[[], Any]] = {
    **HOSTILE_OBJECTS,  # str/repr/format or getattr raise, NaN, infinities, a cycle, huge, odd keys
    "url": lambda: f"postgresql://app:{SECRET}@db/x",
    "pair": lambda: f"api_key={SECRET}",
    "dataclass": lambda: Creds("ada", SECRET),
    "attrs": lambda: Db("h", Creds("ada", SECRET)),
    "secret": lambda: Secret(SECRET),
    "nested": lambda: {"a": [{"password": SECRET}, (Secret(SECRET),)]},
    "secret-keys": lambda: {1: Unprintable(), None: math.nan, "token": SECRET},
}


@pytest.mark.parametrize("make", VALUES.values(), ids=VALUES.keys())
def test_spans_with_hostile_values_everywhere(make: Callable[[], Any], tmp_path: Path) -> None:
    """issue 20 #1/#6: attributes, events, exception args: never raise, never leak."""
    memory = InMemoryExporter()
    path = tmp_path / "spans.jsonl"
    lines = JsonLinesExporter(path)
    tracer = Tracer("svc", exporters=[memory, lines], metrics=Metrics())
    with pytest.raises(RuntimeError), tracer.span("op", {"value": make()}) as span:
        span.set_attribute("again", make())
        span.set_attributes({"more": make()})
        span.add_event("event", {"value": make()})
        raise RuntimeError(make())
    with tracer.span("manual") as manual:
        manual.record_exception(ValueError(make()))
        manual.set_status("error", "done")
    lines.shutdown()
    assert lines.errors == 0
    text = path.read_text()
    for line in text.splitlines():
        json.loads(line, parse_constant=lambda token: pytest.fail(f"bare {token}"))
    text += json.dumps([s.to_dict() for s in memory.spans])
    assert SECRET not in text
    assert [s.name for s in memory.spans] == ["op", "manual"]


@pytest.mark.parametrize("make", VALUES.values(), ids=VALUES.keys())
def test_metrics_with_hostile_label_values_and_amounts(make: Callable[[], Any]) -> None:
    """issue 20 #6/#8: label values whose str raises, NaN/inf amounts: exposition parses."""
    metrics = Metrics(max_label_sets=5)
    counter = metrics.counter("hits", labels=("v",))
    gauge = metrics.gauge("level", labels=("v",))
    hist = metrics.histogram("lat", labels=("v",))
    for i in range(20):  # past the cardinality limit: folded, never raised
        counter.labels(v=f"{i}").inc()
    counter.labels(v=make()).inc(math.inf)
    gauge.labels(v=make()).set(math.nan)
    gauge.labels(v=make()).inc(math.inf)
    hist.labels(v=make()).observe(math.nan)
    hist.labels(v=make()).observe(-math.inf)
    families = {f.name: f for f in text_string_to_metric_families(metrics.render().decode())}
    assert {"hits", "level", "lat"} <= set(families)


async def test_health_checks_with_hostile_results() -> None:
    """issue 20 #6: checks returning or raising hostile values: a report, never an error."""
    health = Health(default_timeout=5)
    health.register_check("returns-boom", lambda: Unprintable())
    health.register_check("raises-boom", lambda: (_ for _ in ()).throw(RuntimeError(Unprintable())))
    health.register_check(
        "raises-secret", lambda: (_ for _ in ()).throw(ValueError(Secret(SECRET)))
    )

    async def async_secret() -> None:
        await asyncio.sleep(0)
        raise RuntimeError(f"postgresql://app:{SECRET}@db")

    health.register_check("async-secret", async_secret)
    report = await health.run()
    body = json.dumps(report.to_dict())
    assert SECRET not in body
    assert all(r.status == "failing" for r in report.checks.values())
