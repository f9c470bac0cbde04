"""The closing report: printed for a person, and written as JSON for tools and tests."""

from __future__ import annotations

import statistics
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from app.domain import Totals
from app.ingest import IngestResult
from app.selftest import SelfTest

# The samples shown from /metrics (name -> label filter).
SNAPSHOT: tuple[tuple[str, dict[str, str]], ...] = (
    ("example_ingest_records_total", {"outcome": "accepted"}),
    ("example_ingest_records_total", {"outcome": "rejected"}),
    ("example_events_handled_total", {}),
    ("example_ingest_record_seconds_count", {}),
    (
        "example_http_server_requests_total",
        {"method": "GET", "route": "/customers/{id}", "status": "200"},
    ),
    (
        "example_http_server_requests_total",
        {"method": "GET", "route": "/customers/{id}", "status": "401"},
    ),
    (
        "example_http_server_requests_total",
        {"method": "GET", "route": "/customers/{id}", "status": "403"},
    ),
    (
        "example_http_server_requests_total",
        {"method": "GET", "route": "/customers/{id}", "status": "404"},
    ),
    ("pepperpy_cache_hit_ratio", {"cache": "customers"}),
)


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50/p90/p99/max in milliseconds."""
    if len(samples) < 2:
        value = samples[0] * 1e3 if samples else 0.0
        return {"p50": value, "p90": value, "p99": value, "max": value}
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {
        "p50": cuts[49] * 1e3,
        "p90": cuts[89] * 1e3,
        "p99": cuts[98] * 1e3,
        "max": max(samples) * 1e3,
    }


def metrics_snapshot(text: str) -> dict[str, float]:
    """Selected samples of a Prometheus exposition, keyed ``name{labels}``."""
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            for name, labels in SNAPSHOT:
                if sample.name == name and all(
                    sample.labels.get(k) == v for k, v in labels.items()
                ):
                    shown = ",".join(f'{k}="{v}"' for k, v in labels.items())
                    found[f"{name}{{{shown}}}" if shown else name] = sample.value
    return found


def build_report(
    ingest: IngestResult,
    totals: Totals,
    selftest: SelfTest,
    cache_stats: Any,
    data_dir: str,
    *,
    spans: list[dict[str, Any]],
    storage: str = "sqlite",
) -> dict[str, Any]:
    """Everything the run measured, as JSON-safe data."""
    joined = [s for s in spans if s.get("trace_id") == selftest.trace_id]
    return {
        "records": {
            "read": ingest.read,
            "accepted": ingest.accepted,
            "rejected": ingest.rejected,
            "reasons": dict(sorted(ingest.reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
            "first_line": ingest.examples,
            "seconds": round(ingest.seconds, 3),
            "per_second": round(ingest.throughput, 1),
            "latency_ms": {k: round(v, 3) for k, v in percentiles(ingest.latencies).items()},
        },
        "totals": totals.to_dict(),
        "api": {
            "outcomes": [
                {
                    "label": o.label,
                    "path": o.path,
                    "status": o.status,
                    "expected": o.expected,
                    "detail": o.detail,
                }
                for o in selftest.outcomes
            ],
            "requests": len(selftest.latencies),
            "concurrency": selftest.concurrency,
            "latency_ms": {k: round(v, 3) for k, v in percentiles(selftest.latencies).items()},
            "health": selftest.health.get("status"),
        },
        "cache": {
            "hits": cache_stats.hits,
            "misses": cache_stats.misses,
            "hit_ratio": round(cache_stats.hit_ratio, 3),
        },
        "metrics": metrics_snapshot(selftest.metrics_text),
        "tracing": {
            "spans": len(spans),
            "selftest_trace": selftest.trace_id,
            "server_spans_in_selftest_trace": sum(1 for s in joined if s.get("name") != "selftest"),
        },
        "data_dir": data_dir,
        "storage": storage,
        "ok": all(o.ok for o in selftest.outcomes)
        and ingest.accepted == totals.stored
        and selftest.health.get("status") == "ok",
    }


def render(report: dict[str, Any]) -> str:
    """The report as text for a terminal."""
    rec, api, cache = report["records"], report["api"], report["cache"]
    lat = rec["latency_ms"]
    out = [
        "",
        "=== PepperPy example: report ===",
        f"records     {rec['read']} read, {rec['accepted']} accepted, {rec['rejected']} rejected"
        f" in {rec['seconds']:.2f} s ({rec['per_second']:.0f} records/s)",
        f"per record  p50 {lat['p50']:.2f} ms, p90 {lat['p90']:.2f} ms, p99 {lat['p99']:.2f} ms"
        f" (validate, encrypt, save, publish)",
        "rejected    by reason (JSON pointer + rule, first line):",
    ]
    for reason, count in rec["reasons"].items():
        out.append(f"  {count:5d}  {reason:<24} line {rec['first_line'][reason]}")
    totals = report["totals"]
    out.append(
        f"totals      {totals['stored']} stored events, mean age {totals['mean_age']}, "
        + ", ".join(f"{k} {v}" for k, v in totals["by_plan"].items())
    )
    out.append("            " + ", ".join(f"{k} {v}" for k, v in totals["by_country"].items()))
    out.append("API         self-test through pepperpy-net:")
    for o in api["outcomes"]:
        mark = "ok " if o["status"] == o["expected"] else "BAD"
        out.append(f"  {mark} {o['status']}  {o['label']:<36} {o['detail']}")
    alat = api["latency_ms"]
    out.append(
        f"latency     {api['requests']} reads, {api['concurrency']} at a time:"
        f" p50 {alat['p50']:.2f} ms, p90 {alat['p90']:.2f} ms,"
        f" p99 {alat['p99']:.2f} ms, max {alat['max']:.2f} ms"
    )
    out.append(
        f"cache       {cache['hits']} hits, {cache['misses']} misses, "
        f"hit ratio {cache['hit_ratio']:.1%}"
    )
    out.append(f"health      {api['health']}")
    out.append("metrics     snapshot of /metrics:")
    for name, value in report["metrics"].items():
        out.append(f"  {name} {value:g}")
    tracing = report["tracing"]
    out.append(
        f"tracing     {tracing['spans']} spans in logs/spans.jsonl; the self-test's trace"
        f" {tracing['selftest_trace'][:8]}... holds {tracing['server_spans_in_selftest_trace']}"
        " server spans (traceparent over HTTP)"
    )
    out.append(f"storage     {report['storage']}")
    out.append(f"data        {report['data_dir']} (keyring, logs/app.jsonl, report.json)")
    out.append("result      " + ("OK" if report["ok"] else "PROBLEMS (see above)"))
    return "\n".join(out)
