"""Typed settings, loaded by pepperpy-config from config.toml and the environment."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import attrs

from pepperpy.config import Config, optional
from pepperpy.core.utils import parse_duration

HERE = Path(__file__).resolve().parent
DEFAULT_CONFIG = HERE / "config.toml"
BUNDLED_DATA = HERE / "dataset" / "records.jsonl"


@attrs.define
class IngestSettings:
    concurrency: int = 16
    data_file: str = ""


@attrs.define
class ApiSettings:
    host: str = "127.0.0.1"
    port: int = 0
    self_test_requests: int = 300
    heartbeat: str = "1m"  # with --serve: log the totals this often


@attrs.define
class StorageSettings:
    backend: str = "sqlite"  # or "postgres" (pepperpy-storage[postgres]) or "memory"
    dsn: str = ""  # postgres: empty = $PEPPERPY_POSTGRES_DSN
    schema: str = ""  # postgres: the schema holding the table (created if missing)

    def options(self) -> dict[str, Any]:
        """Keyword arguments for ``Storage.create`` besides the name and data_dir."""
        if self.backend != "postgres":
            return {"backend": self.backend}
        options: dict[str, Any] = {"backend": "postgres"}
        if self.dsn:
            options["dsn"] = self.dsn
        if self.schema:
            options["schema"] = self.schema
        return options


@attrs.define
class CacheSettings:
    url: str = "memory://"  # redis://host:6379/0: shared by every process (pepperpy-cache[redis])
    maxsize: int = 256
    ttl: str = "5m"
    namespace: str = ""  # redis: the key prefix (empty: the library's default)

    def options(self) -> dict[str, Any]:
        """Keyword arguments for ``connect_cache`` besides the URL and the name."""
        options: dict[str, Any] = {"maxsize": self.maxsize, "ttl": parse_duration(self.ttl)}
        if self.namespace:
            options["namespace"] = self.namespace
        return options


@attrs.define
class SecuritySettings:
    keyring_file: str = "keyring.json"
    token_ttl: str = "15m"


@attrs.define
class Settings:
    name: str
    data_dir: str
    ingest: IngestSettings = attrs.Factory(IngestSettings)
    api: ApiSettings = attrs.Factory(ApiSettings)
    storage: StorageSettings = attrs.Factory(StorageSettings)
    cache: CacheSettings = attrs.Factory(CacheSettings)
    security: SecuritySettings = attrs.Factory(SecuritySettings)
    logging: dict[str, Any] = attrs.Factory(dict)

    @property
    def data_path(self) -> Path:
        """data_dir; a relative one is under the app's directory (examples/app/data)."""
        return (HERE / Path(self.data_dir).expanduser()).resolve()

    @property
    def records_file(self) -> Path:
        return Path(self.ingest.data_file) if self.ingest.data_file else BUNDLED_DATA

    @property
    def token_ttl_seconds(self) -> float:
        return parse_duration(self.security.token_ttl)

    def logging_section(self) -> dict[str, Any]:
        """The [logging] section with file paths resolved under data_dir."""
        section = dict(self.logging)
        files = []
        for spec in section.get("files", []):
            spec = dict(spec)
            path = Path(spec["path"])
            spec["path"] = str(path if path.is_absolute() else self.data_path / path)
            files.append(spec)
        section["files"] = files
        return section


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    env: dict[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> Config[Settings]:
    """config.toml (or *path*), then ``local.toml`` beside it if present, then APP_* variables."""
    main = Path(path) if path else DEFAULT_CONFIG
    local = main.with_name("local.toml")
    return Config.load(
        main,
        optional(local),
        schema=Settings,
        env_prefix="APP",
        env=env,
        overrides=overrides,
    )
