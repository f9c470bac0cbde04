"""Tests for Registry: registration, resolution, lifetimes, lifecycle, health, overrides, inject."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Annotated

import attrs
import pytest

from pepperpy.core.exceptions import (
    ConflictError,
    InvalidArgumentError,
    LifecycleError,
    StartupError,
)
from pepperpy.core.types import Lifecycle, LifecycleState, ManualClock
from pepperpy.registry import (
    INJECT,
    AsyncResolutionError,
    CircularDependencyError,
    Injected,
    Kind,
    Lifetime,
    LifetimeError,
    Named,
    Registry,
    RegistryValidationError,
    Scope,
    ScopeError,
    ServiceNotFoundError,
    current_registry,
    inject,
)


class Config:
    def __init__(self, url: str = "sqlite://") -> None:
        self.url = url


@attrs.define
class Database:
    config: Config


@attrs.define
class Repo:
    db: Database


@attrs.define
class App:
    repo: Repo


class Session:
    pass


@attrs.define
class Handler:
    session: Session


class A:
    pass


class B:
    pass


def make_a(b: B) -> A:
    return A()


def make_b(a: A) -> B:
    return B()


class TestRegistration:
    def test_values_by_type_name_and_string(self) -> None:
        """Values resolve by type, by (type, name) and by string key."""
        registry = Registry()
        main, replica = Config("main"), Config("replica")
        registry.register_value(Config, main)
        registry.register_value(Config, replica, name="replica")
        registry.register_value("feature_flags", {"beta": True})
        assert registry.resolve(Config) is main
        assert registry.resolve(Config, "replica") is replica
        assert registry.resolve("feature_flags") == {"beta": True}
        assert Config in registry
        assert len(registry) == 3

    def test_auto_wiring_three_levels(self) -> None:
        """attrs classes are wired from their fields through a 3-level graph."""
        registry = Registry()
        registry.register(Config)
        registry.register(Database)
        registry.register(Repo)
        registry.register(App)
        app = registry.resolve(App)
        assert app.repo.db.config is registry.resolve(Config)
        assert app is registry.resolve(App)

    def test_named_dependency_and_optional_default(self) -> None:
        """Annotated[T, Named(...)] selects a named service; defaults cover missing ones."""

        def make(cfg: Annotated[Config, Named("replica")], retries: int = 3) -> str:
            return f"{cfg.url}:{retries}"

        registry = Registry()
        registry.register_value(Config, Config("replica-url"), name="replica")
        registry.register("summary", make)
        assert registry.resolve("summary") == "replica-url:3"
        registry.register_value(int, 5)
        registry.register("summary", make, replace=True)
        assert registry.resolve("summary") == "replica-url:5"

    def test_registry_itself_is_injectable(self) -> None:
        """A factory may ask for the Registry."""

        def make(registry: Registry) -> Registry:
            return registry

        registry = Registry()
        registry.register("me", make)
        assert registry.resolve("me") is registry
        registry.validate()

    def test_duplicates_and_replace(self) -> None:
        """Registering twice needs replace=True."""
        registry = Registry()
        registry.register_value(Config, Config("a"))
        with pytest.raises(ConflictError, match="already registered"):
            registry.register(Config)
        registry.register(Config, lambda: Config("b"), replace=True)
        assert registry.resolve(Config).url == "b"
        registry.unregister(Config)
        with pytest.raises(ServiceNotFoundError):
            registry.unregister(Config)

    def test_bad_registrations(self) -> None:
        """Non-callable factories, unknown lifetimes and keyless factories are refused."""
        registry = Registry()
        with pytest.raises(InvalidArgumentError, match="register_value"):
            registry.register(Config, 42)  # type: ignore[arg-type]
        with pytest.raises(InvalidArgumentError, match="lifetime"):
            registry.register(Config, lifetime="forever")
        with pytest.raises(InvalidArgumentError, match="needs a factory"):
            registry.register("name")
        with pytest.raises(InvalidArgumentError, match="hashable"):
            registry.register_value([], 1)
        with pytest.raises(InvalidArgumentError, match="name"):
            registry.register_value(Config, 1, name="")


class TestResolution:
    def test_not_found_names_the_chain(self) -> None:
        """A missing dependency names who needed it, from the top."""
        registry = Registry()
        registry.register(Database)
        registry.register(Repo)
        registry.register(App)
        with pytest.raises(
            ServiceNotFoundError,
            match=r"Config \(needed by App -> Repo -> "
            r"Database -> Config\)",
        ) as caught:
            registry.resolve(App)
        assert caught.value.context["chain"] == ["App", "Repo", "Database", "Config"]
        assert caught.value.__context__ is None  # no internal KeyError in the traceback

    async def test_cycle_at_resolution_names_the_loop(self) -> None:
        """A cycle found while resolving shows the whole loop."""
        registry = Registry()
        registry.register(A, make_a)
        registry.register(B, make_b)
        with pytest.raises(CircularDependencyError, match="dependency cycle: A -> B -> A"):
            registry.resolve(A)
        with pytest.raises(CircularDependencyError, match="B -> A -> B"):
            await registry.get(B)

    def test_transient_and_singleton(self) -> None:
        """Transients are new every time; singletons are shared."""
        registry = Registry()
        registry.register(Config, lifetime=Lifetime.TRANSIENT)
        registry.register(Session)
        assert registry.resolve(Config) is not registry.resolve(Config)
        assert registry.resolve(Session) is registry.resolve(Session)

    async def test_scoped_lifetime_per_scope_and_task(self) -> None:
        """Scoped services are shared inside one scope (and its tasks), new per scope."""
        registry = Registry()
        registry.register(Session, lifetime="scoped")
        with pytest.raises(ScopeError, match="no scope is active"):
            await registry.get(Session)
        async with registry.scope() as scope:
            first = await registry.get(Session)
            in_tasks = await asyncio.gather(*(registry.get(Session) for _ in range(3)))
            assert all(s is first for s in in_tasks)
            assert scope.instances == {"Session": first}
        async with registry.scope():
            assert await registry.get(Session) is not first
        with registry.scope():
            assert registry.resolve(Session) is registry.resolve(Session)
        assert registry.current_scope is None

    async def test_captive_dependency_at_resolution(self) -> None:
        """A singleton asking for a scoped service fails with the chain."""
        registry = Registry()
        registry.register(Session, lifetime="scoped")
        registry.register(Handler)
        async with registry.scope():
            with pytest.raises(LifetimeError, match="Handler -> Session"):
                await registry.get(Handler)
            with pytest.raises(LifetimeError):
                registry.resolve(Handler)

    async def test_async_factories_and_sync_resolve(self) -> None:
        """Async factories need get(); resolve() explains that, and works once built."""

        async def make_config() -> Config:
            await asyncio.sleep(0)
            return Config("async")

        registry = Registry()
        registry.register(Config, make_config)
        registry.register(Database)
        with pytest.raises(
            AsyncResolutionError,
            match=r"Config is created by an async factory"
            r" \(needed by Database -> Config\)",
        ):
            registry.resolve(Database)
        db = await registry.get(Database)
        assert db.config.url == "async"
        assert registry.resolve(Database) is db

    async def test_concurrent_first_gets_create_once(self) -> None:
        """Concurrent first requests for a singleton share one creation."""
        created: list[int] = []
        gate = asyncio.Event()

        async def make() -> Config:
            created.append(1)
            await gate.wait()
            return Config()

        registry = Registry()
        registry.register(Config, make)
        tasks = [asyncio.ensure_future(registry.get(Config)) for _ in range(5)]
        await asyncio.sleep(0)
        gate.set()
        results = await asyncio.gather(*tasks)
        assert len(created) == 1
        assert all(r is results[0] for r in results)

    async def test_failed_creation_is_retried_next_time(self) -> None:
        """A factory error propagates to every waiter and nothing is cached."""
        attempts: list[int] = []

        async def make() -> Config:
            attempts.append(1)
            await asyncio.sleep(0)
            if len(attempts) == 1:
                raise OSError("db down")
            return Config()

        registry = Registry()
        registry.register(Config, make)
        results = await asyncio.gather(
            registry.get(Config), registry.get(Config), return_exceptions=True
        )
        assert all(isinstance(r, OSError) for r in results)
        assert isinstance(await registry.get(Config), Config)


class Resource(Lifecycle):
    """A Lifecycle component: an async context manager the registry starts and stops."""

    log: list[str]

    def __init__(self, config: Config) -> None:
        self.config = config

    async def _on_start(self) -> None:
        Resource.log.append(f"start {self.config.url}")

    async def _on_stop(self) -> None:
        Resource.log.append(f"stop {self.config.url}")


class TestLifecycle:
    async def test_start_in_dependency_order_stop_in_reverse(self) -> None:
        """async with registry builds singletons deps-first and cleans up in reverse."""
        log: list[str] = []
        Resource.log = log

        @contextlib.asynccontextmanager
        async def pool(resource: Resource) -> AsyncIterator[str]:
            log.append("open pool")
            yield "pool"
            log.append("close pool")

        def cursor(pool: Annotated[str, Named("pool")]) -> Iterator[str]:
            log.append("open cursor")
            yield "cursor"
            log.append("close cursor")

        async def client(cur: Annotated[str, Named("cursor")]) -> AsyncIterator[str]:
            log.append("open client")
            yield "client"
            log.append("close client")

        registry = Registry()
        registry.register("client", client)
        registry.register(str, cursor, name="cursor")
        registry.register(str, pool, name="pool")
        registry.register(Resource)
        registry.register_value(Config, Config("db"))
        async with registry:
            assert registry.state is LifecycleState.RUNNING
            assert log == ["start db", "open pool", "open cursor", "open client"]
            assert registry.resolve("client") == "client"
            assert current_registry() is registry
        assert log[4:] == ["close client", "close cursor", "close pool", "stop db"]
        assert registry.resolve(Config).url == "db"  # values survive a stop
        with pytest.raises(LifecycleError):
            current_registry()

    async def test_async_factory_returning_context_manager_is_entered(self) -> None:
        """An async factory's async-context-manager result is entered and exited."""
        log: list[str] = []

        class Conn:
            async def __aenter__(self) -> Conn:
                log.append("enter")
                return self

            async def __aexit__(self, *exc: object) -> None:
                log.append("exit")

        async def connect() -> Conn:
            return Conn()

        registry = Registry(eager=False)
        registry.register(Conn, connect)
        registry.register("raw", connect, enter=False)
        conn = await registry.get(Conn)
        assert isinstance(conn, Conn)
        await registry.get("raw")
        assert log == ["enter"]
        await registry.aclose()
        assert log == ["enter", "exit"]

    async def test_validation_runs_before_anything_is_created(self) -> None:
        """start() refuses an invalid graph without calling a single factory."""
        created: list[str] = []

        def make_config() -> Config:
            created.append("config")
            return Config()

        registry = Registry()
        registry.register(Config, make_config)
        registry.register(App)  # needs Repo -> Database, not registered
        with pytest.raises(StartupError) as caught:
            await registry.start()
        assert isinstance(caught.value.__cause__, RegistryValidationError)
        assert created == []

    async def test_failed_start_cleans_up_what_was_built(self) -> None:
        """When one singleton fails to start, those already built are cleaned up."""
        log: list[str] = []

        async def good() -> AsyncIterator[str]:
            log.append("good up")
            yield "good"
            log.append("good down")

        async def bad(g: Annotated[str, Named("good")]) -> str:
            raise OSError("cannot connect")

        registry = Registry()
        registry.register(str, good, name="good")
        registry.register("bad", bad)
        with pytest.raises(StartupError, match="cannot connect"):
            await registry.start()
        assert log == ["good up", "good down"]

    async def test_cleanup_errors_are_reported_after_all_run(self) -> None:
        """Every cleanup runs; the failures are reported together."""
        log: list[str] = []

        def first() -> Iterator[int]:
            yield 1
            log.append("first closed")

        def second() -> Iterator[int]:
            yield 2
            raise RuntimeError("second failed to close")

        registry = Registry()
        registry.register("first", first)
        registry.register("second", second)
        registry.resolve("first")
        registry.resolve("second")
        with pytest.raises(LifecycleError, match="'second'") as caught:
            registry.close()
        assert log == ["first closed"]
        assert isinstance(caught.value.__cause__, RuntimeError)

    async def test_sync_close_refuses_async_cleanups(self) -> None:
        """close() cannot run async cleanups and says so."""

        async def make() -> AsyncIterator[int]:
            yield 1

        registry = Registry()
        registry.register("x", make)
        await registry.get("x")
        with pytest.raises(LifecycleError) as caught:
            registry.close()
        assert isinstance(caught.value.__cause__, AsyncResolutionError)

    async def test_generator_yielding_twice_is_an_error(self) -> None:
        """A generator factory must yield exactly once."""

        def twice() -> Iterator[int]:
            yield 1
            yield 2

        registry = Registry()
        registry.register("x", twice)
        registry.resolve("x")
        with pytest.raises(LifecycleError, match="1 service"):
            await registry.aclose()

    async def test_scope_cleans_up_scoped_and_transient_instances(self) -> None:
        """Leaving a scope closes what was created in it, newest first."""
        log: list[str] = []

        async def session() -> AsyncIterator[Session]:
            log.append("open session")
            yield Session()
            log.append("close session")

        def unit(s: Session) -> Iterator[str]:
            log.append("open unit")
            yield "unit"
            log.append("close unit")

        registry = Registry()
        registry.register(Session, session, lifetime="scoped")
        registry.register("unit", unit, lifetime="transient")
        async with registry.scope():
            await registry.get("unit")
        assert log == ["open session", "open unit", "close unit", "close session"]


