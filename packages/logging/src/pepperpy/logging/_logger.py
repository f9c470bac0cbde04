"""Loggers, the record patcher and configuration of loguru's sinks."""

from __future__ import annotations

import functools
import inspect
import logging
import os
import sys
import threading
from collections.abc import Awaitable, Callable, Generator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast

import attrs
from loguru import logger as _loguru

from pepperpy import context as _context
from pepperpy.context import current as _context_values
from pepperpy.core import Redactor
from pepperpy.core.exceptions import ConfigurationError, InvalidArgumentError, safe_repr
from pepperpy.logging._config import FileConfig, LoggingConfig, SinkConfig
from pepperpy.logging._levels import LEVELS, level_name, level_no, resolve
from pepperpy.logging._sinks import (
    FROM_STDLIB,
    SinkFailure,
    SinkGuard,
    StdlibForwarder,
    ThreadQueueSink,
    json_formatter,
    stdlib_extra,
    text_formatter,
)

if TYPE_CHECKING:
    from loguru import Record

__all__ = [
    "Logger",
    "Logging",
    "complete",
    "configure",
    "get_logger",
    "shutdown",
    "sink_errors",
]

_NEVER = 1 << 30
F = TypeVar("F", bound=Callable[..., Any])


# --------------------------------------------------------------------------- state


class _Node:
    """Per logger name: the level below which calls return at once."""

    __slots__ = ("min", "name")

    def __init__(self, name: str, minimum: int) -> None:
        self.name = name
        self.min = minimum


class _State:
    """The configuration in force (replaced as a whole by :func:`configure`)."""

    __slots__ = (
        "config",
        "default",
        "extra",
        "filter_cache",
        "guards",
        "handler_ids",
        "levels",
        "processors",
        "queued",
        "redactor",
        "sink_min",
    )

    def __init__(self, config: LoggingConfig | None, default: int) -> None:
        self.config = config
        self.default = default
        self.levels: Mapping[str, int] = config.levels if config is not None else {}
        self.extra: dict[str, Any] = dict(config.extra) if config is not None else {}
        self.processors = config.processors if config is not None else ()
        redact = config.redact if config is not None else None
        self.redactor = (
            Redactor(redact.keys, mask=redact.mask, messages=redact.messages)
            if redact is not None
            else Redactor()
        )
        self.handler_ids: list[int] = []
        self.guards: list[SinkGuard] = []
        self.queued: list[ThreadQueueSink] = []
        self.sink_min = 0 if config is None else _NEVER
        self.filter_cache: dict[str | None, int] = {}

    def threshold(self, name: str) -> int:
        return max(resolve(name, self.levels, self.default), self.sink_min)

    def name_threshold(self, name: str | None) -> int:
        cached = self.filter_cache.get(name)
        if cached is None:
            cached = resolve(name, self.levels, self.default)
            if len(self.filter_cache) < 10_000:
                self.filter_cache[name] = cached
        return cached


def _env_default() -> int:
    raw = os.environ.get("PEPPERPY_LOG_LEVEL")
    if raw:
        try:
            return level_no(raw)
        except InvalidArgumentError:
            pass
    return LEVELS["INFO"]


_lock = threading.RLock()
_state = _State(None, _env_default())
_nodes: dict[str, _Node] = {}
_loggers: dict[str, Logger] = {}
_stdlib_handler: logging.Handler | None = None
_stdlib_root_level: int | None = None
_patcher_installed = False


def _node(name: str) -> _Node:
    node = _nodes.get(name)
    if node is None:
        with _lock:
            node = _nodes.get(name)
            if node is None:
                node = _nodes[name] = _Node(name, _state.threshold(name))
    return node


# --------------------------------------------------------------------------- patcher


def _apply_stdlib(record: Record, std: logging.LogRecord) -> None:
    record["function"] = std.funcName
    record["line"] = std.lineno
    record["module"] = std.module
    record["file"] = type(record["file"])(std.filename, std.pathname)  # type: ignore[call-arg]
    record["thread"] = type(record["thread"])(std.thread, std.threadName)  # type: ignore[call-arg]
    record["process"] = type(record["process"])(std.process, std.processName)  # type: ignore[call-arg]


