"""Attacks from issue 22 on the registry's lifetimes and overrides (#2, #3, #4)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from pepperpy.registry import Registry


class Conn:
    def __init__(self) -> None:
        self.closed = False


class Repo:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn


def _conn() -> Iterator[Conn]:
    conn = Conn()
    yield conn
    conn.closed = True


class TestTransientHeldBySingleton:
    """issue 22 #2: a dependency's cleanup belongs to its longest-lived holder."""

    async def test_scope_end_does_not_close_a_singletons_transient(self) -> None:
        registry = Registry(eager=False)
        registry.register(Conn, _conn, lifetime="transient")
        registry.register(Repo)
        registry.validate()
        async with registry.scope():
            repo = await registry.get(Repo)
        assert repo.conn.closed is False  # the singleton still holds it
        assert (await registry.get(Repo)) is repo
        await registry.aclose()
        assert repo.conn.closed is True  # closed with the registry, the holder's lifetime

    def test_sync_resolution_in_a_scope_too(self) -> None:
        registry = Registry(eager=False)
        registry.register(Conn, _conn, lifetime="transient")
        registry.register(Repo)
        with registry.scope():
            repo = registry.resolve(Repo)
        assert repo.conn.closed is False
        registry.close()
        assert repo.conn.closed is True

    async def test_transient_asked_for_in_a_scope_still_closes_with_the_scope(self) -> None:
        registry = Registry(eager=False)
        registry.register(Conn, _conn, lifetime="transient")
        async with registry.scope():
            conn = await registry.get(Conn)
        assert conn.closed is True

    async def test_transient_of_a_scoped_service_closes_with_the_scope(self) -> None:
        registry = Registry(eager=False)
        registry.register(Conn, _conn, lifetime="transient")
        registry.register(Repo, lifetime="scoped")
        async with registry.scope():
            repo = await registry.get(Repo)
            assert repo.conn.closed is False
        assert repo.conn.closed is True


class TestWaiterNotCancelledByCreator:
    """issue 22 #3: a waiter never receives a cancellation it did not ask for.

    Peer: asyncio.shield protects the waiter from its own outer cancellation only;
    the creator's cancellation must not reach the waiter either.
    """

    async def test_waiter_gets_a_fresh_instance_when_the_creator_is_cancelled(self) -> None:
        entered = asyncio.Event()
        gate = asyncio.Event()
        created: list[Conn] = []

        async def make() -> Conn:
            entered.set()
            await gate.wait()
            conn = Conn()
            created.append(conn)
            return conn

        registry = Registry(eager=False)
        registry.register(Conn, make)
        creator = asyncio.create_task(registry.get(Conn))
        await entered.wait()
        waiter = asyncio.create_task(registry.get(Conn))
        await asyncio.sleep(0)  # the waiter now waits on the creator's result
        entered.clear()
        creator.cancel()
        with pytest.raises(asyncio.CancelledError):
            await creator
        gate.set()
        conn = await waiter  # raised CancelledError before the fix
        assert created == [conn]
        assert (await registry.get(Conn)) is conn

    async def test_waiters_own_cancellation_still_cancels_it(self) -> None:
        gate = asyncio.Event()

        async def make() -> Conn:
            await gate.wait()
            return Conn()

        registry = Registry(eager=False)
        registry.register(Conn, make)
        creator = asyncio.create_task(registry.get(Conn))
        await asyncio.sleep(0)
        waiter = asyncio.create_task(registry.get(Conn))
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        gate.set()
        assert isinstance(await creator, Conn)


class Config:
    def __init__(self, url: str = "real") -> None:
        self.url = url


class Service:
    def __init__(self, config: Config) -> None:
        self.config = config


class TestOverridesArePerContext:
    """issue 22 #4: parallel tests (tasks) cannot see each other's fakes.

    Peer: lagom's container.clone(); here overrides live in a context variable.
    """

    async def test_two_tasks_override_the_same_key_at_once(self) -> None:
        registry = Registry(eager=False)
        registry.register(Config)
        registry.register(Service)
        real = await registry.get(Service)
        a_in, b_in = asyncio.Event(), asyncio.Event()

        async def run(name: str, mine: asyncio.Event, other: asyncio.Event) -> tuple[str, str]:
            fake = Config(name)
            with registry.override(Config, fake):
                mine.set()
                await other.wait()  # both overrides are active now
                service = await registry.get(Service)
                config = registry.resolve(Config)
                return service.config.url, config.url

        a = asyncio.create_task(run("a", a_in, b_in))
        b = asyncio.create_task(run("b", b_in, a_in))
        outsider_seen: list[str] = []

        async def outsider() -> None:
            await a_in.wait()
            await b_in.wait()
            outsider_seen.append((await registry.get(Service)).config.url)

        await asyncio.gather(a, b, outsider())
        assert a.result() == ("a", "a")
        assert b.result() == ("b", "b")
        assert outsider_seen == ["real"]
        assert (await registry.get(Service)) is real

    async def test_override_is_inherited_by_child_tasks_and_nests(self) -> None:
        registry = Registry(eager=False)
        registry.register(Config)
        registry.register(Service)
        with registry.override(Config, Config("outer")):
            assert (await asyncio.create_task(registry.get(Service))).config.url == "outer"
            with registry.override(Config, Config("inner")):
                assert registry.resolve(Service).config.url == "inner"
            assert registry.resolve(Service).config.url == "outer"
        assert registry.resolve(Service).config.url == "real"


class Session:
    pass


class Holder:
    def __init__(self, repo: Repo) -> None:
        self.repo = repo


def test_validate_still_reports_the_mismatch_it_cannot_make_safe() -> None:
    """issue 22 #2: singleton -> transient is made safe; singleton -> transient -> scoped is not."""
    from pepperpy.registry import RegistryValidationError

    registry = Registry()
    registry.register(Conn, _conn, lifetime="transient")
    registry.register(Holder)
    registry.register(Repo, lifetime="transient")
    registry.validate()  # the transient's cleanup moves to its holder's lifetime: safe

    def conn(session: Session) -> Conn:
        return Conn()

    registry.register(Session, lifetime="scoped")
    registry.register(Conn, conn, lifetime="transient", replace=True)
    with pytest.raises(RegistryValidationError, match="scoped"):
        registry.validate()
