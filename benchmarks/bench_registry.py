"""pepperpy.registry: singleton resolve and a 3-level graph vs svcs, dependency-injector, lagom."""

from __future__ import annotations

import lagom
import svcs
from dependency_injector import containers, providers

from harness import acompare, compare
from pepperpy.registry import Registry

REQUIRES = ["svcs", "dependency-injector", "lagom"]


class Config:
    def __init__(self) -> None:
        self.url = "sqlite://"


class Database:
    def __init__(self, config: Config) -> None:
        self.config = config


class Repo:
    def __init__(self, db: Database) -> None:
        self.db = db


class App:
    def __init__(self, repo: Repo) -> None:
        self.repo = repo


def bench_singleton_resolve():
    db = Database(Config())
    ours = Registry()
    ours.register_value(Database, db)
    ours.resolve(Database)

    svcs_registry = svcs.Registry()
    svcs_registry.register_value(Database, db)
    svcs_container = svcs.Container(svcs_registry)

    class DI(containers.DeclarativeContainer):
        database = providers.Singleton(Database, config=providers.Singleton(Config))

    di = DI()
    di.database()

    lg = lagom.Container()
    lg[Database] = db

    plain = {Database: db}
    return compare(
        "registry: resolve a singleton",
        {
            "pepperpy": lambda: ours.resolve(Database),
            "svcs": lambda: svcs_container.get(Database),
            "dependency-injector": lambda: di.database(),
            "lagom": lambda: lg[Database],
            "dict lookup": lambda: plain[Database],
        },
        inner=5000,
    )


async def bench_singleton_get_async():
    db = Database(Config())
    ours = Registry()
    ours.register_value(Database, db)
    svcs_registry = svcs.Registry()
    svcs_registry.register_value(Database, db)
    svcs_container = svcs.Container(svcs_registry)

    async def pepperpy() -> Database:
        return await ours.get(Database)

    async def with_svcs() -> Database:
        return await svcs_container.aget(Database)

    return await acompare(
        "registry: await get(singleton)",
        {"pepperpy": pepperpy, "svcs": with_svcs},
        inner=2000,
    )


def bench_factory_graph():
    ours = Registry()
    for cls in (Config, Database, Repo, App):
        ours.register(cls, lifetime="transient")
    ours.validate()

    svcs_registry = svcs.Registry()
    svcs_registry.register_factory(Config, Config)

    def svcs_database(svcs_container: svcs.Container) -> Database:
        return Database(svcs_container.get(Config))

    def svcs_repo(svcs_container: svcs.Container) -> Repo:
        return Repo(svcs_container.get(Database))

    def svcs_app(svcs_container: svcs.Container) -> App:
        return App(svcs_container.get(Repo))

    svcs_registry.register_factory(Database, svcs_database)
    svcs_registry.register_factory(Repo, svcs_repo)
    svcs_registry.register_factory(App, svcs_app)

    def with_svcs() -> App:  # svcs caches per container: one container per resolution
        return svcs.Container(svcs_registry).get(App)

    class DI(containers.DeclarativeContainer):
        config = providers.Factory(Config)
        database = providers.Factory(Database, config=config)
        repo = providers.Factory(Repo, db=database)
        app = providers.Factory(App, repo=repo)

    di = DI()
    lg = lagom.Container()

    def by_hand() -> App:
        return App(Repo(Database(Config())))

    return compare(
        "registry: resolve a 3-level factory graph (4 new objects)",
        {
            "pepperpy": lambda: ours.resolve(App),
            "svcs": with_svcs,
            "dependency-injector": lambda: di.app(),
            "lagom": lambda: lg[App],
            "by hand": by_hand,
        },
        inner=1000,
    )
