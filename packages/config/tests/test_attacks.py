"""Attacks from issue 19 (findings 8-11 and config's part of finding 1).

Each test names its finding. Peers that define the expected behaviour:
dynaconf (profiles, its "environments", are opt-in and may be listed by
name), pydantic-settings (environment values and secret files are taken
verbatim, never interpolated) and python-dotenv (``${VAR}`` expands in
unquoted and double-quoted ``.env`` values only, never in single quotes).
"""

from __future__ import annotations

import enum
import os
from pathlib import Path

import attrs
import pytest

from pepperpy.config import Config, ConfigError, ConfigFile
from pepperpy.core.exceptions import ConfigurationError, InvalidArgumentError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@attrs.define
class Db:
    host: str = "localhost"
    port: int = 5432


@attrs.define
class Settings:
    name: str
    db: Db = attrs.field(factory=Db)
    debug: bool = False


PROFILED = """\
[default]
name = "shop"
debug = true

[default.db]
host = "localhost"

[production]
debug = false

[production.db]
host = "db.internal"
"""


# --------------------------------------------------------------------------- issue 19 #8


class TestProfilesNeverDropData:
    def test_top_level_value_beside_profiles_is_an_error(self, tmp_path: Path) -> None:
        """Issue 19 #8: ``name = "top"`` beside [default]/[production] was silently dropped."""
        path = write(tmp_path / "c.toml", 'name = "top"\n' + PROFILED)
        with pytest.raises(ConfigError) as info:
            Config.load(path, profile="production")
        text = str(info.value)
        assert "'name'" in text and f"{path}:1" in text
        assert info.value.errors[0].code == "profile_layout"

    def test_every_stray_key_is_reported(self, tmp_path: Path) -> None:
        """Issue 19 #8: all stray keys at once, not only the first."""
        path = write(tmp_path / "c.toml", 'name = "top"\nport = 1\n' + PROFILED)
        with pytest.raises(ConfigError) as info:
            Config.load(path)
        assert [d.code for d in info.value.errors] == ["profile_layout", "profile_layout"]
        assert "'name'" in str(info.value) and "'port'" in str(info.value)

    def test_table_named_after_a_schema_field_is_not_a_profile(self, tmp_path: Path) -> None:
        """Issue 19 #8: [default] + [db] lost db as if it were a profile (schema bound)."""
        path = write(tmp_path / "c.toml", '[default]\nname = "svc"\n[db]\nhost = "h"\n')
        with pytest.raises(ConfigError) as info:
            Config.load(path, schema=Settings)
        assert [d.code for d in info.value.errors] == ["profile_layout"]
        assert "[db]" in str(info.value) and "profiles=False" in str(info.value)

    def test_table_named_after_a_default_key_is_not_a_profile(self, tmp_path: Path) -> None:
        """Issue 19 #8: a table named like a key of [default] is data, not a profile."""
        path = write(tmp_path / "c.toml", '[default.db]\nhost = "a"\n[db]\nhost = "h"\n')
        with pytest.raises(ConfigError) as info:
            Config.load(path)
        assert [d.code for d in info.value.errors] == ["profile_layout"]
        assert "[db]" in str(info.value)

    def test_profiles_false_reads_default_as_an_ordinary_table(self, tmp_path: Path) -> None:
        """Issue 19 #8: profiles=False: [default] and [db] are plain tables, nothing lost."""
        path = write(tmp_path / "c.toml", '[default]\nname = "svc"\n[db]\nhost = "h"\n')
        config = Config.load(path, profiles=False)
        assert config.as_dict() == {"default": {"name": "svc"}, "db": {"host": "h"}}
        assert config.profiles == [] and config.profile is None

    def test_profiles_false_refuses_a_profile(self, tmp_path: Path) -> None:
        """Issue 19 #8: a profile selected while profiles are off is refused, not ignored."""
        path = write(tmp_path / "c.toml", "[default]\nx = 1\n")
        with pytest.raises(InvalidArgumentError):
            Config.load(path, profiles=False, profile="production")
        with pytest.raises(ConfigError, match="unknown profile 'production'"):
            Config.load(path, profiles=False, env={"PEPPERPY_PROFILE": "production"})

    def test_declared_profiles_refuse_every_other_table(self, tmp_path: Path) -> None:
        """Issue 19 #8: profiles=[...] (dynaconf's environments=[...]): others are errors."""
        path = write(tmp_path / "c.toml", PROFILED + '[staging]\ndebug = true\n[db]\nhost = "h"\n')
        with pytest.raises(ConfigError) as info:
            Config.load(path, profiles=["production"])
        assert [d.code for d in info.value.errors] == ["profile_layout", "profile_layout"]
        assert "[staging]" in str(info.value) and "[db]" in str(info.value)
        config = Config.load(path, profiles=["production", "staging", "db"], profile="db")
        assert config.get("db.host") == "localhost" and config.get("host") == "h"

    def test_declared_profile_without_a_table_is_allowed(self, tmp_path: Path) -> None:
        """Issue 19 #8: a declared profile no file overrides still loads [default]."""
        path = write(tmp_path / "c.toml", PROFILED)
        config = Config.load(path, profiles=["production", "qa"], profile="qa")
        assert config.profile == "qa" and config.get("db.host") == "localhost"
        with pytest.raises(ConfigError, match="unknown profile 'prod'"):
            Config.load(path, profiles=["production", "qa"], profile="prod")

    def test_profiles_must_be_a_list_of_names(self, tmp_path: Path) -> None:
        """Issue 19 #8: profiles='production' (one string) is a mistake, not 10 profiles."""
        path = write(tmp_path / "c.toml", PROFILED)
        for bad in ("production", True, ["ok", 3], [""]):
            with pytest.raises(InvalidArgumentError):
                Config.load(path, profiles=bad)  # type: ignore[arg-type]

    def test_documented_profile_file_still_works(self, tmp_path: Path) -> None:
        """Issue 19 #8: the documented [default] + [production] layout keeps working."""
        path = write(tmp_path / "c.toml", PROFILED)
        config = Config.load(
            path, schema=Settings, env_prefix="APP", env={"APP_PROFILE": "production"}
        )
        assert config.settings == Settings(name="shop", db=Db(host="db.internal"), debug=False)
        assert Config.load(path, env={}).get("db.host") == "localhost"
        assert Config.load(path, env={}).profiles == ["default", "production"]


