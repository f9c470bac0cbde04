"""The example service, start to finish.

1. Configuration: config.toml + APP_* environment variables (pepperpy-config).
2. Logging: readable console + JSON lines under data_dir/logs (pepperpy-logging).
3. Wiring: every component in a Registry, owned by a ResourceManager.
4. Ingestion of the bundled data set (pipeline, validation, security, storage,
   task, event, state, dev progress bar).
5. The HTTP API (aiohttp + telemetry), called through pepperpy-net.
6. A report (printed, and written to data_dir/report.json); exit 0.
   With --serve, the API then stays up on 127.0.0.1 until Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
from pathlib import Path
from typing import Any

from app.api import ApiServer
from app.container import build_registry
from app.ingest import Ingestor
from app.report import build_report, render
from app.selftest import run_selftest
from app.settings import load_config
from pepperpy import context, serialization
from pepperpy.cache import TieredCache
from pepperpy.core.utils import parse_duration
from pepperpy.io import write_bytes
from pepperpy.logging import Logging
from pepperpy.resources import ResourceManager
from pepperpy.security import Security
from pepperpy.state import StateManager
from pepperpy.task import TaskManager
from pepperpy.telemetry import Health, Tracer

log = Logging.get_logger("example")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="examples/run.py", description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help="keep the API running for curl")
    parser.add_argument("--config", help="a TOML file instead of app/config.toml")
    parser.add_argument("--data-dir", help="where the SQLite file, keys and logs go")
    parser.add_argument("--data", help="a JSON lines file instead of the bundled data set")
    parser.add_argument("--concurrency", type=int, help="records in flight at once")
    parser.add_argument(
        "--port", type=int, help="API port (default: any free one; 8080 with --serve)"
    )
    return parser.parse_args(argv)


def overrides_from(args: argparse.Namespace) -> dict[str, Any]:
    """Command-line flags: the highest layer of the configuration."""
    found: dict[str, Any] = {}
    if args.data_dir:
        found["data_dir"] = str(Path(args.data_dir).resolve())  # relative to the cwd
    if args.data:
        found.setdefault("ingest", {})["data_file"] = args.data
    if args.concurrency:
        found.setdefault("ingest", {})["concurrency"] = args.concurrency
    if args.port is not None:
        found.setdefault("api", {})["port"] = args.port
    elif args.serve:
        found.setdefault("api", {})["port"] = 8080
    return found


async def wait_for_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = load_config(args.config, overrides=overrides_from(args))
    settings = config.settings
    settings.data_path.mkdir(parents=True, exist_ok=True)
    Logging.configure(settings.logging_section())
    await log.info(
        "{} starting (concurrency {} from {})",
        settings.name,
        settings.ingest.concurrency,
        config.explain("ingest.concurrency").source,
    )

    registry = build_registry(config)
    resources = ResourceManager(cleanup_timeout=15)
    resources.register(registry, name="registry")  # starts every component, in order
    try:
        async with resources, context.scope(run="example"):
            ingestor = await registry.get(Ingestor)
            ingest = await ingestor.run(settings.records_file)
            (await registry.get(Health)).set_ready()  # /ready: 200 from now on

            server = await registry.get(ApiServer)
            security = await registry.get(Security)
            state = await registry.get(StateManager)
            cache = await registry.get(TieredCache[Any, Any])
            tracer = await registry.get(Tracer)
            ids = sorted(key.removeprefix("records/") for key in await _stored_keys(ingestor))
            selftest = await run_selftest(
                server.url, security, tracer, ids, requests=settings.api.self_test_requests
            )
            for exporter in tracer.exporters:
                flush = getattr(exporter, "flush", None)
                if flush is not None:
                    await asyncio.to_thread(flush)
            spans = await asyncio.to_thread(_spans, settings.data_path / "logs" / "spans.jsonl")
            report = build_report(
                ingest,
                state.get("totals"),
                selftest,
                cache.memory.stats(),
                str(settings.data_path),
                spans=spans,
                storage=f"{settings.storage.backend}: {ingestor.storage.backend.location}",
            )
            await write_bytes(
                settings.data_path / "report.json", serialization.dumps(report) + b"\n"
            )
            await Logging.complete()
            print(render(report), flush=True)

            if args.serve:
                tasks = await registry.get(TaskManager)

                async def heartbeat() -> None:  # a schedule on the task manager
                    stats = cache.memory.stats()
                    await log.info(
                        "serving: {} customers, cache hit ratio {:.1%}",
                        state.get("totals").stored,
                        stats.hit_ratio,
                    )

                tasks.every(parse_duration(settings.api.heartbeat), heartbeat, name="heartbeat")
                token = security.issue_token("you", roles=["support"], ttl=3600)
                print(
                    f"\nServing on {server.url} (Ctrl-C to stop). Try:\n"
                    f"  TOKEN={token}\n"
                    f'  curl -H "Authorization: Bearer $TOKEN" {server.url}/customers/{ids[0]}\n'
                    f"  curl {server.url}/stats\n"
                    f"  curl {server.url}/health   # and /ready\n"
                    f"  curl {server.url}/metrics\n",
                    flush=True,
                )
                await wait_for_signal()
        return 0 if report["ok"] else 1
    finally:
        await Logging.complete()
        Logging.shutdown()


def _spans(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def _stored_keys(ingestor: Ingestor) -> list[str]:
    keys: list[str] = []
    cursor = None
    while True:
        page = await ingestor.storage.scan("records/", limit=1000, cursor=cursor)
        keys.extend(page.keys())
        if not page.cursor:
            return keys
        cursor = page.cursor
