"""pepperpy.logging against raw loguru, structlog and stdlib logging.

Targets (issue 4): lines/s to a JSON file sink within 1.15x of raw loguru; a
filtered-out debug call within 1.5x of loguru's.

Issue 26 adds the floor of any logger built on loguru, side by side: raw loguru
writing the same JSON line (same fields, same encoder, the context value bound) with
no redaction or context lookup, and raw loguru writing only ``{message}``.
"""

from __future__ import annotations

import copy
import json
import logging
import tempfile
from pathlib import Path
from typing import Any

from harness import compare

REQUIRES = ["loguru", "structlog"]

_TMP = Path(tempfile.mkdtemp(prefix="pepperpy-bench-logging-"))


_ENCODE = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode


def _same_json_line(record: Any) -> str:
    """Our JSON line's fields, rendered with no redaction or conversion (the floor)."""
    data = {
        "time": record["time"].isoformat(timespec="microseconds"),
        "level": record["level"].name,
        "logger": record["name"],
        "message": record["message"],
        **record["extra"],
        "function": record["function"],
        "line": record["line"],
        "module": record["module"],
        "process": record["process"].id,
        "thread": record["thread"].name,
    }
    record["extra"]["_json"] = _ENCODE(data)
    return "{extra[_json]}\n"


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "time": self.formatTime(record),
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
                "function": record.funcName,
                "line": record.lineno,
            }
        )


def _setup() -> dict[str, Any]:
    import structlog
    from loguru import logger as global_loguru

    from pepperpy import logging as plog

    # An independent raw loguru logger (own core, no pepperpy patcher).
    global_loguru.remove()
    raw = copy.deepcopy(global_loguru)
    raw.add(str(_TMP / "loguru.jsonl"), serialize=True, level="INFO")
    same = copy.deepcopy(global_loguru)
    same.add(str(_TMP / "loguru-same.jsonl"), format=_same_json_line, level="INFO")
    bare = copy.deepcopy(global_loguru)
    bare.add(str(_TMP / "loguru-bare.log"), format="{message}\n", level="INFO")

    plog.configure(
        console=False,
        capture_stdlib=False,
        level="INFO",
        files=[{"path": str(_TMP / "ours.jsonl")}],
    )
    ours = plog.get_logger("bench")

    handler = logging.FileHandler(_TMP / "stdlib.jsonl")
    handler.setFormatter(_JsonFormatter())
    std = logging.getLogger("bench.stdlib")
    std.propagate = False
    std.handlers[:] = [handler]
    std.setLevel(logging.INFO)

    sfile = (_TMP / "structlog.jsonl").open("a")
    slog = structlog.wrap_logger(
        structlog.WriteLogger(sfile),
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
    )
    return {
        "ours": ours,
        "raw": raw,
        "same": same.bind(request_id="bench"),
        "bare": bare,
        "std": std,
        "slog": slog,
    }


def bench_json_file_sink():
    from pepperpy import context

    loggers = _setup()
    ours, raw, std, slog = (loggers[k] for k in ("ours", "raw", "std", "slog"))
    same, bare = loggers["same"], loggers["bare"]
    with context.scope(request_id="bench"):
        return compare(
            "logging: info() to a JSON-lines file",
            {
                "pepperpy": lambda: ours.info("user logged in", user=42),
                "loguru (serialize=True)": lambda: raw.info("user logged in", user=42),
                "loguru, same JSON line (floor)": lambda: same.info("user logged in", user=42),
                "loguru, '{message}' only": lambda: bare.info("user logged in", user=42),
                "structlog JSONRenderer": lambda: slog.info("user logged in", user=42),
                "stdlib + json formatter": lambda: std.info("user logged in"),
            },
            inner=200,
            samples=30,
        )


def bench_filtered_out_debug():
    loggers = _setup()
    ours, raw, std, slog = (loggers[k] for k in ("ours", "raw", "std", "slog"))
    return compare(
        "logging: filtered-out debug() call",
        {
            "pepperpy": lambda: ours.debug("not shown {}", 1),
            "loguru": lambda: raw.debug("not shown {}", 1),
            "structlog filtering": lambda: slog.debug("not shown", n=1),
            "stdlib": lambda: std.debug("not shown %s", 1),
        },
        inner=5000,
    )
