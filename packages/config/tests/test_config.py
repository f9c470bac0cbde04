"""Tests for pepperpy.config._config: layering, profiles, binding, provenance, errors."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import Any

import attrs
import pytest

from pepperpy.config import Config, ConfigError, Secret, optional
from pepperpy.core.exceptions import ConfigurationError, InvalidArgumentError, NotFoundError
from pepperpy.validation import constraints, range_


@attrs.define
class Db:
    host: str
    port: int = attrs.field(default=5432, metadata=constraints(range_(min=1, max=65535)))
    password: Secret[str] = attrs.field(factory=lambda: Secret(""))
    replicas: list[str] = attrs.field(factory=list)


@attrs.define
class Settings:
    name: str
    db: Db
    debug: bool = False
    db_name: str = "main"


@dataclasses.dataclass
class Simple:
    a: int
    b: str = "x"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return write(
        tmp_path / "config.toml",
        """
name = "svc"

[db]
host = "localhost"
port = 5432
""",
    )


class TestLayering:
    def test_files_in_order_and_formats(self, tmp_path: Path, base: Path) -> None:
        """Later files win; TOML, JSON and YAML are read; tables merge key by key."""
        local = write(tmp_path / "local.json", json.dumps({"db": {"port": 6000}, "extra": [1]}))
        yml = write(tmp_path / "more.yaml", "db:\n  host: yaml-host\n")
        config = Config.load(base, local, yml)
        assert config.get("db") == {"host": "yaml-host", "port": 6000}
        assert config.get("extra") == [1]
        assert config.keys() == ["name", "db.host", "db.port", "extra"]
        assert config["name"] == "svc"
        assert "db.host" in config
        assert "db.nope" not in config
        assert config.get("db.nope", 3) == 3
        assert config.section("db")["port"] == 6000

    def test_optional_and_missing_files(self, tmp_path: Path, base: Path) -> None:
        """optional() files may be absent; required ones are reported."""
        config = Config.load(base, optional(tmp_path / "absent.toml"))
        assert config["name"] == "svc"
        with pytest.raises(ConfigError, match="does not exist"):
            Config.load(base, tmp_path / "absent.toml")
        with pytest.raises(InvalidArgumentError):
            Config.load(3)  # type: ignore[arg-type]

    def test_defaults_and_overrides(self, base: Path) -> None:
        """defaults= is the lowest layer, overrides= the highest; dotted keys nest."""
        config = Config.load(
            base,
            defaults={"debug": True, "db.timeout": 5},
            overrides={"db.port": 1},
            env_prefix="APP",
            env={"APP_DB__PORT": "2"},
        )
        assert config.get("debug") is True
        assert config.get("db.timeout") == 5
        assert config.get("db.port") == 1
        assert str(config.explain("db.port").source) == "overrides"

    def test_env_variables(self, base: Path) -> None:
        """APP_DB__HOST -> db.host; case-insensitive; unrelated variables ignored."""
        env = {"APP_DB__HOST": "env-host", "app_name": "lower", "OTHER_X": "1", "APP_NEW__KEY": "v"}
        config = Config.load(base, env_prefix="APP_", env=env)
        assert config.get("db.host") == "env-host"
        assert config.get("name") == "lower"
        assert config.get("new.key") == "v"
        assert "other_x" not in config
        with pytest.raises(InvalidArgumentError):
            Config.load(base, env_prefix="APP", env_nested_delimiter="")

    def test_env_is_not_read_without_prefix(self, base: Path) -> None:
        """Without env_prefix, the environment is not a source."""
        assert Config.load(base, env={"NAME": "x"})["name"] == "svc"

    def test_dotenv(self, tmp_path: Path, base: Path) -> None:
        """.env values apply below real environment variables, with their line."""
        dotenv = write(tmp_path / ".env", "# c\nAPP_NAME=dot\nAPP_DB__HOST=dothost\nPLAIN=p\n")
        templated = write(tmp_path / "t.toml", 'plain = "${PLAIN}"\n')
        config = Config.load(
            base, templated, env_prefix="APP", dotenv=dotenv, env={"APP_DB__HOST": "real"}
        )
        assert config["name"] == "dot"
        assert config["db.host"] == "real"
        assert config["plain"] == "p"
        assert str(config.explain("name").source) == f"{dotenv}:2 (APP_NAME)"
        assert Config.load(base, dotenv=tmp_path / "none.env")["name"] == "svc"

    def test_dotenv_true_reads_cwd(
        self, tmp_path: Path, base: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """dotenv=True reads ./.env."""
        write(tmp_path / ".env", "APP_NAME=cwd\n")
        monkeypatch.chdir(tmp_path)
        assert Config.load(base, env_prefix="APP", env={}, dotenv=True)["name"] == "cwd"

    def test_secrets_dirs(self, tmp_path: Path, base: Path) -> None:
        """One file per key; several dirs, later wins; values come back as Secret."""
        first = tmp_path / "s1"
        second = tmp_path / "s2"
        first.mkdir()
        second.mkdir()
        write(first / "db__password", "one\n")
        write(first / "APP_TOKEN", "tok")
        write(first / ".hidden", "x")
        write(second / "db__password", "two\n")
        config = Config.load(base, env_prefix="APP", env={}, secrets_dir=[first, second])
        secret = config.get("db.password")
        assert isinstance(secret, Secret)
        assert secret.reveal() == "two"
        assert config.get("token").reveal() == "tok"
        assert "two" not in str(config.explain("db.password"))
        assert "two" not in repr(config.as_dict())
        assert config.as_dict(reveal=True)["db"]["password"] == "two"
        assert Config.load(base, secrets_dir=tmp_path / "missing")["name"] == "svc"


class TestProfiles:
    @pytest.fixture
    def profiled(self, tmp_path: Path) -> Path:
        return write(
            tmp_path / "app.toml",
            """