class TestHealth:
    async def test_health_checks_return_values(self) -> None:
        """Checks run against the instances and report values, failures and timeouts."""
        never = asyncio.Event()

        async def ping(db: Database) -> float:
            return 0.5

        async def hang(cfg: Config) -> None:
            await never.wait()

        def broken(repo: Repo) -> None:
            raise ConnectionError("refused")

        registry = Registry(clock=ManualClock())
        registry.register(Config, health_check=hang)
        registry.register(Database, health_check=ping)
        registry.register(Repo, health_check=broken)
        registry.register_value("flag", False, health_check=lambda value: value)
        report = await registry.check_health(timeout=0.01)
        assert not report.ok
        assert not report
        assert report["Database"].ok
        assert report["Database"].value == 0.5
        assert report["Config"].error is not None
        assert report["Config"].error.startswith("TimeoutError")
        assert report["Repo"].error == "ConnectionError: refused"
        assert report["'flag'"].ok is False
        data = report.to_dict()
        assert data["services"]["Database"] == {
            "ok": True,
            "value": 0.5,
            "error": None,
            "duration": 0.0,
        }
        with pytest.raises(KeyError):
            report["nope"]

    async def test_all_healthy(self) -> None:
        """A report is truthy when every check passes."""
        registry = Registry()
        registry.register_value(Config, Config(), health_check=lambda c: {"url": c.url})
        report = await registry.check_health()
        assert report
        assert [r.value for r in report] == [{"url": "sqlite://"}]


