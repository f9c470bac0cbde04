"""Hostile review of pepperpy-resources (after issue 18 #10-12).

Attacks non-finite, non-numeric and bool arguments to every duration and size
parameter of Pool and ResourceManager: a NaN timeout made ``acquire`` and
``drain`` wait forever (``NaN < 0`` and ``NaN <= 0`` are both false, so the
old checks let it through), and a str raised a raw TypeError.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.resources import Pool, ResourceManager

_BAD_SECONDS: list[Any] = [math.nan, -math.inf, "1", True, object(), [1]]
_BAD_SIZES: list[Any] = [math.nan, math.inf, 2.5, "3", True]


@pytest.mark.parametrize("name", ["acquire_timeout", "max_idle", "max_lifetime", "reap_interval"])
@pytest.mark.parametrize("value", _BAD_SECONDS, ids=repr)
def test_pool_refuses_bad_durations(name: str, value: Any) -> None:
    """A NaN, a str, a bool or any non-number is an InvalidArgumentError naming the argument."""
    with pytest.raises(InvalidArgumentError) as info:
        Pool(object, **{name: value})
    assert name in str(info.value)


@pytest.mark.parametrize("name", ["min_size", "max_size"])
@pytest.mark.parametrize("value", _BAD_SIZES, ids=repr)
def test_pool_refuses_bad_sizes(name: str, value: Any) -> None:
    """Sizes are ints (not bools, floats or strings)."""
    with pytest.raises(InvalidArgumentError):
        Pool(object, **{name: value})


@pytest.mark.parametrize("value", [math.nan, "1", True, [0.1]], ids=repr)
async def test_acquire_refuses_bad_timeout_before_waiting(value: Any) -> None:
    """acquire(timeout=nan) on a busy pool used to wait forever; now it is refused at once."""
    pool: Pool[object] = Pool(object, max_size=1)
    async with pool:
        held = await pool.acquire()
        with pytest.raises(InvalidArgumentError):
            pool.acquire(timeout=value)
        await pool.release(held)
        assert pool.stats().in_use == 0


@pytest.mark.parametrize("value", [math.nan, -1.0, "1", True], ids=repr)
async def test_drain_refuses_bad_timeout(value: Any) -> None:
    """drain(timeout=nan) with an item out used to wait forever."""
    pool: Pool[object] = Pool(object, max_size=1)
    async with pool:
        held = await pool.acquire()
        with pytest.raises(InvalidArgumentError):
            await asyncio.wait_for(pool.drain(timeout=value), 30)
        await pool.release(held)


async def test_acquire_infinite_timeout_is_no_deadline() -> None:
    """timeout=math.inf means no deadline (as asyncio.wait_for(..., inf))."""
    pool: Pool[object] = Pool(object, max_size=1)
    async with pool:
        async with pool.acquire(timeout=math.inf) as item:
            assert item is not None


@pytest.mark.parametrize("value", [math.nan, "1", True], ids=repr)
def test_manager_refuses_bad_cleanup_timeout(value: Any) -> None:
    """ResourceManager(cleanup_timeout=nan) would time-box nothing."""
    with pytest.raises(InvalidArgumentError):
        ResourceManager(cleanup_timeout=value)


async def test_a_factory_returning_one_object_twice_cannot_exceed_max_size() -> None:
    """Items are tracked by identity: a factory that returns the same object twice
    (a shared client, None, a small int) used to overwrite the first loan's record,
    so the pool lent more than max_size items and the second release() failed.
    It is now refused when the duplicate is created, and the pool stays consistent."""
    shared = object()
    pool: Pool[object] = Pool(lambda: shared, max_size=2)
    async with pool:
        first = await pool.acquire()
        with pytest.raises(InvalidArgumentError):
            await pool.acquire()
        stats = pool.stats()
        assert (stats.in_use, stats.size) == (1, 1)
        await pool.release(first)
        assert pool.stats().idle == 1