# --------------------------------------------------------------------------- issue 19 #9


class TestInterpolationOnlyInFiles:
    def test_env_values_are_verbatim(self, tmp_path: Path) -> None:
        """Issue 19 #9: APP_TOKEN='x${HOME_DIR}y' stays as written (pydantic-settings)."""
        env = {"APP_TOKEN": "x${HOME_DIR}y", "HOME_DIR": "/root", "APP_RAW": "a${nope}b"}
        config = Config.load(env_prefix="APP", env=env)
        assert config.get("token") == "x${HOME_DIR}y"
        assert config.get("raw") == "a${nope}b"

    def test_secret_files_are_verbatim(self, tmp_path: Path) -> None:
        """Issue 19 #9: a secret 'pa${ss}word' failed the whole load."""
        secrets = tmp_path / "secrets"
        secrets.mkdir()
        write(secrets / "db__password", "pa${ss}word\n")
        config = Config.load(secrets_dir=secrets, env={})
        assert config.get("db.password").reveal() == "pa${ss}word"

    def test_dotenv_follows_dotenv_rules_only(self, tmp_path: Path) -> None:
        """Issue 19 #9: .env values are expanded once, by .env rules (python-dotenv)."""
        dotenv = write(
            tmp_path / ".env",
            "APP_LITERAL='x${HOME_DIR}y'\nAPP_QUOTED=\"${HOME_DIR}/q\"\nAPP_BARE=${HOME_DIR}/b\n",
        )
        config = Config.load(env_prefix="APP", dotenv=dotenv, env={"HOME_DIR": "/root"})
        assert config.get("literal") == "x${HOME_DIR}y"
        assert config.get("quoted") == "/root/q"
        assert config.get("bare") == "/root/b"

    def test_arguments_and_overrides_are_verbatim(self, tmp_path: Path) -> None:
        """Issue 19 #9: values given in code or on the command line are not templates."""
        config = Config.load(
            argv=["--a=${HOME_DIR}"], overrides={"b": "${HOME_DIR}"}, env={"HOME_DIR": "/r"}
        )
        assert (config.get("a"), config.get("b")) == ("${HOME_DIR}", "${HOME_DIR}")

    def test_file_text_still_interpolates(self, tmp_path: Path) -> None:
        """Issue 19 #9: file values expand; a referenced env value is used as it is."""
        path = write(
            tmp_path / "c.toml",
            'data = "${HOME_DIR}/data"\nurl = "${token}@host"\ntoken = "file"\n',
        )
        env = {"HOME_DIR": "/root", "APP_TOKEN": "t${X}"}
        config = Config.load(path, env_prefix="APP", env=env)
        assert config.get("data") == "/root/data"
        assert config.get("url") == "t${X}@host"
        assert config.get("token") == "t${X}"

    def test_file_value_overridden_by_env_is_not_expanded(self, tmp_path: Path) -> None:
        """Issue 19 #9: the env value replaces the file's template and is kept verbatim."""
        path = write(tmp_path / "c.toml", 'token = "${HOME_DIR}"\n')
        config = Config.load(path, env_prefix="APP", env={"APP_TOKEN": "$${x}", "HOME_DIR": "/r"})
        assert config.get("token") == "$${x}"