class TestOverride:
    def test_override_rebuilds_dependents_and_restores(self) -> None:
        """override() swaps a service; dependents see the fake; all is restored after."""
        registry = Registry()
        registry.register(Config)
        registry.register(Database)
        registry.register(Repo)
        real_repo = registry.resolve(Repo)
        fake = Config("fake")
        with registry.override(Config, fake):
            assert registry.resolve(Config) is fake
            assert registry.resolve(Repo).db.config is fake
            assert registry.resolve(Repo) is not real_repo
        assert registry.resolve(Repo) is real_repo
        assert registry.resolve(Config) is real_repo.db.config

    async def test_override_unregistered_and_scoped(self) -> None:
        """Overriding works for unregistered keys and inside scopes."""
        registry = Registry()
        registry.register(Session, lifetime="scoped")
        async with registry.scope():
            real = await registry.get(Session)
            fake = Session()
            with registry.override(Session, fake):
                assert await registry.get(Session) is fake
            assert await registry.get(Session) is real
        with registry.override("missing", 1):
            assert registry.resolve("missing") == 1
        assert "missing" not in registry


class TestInject:
    async def test_inject_sync_async_and_methods(self) -> None:
        """Marked parameters are filled unless the caller passes them."""
        registry = Registry()
        registry.register_value(Config, Config("injected"))

        @registry.inject
        def sync_fn(name: str, config: Config = INJECT) -> str:
            return f"{name}:{config.url}"

        @registry.inject
        async def async_fn(config: Injected[Config], suffix: str = "!") -> str:
            return config.url + suffix

        class Controller:
            @registry.inject
            def handle(self, config: Config = INJECT) -> str:
                return config.url

        assert sync_fn("a") == "a:injected"
        assert sync_fn("a", Config("explicit")) == "a:explicit"
        assert sync_fn("a", config=Config("kw")) == "a:kw"
        assert await async_fn() == "injected!"  # type: ignore[call-arg]
        assert Controller().handle() == "injected"

    async def test_module_level_inject_uses_current_registry(self) -> None:
        """inject() resolves from the active registry at call time."""

        @inject
        async def handler(config: Config = INJECT) -> str:
            return config.url

        with pytest.raises(LifecycleError, match="no registry is active"):
            await handler()
        registry = Registry()
        registry.register_value(Config, Config("current"))
        with registry.activate():
            assert await handler() == "current"
        async with registry:
            assert await handler() == "current"

    def test_inject_errors(self) -> None:
        """Nothing marked, or a marked parameter without a type, is refused."""
        registry = Registry()
        with pytest.raises(InvalidArgumentError, match="no parameter marked"):

            @registry.inject
            def nothing(x: int) -> None:
                return None

        with pytest.raises(InvalidArgumentError, match="no type annotation"):

            @registry.inject
            def untyped(x=INJECT) -> None:  # type: ignore[no-untyped-def]
                return None

        with pytest.raises(InvalidArgumentError, match="positional-only"):

            @registry.inject
            def posonly(x: Config = INJECT, /) -> None:
                return None


