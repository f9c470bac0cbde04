"""The example application, end to end: run it as a user would and check its report.

Each run is a real process on a real SQLite file in a temporary directory, with
its API on 127.0.0.1; the expected rejections come from the data set's own
generator, not from the application.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent
RUN = EXAMPLES / "run.py"
sys.path.insert(0, str(EXAMPLES / "app" / "dataset"))
import make_records  # noqa: E402

# How each kind of damage in the data set must be reported.
REASON = {
    "bad_email": {"/email email"},
    "missing_email": {"/email missing"},
    "age_out_of_range": {"/age too_small", "/age too_large"},
    "age_not_a_number": {"/age type"},
    "blank_name": {"/name too_short"},
    "unknown_country": {"/country one_of"},
    "unknown_plan": {"/plan one_of"},
    "duplicate_id": {"duplicate_id"},
    "malformed_json": {"malformed_json"},
}
EXPECTED_STATUSES = [200, 200, 200, 401, 401, 403, 404]


def run_app(
    data_dir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(RUN), "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        check=False,
    )


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, str]:
    data_dir = tmp_path_factory.mktemp("app") / "data"
    result = run_app(data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((data_dir / "report.json").read_text())
    return data_dir, report, result.stdout


def test_the_bundled_data_set_is_what_its_generator_makes() -> None:
    generated = "\n".join(text for text, _ in make_records.generate()) + "\n"
    assert make_records.OUT.read_text(encoding="utf-8") == generated


def test_the_report_counts_every_record_and_every_reason(first_run) -> None:
    _, report, stdout = first_run
    lines = make_records.generate()
    damaged = Counter(kind for _, kind in lines if kind)
    records = report["records"]
    assert records["read"] == len(lines)
    assert records["rejected"] == sum(damaged.values())
    assert records["accepted"] == len(lines) - sum(damaged.values())
    for kind, count in damaged.items():
        reported = sum(records["reasons"].get(reason, 0) for reason in REASON[kind])
        assert reported == count, (kind, records["reasons"])
    assert records["per_second"] > 0
    assert 0 < records["latency_ms"]["p50"] <= records["latency_ms"]["p99"]
    assert "=== PepperPy example: report ===" in stdout
    assert stdout.rstrip().endswith("result      OK")


def test_events_keep_the_totals_and_metrics_agree(first_run) -> None:
    _, report, _ = first_run
    accepted = report["records"]["accepted"]
    totals = report["totals"]
    assert totals["stored"] == accepted
    assert sum(totals["by_plan"].values()) == accepted
    assert sum(totals["by_country"].values()) == accepted
    metrics = report["metrics"]
    assert metrics['example_ingest_records_total{outcome="accepted"}'] == accepted
    assert (
        metrics['example_ingest_records_total{outcome="rejected"}'] == report["records"]["rejected"]
    )
    assert metrics["example_events_handled_total"] == accepted


def test_the_api_answers_each_credential_as_it_should(first_run) -> None:
    _, report, _ = first_run
    api = report["api"]
    outcomes = api["outcomes"]
    assert [o["status"] for o in outcomes] == EXPECTED_STATUSES
    assert outcomes[0]["detail"] == "email=diego.garcia1@example.org"  # decrypted for support
    assert "*" in outcomes[2]["detail"]  # masked for an analyst
    assert outcomes[3]["detail"].endswith("bad_signature")
    assert outcomes[4]["detail"].endswith("pepperpy.web.missing_credentials")
    assert outcomes[6]["detail"].endswith("pepperpy.example.customer_not_found")
    assert api["health"] == "ok"
    assert api["requests"] == 300
    assert report["cache"]["hits"] > 0
    assert 0 < report["cache"]["hit_ratio"] < 1
    assert report["ok"] is True
    # The client's traceparent reached the server: every request it made has a span
    # in the self-test's trace (7 calls, 300 reads). /health and /metrics are
    # pepperpy-web's built-in endpoints, answered before any span or metric.
    assert report["tracing"]["server_spans_in_selftest_trace"] == 7 + 300


def test_personal_fields_are_encrypted_at_rest_and_logs_are_json(first_run) -> None:
    data_dir, _, _ = first_run
    stored = b"".join(p.read_bytes() for p in data_dir.glob("customers.sqlite3*"))
    assert b"c-00001" in stored  # the records are there ...
    assert b"diego.garcia1@example.org" not in stored  # ... but not the e-mail in clear
    assert b'"segment":"free/50+"' in stored  # the built-in plugin's field
    assert (data_dir / "keyring.json").stat().st_mode & 0o077 == 0
    log_lines = (data_dir / "logs" / "app.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in log_lines]
    assert any(r["message"].startswith("ingested 2000 records") for r in records)
    assert any("request_id" in r for r in records if r["logger"] == "example.api")
    assert not any("pp1." in line for line in log_lines)  # no token ever logged


def test_a_second_run_reuses_the_data_and_keys_and_reads_env_overrides(first_run) -> None:
    data_dir, report, _ = first_run
    again = run_app(data_dir, env={"APP_API__SELF_TEST_REQUESTS": "40"})
    assert again.returncode == 0, again.stdout + again.stderr
    second = json.loads((data_dir / "report.json").read_text())
    assert second["records"]["accepted"] == report["records"]["accepted"]
    assert second["api"]["requests"] == 40
    assert second["api"]["outcomes"][0]["status"] == 200  # old ciphertexts still decrypt


def test_settings_move_the_data_to_postgresql_and_the_cache_to_redis(
    postgres_dsn: str, redis_url: str, tmp_path: Path
) -> None:
    """APP_STORAGE__BACKEND=postgres, APP_CACHE__URL=redis://: the same code and report."""
    import asyncio
    import uuid

    asyncpg = pytest.importorskip("asyncpg")
    redis = pytest.importorskip("redis.asyncio")
    tag = uuid.uuid4().hex[:8]
    schema, namespace = f"example_{tag}", f"example:{tag}"
    env = {
        "APP_STORAGE__BACKEND": "postgres",
        "APP_STORAGE__DSN": postgres_dsn,
        "APP_STORAGE__SCHEMA": schema,
        "APP_CACHE__URL": redis_url,
        "APP_CACHE__NAMESPACE": namespace,
        "APP_API__SELF_TEST_REQUESTS": "40",
    }

    async def query(sql: str) -> object:
        conn = await asyncpg.connect(postgres_dsn)
        try:
            return await conn.fetchval(sql)
        finally:
            await conn.close()

    async def redis_keys(delete: bool = False) -> list[bytes]:
        client = redis.Redis.from_url(redis_url)
        try:
            keys = [k async for k in client.scan_iter(match=f"{namespace}:*")]
            if delete and keys:
                await client.unlink(*keys)
            return keys
        finally:
            await client.aclose()

    try:
        result = run_app(tmp_path / "data", env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        report = json.loads((tmp_path / "data" / "report.json").read_text())
        assert report["ok"] is True
        assert report["storage"].startswith("postgres: ")
        lines = make_records.generate()
        assert report["records"]["accepted"] == sum(1 for _, kind in lines if not kind)
        assert not list((tmp_path / "data").glob("*.sqlite3*"))  # nothing went to SQLite
        rows = asyncio.run(
            query(f"SELECT count(*) FROM {schema}.pepperpy_storage WHERE key LIKE 'records/%'")
        )
        assert rows == report["records"]["accepted"]
        assert report["api"]["outcomes"][0]["status"] == 200
        assert asyncio.run(redis_keys())  # the customers read by the self-test, in Redis
    finally:
        asyncio.run(query(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        asyncio.run(redis_keys(delete=True))


def test_serve_keeps_the_api_up_until_interrupted(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, str(RUN), "--data-dir", str(tmp_path), "--serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "APP_API__SELF_TEST_REQUESTS": "10", "APP_API__HEARTBEAT": "50ms"},
    )
    try:
        url = None
        deadline = time.monotonic() + 240
        assert proc.stdout is not None
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith("Serving on "):
                url = line.split()[2]
        assert url is not None, "the server never said where it listens"
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{url}/health", timeout=10) as response:
            assert json.loads(response.read())["status"] == "ok"
        with urllib.request.urlopen(f"{url}/ready", timeout=10) as response:
            assert json.loads(response.read())["ready"] is True
        with urllib.request.urlopen(f"{url}/stats", timeout=10) as response:
            assert json.loads(response.read())["stored"] > 0
        log = tmp_path / "logs" / "app.jsonl"

        def heartbeats() -> int:
            lines = log.read_text().splitlines() if log.exists() else []
            return sum('"serving: ' in line for line in lines)

        deadline = time.monotonic() + 60
        while heartbeats() < 2 and time.monotonic() < deadline:  # the schedule keeps firing
            time.sleep(0.05)
        assert heartbeats() >= 2
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("seed_basic_application.py", "seed-shop: {'orders': 25"),
        ("seed_data_processing.py", "rejected: [('/age', 'type'), ('/email', 'email')]"),
        ("seed_secure_api.py", "refused: bad_signature"),
    ],
)
def test_the_seed_examples_run(script: str, expected: str, tmp_path: Path) -> None:
    env = {**os.environ, "PEPPERPY_DATA_DIR": str(tmp_path)}
    env.pop("PEPPERPY_KEYRING", None)
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert expected in result.stdout
