"""The logging configuration: attrs classes built from a config section dict."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from pepperpy.core.exceptions import ErrorDetail, InvalidArgumentError, ValidationError, safe_repr
from pepperpy.logging._levels import level_no

__all__ = ["ConsoleConfig", "FileConfig", "LoggingConfig", "RedactionConfig", "SinkConfig"]


@attrs.frozen
class ConsoleConfig:
    """The console sink.

    Attributes:
        enabled: Whether to write to the console at all.
        level: Minimum level for this sink (default: the global level).
        stream: ``"stderr"`` or ``"stdout"``.
        json: Write JSON lines instead of pretty text.
        colorize: Force colours on/off; ``None`` means "when a TTY".
        format: A loguru format string replacing the pretty default.
    """

    enabled: bool = True
    level: int | None = None
    stream: str = "stderr"
    json: bool = False
    colorize: bool | None = None
    format: str | None = None


@attrs.frozen
class FileConfig:
    """A file sink (loguru's file sink: rotation, retention, compression).

    Attributes:
        path: The file path; may contain loguru's ``{time}`` placeholder.
        level: Minimum level for this sink (default: the global level).
        json: JSON lines (default: when the path ends in ``.jsonl``/``.json``).
        rotation: When to start a new file: ``"10 MB"``, ``"1 day"``, ``"00:00"``...
        retention: How many old files to keep or for how long: ``5``, ``"7 days"``.
        compression: Compress rotated files: ``"gz"``, ``"bz2"``, ``"xz"``, ``"zip"``...
        enqueue: ``True``: loguru's queue (thread and process safe, unbounded);
            ``"thread"``: a bounded in-process queue with an overflow policy
            (see ``queue_size``); default: the global ``enqueue``.
        format: A loguru format string for text files.
    """

    path: str
    level: int | None = None
    json: bool | None = None
    rotation: str | int | None = None
    retention: str | int | None = None
    compression: str | None = None
    enqueue: bool | str | None = None
    format: str | None = None

    @property
    def is_json(self) -> bool:
        """Whether this file receives JSON lines."""
        if self.json is not None:
            return self.json
        return self.path.endswith((".jsonl", ".json", ".ndjson"))


@attrs.frozen
class SinkConfig:
    """A programmatic sink: a writable stream or a ``callable(str)``.

    Attributes:
        sink: The stream or callable receiving each formatted line.
        name: Used in error reports; defaults to the sink's repr.
        level: Minimum level for this sink.
        json: Send JSON lines instead of text.
        enqueue: ``True`` (loguru's queue) or ``"thread"`` (bounded queue).
        format: A loguru format string for text.
    """

    sink: Any
    name: str | None = None
    level: int | None = None
    json: bool = False
    enqueue: bool | str | None = None
    format: str | None = None


@attrs.frozen
class RedactionConfig:
    """What to mask.

    Attributes:
        keys: Extra secret key words, added to the defaults.
        mask: The replacement text.
        messages: Also mask ``key=value`` pairs inside messages.
    """

    keys: tuple[str, ...] = ()
    mask: str = "***"
    messages: bool = True


@attrs.frozen
class LoggingConfig:
    """The whole logging configuration (see :meth:`from_dict` for the dict form).

    Attributes:
        level: Default minimum level, for sinks and logger names without their own.
        levels: Minimum level per dotted logger name (``"aiohttp": "WARNING"``).
        console: The console sink.
        files: File sinks.
        sinks: Programmatic sinks (streams, callables).
        enqueue: Default ``enqueue`` for file and programmatic sinks: ``False``,
            ``True`` (loguru's unbounded, process-safe queue) or ``"thread"``
            (a bounded in-process queue drained by a daemon thread).
        queue_size: Capacity of each ``"thread"`` queue, in records.
        queue_overflow: When a ``"thread"`` queue is full: ``"drop"`` the
            record (counted in ``sink_errors()``, reported once) or ``"block"``
            until there is room.
        capture_stdlib: Route stdlib ``logging`` records into these sinks.
        to_stdlib: Also hand every record to stdlib ``logging`` handlers.
        extra: Values added to every record (service name, version...).
        redact: Secret masking.
        processors: Callables ``fn(record) -> None`` run on every record
            (loguru's record dict: add or change ``record["extra"]`` values,
            rewrite ``record["message"]``) before redaction, so nothing they
            add can leak a secret. ``"package.module:function"`` strings are
            imported.
        diagnose: Show variable values in tracebacks (off: they may hold secrets).
        backtrace: Extend tracebacks beyond the catching frame.
    """

    level: int = 20
    levels: Mapping[str, int] = attrs.field(factory=dict)
    console: ConsoleConfig = attrs.field(factory=ConsoleConfig)
    files: tuple[FileConfig, ...] = ()
    sinks: tuple[SinkConfig, ...] = ()
    enqueue: bool | str = False
    queue_size: int = 10_000
    queue_overflow: str = "drop"
    capture_stdlib: bool = True
    to_stdlib: bool = False
    extra: Mapping[str, Any] = attrs.field(factory=dict)
    redact: RedactionConfig = attrs.field(factory=RedactionConfig)
    processors: tuple[Callable[[Any], None], ...] = ()
    diagnose: bool = False
    backtrace: bool = False

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None = None, **overrides: Any) -> LoggingConfig:
        """Build a configuration from a config section (``[logging]`` of a TOML file).

        Recognised keys: ``level``, ``levels``, ``console`` (bool or table),
        ``files`` (list of tables, or one table), ``sinks``, ``enqueue``,
        ``queue_size``, ``queue_overflow``, ``processors``,
        ``capture_stdlib``, ``to_stdlib``, ``extra``, ``redact`` (table:
        ``keys``, ``mask``, ``messages``), ``diagnose``, ``backtrace``.
        Keyword *overrides* replace top-level keys.

        Raises:
            ValidationError: Listing every problem with its path.
        """
        if data is not None and not isinstance(data, Mapping):
            raise ValidationError(
                f"a logging configuration must be a mapping, got {type(data).__name__}",
                code="pepperpy.logging.config",
                errors=[ErrorDetail("", "must be a table (mapping)", value=safe_repr(data))],
                hint="Pass the [logging] section of your configuration as a dict.",
            )
        merged = {**(data or {}), **overrides}
        parser = _Parser()
        config = parser.root(merged)
        if parser.errors:
            raise ValidationError(
                f"invalid logging configuration ({len(parser.errors)} problem(s))",
                code="pepperpy.logging.config",
                errors=parser.errors,
                hint="Fix the listed keys; see the pepperpy.logging docs for the accepted shape.",
            )
        assert config is not None
        return config


_ROOT_KEYS = {f.name for f in attrs.fields(LoggingConfig)}
_CONSOLE_KEYS = {f.name for f in attrs.fields(ConsoleConfig)}
_FILE_KEYS = {f.name for f in attrs.fields(FileConfig)}
_SINK_KEYS = {f.name for f in attrs.fields(SinkConfig)}
_REDACT_KEYS = {f.name for f in attrs.fields(RedactionConfig)}


class _Parser:
    def __init__(self) -> None:
        self.errors: list[ErrorDetail] = []

    def error(self, path: str, message: str, value: Any, expected: str | None = None) -> None:
        self.errors.append(
            ErrorDetail(path, message, code="invalid", expected=expected, value=safe_repr(value))
        )

    def table(self, path: str, value: Any, allowed: set[str]) -> Mapping[str, Any] | None:
        if not isinstance(value, Mapping):
            self.error(path, "must be a table (mapping)", value, "a mapping")
            return None
        for key in value:
            if key not in allowed:
                self.error(
                    f"{path}/{key}",
                    f"unknown key (allowed: {', '.join(sorted(allowed))})",
                    value[key],
                )
        return value

    def level(self, path: str, value: Any, *, optional: bool = False) -> int | None:
        if value is None and optional:
            return None
        try:
            return level_no(value)
        except InvalidArgumentError:
            self.error(path, "unknown log level", value, "TRACE, DEBUG, INFO, SUCCESS, ...")
            return None

    def boolean(self, path: str, value: Any, *, optional: bool = False) -> bool | None:
        if value is None and optional:
            return None
        if isinstance(value, bool):
            return value
        self.error(path, "must be true or false", value, "a boolean")
        return None

    def enqueue(self, path: str, value: Any) -> bool | str | None:
        if value is None or isinstance(value, bool) or value == "thread":
            return value  # type: ignore[no-any-return]
        self.error(path, "must be true, false or 'thread'", value, "true, false or 'thread'")
        return None

    def string(self, path: str, value: Any, *, optional: bool = True) -> str | None:
        if value is None and optional:
            return None
        if isinstance(value, str):
            return value
        self.error(path, "must be a string", value, "a string")
        return None

    def processors(self, value: Any) -> tuple[Callable[[Any], None], ...]:
        if callable(value) or isinstance(value, str) or not isinstance(value, Sequence):
            value = [value]
        found: list[Callable[[Any], None]] = []
        for index, item in enumerate(value):
            if isinstance(item, str):
                from pepperpy.core.utils import import_string

                try:
                    item = import_string(item)
                except InvalidArgumentError as exc:
                    self.error(f"/processors/{index}", f"cannot import: {exc.message}", item)
                    continue
            if callable(item):
                found.append(item)
            else:
                self.error(f"/processors/{index}", "must be a callable or an import path", item)
        return tuple(found)

    def queue_size(self, value: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        self.error("/queue_size", "must be a positive integer", value, "e.g. 10000")
        return None

    def overflow(self, value: Any) -> str | None:
        if value is None or value in ("drop", "block"):
            return value  # type: ignore[no-any-return]
        self.error("/queue_overflow", "must be 'drop' or 'block'", value, "'drop' or 'block'")
        return None

    def size_or_text(self, path: str, value: Any) -> str | int | None:
        if value is None or (isinstance(value, (str, int)) and not isinstance(value, bool)):
            return value
        self.error(path, "must be a string such as '10 MB' / '7 days' or an integer", value)
        return None

    def _build(self, factory: Callable[..., Any], where: str, /, **values: Any) -> Any:
        try:
            return factory(**{k: v for k, v in values.items() if v is not None})
        except (TypeError, ValueError) as exc:  # pragma: no cover - guarded by checks above
            self.error(where, str(exc), values)
            return None

    def console(self, value: Any) -> ConsoleConfig:
        if isinstance(value, bool):
            return ConsoleConfig(enabled=value)
        table = self.table("/console", value, _CONSOLE_KEYS)
        if table is None:
            return ConsoleConfig()
        stream = self.string("/console/stream", table.get("stream"))
        if stream is not None and stream not in ("stderr", "stdout"):
            self.error("/console/stream", "must be 'stderr' or 'stdout'", stream)
            stream = None
        built: ConsoleConfig = self._build(
            ConsoleConfig,
            "/console",
            enabled=self.boolean("/console/enabled", table.get("enabled"), optional=True),
            level=self.level("/console/level", table.get("level"), optional=True),
            stream=stream,
            json=self.boolean("/console/json", table.get("json"), optional=True),
            colorize=self.boolean("/console/colorize", table.get("colorize"), optional=True),
            format=self.string("/console/format", table.get("format")),
        )
        if "colorize" in table and table["colorize"] is None:
            built = attrs.evolve(built, colorize=None)
        return built

    def file(self, path: str, value: Any) -> FileConfig | None:
        if isinstance(value, str):
            return FileConfig(path=value)
        table = self.table(path, value, _FILE_KEYS)
        if table is None:
            return None
        file_path = self.string(f"{path}/path", table.get("path"), optional=False)
        if file_path is None:
            return None
        result: FileConfig = self._build(
            FileConfig,
            path,
            path=file_path,
            level=self.level(f"{path}/level", table.get("level"), optional=True),
            json=self.boolean(f"{path}/json", table.get("json"), optional=True),
            rotation=self.size_or_text(f"{path}/rotation", table.get("rotation")),
            retention=self.size_or_text(f"{path}/retention", table.get("retention")),
            compression=self.string(f"{path}/compression", table.get("compression")),
            enqueue=self.enqueue(f"{path}/enqueue", table.get("enqueue")),
            format=self.string(f"{path}/format", table.get("format")),
        )
        return result

    def sink(self, path: str, value: Any) -> SinkConfig | None:
        if isinstance(value, SinkConfig):
            return value
        if not isinstance(value, Mapping):
            if callable(value) or callable(getattr(value, "write", None)):
                return SinkConfig(sink=value)
            self.error(path, "must be a stream, a callable or a table with 'sink'", value)
            return None
        table = self.table(path, value, _SINK_KEYS)
        if table is None:
            return None
        sink = table.get("sink")
        if not (callable(sink) or callable(getattr(sink, "write", None))):
            self.error(f"{path}/sink", "must be a writable stream or a callable", sink)
            return None
        result: SinkConfig = self._build(
            SinkConfig,
            path,
            sink=sink,
            name=self.string(f"{path}/name", table.get("name")),
            level=self.level(f"{path}/level", table.get("level"), optional=True),
            json=self.boolean(f"{path}/json", table.get("json"), optional=True),
            enqueue=self.enqueue(f"{path}/enqueue", table.get("enqueue")),
            format=self.string(f"{path}/format", table.get("format")),
        )
        return result

    def redact(self, value: Any) -> RedactionConfig:
        if isinstance(value, RedactionConfig):
            return value
        table = self.table("/redact", value, _REDACT_KEYS)
        if table is None:
            return RedactionConfig()
        keys = table.get("keys", ())
        if isinstance(keys, str) or not isinstance(keys, Sequence):
            self.error("/redact/keys", "must be a list of strings", keys)
            keys = ()
        clean = []
        for index, key in enumerate(keys):
            if isinstance(key, str) and key:
                clean.append(key)
            else:
                self.error(f"/redact/keys/{index}", "must be a non-empty string", key)
        result: RedactionConfig = self._build(
            RedactionConfig,
            "/redact",
            keys=tuple(clean),
            mask=self.string("/redact/mask", table.get("mask")),
            messages=self.boolean("/redact/messages", table.get("messages"), optional=True),
        )
        return result

    def levels(self, raw_levels: Any) -> dict[str, int]:
        levels: dict[str, int] = {}
        if not isinstance(raw_levels, Mapping):
            self.error("/levels", "must be a table of logger name -> level", raw_levels)
            return levels
        for name, value in raw_levels.items():
            if not isinstance(name, str):
                self.error(f"/levels/{name}", "logger names must be strings", name)
                continue
            number = self.level(f"/levels/{name}", value)
            if number is not None:
                levels[name.strip(".")] = number
        return levels

    def files(self, files_raw: Any) -> list[FileConfig]:
        if isinstance(files_raw, (Mapping, str)):
            files_raw = [files_raw]
        files: list[FileConfig] = []
        if not isinstance(files_raw, Sequence):
            self.error("/files", "must be a list of file tables", files_raw)
            return files
        for index, item in enumerate(files_raw):
            if isinstance(item, FileConfig):
                files.append(item)
                continue
            built = self.file(f"/files/{index}", item)
            if built is not None:
                files.append(built)
        return files

    def sinks(self, sinks_raw: Any) -> list[SinkConfig]:
        sinks: list[SinkConfig] = []
        if not isinstance(sinks_raw, Sequence) or isinstance(sinks_raw, str):
            self.error("/sinks", "must be a list", sinks_raw)
            return sinks
        for index, item in enumerate(sinks_raw):
            built_sink = self.sink(f"/sinks/{index}", item)
            if built_sink is not None:
                sinks.append(built_sink)
        return sinks

    def extra(self, extra: Any) -> dict[str, Any]:
        if not isinstance(extra, Mapping) or not all(isinstance(k, str) for k in extra):
            self.error("/extra", "must be a table with string keys", extra)
            return {}
        return dict(extra)

    def root(self, data: Mapping[str, Any]) -> LoggingConfig | None:
        table = self.table("", data, _ROOT_KEYS)
        if table is None:
            return None
        levels = self.levels(table.get("levels", {}))
        files = self.files(table.get("files", ()))
        sinks = self.sinks(table.get("sinks", ()))
        extra = self.extra(table.get("extra", {}))
        console_raw = table.get("console", True)
        console = (
            console_raw if isinstance(console_raw, ConsoleConfig) else self.console(console_raw)
        )
        result: LoggingConfig = self._build(
            LoggingConfig,
            "",
            level=self.level("/level", table.get("level"), optional=True),
            levels=levels,
            console=console,
            files=tuple(files),
            sinks=tuple(sinks),
            enqueue=self.enqueue("/enqueue", table.get("enqueue")),
            queue_size=self.queue_size(table.get("queue_size")),
            queue_overflow=self.overflow(table.get("queue_overflow")),
            capture_stdlib=self.boolean(
                "/capture_stdlib", table.get("capture_stdlib"), optional=True
            ),
            to_stdlib=self.boolean("/to_stdlib", table.get("to_stdlib"), optional=True),
            extra=extra,
            redact=self.redact(table.get("redact", {})),
            processors=self.processors(table.get("processors", ())),
            diagnose=self.boolean("/diagnose", table.get("diagnose"), optional=True),
            backtrace=self.boolean("/backtrace", table.get("backtrace"), optional=True),
        )
        return result