[default]
name = "svc"
[default.db]
host = "localhost"

[production]
name = "svc-prod"
[production.db]
host = "db.prod"

[staging.db]
host = "db.staging"
""",
        )

    def test_profile_from_env(self, profiled: Path) -> None:
        """[default] applies, then the profile chosen by {PREFIX}PROFILE."""
        config = Config.load(profiled, env_prefix="APP", env={"APP_PROFILE": "production"})
        assert config.profile == "production"
        assert config.profiles == ["default", "production", "staging"]
        assert config.get("db.host") == "db.prod"
        assert "profile" not in config
        assert str(config.explain("db.host").source).endswith("app.toml:10 [production]")

    def test_profile_argument_and_default(self, profiled: Path) -> None:
        """profile= wins; without one only [default] applies."""
        assert Config.load(profiled, profile="staging").get("db.host") == "db.staging"
        assert Config.load(profiled, env={}).get("db.host") == "localhost"
        config = Config.load(profiled, env={"PEPPERPY_PROFILE": "production"})
        assert config["name"] == "svc-prod"

    def test_profile_from_dotenv_selects_the_table(self, tmp_path: Path, profiled: Path) -> None:
        """A profile chosen in .env applies its table; the environment still wins."""
        dotenv = write(tmp_path / ".env", "APP_PROFILE=production\n")
        config = Config.load(profiled, env_prefix="APP", dotenv=dotenv, env={})
        assert config.profile == "production"
        assert config.get("db.host") == "db.prod"
        assert config["name"] == "svc-prod"
        assert str(config.explain("db.host").source).endswith("app.toml:10 [production]")
        assert "profile" not in config
        env = {"APP_PROFILE": "staging"}
        config = Config.load(profiled, env_prefix="APP", dotenv=dotenv, env=env)
        assert (config.profile, config.get("db.host")) == ("staging", "db.staging")
        reloaded = Config.load(profiled, env_prefix="APP", dotenv=dotenv, env={})
        write(dotenv, "APP_PROFILE=staging\n")
        assert reloaded.reload() == {"db.host", "name"}
        assert (reloaded.profile, reloaded.get("db.host")) == ("staging", "db.staging")
        write(dotenv, "APP_PROFILE=prod\n")
        with pytest.raises(ConfigError, match="unknown profile 'prod'") as info:
            Config.load(profiled, env_prefix="APP", dotenv=dotenv, env={})
        assert any(".env" in str(s) for s in info.value.sources)

    def test_unknown_profile(self, profiled: Path) -> None:
        """A profile no file defines is an error naming the known ones."""
        with pytest.raises(ConfigError, match="unknown profile 'prod'") as info:
            Config.load(profiled, profile="prod")
        assert "production" in str(info.value)


class TestInterpolation:
    def test_env_keys_defaults_and_escapes(self, tmp_path: Path) -> None:
        """${VAR}, ${VAR:-default}, ${VAR-default}, ${other.key} and $${ work."""
        path = write(
            tmp_path / "c.toml",
            """
host = "h"
url = "http://${host}:${PORT:-80}/${PATH_PART}"
empty = "${EMPTY:-fallback}|${EMPTY-kept}"
literal = "$${NOT_EXPANDED}"
nested = "${url}#x"
list = ["${host}", 1]
""",
        )
        config = Config.load(path, env={"PATH_PART": "api", "EMPTY": ""})
        assert config["url"] == "http://h:80/api"
        assert config["empty"] == "fallback|"
        assert config["literal"] == "${NOT_EXPANDED}"
        assert config["nested"] == "http://h:80/api#x"
        assert config["list"] == ["h", 1]
        assert Config.load(path, env={}, interpolate=False)["url"].startswith("http://${host}")

    def test_unresolved_and_cycles(self, tmp_path: Path) -> None:
        """Every unresolved reference and cycle is reported with its key and source."""
        path = write(
            tmp_path / "c.toml", 'a = "${NOPE}"\nb = "${c}"\nc = "${b}"\nd = "${ALSO_NOPE}"\n'
        )
        with pytest.raises(ConfigError) as info:
            Config.load(path, env={})
        assert info.value.keys[0] == "a"
        assert "d" in info.value.keys
        assert any("circular" in d.message for d in info.value.errors)
        assert any(s and s.endswith("c.toml:1") for s in info.value.sources)


class TestBinding:
    def test_schema_binding_coerces_env_strings(self, base: Path) -> None:
        """Env strings become typed values; constraints apply; provenance is kept."""
        env = {"APP_DB__PORT": "6543", "APP_DEBUG": "yes", "APP_DB__REPLICAS": "r1,r2"}
        config = Config.load(base, schema=Settings, env_prefix="APP", env=env)
        settings = config.settings
        assert settings == Settings("svc", Db("localhost", 6543, Secret(""), ["r1", "r2"]), True)
        assert config.get("db.port") == 6543
        explanation = config.explain("db.port")
        assert explanation.value == 6543
        assert str(explanation) == (f"db.port = 6543 from env APP_DB__PORT (overrides {base}:6)")
        assert str(config.explain("db_name").source) == "schema default"

    def test_single_underscore_resolution(self, base: Path) -> None:
        """APP_DB_HOST maps to db.host when no db_host field exists; db_name stays itself."""
        env = {"APP_DB_HOST": "x", "APP_DB_NAME": "other"}
        settings = Config.load(base, schema=Settings, env_prefix="APP", env=env).settings
        assert settings.db.host == "x"
        assert settings.db_name == "other"

    def test_every_error_at_once_with_sources(self, tmp_path: Path) -> None:
        """Missing and invalid keys from every source are listed together."""
        path = write(tmp_path / "c.toml", '[db]\nport = 70000\nreplicas = "not-a-list"\n')
        env = {"APP_DEBUG": "maybe", "APP_DB__PASSWORD": "s3cr3t"}
        with pytest.raises(ConfigError) as info:
            Config.load(path, schema=Settings, env_prefix="APP", env=env)
        error = info.value
        assert isinstance(error, ConfigurationError)
        assert error.keys == ["name", "db.host", "db.port", "db.replicas", "debug"]
        sources = dict(zip(error.keys, error.sources, strict=True))
        assert sources["name"] == "missing: set name in a file or env APP_NAME"
        assert sources["db.port"] == f"{path}:2"
        assert sources["debug"] == "env APP_DEBUG"
        assert "s3cr3t" not in str(error)
        assert error.to_dict()["errors"][2]["source"] == f"{path}:2"

    def test_secret_values_never_in_errors(self, tmp_path: Path, base: Path) -> None:
        """A bad value for a secret field is reported by key, never by value."""

        @attrs.define
        class Pin:
            pin: Secret[int]

        secrets = tmp_path / "s"
        secrets.mkdir()
        write(secrets / "pin", "not-a-number")
        with pytest.raises(ConfigError) as info:
            Config.load(base, schema=Pin, secrets_dir=secrets)
        assert info.value.keys == ["pin"]
        assert "not-a-number" not in str(info.value)

    def test_bind_later_and_dataclasses(self, tmp_path: Path) -> None:
        """config.bind(Type) validates on demand; dataclasses work too."""
        config = Config.load(write(tmp_path / "c.json", '{"a": "5"}'))
        assert config.bind(Simple) == Simple(5)
        with pytest.raises(InvalidArgumentError):
            config.settings  # noqa: B018
        with pytest.raises(ConfigError):
            Config.load(write(tmp_path / "d.json", '{"a": "x"}')).bind(Simple)

    async def test_aload(self, base: Path) -> None:
        """aload runs the load in a thread."""
        config = await Config.aload(base, schema=Settings)
        assert config.settings.db.host == "localhost"


class TestErrors:
    @pytest.mark.parametrize(
        ("name", "text", "line", "column"),
        [
            ("bad.toml", 'a = 1\n[db\nhost = "x"\n', 2, 4),
            ("bad.yaml", "a: 1\nb: [1, 2\n", 3, 1),
            ("bad.json", '{"a": 1,\n "b": }', 2, 7),
        ],
    )
    def test_malformed_files_give_position(
        self, tmp_path: Path, name: str, text: str, line: int, column: int
    ) -> None:
        """A malformed file names file, line and column."""
        path = write(tmp_path / name, text)
        with pytest.raises(ConfigError) as info:
            Config.load(path)
        assert info.value.context["file"] == str(path)
        assert info.value.context["line"] == line
        assert info.value.context["column"] == column
        assert f"{path}:{line}:{column}" in str(info.value)

    def test_all_file_problems_at_once(self, tmp_path: Path) -> None:
        """Several broken files and .env lines are reported together."""
        bad = write(tmp_path / "a.toml", "x = \n")
        listy = write(tmp_path / "b.json", "[1, 2]")
        dotenv = write(tmp_path / ".env", "oops\n")
        unknown = write(tmp_path / "c.ini", "[x]")
        with pytest.raises(ConfigError) as info:
            Config.load(bad, listy, tmp_path / "missing.toml", unknown, dotenv=dotenv)
        assert len(info.value.errors) == 5

    def test_lookup_errors(self, base: Path) -> None:
        """Unknown keys raise NotFoundError with a suggestion."""
        config = Config.load(base)
        with pytest.raises(NotFoundError) as info:
            config["db.hots"]
        assert "db.host" in (info.value.hint or "")
        with pytest.raises(NotFoundError):
            config.explain("nope")
        with pytest.raises(NotFoundError):
            config.section("name")
        with pytest.raises(InvalidArgumentError):
            config.get(3)  # type: ignore[arg-type]
        assert "Config(files=" in repr(config)


@attrs.define
class Pool:
    size: int = 5


@attrs.define
class Store:
    url: str
    pool: Pool = attrs.Factory(Pool)
    tags: dict[str, int] = attrs.Factory(dict)


@attrs.define
class Service:
    store: Store
    name: str = "svc"


class TestSection:
    def test_without_schema_the_merged_table(self, base: Path) -> None:
        """section() is the merged table as a dict; values are an error."""
        config = Config.load(base, env_prefix="APP", env={"APP_DB__PORT": "6432"})
        assert config.section("db") == {"host": "localhost", "port": "6432"}
        with pytest.raises(NotFoundError, match="is a value, not a table"):
            config.section("name")
        with pytest.raises(NotFoundError, match="no configuration key"):
            config.section("nope")

    def test_with_a_schema_the_typed_table(self, base: Path) -> None:
        """With a schema, section() is a dict of the typed values get() returns."""
        env = {"APP_DB__PORT": "6432", "APP_DB__PASSWORD": "hunter2"}
        config = Config.load(base, schema=Settings, env_prefix="APP", env=env)
        db = config.section("db")
        assert db == {"host": "localhost", "port": 6432, "password": db["password"], "replicas": []}
        assert isinstance(db["password"], Secret) and db["password"].reveal() == "hunter2"
        assert "hunter2" not in repr(db)
        for name, value in db.items():
            assert config.get(f"db.{name}") == value
        db["host"] = "changed"
        db["replicas"].append("r1")
        assert config.section("db")["host"] == "localhost"
        assert config.settings.db.replicas == []
        with pytest.raises(NotFoundError, match="is a value, not a table"):
            config.section("db.port")
        with pytest.raises(NotFoundError, match="no configuration key"):
            config.section("nope")

    def test_nested_tables_and_defaults(self, tmp_path: Path) -> None:
        """Nested schema tables become dicts; schema defaults are included."""
        path = write(tmp_path / "s.toml", '[store]\nurl = "sqlite://"\n[store.tags]\na = 1\n')
        config = Config.load(path, schema=Service)
        store = {"url": "sqlite://", "pool": {"size": 5}, "tags": {"a": 1}}
        assert config.section("store") == store
        assert config.section("store.pool") == {"size": 5}
        assert config.section("store.tags") == {"a": 1}
        assert Config.load(path).section("store") == {"url": "sqlite://", "tags": {"a": 1}}


def test_get_returns_copies(base: Path) -> None:
    """Mutating what get() returns never changes the config."""
    config = Config.load(base)
    table: dict[str, Any] = config.get("db")
    table["host"] = "changed"
    assert config.get("db.host") == "localhost"


async def test_concurrent_readers_see_whole_snapshots(tmp_path: Path) -> None:
    """Reads during reloads see either the old or the new config, never a mix."""
    path = write(tmp_path / "c.toml", "a = 1\nb = 1\n")
    config = Config.load(path)
    seen: set[tuple[Any, Any]] = set()

    async def reader() -> None:
        for _ in range(200):
            snapshot = config.as_dict()
            seen.add((snapshot["a"], snapshot["b"]))
            await asyncio.sleep(0)

    async def writer() -> None:
        for value in range(2, 6):
            write(path, f"a = {value}\nb = {value}\n")
            await asyncio.to_thread(config.reload)

    await asyncio.gather(reader(), writer())
    assert all(a == b for a, b in seen)


def test_pyproject_table(tmp_path: Path) -> None:
    """ConfigFile(table=...) reads one table, e.g. [tool.myapp] in pyproject.toml."""
    from pepperpy.config import ConfigFile

    pyproject = write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "x"\n\n[tool.myapp]\nport = 8080\n\n[tool.myapp.db]\nhost = "h"\n',
    )
    config = Config.load(ConfigFile(pyproject, table="tool.myapp"))
    assert config.as_dict() == {"port": 8080, "db": {"host": "h"}}
    assert str(config.explain("db.host").source) == f"{pyproject}:8"
    assert str(config.explain("port").source) == f"{pyproject}:5"
    with pytest.raises(ConfigError, match=r"no table \[tool.other\]"):
        Config.load(ConfigFile(pyproject, table="tool.other"))
    assert Config.load(optional(pyproject, table="tool.other")).keys() == []
    assert "tool.myapp" in repr(ConfigFile(pyproject, table="tool.myapp"))


def test_secret_typed_fields_are_masked_whatever_the_source(tmp_path: Path) -> None:
    """A Secret[...] field set in a file or env is masked in get, explain and as_dict."""
    path = write(tmp_path / "c.toml", 'name = "n"\n[db]\nhost = "h"\npassword = "from-file"\n')
    config = Config.load(path, schema=Settings)
    assert isinstance(config.get("db.password"), Secret)
    assert "from-file" not in str(config.explain("db.password"))
    assert "from-file" not in repr(config.as_dict())
    assert config.as_dict(reveal=True)["db"]["password"] == "from-file"
    assert config.settings.db.password.reveal() == "from-file"


def test_command_line_arguments(base: Path) -> None:
    """argv options sit above env and secrets, below overrides, with provenance."""
    argv = ["--db.port=7000", "--debug", "--db.pool-size", "3", "--name", "cli", "--", "rest"]
    config = Config.load(
        base, schema=Settings, env_prefix="APP", env={"APP_DB__PORT": "6000"}, argv=argv
    )
    assert config.settings.db.port == 7000
    assert config.settings.debug is True
    assert config.settings.name == "cli"
    assert config.get("db.pool_size") == "3"
    assert str(config.explain("db.port")) == (
        f"db.port = 7000 from argument --db.port (overrides env APP_DB__PORT, {base}:6)"
    )
    untyped = Config.load(base, argv=["--db.replicas=[1, 2]", "--x.y", "z"])
    assert untyped.get("db.replicas") == "[1, 2]"
    assert untyped.get("x.y") == "z"
    with pytest.raises(ConfigError) as info:
        Config.load(base, argv=["positional", "--=x", "-v"])
    assert len(info.value.errors) == 3
    assert info.value.sources == ["command line"] * 3
    with pytest.raises(InvalidArgumentError):
        Config.load(base, argv="--db.port=1")


def test_dumps_effective_config(tmp_path: Path, base: Path) -> None:
    """dumps() writes the effective config, secrets masked unless reveal=True."""
    secrets = tmp_path / "s"
    secrets.mkdir()
    write(secrets / "db__password", "hunter2")
    config = Config.load(base, schema=Settings, secrets_dir=secrets)
    text = config.dumps()
    assert 'name = "svc"' in text
    assert "db_name = " in text  # schema defaults are part of the effective config
    assert "hunter2" not in text
    assert "**********" in text
    assert "hunter2" in config.dumps(reveal=True)
    assert json.loads(Config.load(base).dumps("json"))["db"]["port"] == 5432


def test_prefix_followed_by_the_delimiter(tmp_path: Path, base: Path) -> None:
    """APP__DB__HOST (prefix, then the nested delimiter) works like APP_DB__HOST."""
    profiled = write(tmp_path / "p.toml", '[default]\nname = "a"\n[prod]\nname = "b"\n')
    env = {"APP__DB__HOST": "h2", "APP__NAME": "n2"}
    config = Config.load(base, env_prefix="APP", env=env)
    assert config["db.host"] == "h2"
    assert config["name"] == "n2"
    chosen = Config.load(profiled, env_prefix="APP", env={"APP__PROFILE": "prod"})
    assert chosen["name"] == "b"
    assert "profile" not in chosen
    assert "ple" not in Config.load(base, env_prefix="APP", env={"APPLE": "x"})