def _apply_where(record: Record, where: tuple[str, int, str]) -> None:
    """Point the record at *where* (function, line, file), e.g. a function under ``catch``."""
    function, line, path = where
    filename = os.path.basename(path)
    record["function"] = function
    record["line"] = line
    record["module"] = os.path.splitext(filename)[0]
    record["file"] = type(record["file"])(filename, path)  # type: ignore[call-arg]


def _patch(record: Record) -> None:
    """Name, context values, static extras and redaction: runs once per record.

    Never raises: if an extra value defeats redaction (a broken ``__getattr__``,
    a mapping that fails to iterate), the record keeps its message and level
    but its extra values are dropped rather than risk leaking a secret.
    """
    try:
        _patch_record(record)
    except Exception as exc:
        record["extra"] = {"redaction_error": f"{type(exc).__name__}: extra values dropped"}


def _patch_record(record: Record) -> None:
    state = _state
    extra: dict[str, Any] = record["extra"]
    name = extra.pop("_pp_name", None)
    if name is not None:
        record["name"] = name
    std = extra.pop("_pp_std", None)
    if std is not None:
        _apply_stdlib(record, std)
        extra[FROM_STDLIB] = True
    where = extra.pop("_pp_where", None)
    if where is not None:
        _apply_where(record, where)
    ctx = _context_values()
    if ctx or state.extra:
        extra = {**state.extra, **ctx, **extra}
    if state.processors:
        record["extra"] = extra
        for processor in state.processors:
            try:
                processor(record)
            except Exception as exc:
                record["extra"]["processor_error"] = (
                    f"{getattr(processor, '__name__', processor)}: {type(exc).__name__}: {exc}"
                )
        extra = record["extra"]
    if extra:
        redacted = state.redactor.redact_mapping(extra)
        extra = redacted if isinstance(redacted, dict) else dict(redacted)
    record["extra"] = extra
    redactor = state.redactor
    if redactor.messages:
        record["message"] = redactor.redact_text(record["message"])


def _patch_foreign(record: Record) -> None:
    """The core patcher: records logged with raw loguru get the same treatment."""
    if "_pp_name" not in record["extra"]:
        _patch(record)


# --------------------------------------------------------------------------- logger


class _Done:
    """The value every logging method returns: already complete when awaited.

    Logging never blocks the event loop (sinks are fast or enqueued), so the
    methods are plain calls; returning this object also lets the seed's
    ``await logger.info(...)`` style work, at no cost for plain callers.
    """

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield  # pragma: no cover - makes this a generator function

    def __repr__(self) -> str:
        return "<logged>"


_DONE = _Done()

_BASE = _loguru.opt(depth=1).patch(_patch)


def _describe(exc: BaseException, redactor: Redactor) -> str:
    return f"{type(exc).__name__}: {redactor.safe_str(exc, 300)}"


