"""pepperpy.core: retry overhead on a call that succeeds first time, parse_duration."""

from __future__ import annotations

import re

import tenacity

from harness import acompare, compare
from pepperpy.core import parse_duration, retry

REQUIRES = ["tenacity"]


def _work(x: int) -> int:
    return x + 1


def bench_retry_sync_success():
    ours = retry(attempts=3)(_work)
    peer = tenacity.retry(stop=tenacity.stop_after_attempt(3))(_work)
    return compare(
        "core: retry, sync call succeeding first time",
        {"pepperpy": lambda: ours(1), "tenacity": lambda: peer(1), "bare call": lambda: _work(1)},
        inner=2000,
    )


async def bench_retry_async_success():
    async def work() -> int:
        return 1

    ours = retry(attempts=3)(work)
    peer = tenacity.retry(stop=tenacity.stop_after_attempt(3))(work)
    return await acompare(
        "core: retry, async call succeeding first time",
        {"pepperpy": ours, "tenacity": peer, "bare await": work},
        inner=1000,
    )


_PART = re.compile(r"(\d+)([hms])")
_UNIT = {"h": 3600, "m": 60, "s": 1}


def _naive_duration(text: str) -> float:
    return float(sum(int(n) * _UNIT[u] for n, u in _PART.findall(text)))


def bench_parse_duration():
    return compare(
        "core: parse_duration('1h30m15s')",
        {
            "pepperpy": lambda: parse_duration("1h30m15s"),
            "regex findall (no validation)": lambda: _naive_duration("1h30m15s"),
        },
        inner=2000,
    )