class TestView:
    def test_services_and_mermaid(self) -> None:
        """The view lists lifetimes, kinds and dependencies; Mermaid shows edges."""

        async def make_db(config: Config) -> Database:
            return Database(config)

        registry = Registry()
        registry.register_value(Config, Config())
        registry.register(Database, make_db)
        registry.register(Repo, lifetime="scoped")
        registry.register(App)  # captive, but the view does not judge
        registry.register("report", lambda missing_thing=None: 1)
        info = {s.name: s for s in registry.services()}
        assert info["Database"].kind is Kind.ASYNC_FACTORY
        assert info["Database"].dependencies == ("Config",)
        assert info["Repo"].lifetime is Lifetime.SCOPED
        assert info["Config"].instantiated
        assert not info["App"].instantiated
        chart = registry.to_mermaid()
        assert chart.startswith("graph TD\n")
        assert '["Database<br/><small>singleton, async factory</small>"]' in chart
        assert "n1 -->|config| n0" in chart
        assert "n3 -->|repo| n2" in chart

    def test_mermaid_marks_missing(self) -> None:
        """Missing dependencies are drawn and styled."""
        registry = Registry()
        registry.register(Repo)
        chart = registry.to_mermaid(direction="LR")
        assert chart.startswith("graph LR")
        assert '["Database (missing)"]' in chart
        assert "class n1 missing" in chart