# --------------------------------------------------------------------------- issue 19 #10


class TestUnreadableSources:
    def test_non_utf8_dotenv(self, tmp_path: Path) -> None:
        """Issue 19 #10: non-UTF-8 .env raised UnicodeDecodeError."""
        dotenv = tmp_path / ".env"
        dotenv.write_bytes(b"APP_NAME=caf\xe9\n")
        with pytest.raises(ConfigError) as info:
            Config.load(env_prefix="APP", dotenv=dotenv, env={})
        assert str(dotenv) in str(info.value) and "UTF-8" in str(info.value)

    def test_dotenv_is_a_directory(self, tmp_path: Path) -> None:
        """Issue 19 #10: a .env path that is a directory raised IsADirectoryError."""
        dotenv = tmp_path / ".env"
        dotenv.mkdir()
        with pytest.raises(ConfigError) as info:
            Config.load(env_prefix="APP", dotenv=dotenv, env={})
        assert str(dotenv) in str(info.value)

    def test_dotenv_symlink_loop(self, tmp_path: Path) -> None:
        """Issue 19 #10: an unreadable .env (a symlink loop; unreadable even for root)."""
        dotenv = tmp_path / ".env"
        os.symlink(dotenv, dotenv)
        with pytest.raises(ConfigError) as info:
            Config.load(env_prefix="APP", dotenv=dotenv, env={})
        assert str(dotenv) in str(info.value)

    @pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
    def test_dotenv_without_permission(self, tmp_path: Path) -> None:
        """Issue 19 #10: a .env without read permission."""
        dotenv = write(tmp_path / ".env", "APP_A=1\n")
        dotenv.chmod(0)
        with pytest.raises(ConfigError, match=str(dotenv)):
            Config.load(env_prefix="APP", dotenv=dotenv, env={})

    def test_dotenv_byte_order_mark(self, tmp_path: Path) -> None:
        """Issue 19 #10 (and #3's BOM): a .env saved with a BOM reads its first line."""
        dotenv = tmp_path / ".env"
        dotenv.write_bytes(b"\xef\xbb\xbfAPP_NAME=shop\n")
        assert Config.load(env_prefix="APP", dotenv=dotenv, env={}).get("name") == "shop"

    def test_non_utf8_secret(self, tmp_path: Path) -> None:
        """Issue 19 #10: a non-UTF-8 secret file raised UnicodeDecodeError."""
        secrets = tmp_path / "secrets"
        secrets.mkdir()
        (secrets / "token").write_bytes(b"\xff\xfe\x00")
        with pytest.raises(ConfigError) as info:
            Config.load(secrets_dir=secrets, env={})
        assert str(secrets / "token") in str(info.value)
        assert "\\xff" not in str(info.value)  # never the secret's bytes

    def test_secret_symlink_loop(self, tmp_path: Path) -> None:
        """Issue 19 #10: a secret entry that cannot be read is an error naming it."""
        secrets = tmp_path / "secrets"
        secrets.mkdir()
        os.symlink(secrets / "token", secrets / "token")
        with pytest.raises(ConfigError, match="token"):
            Config.load(secrets_dir=secrets, env={})

    def test_secrets_dir_is_a_file(self, tmp_path: Path) -> None:
        """Issue 19 #10: secrets_dir naming a file is an error, not silently no secrets."""
        path = write(tmp_path / "secrets", "x")
        with pytest.raises(ConfigError, match="not a directory"):
            Config.load(secrets_dir=path, env={})

    def test_secret_byte_order_mark(self, tmp_path: Path) -> None:
        """Issue 19 #10: a secret saved with a BOM does not keep it in the value."""
        secrets = tmp_path / "secrets"
        secrets.mkdir()
        (secrets / "token").write_bytes(b"\xef\xbb\xbfs3cret\r\n")
        assert Config.load(secrets_dir=secrets, env={}).get("token").reveal() == "s3cret"

    def test_config_file_byte_order_mark(self, tmp_path: Path) -> None:
        """Issue 19 #3 as config sees it: TOML/JSON/YAML saved by Notepad load."""
        for name, body in (
            ("c.toml", b'a = "x"\n'),
            ("c.json", b'{"a": "x"}'),
            ("c.yaml", b"a: x\n"),
        ):
            path = tmp_path / name
            path.write_bytes(b"\xef\xbb\xbf" + body)
            config = Config.load(path)
            assert config.get("a") == "x", name
            assert config.explain("a").source.kind == "file"


