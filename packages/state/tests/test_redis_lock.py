"""Tests for pepperpy.state._redis_lock against a real Redis server."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import textwrap
from typing import Any

import pytest

from pepperpy.core import ConfigurationError, InvalidArgumentError, OperationTimeoutError
from pepperpy.state import (
    Fence,
    LockLostError,
    LockUnavailableError,
    RedisLock,
    StaleTokenError,
)


def _lock(client: Any, namespace: str, **options: Any) -> RedisLock:
    return RedisLock(client, "jobs", namespace=namespace, **options)


async def test_acquire_release_and_increasing_tokens(
    redis_client: Any, redis_namespace: str
) -> None:
    lock = _lock(redis_client, redis_namespace)
    other = _lock(redis_client, redis_namespace)
    assert not lock.held
    token = await lock.acquire()
    assert lock.held and lock.token == token
    assert await other.try_acquire() is None  # busy
    with pytest.raises(InvalidArgumentError, match="already held"):
        await lock.try_acquire()
    await lock.release()
    assert not lock.held and lock.token is None
    async with other as second:
        assert second == token + 1
    async with lock as third:
        assert third == token + 2
    with pytest.raises(InvalidArgumentError, match="not held"):
        await lock.release()
    assert "not held" in repr(lock)


async def test_mutual_exclusion_between_clients(redis_url: str, redis_namespace: str) -> None:
    inside = 0
    most = 0
    tokens: list[int] = []

    async def worker() -> None:
        nonlocal inside, most
        # A client of its own per holder, as separate processes would have.
        lock = RedisLock(redis_url, "shared", namespace=redis_namespace, retry_interval=0.005)
        try:
            for _ in range(3):
                token = await lock.acquire(timeout=30)
                inside += 1
                most = max(most, inside)
                tokens.append(token)
                await asyncio.sleep(0.001)
                inside -= 1
                await lock.release()
        finally:
            await lock.aclose()

    await asyncio.gather(*(worker() for _ in range(6)))
    assert most == 1
    assert tokens == sorted(tokens)  # handed over one at a time, tokens only grow
    assert len(set(tokens)) == 18


async def test_timeout(redis_client: Any, redis_namespace: str) -> None:
    holder = _lock(redis_client, redis_namespace)
    await holder.acquire()
    with pytest.raises(OperationTimeoutError, match="stayed held"):
        await _lock(redis_client, redis_namespace).acquire(timeout=0.05)
    await holder.release()


async def test_expired_lease_frees_the_lock_and_the_late_holder_is_fenced(
    redis_client: Any, redis_namespace: str
) -> None:
    from pepperpy.storage import Storage

    slow = _lock(redis_client, redis_namespace, lease=0.1, auto_renew=False)
    fast = _lock(redis_client, redis_namespace)
    async with Storage.create("fenced", backend="memory") as storage:
        fence = Fence(storage, "jobs")
        old = await slow.acquire()
        await fence.write(old, "report", "v1 by slow")
        # slow pauses past its lease (a GC pause, a stalled VM): fast takes over.
        new = await fast.acquire(timeout=10)
        assert new > old
        await fence.write(new, "report", "v2 by fast")
        with pytest.raises(StaleTokenError) as info:
            await fence.write(old, "report", "late write by slow")
        assert info.value.context == {"fence": "fence/jobs", "token": old, "seen": new}
        assert await storage.get("report") == "v2 by fast"
        assert await fence.highest() == new
        with pytest.raises(LockLostError):
            await slow.extend()
        assert slow.lost
        with pytest.raises(LockLostError, match="lost before release"):
            await slow.release()
        assert fast.held
        await fast.extend(lease=5)
        await fast.release()


async def test_auto_renew_keeps_a_lock_past_its_lease(
    redis_client: Any, redis_namespace: str
) -> None:
    holder = _lock(redis_client, redis_namespace, lease=0.6)
    await holder.acquire()
    other = _lock(redis_client, redis_namespace)
    for _ in range(8):  # 1.2 s: two leases
        await asyncio.sleep(0.15)
        assert await other.try_acquire() is None
    assert holder.held and not holder.lost
    await holder.release()
    assert await other.try_acquire() is not None
    await other.release()


async def test_a_killed_holder_process_frees_the_lock_after_its_lease(
    redis_url: str, redis_namespace: str
) -> None:
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from pepperpy.state import RedisLock

        async def main():
            lock = RedisLock({redis_url!r}, "jobs", namespace={redis_namespace!r}, lease=0.5)
            print(await lock.acquire(), flush=True)
            await asyncio.sleep(60)

        asyncio.run(main())
        """
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, stdout=asyncio.subprocess.PIPE, env=dict(os.environ)
    )
    try:
        assert proc.stdout is not None
        dead_token = int(await asyncio.wait_for(proc.stdout.readline(), 30))
        proc.send_signal(signal.SIGKILL)  # no release, no more renewals
        await asyncio.wait_for(proc.wait(), 10)
        lock = RedisLock(redis_url, "jobs", namespace=redis_namespace)
        try:
            token = await lock.acquire(timeout=10)
            assert token > dead_token
        finally:
            await lock.aclose()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_unreachable_redis_and_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    lock = RedisLock(f"redis://127.0.0.1:{port}/0", "x")
    with pytest.raises(LockUnavailableError) as info:
        await lock.acquire()
    assert info.value.retryable
    await lock.aclose()
    monkeypatch.delenv("PEPPERPY_REDIS_URL", raising=False)
    with pytest.raises(ConfigurationError, match="needs a client or a URL"):
        RedisLock(name="x")
    with pytest.raises(InvalidArgumentError, match="lease"):
        RedisLock("redis://127.0.0.1:1/0", "x", lease=0)
    with pytest.raises(InvalidArgumentError, match="lock name"):
        RedisLock("redis://127.0.0.1:1/0", "")


