"""Recorders, builders and fixtures for the other PepperPy packages.

Everything here imports its package lazily: the classes work when that package is
installed, and the fixtures are only defined when it is.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pepperpy.core.exceptions import safe_repr

__all__ = ["ConfigBuilder", "EventRecorder", "LogCapture", "metrics_snapshot"]


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


class EventRecorder:
    """Records every event published on an ``EventManager`` (all topics, ``#``).

    ``recorder.assert_published("orders.created", order_id=1)`` passes when some
    event on that topic has those attribute (or key) values; ``recorder.published(topic)``
    lists the payloads. Subscribes inline with the highest priority, so it sees events
    before any other handler can fail.
    """

    def __init__(self, events: Any) -> None:
        self.events = events
        self.records: list[tuple[str, Any]] = []
        self._subscription = events.subscribe("#", self._record, envelope=True, priority=10**9)

    def _record(self, envelope: Any) -> None:
        self.records.append((envelope.topic, envelope.data))

    def published(self, topic: str | None = None) -> list[Any]:
        """Payloads published on *topic* (a pattern with ``*``/``#`` works), or all."""
        if topic is None:
            return [data for _, data in self.records]
        from pepperpy.event import matches

        return [data for name, data in self.records if matches(topic, name)]

    def assert_published(
        self, topic: str, predicate: Callable[[Any], bool] | None = None, **fields: Any
    ) -> Any:
        """Assert an event on *topic* matching *predicate* and *fields* was published; return it."""
        candidates = self.published(topic)
        for data in candidates:
            if predicate is not None and not predicate(data):
                continue
            if all(_field(data, k) == v for k, v in fields.items()):
                return data
        seen = ", ".join(f"{t}: {safe_repr(d, 60)}" for t, d in self.records[-10:]) or "nothing"
        raise AssertionError(
            f"no event on {topic!r} with {fields or predicate}; {len(candidates)} on that topic; "
            f"last published: {seen}"
        )

    def assert_not_published(self, topic: str) -> None:
        """Assert nothing was published on *topic*."""
        found = self.published(topic)
        assert not found, f"{len(found)} event(s) published on {topic!r}: {safe_repr(found)}"

    def clear(self) -> None:
        """Forget what was recorded."""
        self.records.clear()


def _field(data: Any, name: str) -> Any:
    if isinstance(data, Mapping):
        return data.get(name)
    return getattr(data, name, None)


class LogCapture:
    """Captures pepperpy.logging records as parsed JSON objects (``caplog`` for loguru).

    Configures pepperpy.logging with one in-memory JSON sink at *level*; call
    :meth:`close` (the fixture does) to restore a default configuration.
    """

    def __init__(self, level: str = "DEBUG") -> None:
        from pepperpy.logging import Logging, SinkConfig

        self.lines: list[str] = []
        Logging.configure(
            {
                "level": level,
                "console": False,
                "sinks": [SinkConfig(sink=self.lines.append, json=True)],
            }
        )

    @property
    def records(self) -> list[dict[str, Any]]:
        """Every captured record, parsed."""
        return [json.loads(line) for line in self.lines]

    @property
    def messages(self) -> list[str]:
        """The message of every captured record."""
        return [str(r.get("message")) for r in self.records]

    def assert_logged(
        self, text: str, *, level: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Assert a record whose message contains *text* (and has *level* and *fields*)."""
        for record in self.records:
            if text not in str(record.get("message")):
                continue
            if level is not None and str(record.get("level")).upper() != level.upper():
                continue
            if all(record.get(k) == v for k, v in fields.items()):
                return record
        raise AssertionError(f"no log record containing {text!r}; messages: {self.messages[-10:]}")

    def close(self) -> None:
        """Drop the capture sink."""
        from pepperpy.logging import Logging

        Logging.shutdown()


def metrics_snapshot(metrics: Any) -> dict[str, float]:
    """Every sample of a pepperpy.telemetry ``Metrics`` registry as ``{"name{labels}": value}``."""
    snapshot: dict[str, float] = {}
    for family in metrics.registry.collect():
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            snapshot[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return snapshot


class ConfigBuilder:
    """Writes config files and environment for a test, then loads them with ``Config.load``.

    ``builder.file("app.toml", {"db": {"host": "x"}})``, ``builder.env(APP__DB__PORT="5")``,
    ``builder.load(env_prefix="APP")``. Files go in a temporary directory; the
    environment is passed explicitly (``env=``), never written to ``os.environ``.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.files: list[Path] = []
        self.environ: dict[str, str] = {}

    def file(self, name: str, content: Mapping[str, Any] | str) -> Path:
        """Write a TOML or JSON file (from a mapping or raw text) and layer it."""
        path = self.directory / name
        if isinstance(content, str):
            text = content
        elif path.suffix == ".json":
            text = json.dumps(content)
        else:
            from pepperpy.serialization import dumps

            text = dumps(dict(content), format="toml").decode()
        path.write_text(text, encoding="utf-8")
        self.files.append(path)
        return path

    def env(self, **values: str) -> ConfigBuilder:
        """Add environment variables for the load."""
        self.environ.update(values)
        return self

    def load(self, **options: Any) -> Any:
        """``Config.load(*files, env=..., **options)``."""
        from pepperpy.config import Config

        options.setdefault("env", self.environ)
        return Config.load(*self.files, **options)


def register_package_fixtures(namespace: dict[str, Any]) -> None:
    """Define fixtures for the installed PepperPy packages in the plugin module."""
    import pytest

    has_async = _installed("pytest_asyncio")

    if _installed("pepperpy.event") and has_async:
        import pytest_asyncio

        @pytest_asyncio.fixture
        async def event_recorder() -> Any:
            """A started ``EventManager`` with an :class:`EventRecorder` (``.events``)."""
            from pepperpy.event import EventManager

            async with EventManager() as events:
                yield EventRecorder(events)

        namespace["event_recorder"] = event_recorder

    if _installed("pepperpy.storage") and has_async:
        import pytest_asyncio

        @pytest_asyncio.fixture
        async def tmp_storage(tmp_path: Path) -> Any:
            """A started SQLite ``Storage`` in a temporary directory."""
            from pepperpy.storage import Storage

            async with Storage.create("test", data_dir=tmp_path) as storage:
                yield storage

        namespace["tmp_storage"] = tmp_storage

    if _installed("pepperpy.logging"):

        @pytest.fixture
        def log_capture() -> Iterator[LogCapture]:
            """Capture pepperpy.logging records (parsed JSON) for the test."""
            capture = LogCapture()
            yield capture
            capture.close()

        namespace["log_capture"] = log_capture

    if _installed("pepperpy.telemetry"):

        @pytest.fixture
        def metrics_registry() -> Any:
            """A fresh, private pepperpy.telemetry ``Metrics`` registry."""
            from pepperpy.telemetry import Metrics

            return Metrics()

        namespace["metrics_registry"] = metrics_registry

    if _installed("pepperpy.config"):

        @pytest.fixture
        def config_builder(tmp_path: Path) -> ConfigBuilder:
            """A :class:`ConfigBuilder` writing into a temporary directory."""
            return ConfigBuilder(tmp_path)

        namespace["config_builder"] = config_builder
