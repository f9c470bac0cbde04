"""Layered, typed configuration for PepperPy.

::

    from pepperpy.config import Config

    config = Config.load("config.toml", env_prefix="APP", schema=Settings)
    config.settings.db.port          # typed, validated
    config.get("db.host")            # untyped access
    config.explain("db.host")        # db.host = 'x' from env APP_DB__HOST (overrides config.toml:3)

Files (TOML, JSON, YAML with the ``yaml`` extra) are layered in order, then
``.env`` files, environment variables (``APP_DB__HOST`` -> ``db.host``),
secrets directories and overrides. Profiles (``[default]``, ``[production]``)
live in one file (``profiles=`` names them or turns them off);
``${VAR:-default}`` is expanded in file values; :class:`Secret` values never
show. Every missing or invalid key is reported at once, with its source.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pepperpy.config._config import Config, ConfigFile, Explanation, optional
from pepperpy.config._errors import ERRORS, ConfigError
from pepperpy.config._secret import MASK, Secret
from pepperpy.config._sources import Source
from pepperpy.config._version import __version__

if TYPE_CHECKING:
    from pepperpy.config._watch import ConfigWatcher

__all__ = [
    "ERRORS",
    "MASK",
    "Config",
    "ConfigError",
    "ConfigFile",
    "ConfigWatcher",
    "Explanation",
    "Secret",
    "Source",
    "__version__",
    "optional",
]


def __getattr__(name: str) -> Any:
    # ConfigWatcher pulls in asyncio; load it only when it is used.
    if name == "ConfigWatcher":
        from pepperpy.config._watch import ConfigWatcher

        globals()[name] = ConfigWatcher
        return ConfigWatcher
    msg = f"module 'pepperpy.config' has no attribute {name!r}"
    raise AttributeError(msg)
