from __future__ import annotations

import pytest

from pepperpy.core.exceptions import ValidationError
from pepperpy.logging import ConsoleConfig, FileConfig, LoggingConfig, RedactionConfig


def test_full_section() -> None:
    config = LoggingConfig.from_dict(
        {
            "level": "debug",
            "levels": {"aiohttp.access": "WARNING", "myapp.db.": "trace"},
            "console": {"json": True, "stream": "stdout", "colorize": None},
            "files": [
                {
                    "path": "logs/app.jsonl",
                    "rotation": "10 MB",
                    "retention": "7 days",
                    "compression": "gz",
                    "enqueue": True,
                },
                "logs/plain.log",
            ],
            "enqueue": False,
            "capture_stdlib": False,
            "to_stdlib": True,
            "extra": {"service": "api"},
            "redact": {"keys": ["ssn"], "mask": "<x>", "messages": False},
            "diagnose": False,
        }
    )
    assert config.level == 10
    assert config.levels == {"aiohttp.access": 30, "myapp.db": 5}
    assert config.console == ConsoleConfig(stream="stdout", json=True)
    assert config.files[0] == FileConfig(
        path="logs/app.jsonl",
        rotation="10 MB",
        retention="7 days",
        compression="gz",
        enqueue=True,
    )
    assert config.files[0].is_json
    assert not config.files[1].is_json
    assert config.redact == RedactionConfig(keys=("ssn",), mask="<x>", messages=False)
    assert config.to_stdlib and not config.capture_stdlib
    assert config.extra == {"service": "api"}


def test_defaults_and_overrides() -> None:
    config = LoggingConfig.from_dict(None, level="WARNING", console=False)
    assert config.level == 30
    assert not config.console.enabled
    assert config.files == ()
    assert config.capture_stdlib
    assert LoggingConfig.from_dict({"files": {"path": "one.log"}}).files[0].path == "one.log"


def test_every_problem_is_listed_with_its_path() -> None:
    with pytest.raises(ValidationError) as info:
        LoggingConfig.from_dict(
            {
                "level": "loud",
                "levels": {"x": "nope"},
                "console": {"stream": "printer", "colour": True},
                "files": [{"rotation": "1 day"}, {"path": "a.log", "retention": 2.5}],
                "redact": {"keys": ["ok", 3]},
                "enqueue": "yes",
                "sinks": [42],
                "bogus": 1,
            }
        )
    paths = set(info.value.paths)
    assert paths == {
        "/level",
        "/levels/x",
        "/console/stream",
        "/console/colour",
        "/files/0/path",
        "/files/1/retention",
        "/redact/keys/1",
        "/enqueue",
        "/sinks/0",
        "/bogus",
    }
    assert info.value.code == "pepperpy.logging.config"


def test_wrong_container_types() -> None:
    with pytest.raises(ValidationError) as info:
        LoggingConfig.from_dict({"levels": [], "files": 3, "extra": [1], "redact": "x"})
    assert set(info.value.paths) == {"/levels", "/files", "/extra", "/redact"}
    with pytest.raises(ValidationError):
        LoggingConfig.from_dict([])  # type: ignore[arg-type]
