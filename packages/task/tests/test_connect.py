"""Tests for pepperpy.task.connect_queue: a URL picks the durable queue backend."""

from __future__ import annotations

from pathlib import Path

import pytest

import pepperpy.task._connect as connect_module
from pepperpy.core import ConfigurationError, InvalidArgumentError, PluginError
from pepperpy.task import (
    QUEUE_URL_ENV,
    DurableQueue,
    PostgresQueue,
    RedisQueue,
    connect_queue,
    queue_backends,
)


def test_schemes_pick_the_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    relative = connect_queue("sqlite:///data/tasks.db", poll_interval=0.1)
    assert isinstance(relative, DurableQueue)
    assert relative.path == Path("data/tasks.db")
    assert relative.poll_interval == 0.1
    absolute = connect_queue(f"sqlite:///{tmp_path / 'abs.db'}")
    assert isinstance(absolute, DurableQueue) and absolute.path == tmp_path / "abs.db"
    redis = connect_queue("redis://127.0.0.1:1/0", namespace="shop:tasks")
    assert isinstance(redis, RedisQueue) and redis.namespace == "shop:tasks"
    assert isinstance(connect_queue("rediss://127.0.0.1:1/0"), RedisQueue)
    pg = connect_queue("postgresql://app@127.0.0.1:1/db", table="jobs", schema="shop")
    assert isinstance(pg, PostgresQueue) and (pg.table, pg.schema) == ("jobs", "shop")
    assert isinstance(connect_queue("postgres://app@127.0.0.1:1/db"), PostgresQueue)
    assert {"sqlite", "redis", "rediss", "postgres", "postgresql"} <= set(queue_backends())


def test_the_url_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(QUEUE_URL_ENV, raising=False)
    with pytest.raises(ConfigurationError, match="needs a URL"):
        connect_queue()
    monkeypatch.setenv(QUEUE_URL_ENV, f"sqlite:///{tmp_path / 'env.db'}")
    queue = connect_queue()
    assert isinstance(queue, DurableQueue) and queue.path == tmp_path / "env.db"


@pytest.mark.parametrize("url", ["tasks.db", "sqlite://host/tasks.db", "sqlite:///", 42])
def test_malformed_urls_are_refused(url: object) -> None:
    with pytest.raises(InvalidArgumentError):
        connect_queue(url)  # type: ignore[arg-type]


def test_unknown_schemes_and_options_say_what_is_accepted() -> None:
    with pytest.raises(ConfigurationError, match="no durable queue backend") as info:
        connect_queue("kafka://broker/tasks")
    assert "sqlite" in info.value.context["available"]
    with pytest.raises(InvalidArgumentError, match="namespace") as bad:
        connect_queue("sqlite:///tasks.db", namespace="x")
    assert "visibility_timeout" in bad.value.context["accepted"]
    with pytest.raises(InvalidArgumentError, match="max_attempts"):
        connect_queue("redis://127.0.0.1:1/0", max_attempts=0)


def test_other_backends_come_from_entry_points(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A real installed distribution registering three schemes under the group.
    info = tmp_path / "queue_plugins-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: queue-plugins\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        f"[{connect_module.ENTRY_POINT_GROUP}]\n"
        "lite = pepperpy.task._durable:DurableQueue\n"
        "broken = no_such_module_anywhere:Queue\n"
        "plain = pepperpy.task._base:Claim\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert {"lite", "broken", "plain"} <= set(queue_backends())
    assert isinstance(connect_queue("lite:///tasks.db"), DurableQueue)
    with pytest.raises(PluginError, match="failed to load"):
        connect_queue("broken://x")
    with pytest.raises(PluginError, match="from_url"):
        connect_queue("plain://x")
