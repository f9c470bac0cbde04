"""The cache on pepperpy-testing's virtual clock: TTLs and @cached across simulated hours."""

from __future__ import annotations

import asyncio

from pepperpy.cache import Cache, cached


def test_ttl_and_cached_expire_on_virtual_time(virtual_clock):
    """Entries live exactly their TTL of loop time, and @cached recomputes after it."""
    cache: Cache[str, int] = Cache(ttl=3600, clock=virtual_clock)
    calls = []

    @cached(cache=Cache(ttl="10m", clock=virtual_clock))
    async def price(sku: str) -> int:
        calls.append(sku)
        return len(calls)

    async def main() -> None:
        cache.set("k", 1)
        assert 1 == await price("a")
        await asyncio.sleep(599)  # instant: the loop jumps
        assert 1 == cache.get("k")
        assert 1 == await price("a")  # still cached
        await asyncio.sleep(2)
        assert 2 == await price("a")  # expired after 10 virtual minutes
        await asyncio.sleep(3000)
        assert cache.get("k") is None  # an hour has passed

    virtual_clock.run(main())
    assert ["a", "a"] == calls
    assert 3601 == virtual_clock.monotonic()
