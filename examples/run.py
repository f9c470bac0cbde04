"""The example application's entry point (grows into the full service in examples/app/)."""

from __future__ import annotations

import asyncio
import sys

import pepperpy
from pepperpy import Lifecycle, ManualClock, PepperPyError, retry


class Greeter(Lifecycle):
    async def _on_start(self) -> None:
        print("greeter: started")

    async def _on_stop(self) -> None:
        print("greeter: stopped")


async def main() -> int:
    clock = ManualClock()
    attempts = 0

    @retry(attempts=3, delay=1, retry_on=ConnectionError, clock=clock)
    async def connect() -> str:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise ConnectionError("refused")
        return "connected"

    async with Greeter():
        task = asyncio.create_task(connect())
        await clock.advance(5)
        print(f"retry: {await task} after {attempts} attempts")
    try:
        raise PepperPyError("example error", context={"key": "k"}, hint="this is the hint")
    except PepperPyError as exc:
        print(f"error: {exc}")
    print(f"pepperpy {pepperpy.__version__}: facade names {', '.join(pepperpy.__all__[:6])}, ...")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