@attrs.define
class Tagged:
    tags: list[str] = attrs.field(factory=list)


@pytest.mark.parametrize(
    "value", ["[" * 3000 + "]" * 3000, "[" + "1" * 5000 + "]"], ids=["deep", "huge-int"]
)
def test_json_in_env_values_is_decoded_safely(value: str) -> None:
    """Issue 19 #2 as config sees it: a list field's JSON env value raised RecursionError /
    ValueError from json.loads; now the value stays a string and binding refuses it."""
    with pytest.raises(ConfigError) as info:
        Config.load(schema=Tagged, env_prefix="APP", env={"APP_TAGS": value})
    assert info.value.keys == ["tags"]


def test_keys_nested_too_deep_are_config_errors() -> None:
    """Issue 19 #2 as config sees it: a 2,000-level env name or option raised RecursionError."""
    for options in (
        {"env_prefix": "APP", "env": {"APP_" + "A__" * 2000 + "B": "1"}},
        {"argv": ["--a" + ".a" * 2000 + "=1"], "env": {}},
    ):
        with pytest.raises(ConfigError, match="nested more than 128 levels"):
            Config.load(**options)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="nested at most 128"):
        Config.load(defaults={"a": _nest(2000)}, env={})


def _nest(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = {"k": value}
    return value


# --------------------------------------------------------------------------- issue 19 #11


class TestFormatArgument:
    def test_unknown_suffix_hint_is_true(self, tmp_path: Path) -> None:
        """Issue 19 #11: the hint says format=...; Config.load(format=) now exists."""
        path = write(tmp_path / "app.conf", '[db]\nhost = "h"\n')
        with pytest.raises(ConfigError) as info:
            Config.load(path)
        assert "format=" in str(info.value)
        assert Config.load(path, format="toml").get("db.host") == "h"

    def test_format_per_file(self, tmp_path: Path) -> None:
        """Issue 19 #11: ConfigFile(format=) for one file; it wins over Config.load(format=)."""
        conf = write(tmp_path / "app.conf", '{"a": 1}')
        cfg = write(tmp_path / "b.cfg", "b: 2\nc: [1]\n")
        config = Config.load(ConfigFile(conf, format="json"), cfg, format="yaml")
        assert config.as_dict() == {"a": 1, "b": 2, "c": [1]}
        assert config.explain("b").source.line == 1  # YAML line numbers by format, not suffix

    def test_unknown_format_name(self, tmp_path: Path) -> None:
        """Issue 19 #11: a format that does not exist is refused up front."""
        path = write(tmp_path / "app.conf", "a = 1\n")
        with pytest.raises(InvalidArgumentError, match="ini"):
            Config.load(path, format="ini")
        with pytest.raises(InvalidArgumentError):
            Config.load(ConfigFile(path, format=3))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- issue 19 #1


class Level(str, enum.Enum):
    LOW = "low"
    HIGH = "high"


@attrs.define
class Leveled:
    level: Level = Level.LOW


def test_str_enum_from_env_is_checked_and_converted() -> None:
    """Issue 19 #1 through config: APP_LEVEL=bogus bound to a (str, Enum) field."""
    with pytest.raises(ConfigurationError) as info:
        Config.load(schema=Leveled, env_prefix="APP", env={"APP_LEVEL": "bogus"})
    assert isinstance(info.value, ConfigError) and info.value.keys == ["level"]
    level = Config.load(schema=Leveled, env_prefix="APP", env={"APP_LEVEL": "high"}).settings.level
    assert type(level) is Level and level is Level.HIGH


def test_shared_and_cyclic_defaults() -> None:
    """Issue 19 #2 as config sees it: a value shared twice is fine, a cycle is refused."""
    shared = {"port": 1}
    config = Config.load(defaults={"a": shared, "b": shared}, env={})
    assert config.get("a.port") == config.get("b.port") == 1
    cycle: list[object] = []
    cycle.append(cycle)
    with pytest.raises(InvalidArgumentError):
        Config.load(defaults={"a": cycle}, env={})


def test_a_value_replacing_a_table_in_one_source(tmp_path: Path) -> None:
    """Close the class (found by test_hostile): a later value replacing an earlier table in
    the same source (``a.b`` then ``a``) raised TypeError; the later one wins, as in argv."""
    assert Config.load(defaults={"a.b": 1, "a": [1]}, env={}).as_dict() == {"a": [1]}
    config = Config.load(argv=["--a.b=1", "--a=2"], env={})
    assert config.as_dict() == {"a": "2"} and str(config.explain("a").source) == "argument --a"
    path = write(tmp_path / "c.toml", '[default.db]\nhost = "a"\n[production]\ndb = "x"\n')
    assert Config.load(path, profile="production").as_dict() == {"db": "x"}
