from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest

from pepperpy import context
from pepperpy.core.exceptions import InvalidArgumentError


def read_request_id() -> object:
    return context.get("request_id")


def bind_and_read() -> object:
    context.bind(thread_value=threading.get_ident())
    return context.get("request_id")


async def test_to_thread_carries_context_and_does_not_leak_back() -> None:
    async with context.scope(request_id="t-1"):
        assert await context.to_thread(bind_and_read) == "t-1"
        assert context.get("thread_value") is None


async def test_concurrent_tasks_with_threads_keep_their_ids() -> None:
    async def handler(i: int) -> list[object]:
        async with context.scope(request_id=f"req-{i}"):
            results = []
            for _ in range(3):
                results.append(await context.to_thread(read_request_id))
                await asyncio.sleep(0)
            return results

    out = await asyncio.gather(*(handler(i) for i in range(16)))
    assert out == [[f"req-{i}"] * 3 for i in range(16)]


def test_context_executor_copies_submitter_context() -> None:
    with ContextPool() as pool, context.scope(request_id="pool"):
        assert pool.submit(read_request_id).result() == "pool"
        assert list(pool.map(lambda _: context.get("request_id"), range(3))) == ["pool"] * 3


def ContextPool() -> context.ContextExecutor:
    return context.ContextExecutor(max_workers=2)


def test_plain_thread_pool_loses_context_but_wrapped_one_keeps_it() -> None:
    with ThreadPoolExecutor(max_workers=1) as raw, context.scope(request_id="w"):
        assert raw.submit(read_request_id).result() is None  # the problem we solve
        wrapped = context.wrap_executor(raw)
        assert wrapped.submit(read_request_id).result() == "w"
        assert "wrap_executor" in repr(wrapped)


def test_wrap_executor_rejects_non_executor() -> None:
    with pytest.raises(InvalidArgumentError, match="Executor"):
        context.wrap_executor(object())  # type: ignore[arg-type]


def test_process_pool_receives_values() -> None:
    with ProcessPoolExecutor(max_workers=1) as procs:
        wrapped = context.wrap_executor(procs)
        with context.scope(request_id="proc"):
            future = wrapped.submit(read_request_id)
        assert future.result(timeout=60) == "proc"
        wrapped.shutdown()


def test_wrap_for_a_plain_thread() -> None:
    out: list[object] = []
    with context.scope(request_id="thread"):
        t = threading.Thread(target=context.wrap(lambda: out.append(read_request_id())))
    t.start()
    t.join()
    assert out == ["thread"]


async def test_install_executor_fixes_run_in_executor() -> None:
    loop = asyncio.get_running_loop()
    executor = context.install_executor(max_workers=2)
    try:
        async with context.scope(request_id="installed"):
            assert await loop.run_in_executor(None, read_request_id) == "installed"
    finally:
        executor.shutdown(wait=True)
