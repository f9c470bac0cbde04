"""Tests for pepperpy.task._group: structured concurrency over the manager."""

from __future__ import annotations

import asyncio

import pytest

from pepperpy.core import InvalidArgumentError
from pepperpy.task import TaskStatus

from .conftest import settle


async def echo(x: int) -> int:
    await asyncio.sleep(0)
    return x


async def test_group_waits_for_every_task(tasks):
    async with tasks.group() as group:
        for i in range(10):
            group.submit(echo, i)
    assert group.results() == list(range(10))
    assert all(h.status is TaskStatus.SUCCEEDED for h in group.handles)


async def test_members_may_add_members(tasks):
    async def spawner(group, depth: int) -> int:
        if depth:
            group.submit(spawner, group, depth - 1)
        return depth

    async with tasks.group() as group:
        group.submit(spawner, group, 3)
    assert sorted(group.results()) == [0, 1, 2, 3]


async def test_first_failure_cancels_the_rest_and_is_raised(tasks):
    gate = asyncio.Event()

    async def hang() -> None:
        await gate.wait()

    async def boom() -> None:
        await asyncio.sleep(0)
        raise ValueError("first")

    with pytest.raises(ValueError, match="first"):
        async with tasks.group() as group:
            slow = group.submit(hang)
            group.submit(boom)
    assert slow.status is TaskStatus.CANCELLED
    with pytest.raises(ValueError):
        group.results()


async def test_without_cancel_on_error_everything_finishes(tasks):
    async def boom() -> None:
        raise KeyError("k")

    with pytest.raises(KeyError):
        async with tasks.group(cancel_on_error=False) as group:
            group.submit(boom)
            ok = group.submit(echo, 1)
    assert await ok == 1
    assert isinstance(group.handles[0].exception(), KeyError)


async def test_error_in_the_block_cancels_members(tasks):
    gate = asyncio.Event()

    async def hang() -> None:
        await gate.wait()

    with pytest.raises(RuntimeError, match="body"):
        async with tasks.group() as group:
            member = group.submit(hang)
            await settle()
            raise RuntimeError("body")
    assert member.status is TaskStatus.CANCELLED


async def test_cancelling_the_waiter_cancels_members(tasks):
    gate = asyncio.Event()
    members = []

    async def hang() -> None:
        await gate.wait()

    async def owner() -> None:
        async with tasks.group() as group:
            members.append(group.submit(hang))

    task = asyncio.ensure_future(owner())
    await settle()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert members[0].status is TaskStatus.CANCELLED


async def test_explicit_member_cancel_is_not_a_failure(tasks):
    gate = asyncio.Event()

    async def hang() -> None:
        await gate.wait()

    async with tasks.group() as group:
        member = group.submit(hang)
        done = group.submit(echo, 2)
        await settle()
        member.cancel()
    assert await done == 2


async def test_submit_outside_the_block_is_refused(tasks):
    group = tasks.group()
    with pytest.raises(InvalidArgumentError):
        group.submit(echo, 1)
    async with group:
        pass
    with pytest.raises(InvalidArgumentError):
        group.submit(echo, 1)