async def test_lease_forms_and_extending_a_lock_not_held(
    redis_client: Any, redis_namespace: str
) -> None:
    """A lease may be a timedelta; a bool is no duration; extend() needs the lock held."""
    from datetime import timedelta

    assert _lock(redis_client, redis_namespace, lease=timedelta(seconds=5)).lease == 5.0
    with pytest.raises(InvalidArgumentError):
        _lock(redis_client, redis_namespace, lease=True)
    with pytest.raises(InvalidArgumentError) as info:
        await _lock(redis_client, redis_namespace).extend()
    assert info.value.code == "pepperpy.state.lock_not_held"


async def test_the_body_error_wins_over_a_lock_lost_meanwhile(
    redis_client: Any, redis_namespace: str
) -> None:
    """``async with lock`` whose body failed: that error propagates, not LockLostError.

    As contextlib.AsyncExitStack keeps the body's exception when cleanup fails, the
    caller sees why the work stopped; a clean body still gets the LockLostError.
    """
    lock = _lock(redis_client, redis_namespace, auto_renew=False)
    with pytest.raises(ValueError, match="work failed"):
        async with lock:
            await redis_client.delete(f"{redis_namespace}:jobs")  # the lease ran out
            raise ValueError("work failed")
    assert not lock.held
    with pytest.raises(LockLostError):
        async with lock:
            await redis_client.delete(f"{redis_namespace}:jobs")


async def test_renewal_notices_a_lock_taken_over(redis_client: Any, redis_namespace: str) -> None:
    """The renewer finds another holder's value: the lock is marked lost, not renewed."""
    lock = _lock(redis_client, redis_namespace, lease=0.3)
    await lock.acquire()
    await redis_client.set(f"{redis_namespace}:jobs", "someone-else:999")
    for _ in range(200):  # poll until the renewer has run (about every lease / 3)
        if lock.lost:
            break
        await asyncio.sleep(0.05)
    assert lock.lost
    assert await redis_client.get(f"{redis_namespace}:jobs") == b"someone-else:999"
    with pytest.raises(LockLostError):
        await lock.release()