class TestFactoryDecorator:
    async def test_key_from_return_annotation(self) -> None:
        """@registry.factory registers under the return type (or the T of Iterator[T])."""
        registry = Registry()

        @registry.factory()
        def make_config() -> Config:
            return Config("decorated")

        @registry.factory(lifetime="scoped")
        async def open_session(config: Config) -> AsyncIterator[Session]:
            yield Session()

        @registry.factory(name="cm")
        @contextlib.contextmanager
        def cm_config() -> Iterator[Config]:
            yield Config("cm")

        @registry.factory("answer")
        def answer() -> int:
            return 42

        assert registry.resolve(Config).url == "decorated"
        assert registry.resolve(Config, "cm").url == "cm"
        assert registry.resolve("answer") == 42
        async with registry.scope():
            assert isinstance(await registry.get(Session), Session)
        assert make_config().url == "decorated"  # the function is returned unchanged

    def test_missing_return_annotation(self) -> None:
        """Without a return annotation the key must be given."""
        registry = Registry()
        with pytest.raises(InvalidArgumentError, match="no return annotation"):

            @registry.factory()
            def make():  # type: ignore[no-untyped-def]
                return 1


class TestScopeInjection:
    async def test_scope_is_injectable_and_shared_creation(self) -> None:
        """A scoped factory may take the Scope; concurrent first gets create once."""
        created: list[object] = []
        gate = asyncio.Event()

        async def make(scope: Scope) -> Session:
            created.append(scope)
            await gate.wait()
            return Session()

        registry = Registry()
        registry.register(Session, make, lifetime="scoped")
        registry.validate()
        async with registry.scope() as scope:
            tasks = [asyncio.ensure_future(registry.get(Session)) for _ in range(4)]
            await asyncio.sleep(0)
            gate.set()
            sessions = await asyncio.gather(*tasks)
        assert created == [scope]
        assert all(s is sessions[0] for s in sessions)

    async def test_singleton_taking_the_scope_is_captive(self) -> None:
        """A singleton asking for the Scope is a lifetime error, at validation and use."""

        def make(scope: Scope) -> Config:
            return Config()

        registry = Registry()
        registry.register(Config, make)
        with pytest.raises(RegistryValidationError, match="depends on scoped Scope"):
            registry.validate()
        async with registry.scope():
            with pytest.raises(LifetimeError, match="Config -> Scope"):
                await registry.get(Config)
        with pytest.raises(ScopeError):
            Registry().resolve(Scope)


