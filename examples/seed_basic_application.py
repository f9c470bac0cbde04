"""The seed's "Basic Application" example, on the real API.

    python examples/seed_basic_application.py

The seed's text is kept: ``Config.load("config.yaml")`` (YAML needs
``pip install "pepperpy-config[yaml]"``), ``state.initialize()`` /
``state.cleanup()`` and ``start()`` / ``stop()`` for the event bus and the task
manager. What the seed leaves out, ``run_application``, is written here: a task
per order publishes an event, and a subscriber keeps a state slice of totals.
"""

# ruff: noqa: I001
# fmt: off

import asyncio
import os
import tempfile
from pathlib import Path

from pepperpy import (
    Config,
    StateManager,
    TaskManager,
    EventManager
)

os.chdir(tempfile.mkdtemp(prefix="pepperpy-seed-"))  # keep config.yaml out of your tree
Path("config.yaml").write_text(
    "app:\n  name: seed-shop\n  orders: 25\n  workers: 4\n", encoding="utf-8"
)


async def run_application(*, config, state, events, tasks):
    totals = state.register("totals", dict, default={"orders": 0, "revenue": 0})

    async def count(order):  # an event subscriber keeps the state current
        await totals.update(
            lambda t: {"orders": t["orders"] + 1, "revenue": t["revenue"] + order["total"]}
        )

    events.subscribe("orders.placed", count)

    async def place_order(number):  # the work, run by the task manager
        await asyncio.sleep(0)
        await events.publish("orders.placed", {"number": number, "total": 10 + number})

    handles = [tasks.submit(place_order, n) for n in range(config.get("app.orders"))]
    await asyncio.gather(*handles)
    await events.drain()
    print(f"{config.get('app.name')}: {totals.get()}")
    assert totals.get() == {"orders": 25, "revenue": sum(10 + n for n in range(25))}


async def main():
    # Configuration
    config = Config.load("config.yaml")

    # State
    state = StateManager()
    await state.initialize()

    # Events
    events = EventManager()
    await events.start()

    # Tasks
    tasks = TaskManager()
    await tasks.start()

    try:
        # Main logic
        await run_application(
            config=config,
            state=state,
            events=events,
            tasks=tasks
        )
    finally:
        # Cleanup
        await tasks.stop()
        await events.stop()
        await state.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
