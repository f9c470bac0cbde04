"""pepperpy.config: load a 200-key layered config (2 TOML files + env overrides), typed.

Peer: pydantic-settings with the same two TOML files, an env prefix and a
nested delimiter, bound to an equivalent nested model.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import attrs
import pydantic
import pydantic_settings

from harness import compare
from pepperpy.config import Config

REQUIRES = ["pydantic>=2", "pydantic-settings>=2.2"]

SECTIONS = 20
KEYS = 10  # 20 sections x 10 keys = 200 keys


def _files(root: Path) -> tuple[Path, Path]:
    base, local = [], []
    for s in range(SECTIONS):
        base.append(f"[s{s}]")
        for k in range(KEYS):
            base.append(f"k{k} = {k}" if k % 2 else f'k{k} = "v{k}"')
        if s % 4 == 0:
            local.append(f"[s{s}]")
            local.extend(f"k{k} = {k + 100}" for k in range(1, KEYS, 2))
    first, second = root / "base.toml", root / "local.toml"
    first.write_text("\n".join(base) + "\n")
    second.write_text("\n".join(local) + "\n")
    return first, second


def _attrs_classes() -> type:
    sections = {}
    for s in range(SECTIONS):
        fields = {f"k{k}": attrs.field(type=int if k % 2 else str) for k in range(KEYS)}
        sections[f"s{s}"] = attrs.field(type=attrs.make_class(f"S{s}", fields))
    return attrs.make_class("Settings", sections)


def _pydantic_settings(first: Path, second: Path) -> type:
    sections = {}
    for s in range(SECTIONS):
        fields = {f"k{k}": (int if k % 2 else str, ...) for k in range(KEYS)}
        sections[f"s{s}"] = (pydantic.create_model(f"P{s}", **fields), ...)

    class Base(pydantic_settings.BaseSettings):
        model_config = pydantic_settings.SettingsConfigDict(
            env_prefix="APP_", env_nested_delimiter="__", toml_file=[first, second]
        )

        @classmethod
        def settings_customise_sources(cls, settings_cls, init_settings, env_settings, **_):
            toml = pydantic_settings.TomlConfigSettingsSource(settings_cls, deep_merge=True)
            return (init_settings, env_settings, toml)

    return pydantic.create_model("PSettings", __base__=Base, **sections)


def bench_load_layered():
    root = Path(tempfile.mkdtemp(prefix="bench-config-"))
    first, second = _files(root)
    env = {f"APP_S{s}__K1": str(s * 1000) for s in range(SECTIONS)}
    schema = _attrs_classes()
    peer = _pydantic_settings(first, second)

    ours_settings = Config.load(first, second, schema=schema, env_prefix="APP", env=env).settings
    import os

    os.environ.update(env)
    peer_settings = peer()
    assert ours_settings.s3.k1 == peer_settings.s3.k1 == 3000
    assert ours_settings.s4.k3 == peer_settings.s4.k3 == 103

    return compare(
        "config: 200 keys, 2 TOML files + 20 env overrides, typed",
        {
            "pepperpy": lambda: Config.load(
                first, second, schema=schema, env_prefix="APP", env=env
            ),
            "pydantic-settings": peer,
        },
        inner=20,
        samples=20,
    )
