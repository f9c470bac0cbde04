"""The ``pepperpy-task`` command: run durable workers, list/retry/purge failed tasks.

``pepperpy-task worker myapp.tasks --url redis://host/0`` imports ``myapp.tasks``
(after setting ``$PEPPERPY_TASK_QUEUE_URL`` from ``--url``, so a module whose
queue is ``connect_queue()`` picks the URL up), finds its durable queue, and
runs a :class:`~pepperpy.task.TaskManager` on it until SIGTERM or SIGINT; then
it stops claiming, lets running tasks finish for ``--shutdown-timeout``
seconds and gives the rest back to the queue without using an attempt.
``pepperpy-task failed list|retry|purge --url ...`` manages failed tasks.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

from pepperpy.core.exceptions import InvalidArgumentError, PepperPyError, safe_repr
from pepperpy.task._base import DurableQueueBase
from pepperpy.task._connect import QUEUE_URL_ENV, connect_queue
from pepperpy.task._manager import TaskManager

__all__ = ["main"]


def _say(text: str) -> None:
    print(f"pepperpy-task: {text}", file=sys.stderr, flush=True)


def _options(pairs: Sequence[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidArgumentError(
                f"--option takes KEY=VALUE, got {pair!r}",
                code="pepperpy.task.cli_option",
                hint="For example: -o namespace=shop:tasks -o visibility_timeout=60",
            )
        try:
            options[key] = json.loads(value)
        except ValueError:
            options[key] = value  # a plain string
    return options


def _find_queue(target: str) -> DurableQueueBase:
    module_name, _, attr = target.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # like python -m: modules of the current directory
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InvalidArgumentError(
            f"cannot import {module_name!r}: {exc}",
            code="pepperpy.task.cli_module",
            hint="Pass a module importable from the current directory or PYTHONPATH, "
            "e.g. 'myapp.tasks' or 'myapp.tasks:queue'.",
        ) from exc
    if attr:
        found = getattr(module, attr, None)
        if not isinstance(found, DurableQueueBase):
            raise InvalidArgumentError(
                f"{target!r} is not a durable queue (got {safe_repr(found)})",
                code="pepperpy.task.cli_queue",
                hint="Name the module attribute holding the queue, e.g. 'myapp.tasks:queue'.",
            )
        return found
    queues = {id(v): v for v in vars(module).values() if isinstance(v, DurableQueueBase)}
    if len(queues) != 1:
        raise InvalidArgumentError(
            f"module {module_name!r} holds {len(queues)} durable queues; expected one",
            code="pepperpy.task.cli_queue",
            hint="Create the queue at module level (queue = connect_queue()) and register "
            "its functions there, or name it: 'myapp.tasks:queue'.",
        )
    return next(iter(queues.values()))


async def _serve(queue: DurableQueueBase, shutdown_timeout: float) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tasks = TaskManager(durable=queue, shutdown_timeout=shutdown_timeout)
    await tasks.start()
    _say(
        f"worker {queue.worker_id} runs {', '.join(sorted(queue._functions)) or 'nothing'} "
        f"from {queue!r} ({queue.concurrency} at once); SIGTERM or SIGINT stops it"
    )
    try:
        await stop.wait()
    finally:
        _say("stopping: finishing running tasks, then giving the rest back")
        report = await tasks.shutdown()
        _say(
            f"stopped: {report.completed} finished while stopping, "
            f"{len(report.cancelled)} given back to the queue"
        )
    return 0


def _worker(args: argparse.Namespace) -> int:
    if args.url:
        os.environ[QUEUE_URL_ENV] = args.url
    queue = _find_queue(args.target)
    if args.concurrency is not None:
        if args.concurrency < 1:
            raise InvalidArgumentError(
                f"--concurrency must be >= 1, got {args.concurrency}",
                code="pepperpy.task.concurrency",
                hint="It is how many durable tasks this worker runs at once.",
            )
        queue.concurrency = args.concurrency
    if args.queue:
        queue.queue = args.queue
    if not queue._functions:
        raise InvalidArgumentError(
            f"the queue of {args.target!r} has no registered task function",
            code="pepperpy.task.cli_empty",
            hint="Register them where the queue is created: @queue.register.",
        )
    return asyncio.run(_serve(queue, args.shutdown_timeout))


async def _failed(args: argparse.Namespace) -> int:
    queue = connect_queue(args.url, **_options(args.option))
    async with queue:
        if args.action == "list":
            tasks = await queue.failed(limit=args.limit)
            if args.json:
                rows = [
                    {
                        "id": t.id,
                        "name": t.name,
                        "attempts": t.attempts,
                        "error": t.error,
                        "finished_at": t.finished_at,
                    }
                    for t in tasks
                ]
                print(json.dumps(rows))
            else:
                for t in tasks:
                    print(f"{t.id}\t{t.name}\tattempts={t.attempts}\t{t.error or ''}")
            return 0
        if args.action == "retry":
            if not args.task_ids and not args.all:
                raise InvalidArgumentError(
                    "retry needs task ids or --all",
                    code="pepperpy.task.cli_retry",
                    hint="pepperpy-task failed retry ID [ID ...], or --all.",
                )
            count = 0
            if args.all:
                count = await queue.retry_failed()
            else:
                for task_id in args.task_ids:
                    count += await queue.retry_failed(task_id)
            print(count)
            return 0
        print(await queue.purge_failed())
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pepperpy-task", description="Run durable task workers; manage failed tasks."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    worker = commands.add_parser(
        "worker",
        help="run the durable tasks a module registered",
        description="Import MODULE[:ATTR], run its durable queue's registered functions "
        "until SIGTERM/SIGINT (running tasks finish or are given back).",
    )
    worker.add_argument("target", metavar="MODULE[:ATTR]")
    worker.add_argument(
        "--url", help=f"the queue URL (sets ${QUEUE_URL_ENV} before importing the module)"
    )
    worker.add_argument("--concurrency", type=int, help="durable tasks run at once")
    worker.add_argument("--queue", help="the TaskManager work queue the tasks run in")
    worker.add_argument(
        "--shutdown-timeout",
        type=float,
        default=10.0,
        help="seconds running tasks get to finish on SIGTERM/SIGINT (default 10)",
    )
    failed = commands.add_parser("failed", help="list, retry or purge failed tasks")
    failed.add_argument("action", choices=["list", "retry", "purge"])
    failed.add_argument("task_ids", nargs="*", metavar="TASK_ID", help="for retry")
    failed.add_argument("--url", help=f"the queue URL (default ${QUEUE_URL_ENV})")
    failed.add_argument(
        "-o",
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a queue option, e.g. namespace=shop:tasks or table=shop_tasks",
    )
    failed.add_argument("--all", action="store_true", help="retry every failed task")
    failed.add_argument("--limit", type=int, default=100, help="list at most this many")
    failed.add_argument("--json", action="store_true", help="list as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The ``pepperpy-task`` console script."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "worker":
            return _worker(args)
        return asyncio.run(_failed(args))
    except PepperPyError as exc:
        _say(f"error: {exc}")
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
