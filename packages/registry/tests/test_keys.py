"""Tests for reading dependencies from type hints and classifying factories."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Optional

import attrs
import pytest

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.core.types import Lifecycle
from pepperpy.registry import Dependency, Kind, Named
from pepperpy.registry._keys import dependencies_of, describe, factory_kind


class Database:
    pass


class Cache:
    pass


@attrs.define
class Repo:
    db: Database
    cache: Annotated[Cache, Named("fast")]
    label: str = "repo"
    _secret: Optional[Database] = None  # noqa: UP045 - Optional on purpose


class Plain:
    def __init__(self, db: Database, limit: int = 3, *args: object, **kw: object) -> None:
        self.db = db


def test_attrs_fields_become_dependencies() -> None:
    """attrs fields give keys, names (aliases) and optionality."""
    assert dependencies_of(Repo) == (
        Dependency("db", Database),
        Dependency("cache", (Cache, "fast")),
        Dependency("label", str, optional=True),
        Dependency("secret", Database, optional=True),
    )


def test_plain_class_and_function() -> None:
    """__init__ and function signatures are read; *args/**kwargs ignored."""
    assert dependencies_of(Plain) == (
        Dependency("db", Database),
        Dependency("limit", int, optional=True),
    )

    def make(db: Database, /, cache: Cache | None = None) -> Repo:
        raise AssertionError

    assert dependencies_of(make) == (
        Dependency("db", Database, positional=True),
        Dependency("cache", Cache, optional=True),
    )
    assert dependencies_of(Database) == ()


def test_unannotated_parameter_is_refused() -> None:
    """A required parameter without a type cannot be wired."""

    def make(db) -> None:  # type: ignore[no-untyped-def]
        return None

    with pytest.raises(InvalidArgumentError, match=r"parameter 'db'.*no usable type"):
        dependencies_of(make)


def test_unresolvable_hint_is_explained() -> None:
    """A forward reference that cannot be resolved says what to do."""

    def make(db: NotDefinedAnywhere) -> None:  # type: ignore[name-defined] # noqa: F821
        return None

    with pytest.raises(InvalidArgumentError, match="type hints"):
        dependencies_of(make)


class Service(Lifecycle):
    pass


@contextlib.contextmanager
def sync_cm() -> Iterator[int]:
    yield 1


@contextlib.asynccontextmanager
async def async_cm() -> AsyncIterator[int]:
    yield 1


def gen() -> Iterator[int]:
    yield 1


async def agen() -> AsyncIterator[int]:
    yield 1


async def coro() -> int:
    return 1


@pytest.mark.parametrize(
    ("factory", "kind"),
    [
        (Database, Kind.FACTORY),
        (Service, Kind.ASYNC_CONTEXT_MANAGER),
        (sync_cm, Kind.CONTEXT_MANAGER),
        (async_cm, Kind.ASYNC_CONTEXT_MANAGER),
        (gen, Kind.GENERATOR),
        (agen, Kind.ASYNC_GENERATOR),
        (coro, Kind.ASYNC_FACTORY),
        (lambda: 1, Kind.FACTORY),
    ],
)
def test_factory_kinds(factory: object, kind: Kind) -> None:
    """Factories are classified by how they produce and clean up instances."""
    assert factory_kind(factory) is kind  # type: ignore[arg-type]


def test_describe() -> None:
    """Keys render readably."""
    assert describe(Database) == "Database"
    assert describe((Database, "replica")) == "Database[replica]"
    assert describe("url") == "'url'"
    assert describe(list[int]) == "list[int]"