def positional(config: Config, /, label: str = "x") -> str:
    return f"{config.url}/{label}"


def make_resource(config: Config) -> Resource:
    return Resource(config)


class TestMoreKinds:
    async def test_positional_only_parameters_and_async_paths(self) -> None:
        """Positional-only dependencies are passed positionally, sync and async."""
        registry = Registry()
        registry.register_value(Config, Config("p"))
        registry.register("pos", positional, lifetime="transient")
        assert registry.resolve("pos") == "p/x"
        assert await registry.get("pos") == "p/x"
        assert await registry.get(Registry) is registry

    async def test_enter_flags(self) -> None:
        """enter=False keeps a Lifecycle class unstarted; enter=True enters a sync result."""
        Resource.log = []
        registry = Registry()
        registry.register_value(Config, Config("r"))
        registry.register(Resource, enter=False)
        registry.register("entered", make_resource, enter=True)
        plain = registry.resolve(Resource)
        assert plain.state is LifecycleState.NEW
        with pytest.raises(AsyncResolutionError, match="entered as an async context manager"):
            registry.resolve("entered")
        entered = await registry.get("entered")
        assert entered.state is LifecycleState.RUNNING
        await registry.aclose()
        assert entered.state is LifecycleState.STOPPED
        assert Resource.log == ["start r", "stop r"]

    async def test_sync_context_manager_through_get_and_close_while_running(self) -> None:
        """Sync context managers work through get(); close() stops a running registry."""
        log: list[str] = []

        @contextlib.contextmanager
        def conn() -> Iterator[str]:
            log.append("open")
            yield "conn"
            log.append("close")

        registry = Registry(eager=False)
        registry.register("conn", conn)
        await registry.start()
        assert await registry.get("conn") == "conn"
        registry.close()
        assert registry.state is LifecycleState.STOPPED
        assert log == ["open", "close"]
        again = Registry()
        again.register("conn", conn)
        await again.start()
        await again.aclose()
        assert again.state is LifecycleState.STOPPED
        assert log == ["open", "close", "open", "close"]
        assert "services=1" in repr(again)

    async def test_async_generator_yielding_twice(self) -> None:
        """An async generator factory must yield exactly once."""

        async def twice() -> AsyncIterator[int]:
            yield 1
            yield 2

        registry = Registry()
        registry.register("x", twice)
        await registry.get("x")
        with pytest.raises(LifecycleError) as caught:
            await registry.aclose()
        assert "more than once" in str(caught.value.__cause__)

    async def test_scope_cannot_be_entered_twice(self) -> None:
        """One scope object is one unit of work."""
        registry = Registry()
        scope = registry.scope()
        async with scope:
            with pytest.raises(LifecycleError, match="already active"):
                await scope.__aenter__()

    async def test_cancelled_creation_is_not_cached(self) -> None:
        """Cancelling the task that builds a singleton leaves nothing half-built behind."""
        gate = asyncio.Event()
        calls: list[int] = []

        async def slow() -> Config:
            calls.append(1)
            if len(calls) == 1:
                await gate.wait()
            return Config()

        registry = Registry()
        registry.register(Config, slow)
        task = asyncio.ensure_future(registry.get(Config))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert isinstance(await registry.get(Config), Config)
        assert len(calls) == 2

    def test_sync_scoped_captive_and_missing_in_chain(self) -> None:
        """Sync resolution reports captive Scope use; async reports missing with the chain."""

        def make(scope: Scope) -> str:
            return "s"

        registry = Registry()
        registry.register("needs-scope", make)
        with registry.scope(), pytest.raises(LifetimeError):
            registry.resolve("needs-scope")

    async def test_missing_dependency_through_get(self) -> None:
        """get() names the chain of a missing dependency too."""
        registry = Registry()
        registry.register(Repo)
        with pytest.raises(ServiceNotFoundError, match=r"needed by Repo -> Database"):
            await registry.get(Repo)

    def test_inject_with_positional_argument_given(self) -> None:
        """A positionally passed argument is not injected."""
        registry = Registry()

        @registry.inject
        def fn(config: Config = INJECT) -> str:
            return config.url

        assert fn(Config("given")) == "given"


class TestScopedDecorator:
    async def test_each_call_gets_its_own_scope(self) -> None:
        """@registry.scoped opens a fresh scope per call and cleans it up after."""
        closed: list[Session] = []

        async def open_session() -> AsyncIterator[Session]:
            session = Session()
            yield session
            closed.append(session)

        registry = Registry()
        registry.register(Session, open_session, lifetime="scoped")

        @registry.scoped
        @registry.inject
        async def handle(session: Session = INJECT) -> Session:
            assert await registry.get(Session) is session
            return session

        first, second = await asyncio.gather(handle(), handle())
        assert first is not second
        assert set(closed) == {first, second}

        registry.register(Config, lifetime="scoped")

        @registry.scoped
        @registry.inject
        def sync_handle(config: Config = INJECT) -> Config:
            return config

        assert sync_handle() is not sync_handle()
        assert registry.current_scope is None