def _safe_args(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Format arguments with secrets masked at any depth (containers, dataclass/attrs)."""
    redact = _state.redactor.redact
    return tuple(redact(a) for a in args)


def _safe_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    redactor = _state.redactor
    return {
        k: (redactor.mask if redactor.is_secret_key(k) else redactor.redact(v))
        for k, v in kwargs.items()
    }


class Logger:
    """A named logger; get one with :func:`get_logger` / ``Logging.get_logger``.

    Every method logs ``message.format(*args, **kwargs)`` (loguru style;
    keyword arguments are also added to the record's extra values) and
    accepts:

    * ``extra={...}``: values added to this record only (not formatted in);
    * ``exc_info=``: ``True`` for the exception being handled, or an
      exception instance / ``(type, value, traceback)`` tuple.

    Calls below the logger's level return at once. Methods return an
    already-completed awaitable, so both ``logger.info("x")`` and
    ``await logger.info("x")`` work.

    Every record carries the current :mod:`pepperpy.context` values, the
    values bound with :meth:`bind`, and is redacted before any sink sees it.
    """

    __slots__ = ("_extra", "_lg", "_lg2", "_node")

    def __init__(self, name: str, extra: Mapping[str, Any] | None = None) -> None:
        self._node = _node(name)
        self._extra: dict[str, Any] = dict(extra or {})
        self._lg = _BASE.bind(_pp_name=name, **self._extra)
        self._lg2 = self._lg.opt(depth=2)  # for _emit (built once, not per record)

    @property
    def name(self) -> str:
        """The logger's name (shown as ``logger`` in JSON lines)."""
        return self._node.name

    @property
    def extra(self) -> Mapping[str, Any]:
        """The values bound to this logger."""
        return dict(self._extra)

    def bind(self, **values: Any) -> Logger:
        """Return a logger adding *values* to each of its records."""
        return Logger(self._node.name, {**self._extra, **values})

    def contextualize(self, **values: Any) -> _context.scope:
        """Bind *values* in :mod:`pepperpy.context` for a ``with`` block (loguru's name).

        Unlike :meth:`bind`, the values reach every logger, span and outgoing
        request made inside the block, including in tasks and threads it starts.
        """
        return _context.scope(**values)

    def catch(
        self,
        message: str = "unhandled error",
        *,
        level: str | int = "ERROR",
        reraise: bool = True,
        exclude: tuple[type[BaseException], ...] = (),
    ) -> _Catch:
        """Log exceptions leaving a block or a (sync or async) function, with traceback.

        Usable as ``with logger.catch():`` / ``async with`` and as a decorator.
        Unlike loguru's ``catch``, the exception is re-raised by default;
        pass ``reraise=False`` to swallow it (the decorated function then
        returns ``None``). Exceptions in *exclude*, and cancellation, pass
        through unlogged. The record's ``function``/``line``/``module`` are
        those of the decorated function (the line the exception left it by),
        or of the code running the ``with`` block.
        """
        return _Catch(self, message, level_no(level), reraise, exclude)

    def is_enabled_for(self, level: str | int) -> bool:
        """Whether a record at *level* would be emitted by this logger."""
        return level_no(level) >= self._node.min

    def _emit(
        self,
        level: str | int,
        message: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        extra: Mapping[str, Any] | None,
        exc_info: Any,
    ) -> None:
        """Log one record; never raises into the caller (like stdlib ``logging``)."""
        redactor = _state.redactor
        try:
            lg = self._lg.opt(depth=2, exception=exc_info) if exc_info else self._lg2
            if extra:
                lg = lg.bind(**extra)
        except Exception as exc:  # extra that is not a mapping of str keys
            lg = self._lg2.bind(format_error=_describe(exc, redactor))
        if type(message) is not str:
            message = redactor.safe_str(message)
            if not (args or kwargs):
                lg.log(level, "{}", message)
                return
        if "{" in message:
            # only a template can show the arguments; kwargs also become extra
            # values, which the patcher redacts (once) like every extra value
            if args:
                args = _safe_args(args)
            if kwargs:
                kwargs = _safe_kwargs(kwargs)
        try:
            lg.log(level, message, *args, **kwargs)
        except Exception as exc:
            # A message template that does not match its arguments, or an
            # argument whose __str__/__format__ raises, is a bug in the calling
            # code, but it must not crash the application.
            lg.bind(format_error=_describe(exc, redactor)).log(level, "{}", message)

    def trace(
        self,
        message: Any,
        /,
        *args: Any,
        extra: Mapping[str, Any] | None = None,
        exc_info: Any = None,
        **kwargs: Any,
    ) -> Awaitable[None]:
        """Log at TRACE (5)."""
        if self._node.min <= 5:
            if args or kwargs or extra is not None or exc_info or type(message) is not str:
                self._emit("TRACE", message, args, kwargs, extra, exc_info)
            else:
                self._lg.log("TRACE", message)
        return _DONE

    def debug(
        self,
        message: Any,
        /,
        *args: Any,
        extra: Mapping[str, Any] | None = None,
        exc_info: Any = None,
        **kwargs: Any,
    ) -> Awaitable[None]:
        """Log at DEBUG (10)."""
        if self._node.min <= 10:
            if args or kwargs or extra is not None or exc_info or type(message) is not str:
                self._emit("DEBUG", message, args, kwargs, extra, exc_info)
            else:
                self._lg.log("DEBUG", message)
        return _DONE

    def info(
        self,
        message: Any,
        /,
        *args: Any,
        extra: Mapping[str, Any] | None = None,
        exc_info: Any = None,
        **kwargs: Any,
    ) -> Awaitable[None]:
        """Log at INFO (20)."""
        if self._node.min <= 20:
            if args or kwargs or extra is not None or exc_info or type(message) is not str:
                self._emit("INFO", message, args, kwargs, extra, exc_info)
            else:
                self._lg.log("INFO", message)
        return _DONE

    def success(
        self,
        message: Any,
        /,
        *args: Any,
        extra: Mapping[str, Any] | None = None,
        exc_info: Any = None,
        **kwargs: Any,
    ) -> Awaitable[None]:
        """Log at SUCCESS (25)."""
        if self._node.min <= 25:
            if args or kwargs or extra is not None or exc_info or type(message) is not str:
                self._emit("SUCCESS", message, args, kwargs, extra, exc_info)
            else:
                self._lg.log("SUCCESS", message)
        return _DONE

    def warning(
        self,
        message: Any,
        /,
        *args: Any,
        extra: Mapping[str, Any] | None = None,
        exc_info: Any = None,
        **kwargs: Any,
    ) -> Awaitable[None]:
        """Log at WARNING (30)."""
        if self._node.min <= 30:
            if args or kwargs or extra is not None or exc_info or type(message) is not str:
                self._emit("WARNING", message, args, kwargs, extra, exc_info)
            else:
                self._lg.log("WARNING", message)
        return _DONE

    def error(
        self,
        message: Any,
        /,
        *args: Any,
        extra: Mapping[str, Any] | None = None,
        exc_info: Any = None,
        **kwargs: Any,
    ) -> Awaitable[None]:
        """Log at ERROR (40)."""
        if self._node.min <= 40:
            if args or kwargs or extra is not None or exc_info or type(message) is not str:
                self._emit("ERROR", message, args, kwargs, extra, exc_info)
            else:
                self._lg.log("ERROR", message)
        return _DONE

    def critical(
        self,
        message: Any,
        /,
        *args: Any,
        extra: Mapping[str, Any] | None = None,
        exc_info: Any = None,
        **kwargs: Any,
    ) -> Awaitable[None]:
        """Log at CRITICAL (50)."""
        if self._node.min <= 50:
            if args or kwargs or extra is not None or exc_info or type(message) is not str:
                self._emit("CRITICAL", message, args, kwargs, extra, exc_info)
            else:
                self._lg.log("CRITICAL", message)
        return _DONE

    def exception(
        self, message: Any, /, *args: Any, extra: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> Awaitable[None]:
        """Log at ERROR with the exception being handled."""
        if self._node.min <= 40:
            self._emit("ERROR", message, args, kwargs, extra, True)
        return _DONE

    def log(
        self,
        level: str | int,
        message: Any,
        /,
        *args: Any,
        extra: Mapping[str, Any] | None = None,
        exc_info: Any = None,
        **kwargs: Any,
    ) -> Awaitable[None]:
        """Log at *level* (a name or a number)."""
        number = level_no(level)
        if number >= self._node.min:
            name = level.upper() if isinstance(level, str) and level.upper() in LEVELS else number
            self._emit(name, message, args, kwargs, extra, exc_info)
        return _DONE

    def __repr__(self) -> str:
        return f"<Logger {self._node.name!r}>"


class _Catch:
    """The context manager / decorator returned by :meth:`Logger.catch`."""

    __slots__ = ("_exclude", "_level", "_logger", "_message", "_reraise")

    def __init__(
        self,
        logger: Logger,
        message: str,
        level: int,
        reraise: bool,
        exclude: tuple[type[BaseException], ...],
    ) -> None:
        self._logger = logger
        self._message = message
        self._level = level
        self._reraise = reraise
        self._exclude = exclude

    def _handle(self, exc: BaseException | None, fn: Callable[..., Any] | None = None) -> bool:
        """Log *exc* if it qualifies; return whether to swallow it.

        The record points at the frame running the ``with`` block or, for a
        decorated function *fn*, at *fn* itself (the line the exception left
        it by): the caller of an ``async def`` is often asyncio's event loop.
        """
        if exc is None or not isinstance(exc, Exception) or isinstance(exc, self._exclude):
            return False
        if self._level >= self._logger._node.min:
            name = level_name(self._level)
            # depth 2: the frame running the ``with`` block (or calling the function)
            lg = self._logger._lg.opt(depth=2, exception=exc)
            where = _where(fn, exc) if fn is not None else None
            if where is not None:
                lg = lg.bind(_pp_where=where)
            lg.log(name if name in LEVELS else self._level, "{}", self._message)
        return not self._reraise

    def __enter__(self) -> _Catch:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        return self._handle(exc)

    async def __aenter__(self) -> _Catch:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        return self._handle(exc)

    def __call__(self, fn: F) -> F:
        if inspect.isasyncgenfunction(fn):
            return cast("F", self._wrap_async_generator(fn))
        if inspect.isgeneratorfunction(fn):
            return cast("F", self._wrap_generator(fn))
        if inspect.iscoroutinefunction(fn):
            return cast("F", self._wrap_coroutine(fn))
        return cast("F", self._wrap_function(fn))

    def _wrap_async_generator(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        async def caught_agen(*args: Any, **kwargs: Any) -> Any:
            gen = fn(*args, **kwargs)
            try:
                item = await gen.__anext__()
                while True:
                    try:
                        sent = yield item
                    except GeneratorExit:
                        await gen.aclose()
                        raise
                    except BaseException as thrown:
                        item = await gen.athrow(thrown)
                    else:
                        item = await gen.asend(sent)
            except StopAsyncIteration:
                return
            except GeneratorExit:
                raise
            except BaseException as exc:
                if not self._handle(exc, fn):
                    raise

        return caught_agen

    def _wrap_generator(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def caught_gen(*args: Any, **kwargs: Any) -> Any:
            try:
                return (yield from fn(*args, **kwargs))
            except GeneratorExit:
                raise
            except BaseException as exc:
                if not self._handle(exc, fn):
                    raise
                return None

        return caught_gen

    def _wrap_coroutine(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        async def caught_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except BaseException as exc:
                if not self._handle(exc, fn):
                    raise
                return None

        return caught_async

    def _wrap_function(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def caught(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except BaseException as exc:
                if not self._handle(exc, fn):
                    raise
                return None

        return caught


def _where(fn: Callable[..., Any], exc: BaseException) -> tuple[str, int, str] | None:
    """Function, line and file of *fn* where *exc* left it (``None`` if unknown).

    The traceback starts at the ``catch`` wrapper; the deepest frame running
    *fn* or a function it wraps (``__wrapped__``) is the user's code. Failing
    that, the frame the wrapper called, then *fn*'s definition.
    """
    codes: list[Any] = []
    target: Any = fn
    for _ in range(100):  # a __wrapped__ chain, bounded in case it loops
        if target is None:
            break
        code = getattr(target, "__code__", None)
        if code is not None:
            codes.append(code)
        target = getattr(target, "__wrapped__", None)
    ids = {id(code) for code in codes}
    tb = exc.__traceback__
    found = tb.tb_next if tb is not None else None
    while tb is not None:
        if id(tb.tb_frame.f_code) in ids:
            found = tb
        tb = tb.tb_next
    if found is not None:
        code = found.tb_frame.f_code
        return (code.co_name, found.tb_lineno or code.co_firstlineno, code.co_filename)
    if codes:
        code = codes[-1]
        return (code.co_name, code.co_firstlineno, code.co_filename)
    return None


def get_logger(name: str | None = None) -> Logger:
    """Return the logger for *name* (default: the calling module's ``__name__``)."""
    if name is None:
        name = sys._getframe(1).f_globals.get("__name__", "app")
    if not isinstance(name, str):
        raise InvalidArgumentError(
            f"a logger name must be a string, got {safe_repr(name)}",
            code="pepperpy.logging.name",
            hint="Pass a dotted name such as 'myapp.db', or nothing to use the module name.",
        )
    found = _loggers.get(name)
    if found is None:
        with _lock:
            found = _loggers.get(name)
            if found is None:
                found = _loggers[name] = Logger(name)
    return found


# --------------------------------------------------------------------------- configure


def _name_filter(record: Record) -> bool:
    state = _state
    if not state.levels:
        return True
    return record["level"].no >= state.name_threshold(record["name"])


def _install_guard(handler_id: int, guard: SinkGuard) -> None:
    handler = _loguru._core.handlers.get(handler_id)  # type: ignore[attr-defined]
    if handler is not None and hasattr(handler, "_error_interceptor"):
        handler._error_interceptor = guard


def _stream_writer(stream: Any) -> Any:
    if not callable(getattr(stream, "write", None)):
        return stream  # a plain callable sink
    flush = getattr(stream, "flush", None)

    def write(message: Any) -> None:
        stream.write(message)
        if callable(flush):
            flush()

    return write


def _file_sink(path: str, options: dict[str, Any]) -> Any:
    # loguru's own file sink (rotation, retention, compression), driven by our thread
    from loguru._file_sink import FileSink

    return FileSink(path, encoding="utf-8", **options)  # type: ignore[no-untyped-call]


class _Handlers:
    """Adds one configuration's loguru handlers, one method per kind of sink.

    Every handler added is remembered so a failure part-way removes them all
    (and stops their queue threads): the previous configuration stays in force.
    """

    def __init__(self, config: LoggingConfig) -> None:
        self.config = config
        self.lowest = min([config.level, *config.levels.values()])
        self.common: dict[str, Any] = {
            "filter": _name_filter,
            "backtrace": config.backtrace,
            "diagnose": config.diagnose,
            "catch": True,
        }
        self.added: list[tuple[int, SinkGuard]] = []
        self.levels_used: list[int] = []
        self.queued: list[ThreadQueueSink] = []

    @staticmethod
    def redactor() -> Redactor:
        return _state.redactor  # looked up per record

    def formatter(self, json: bool, fmt: str | None) -> Any:
        if json:
            return json_formatter(self.redactor)
        return text_formatter(fmt, self.redactor, diagnose=self.config.diagnose)

    def threaded(self, guard: SinkGuard, write: Any, stop: Any = None) -> ThreadQueueSink:
        config = self.config
        sink = ThreadQueueSink(
            write, guard, stop=stop, size=config.queue_size, overflow=config.queue_overflow
        )
        self.queued.append(sink)
        return sink

    def add(self, guard: SinkGuard, sink: Any, level: int | None, **options: Any) -> None:
        effective = self.lowest if level is None else level
        handler_id = _loguru.add(sink, level=effective, **self.common, **options)
        self.added.append((handler_id, guard))
        self.levels_used.append(effective)

    def console(self) -> None:
        console = self.config.console
        if not console.enabled:
            return
        stream = sys.stdout if console.stream == "stdout" else sys.stderr
        fmt = self.formatter(console.json, console.format)
        colorize = False if console.json else console.colorize
        guard = SinkGuard("console")
        target: Any = stream
        if self.config.enqueue == "thread":
            if colorize is None:
                isatty = getattr(stream, "isatty", None)
                colorize = bool(callable(isatty) and isatty())
            target = self.threaded(guard, _stream_writer(stream))
        self.add(guard, target, console.level, format=fmt, colorize=colorize, enqueue=False)

    def file(self, index: int, file: FileConfig) -> None:
        enqueue = self.config.enqueue if file.enqueue is None else file.enqueue
        fmt = self.formatter(file.is_json, file.format)
        file_options: dict[str, Any] = {}
        for key in ("rotation", "retention", "compression"):
            value = getattr(file, key)
            if value is not None:
                file_options[key] = value
        guard = SinkGuard(f"file:{file.path}")
        try:
            if enqueue == "thread":
                inner = _file_sink(file.path, file_options)
                target = self.threaded(guard, inner.write, inner.stop)
                self.add(guard, target, file.level, format=fmt, colorize=False, enqueue=False)
            else:
                self.add(
                    guard,
                    file.path,
                    file.level,
                    format=fmt,
                    colorize=False,
                    enqueue=bool(enqueue),
                    encoding="utf-8",
                    **file_options,
                )
        except (TypeError, ValueError, OSError) as exc:
            raise ConfigurationError(
                f"cannot open log file sink {file.path!r}: {exc}",
                code="pepperpy.logging.file",
                context={"path": f"/files/{index}", "file": file.path},
                hint="Check the path is writable and rotation/retention/compression use "
                "loguru's syntax ('10 MB', '7 days', 'gz').",
            ) from exc

    def custom(self, index: int, custom: SinkConfig) -> None:
        enqueue = self.config.enqueue if custom.enqueue is None else custom.enqueue
        fmt = self.formatter(custom.json, custom.format)
        guard = SinkGuard(custom.name or f"sink:{index}:{safe_repr(custom.sink, 40)}")
        if enqueue == "thread":
            target = self.threaded(guard, _stream_writer(custom.sink))
            self.add(guard, target, custom.level, format=fmt, colorize=False, enqueue=False)
        else:
            self.add(
                guard,
                custom.sink,
                custom.level,
                format=fmt,
                colorize=False,
                enqueue=bool(enqueue),
            )

    def stdlib(self) -> None:
        if self.config.to_stdlib:
            self.add(
                SinkGuard("stdlib"),
                StdlibForwarder(self.redactor),
                None,
                format="{message}",
                colorize=False,
            )

    def undo(self) -> None:
        for handler_id, _ in self.added:
            try:
                _loguru.remove(handler_id)
            except ValueError:
                pass
        for sink in self.queued:
            sink.stop()

    def commit(self, state: _State) -> None:
        for handler_id, guard in self.added:
            state.handler_ids.append(handler_id)
            _install_guard(handler_id, guard)
            state.guards.append(guard)
        state.queued = self.queued
        state.sink_min = min(self.levels_used) if self.levels_used else _NEVER


def _add_handlers(config: LoggingConfig, state: _State) -> None:
    handlers = _Handlers(config)
    try:
        handlers.console()
        for index, file in enumerate(config.files):
            handlers.file(index, file)
        for index, custom in enumerate(config.sinks):
            handlers.custom(index, custom)
        handlers.stdlib()
    except BaseException:
        handlers.undo()
        raise
    handlers.commit(state)


def _remove_handlers(state: _State) -> None:
    for handler_id in state.handler_ids:
        try:
            _loguru.remove(handler_id)
        except ValueError:
            pass
    state.handler_ids = []


def _refresh_nodes() -> None:
    for node in _nodes.values():
        node.min = _state.threshold(node.name)


def _replace_loguru_default() -> int | None:
    """Swap loguru's default stderr handler for one that shows no variable values.

    Loguru's default handler has ``diagnose=True``: tracebacks print the
    values of local variables (passwords, tokens) before :func:`configure`
    runs. Importing pepperpy.logging replaces it with the same stderr output
    rendered by our text formatter (tracebacks redacted, no variable values),
    unless the user asked for variable values with ``LOGURU_DIAGNOSE=1``. If
    other code already removed loguru's default handler, nothing is added.
    """
    if os.environ.get("LOGURU_DIAGNOSE", "").strip().lower() in ("1", "true", "yes", "on"):
        return None
    try:
        _loguru.remove(0)
    except ValueError:
        return None
    return _loguru.add(
        sys.stderr,
        level=os.environ.get("LOGURU_LEVEL") or "DEBUG",
        format=text_formatter(None, lambda: _state.redactor),
        backtrace=False,
        diagnose=False,
        catch=True,
    )


_import_handler = _replace_loguru_default()
_default_removed = False


def configure(
    config: LoggingConfig | Mapping[str, Any] | None = None, /, **overrides: Any
) -> LoggingConfig:
    """Configure logging from a config section (a mapping) or a :class:`LoggingConfig`.

    Replaces the sinks of any previous :func:`configure` (and, the first
    time, loguru's default stderr handler); handlers other code added to
    loguru stay. If the new configuration cannot be applied (unwritable file,
    bad rotation) the previous one stays in force.

    Example section::

        {"level": "INFO", "levels": {"aiohttp.access": "WARNING"},
         "console": {"json": False},
         "files": [{"path": "logs/app.jsonl", "rotation": "10 MB",
                    "retention": "7 days", "compression": "gz", "enqueue": True}],
         "redact": {"keys": ["ssn"]}}

    Returns:
        The configuration in force.

    Raises:
        ValidationError: The section is malformed (every problem listed).
        ConfigurationError: A sink could not be created.
    """
    global _state, _default_removed, _patcher_installed
    if isinstance(config, LoggingConfig):
        parsed = attrs.evolve(config, **overrides) if overrides else config
    else:
        parsed = LoggingConfig.from_dict(config, **overrides)
    with _lock:
        new_state = _State(parsed, parsed.level)
        old_state = _state
        # Switch the state first so records emitted while sinks change are
        # filtered and redacted by the new rules.
        _state = new_state
        try:
            _add_handlers(parsed, new_state)
        except BaseException:
            _state = old_state
            raise
        _remove_handlers(old_state)
        if not _default_removed:
            _default_removed = True
            try:
                _loguru.remove(0 if _import_handler is None else _import_handler)
            except ValueError:
                pass
        if not _patcher_installed:
            _loguru.configure(patcher=_patch_foreign)
            _patcher_installed = True
        _refresh_nodes()
        _set_stdlib_capture(parsed.capture_stdlib, new_state)
    return parsed


def shutdown() -> None:
    """Flush and remove every sink added by :func:`configure`; stop capturing stdlib.

    Enqueued sinks are drained first. Loggers keep working afterwards
    (nothing is written until :func:`configure` runs again, unless other
    loguru handlers exist).
    """
    global _state, _patcher_installed
    with _lock:
        _remove_handlers(_state)
        _set_stdlib_capture(False, None)
        if _patcher_installed:
            _loguru.configure(patcher=None)
            _patcher_installed = False
        _state = _State(None, _env_default())
        _refresh_nodes()


async def complete() -> None:
    """Wait until every enqueued record has been written (both kinds of queue)."""
    await _loguru.complete()
    queued = list(_state.queued)
    if queued:
        from pepperpy.context import to_thread

        for sink in queued:
            await to_thread(sink.drain)


def sink_errors() -> dict[str, SinkFailure]:
    """Return the failures of the current sinks, by sink name.

    Only sinks that failed to write, or dropped records from a full
    ``enqueue="thread"`` queue, are listed.
    """
    return {
        guard.failure.sink: guard.failure
        for guard in _state.guards
        if guard.failure.count or guard.failure.dropped
    }


# --------------------------------------------------------------------------- stdlib


def _set_stdlib_capture(enabled: bool, state: _State | None) -> None:
    global _stdlib_handler, _stdlib_root_level
    from pepperpy.logging._stdlib import InterceptHandler

    root = logging.getLogger()
    if enabled and state is not None:
        if _stdlib_handler is None:
            _stdlib_handler = InterceptHandler()
            _stdlib_root_level = root.level
            root.addHandler(_stdlib_handler)
        lowest = min([state.default, *state.levels.values()]) if state.config else 0
        root.setLevel(max(1, lowest))
    elif _stdlib_handler is not None:
        root.removeHandler(_stdlib_handler)
        _stdlib_handler = None
        if _stdlib_root_level is not None:
            root.setLevel(_stdlib_root_level)
        _stdlib_root_level = None


def _stdlib_emit(record: logging.LogRecord) -> None:
    """Send one stdlib record into our sinks (used by :class:`InterceptHandler`)."""
    name = record.name
    node = _node(name)
    if record.levelno < node.min:
        return
    if record.args:
        try:
            args: Any = record.args
            if isinstance(args, Mapping):
                args = _safe_kwargs(dict(args))
            else:
                args = _safe_args(tuple(args))
            message = _state.redactor.safe_str(record.msg) % args
        except Exception:
            try:
                message = record.getMessage()
            except Exception:
                message = _state.redactor.safe_str(record.msg)
    else:
        message = _state.redactor.safe_str(record.msg)
    level: str | int = record.levelname if record.levelname in LEVELS else record.levelno
    lg = _loguru.opt(exception=record.exc_info or None).patch(_patch)
    lg.bind(_pp_name=name, _pp_std=record, **stdlib_extra(record)).log(level, "{}", message)


class Logging:
    """The seed's facade: ``Logging.get_logger(name)``, ``Logging.configure({...})``.

    Every method is also a module-level function of :mod:`pepperpy.logging`.
    """

    get_logger = staticmethod(get_logger)
    configure = staticmethod(configure)
    shutdown = staticmethod(shutdown)
    complete = staticmethod(complete)
    sink_errors = staticmethod(sink_errors)

    @staticmethod
    def config() -> LoggingConfig | None:
        """Return the configuration in force, or ``None`` before :func:`configure`."""
        return _state.config
