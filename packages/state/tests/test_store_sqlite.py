"""Persistence on a real pepperpy-storage SQLite file, checked from NEW processes.

Each scenario runs a child interpreter that writes state and then exits,
crashes (``os._exit``) or is killed (SIGKILL) mid-stream; a second, fresh
process restores the state and reports what it sees.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import attrs
import pytest

pytest.importorskip("pepperpy.storage")

from pepperpy.state import StateManager, StorageStateStore
from pepperpy.storage import Storage

PRELUDE = textwrap.dedent(
    """
    import asyncio, json, os, sys
    import attrs
    from pepperpy.state import StateManager, StorageStateStore
    from pepperpy.storage import Storage

    DATA = sys.argv[1]

    @attrs.frozen
    class Account:
        owner: str
        balance: int

    def open_state(storage, **kw):
        state = StateManager(StorageStateStore(storage, prefix="app/"), **kw)
        state.register("alice", Account, default=Account("alice", 100))
        state.register("bob", Account, default=Account("bob", 100))
        return state

    async def transfer(state, amount):
        async with state.transaction(origin="transfer") as tx:
            a, b = tx.get("alice"), tx.get("bob")
            tx.set("alice", attrs.evolve(a, balance=a.balance - amount))
            tx.set("bob", attrs.evolve(b, balance=b.balance + amount))
    """
)

REPORT = textwrap.dedent(
    """
    async def main():
        async with Storage.create("app", data_dir=DATA) as storage:
            async with open_state(storage) as state:
                a, b = state.get("alice"), state.get("bob")
                print(json.dumps({
                    "alice": a.balance, "bob": b.balance,
                    "versions": [state.version("alice"), state.version("bob")],
                    "type": type(a).__name__,
                    "notes": state.get("notes", None),
                }))

    asyncio.run(main())
    """
)


def _run(tmp_path: Path, body: str, name: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / f"{name}.py"
    script.write_text(PRELUDE + textwrap.dedent(body), encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(script), str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _report(tmp_path: Path) -> dict[str, Any]:
    """Restore in a fresh interpreter and return what it sees."""
    result = _run(tmp_path, REPORT, "report")
    assert 0 == result.returncode, result.stderr
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


@attrs.frozen
class Account:
    owner: str
    balance: int


async def _restore_here(tmp_path: Path) -> dict[str, Any]:
    """Restore in this test process: a different process from the one that wrote."""
    async with Storage.create("app", data_dir=tmp_path / "data") as storage:
        state = StateManager(StorageStateStore(storage, prefix="app/"))
        state.register("alice", Account, default=Account("alice", 100))
        state.register("bob", Account, default=Account("bob", 100))
        async with state:
            a, b = state.get("alice"), state.get("bob")
            return {
                "alice": a.balance,
                "bob": b.balance,
                "versions": [state.version("alice"), state.version("bob")],
            }


def test_restart_restores_state_in_a_new_process(tmp_path: Path) -> None:
    """What one process commits, a new process reads back, typed, with versions."""
    writer = _run(
        tmp_path,
        """
        async def main():
            async with Storage.create("app", data_dir=DATA) as storage:
                async with open_state(storage, snapshot_every=3) as state:
                    for amount in (10, 20, 5, 1):
                        await transfer(state, amount)
                    await state.set("notes", {"last": "done", "n": [1, 2]})
        asyncio.run(main())
        """,
        "writer",
    )
    assert 0 == writer.returncode, writer.stderr
    seen = _report(tmp_path)
    assert {"alice": 64, "bob": 136, "versions": [4, 4], "type": "Account"} == {
        k: seen[k] for k in ("alice", "bob", "versions", "type")
    }
    assert {"last": "done", "n": [1, 2]} == seen["notes"]


def test_crash_mid_transaction_is_all_or_nothing(tmp_path: Path) -> None:
    """A process dying while a transaction is being written leaves no half of it."""
    crasher = _run(
        tmp_path,
        """
        async def main():
            async with Storage.create("app", data_dir=DATA) as storage:
                state = open_state(storage)
                await state.initialize()
                await transfer(state, 30)              # committed
                real_put = storage.put

                async def dying_put(key, value, **kw):
                    if "/log/" in key:
                        os._exit(17)                   # the process dies mid-commit
                    return await real_put(key, value, **kw)

                storage.put = dying_put
                await transfer(state, 50)
        asyncio.run(main())
        """,
        "crasher",
    )
    assert 17 == crasher.returncode, crasher.stderr
    seen = asyncio.run(_restore_here(tmp_path))
    assert (70, 130) == (seen["alice"], seen["bob"])
    assert [1, 1] == seen["versions"]


def test_crash_right_after_the_first_write_of_a_transaction(tmp_path: Path) -> None:
    """Dying right after the first write of a transaction: it was the only write needed."""
    crasher = _run(
        tmp_path,
        """
        async def main():
            async with Storage.create("app", data_dir=DATA) as storage:
                state = open_state(storage)
                await state.initialize()
                await transfer(state, 30)
                real_put = storage.put

                async def put_then_die(key, value, **kw):
                    result = await real_put(key, value, **kw)
                    os._exit(19)                       # no second write ever happens
                    return result

                storage.put = put_then_die
                await transfer(state, 50)
        asyncio.run(main())
        """,
        "crasher",
    )
    assert 19 == crasher.returncode, crasher.stderr
    seen = asyncio.run(_restore_here(tmp_path))
    assert (20, 180) == (seen["alice"], seen["bob"])
    assert [2, 2] == seen["versions"]


def test_crash_between_snapshot_and_log_truncation(tmp_path: Path) -> None:
    """Dying after the snapshot write but before old records are deleted loses nothing."""
    crasher = _run(
        tmp_path,
        """
        async def main():
            async with Storage.create("app", data_dir=DATA) as storage:
                state = open_state(storage, snapshot_every=1000)
                await state.initialize()
                for amount in (1, 2, 3):
                    await transfer(state, amount)
                real_put = storage.put

                async def put_then_die(key, value, **kw):
                    result = await real_put(key, value, **kw)
                    if key.endswith("snapshot"):
                        os._exit(18)                   # snapshot written, log not truncated
                    return result

                storage.put = put_then_die
                await state.compact()
        asyncio.run(main())
        """,
        "crasher",
    )
    assert 18 == crasher.returncode, crasher.stderr
    seen = asyncio.run(_restore_here(tmp_path))
    assert (94, 106) == (seen["alice"], seen["bob"])
    assert [3, 3] == seen["versions"]


def test_sigkill_during_a_stream_of_transactions(tmp_path: Path) -> None:
    """SIGKILL at an arbitrary point: the restored balances still add up."""
    script = tmp_path / "stream.py"
    script.write_text(
        PRELUDE
        + textwrap.dedent(
            """
            async def main():
                async with Storage.create("app", data_dir=DATA) as storage:
                    async with open_state(storage, snapshot_every=7) as state:
                        n = 0
                        while True:
                            await transfer(state, 1 + n % 5)
                            n += 1
                            if n % 20 == 0:
                                print(n, flush=True)

            asyncio.run(main())
            """
        ),
        encoding="utf-8",
    )
    child = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "data")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        for line in child.stdout:
            if int(line) >= 60:
                break
        else:  # pragma: no cover - the child died early
            pytest.fail(child.stderr.read() if child.stderr else "child exited")
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=60)
    seen = asyncio.run(_restore_here(tmp_path))
    assert 200 == seen["alice"] + seen["bob"]
    assert seen["versions"][0] == seen["versions"][1] >= 60
    assert seen["bob"] > 100


async def test_storage_passed_directly(tmp_path: Path) -> None:
    """A Storage passed as the store is wrapped in a StorageStateStore."""
    async with Storage.create("direct", data_dir=tmp_path) as storage:
        state = StateManager(storage)
        assert isinstance(state._store, StorageStateStore)
        async with state:
            await state.set("k", [1, 2])
        async with StateManager(storage) as again:
            assert [1, 2] == again.get("k")
            assert 1 == again.version("k")
