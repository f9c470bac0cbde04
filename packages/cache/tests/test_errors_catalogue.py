"""The error-code catalogue (issue 24): real failures carry codes that ERRORS documents."""

from __future__ import annotations

from typing import Any

import pytest

from pepperpy.cache import ERRORS, Cache, CacheFullError, Policy, TieredCache, cached
from pepperpy.core import ERRORS as CORE_ERRORS
from pepperpy.core import (
    MISSING,
    ErrorCatalogue,
    ExternalError,
    InvalidArgumentError,
    PepperPyError,
)


def _documented(error: PepperPyError) -> None:
    """A caught error's code is catalogued, under a class the error is an instance of."""
    assert error.code in ERRORS
    entry = ERRORS[error.code]
    assert isinstance(error, entry.error)
    assert entry.meaning and entry.action


class DownTier:
    """A tier whose server is gone: every call fails as a refused connection does."""

    async def get(self, key: str) -> Any:
        raise ConnectionRefusedError("connection refused")

    async def set(self, key: str, value: Any, *, ttl: float | None = None) -> None:
        raise ConnectionRefusedError("connection refused")

    async def delete(self, key: str) -> bool:
        raise ConnectionRefusedError("connection refused")


class DownTaggedTier(DownTier):
    """A tagged tier whose server is gone: invalidations fail too."""

    supports_tags = True

    async def get_entry(self, key: str) -> Any:
        raise ConnectionRefusedError("connection refused")

    async def invalidate_tag(self, *tags: str) -> int:
        raise ConnectionRefusedError("connection refused")

    async def invalidate_prefix(self, prefix: str) -> int:
        raise ConnectionRefusedError("connection refused")

    async def clear(self) -> int:
        raise ConnectionRefusedError("connection refused")


def test_errors_is_the_package_catalogue() -> None:
    assert isinstance(ERRORS, ErrorCatalogue)
    assert ERRORS.package == "pepperpy.cache"
    assert all(code.startswith("pepperpy.cache.") for code in ERRORS)


def test_a_full_cache_and_bad_options_are_documented() -> None:
    full: Cache[str, int] = Cache(1, policy=Policy.NONE)
    full.set("a", 1)
    with pytest.raises(CacheFullError) as info:
        full.set("b", 2)
    assert info.value.code == "pepperpy.cache.full"
    _documented(info.value)
    # Bad options of Cache and of @cached share one code: the message names the option.
    for make in (
        lambda: Cache(0),
        lambda: Cache(10, jitter=2.0),
        lambda: cached(stale_while_revalidate=5),
    ):
        with pytest.raises(PepperPyError) as bad:
            make()
        assert bad.value.code == "pepperpy.cache.invalid_option"
        _documented(bad.value)


async def test_each_failed_tier_operation_has_its_code() -> None:
    """A program can tell a failed read, write and delete of the second tier apart."""
    strict: TieredCache[str, int] = TieredCache(Cache(10), DownTier(), strict=True)
    failures: dict[str, ExternalError] = {}
    for operation, call in (
        ("read", lambda: strict.get("k", MISSING)),
        ("write", lambda: strict.set("k", 1)),
        ("delete", lambda: strict.delete("k")),
    ):
        with pytest.raises(ExternalError) as info:
            await call()
        failures[operation] = info.value
        assert isinstance(info.value.__cause__, ConnectionRefusedError)
    assert {op: e.code for op, e in failures.items()} == {
        "read": "pepperpy.cache.tier_read",
        "write": "pepperpy.cache.tier_write",
        "delete": "pepperpy.cache.tier_delete",
    }
    for error in failures.values():
        _documented(error)


async def test_a_failed_invalidation_of_the_tier_has_its_code() -> None:
    """Memory is dropped either way; the tier's failure says it was the invalidation."""
    tiered: TieredCache[str, int] = TieredCache(Cache(10), DownTaggedTier())
    tiered.memory.set("user:1", 1, tags=("users",))
    for call in (
        lambda: tiered.invalidate_tag("users"),
        lambda: tiered.invalidate_prefix("user:"),
        lambda: tiered.clear(),
    ):
        with pytest.raises(ExternalError) as info:
            await call()
        assert info.value.code == "pepperpy.cache.tier_invalidate"
        _documented(info.value)
    assert "user:1" not in tiered.memory


def test_a_bad_ttl_names_the_argument() -> None:
    """Durations are pepperpy-core's (its code); the context says which argument it was."""
    for ttl in (10**400, -1, "soon"):
        with pytest.raises(InvalidArgumentError) as info:
            Cache(10).set("k", 1, ttl=ttl)
        assert info.value.context["argument"] == "ttl"
        assert info.value.code in CORE_ERRORS
