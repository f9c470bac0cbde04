from __future__ import annotations

import asyncio
import errno
import gzip
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from pepperpy import context
from pepperpy import logging as plog
from pepperpy.core.exceptions import ConfigurationError, InvalidArgumentError, ValidationError
from pepperpy.logging import Logging, get_logger


class Secret:
    """Shaped like pepperpy-config's Secret (its repr is careless on purpose)."""

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return self._value

    __str__ = __repr__


def read_json(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def json_file(tmp_path: Path, **options: Any) -> tuple[Path, dict[str, Any]]:
    path = tmp_path / "app.jsonl"
    return path, {"console": False, "files": [{"path": str(path), **options}]}


class TestRecords:
    def test_json_lines_with_context_extra_and_location(self, tmp_path: Path) -> None:
        path, section = json_file(tmp_path)
        plog.configure(section, level="DEBUG", extra={"service": "api"})
        log = Logging.get_logger("app.web")
        with context.scope(request_id="r-1"):
            log.info("hello {}", "world", extra={"user": 7})
            log.bind(component="db").debug("bound", attempt=2)
        records = read_json(path)
        assert [r["message"] for r in records] == ["hello world", "bound"]
        first, second = records
        assert first["logger"] == "app.web"
        assert first["level"] == "INFO"
        assert first["request_id"] == "r-1"
        assert first["service"] == "api"
        assert first["user"] == 7
        assert first["function"] == "test_json_lines_with_context_extra_and_location"
        assert first["module"] == "test_logger"
        assert second["component"] == "db"
        assert second["attempt"] == 2
        assert "user" not in second

    async def test_methods_work_plainly_and_awaited(self, tmp_path: Path) -> None:
        path, section = json_file(tmp_path)
        plog.configure(section, level="TRACE")
        log = get_logger("seed")
        await log.info("Operation successful", extra={"user": "u1", "operation": "process"})
        try:
            raise ValueError("bad input")
        except ValueError as exc:
            await log.error("Operation failed", exc_info=exc)
        for method in ("trace", "debug", "success", "warning", "critical"):
            result = getattr(log, method)(method)
            assert await result is None
        await log.log("warning", "by name")
        await log.log(35, "by number")
        try:
            {}["missing"]
        except KeyError:
            await log.exception("handled")
        records = read_json(path)
        assert records[0]["operation"] == "process"
        assert records[1]["exception"]["type"] == "ValueError"
        assert "bad input" in records[1]["exception"]["traceback"]
        assert [r["level"] for r in records[2:7]] == [
            "TRACE",
            "DEBUG",
            "SUCCESS",
            "WARNING",
            "CRITICAL",
        ]
        assert records[7]["level"] == "WARNING"
        assert records[8]["level"] == "Level 35"
        assert records[9]["exception"]["type"] == "KeyError"

    def test_default_name_is_the_calling_module(self) -> None:
        assert get_logger().name == __name__
        assert get_logger("x") is get_logger("x")
        assert repr(get_logger("x")) == "<Logger 'x'>"
        with pytest.raises(InvalidArgumentError):
            get_logger(3)  # type: ignore[arg-type]

    def test_bad_format_arguments_never_raise(self, tmp_path: Path) -> None:
        path, section = json_file(tmp_path)
        plog.configure(section)
        get_logger("x").info("value {missing}", other=1)
        get_logger("x").info("value {0} {1}", "only one")
        records = read_json(path)
        assert records[0]["message"] == "value {missing}"
        assert "KeyError" in records[0]["format_error"]
        assert "IndexError" in records[1]["format_error"]

    def test_braces_without_arguments_are_literal(self, tmp_path: Path) -> None:
        path, section = json_file(tmp_path)
        plog.configure(section)
        get_logger("x").info('{"json": "body"}')
        assert read_json(path)[0]["message"] == '{"json": "body"}'

    def test_text_file_with_custom_format(self, tmp_path: Path) -> None:
        path = tmp_path / "plain.log"
        plog.configure(
            console=False, files=[{"path": str(path), "format": "{level}|{name}|{message}"}]
        )
        get_logger("t").warning("careful")
        assert path.read_text().strip() == "WARNING|t|careful"

    def test_pretty_console_shows_context(self, capsys: pytest.CaptureFixture[str]) -> None:
        plog.configure({"console": {"colorize": False}})
        with context.scope(request_id="r-console"):
            get_logger("pretty").info("visible", n=1)
        err = capsys.readouterr().err
        assert "INFO" in err
        assert "pretty:test_pretty_console_shows_context" in err
        assert "visible | request_id=r-console n=1" in err

    def test_json_console_to_stdout(self, capsys: pytest.CaptureFixture[str]) -> None:
        plog.configure({"console": {"json": True, "stream": "stdout"}})
        get_logger("j").info("to stdout")
        line = json.loads(capsys.readouterr().out)
        assert line["message"] == "to stdout"


class TestLevels:
    def test_levels_per_logger_name(self, tmp_path: Path) -> None:
        path, section = json_file(tmp_path)
        plog.configure(section, level="INFO", levels={"noisy": "ERROR", "app.db": "DEBUG"})
        get_logger("noisy").warning("dropped")
        get_logger("noisy.child").warning("dropped too")
        get_logger("noisyish").info("kept: not a child")
        get_logger("noisy").error("kept: error")
        get_logger("app.db.pool").debug("kept: debug allowed")
        get_logger("app").debug("dropped: default INFO")
        messages = [r["message"] for r in read_json(path)]
        assert messages == ["kept: not a child", "kept: error", "kept: debug allowed"]
        assert get_logger("app.db").is_enabled_for("DEBUG")
        assert not get_logger("noisy").is_enabled_for("warning")

    def test_sink_levels(self, tmp_path: Path) -> None:
        debug_file = tmp_path / "debug.jsonl"
        error_file = tmp_path / "errors.jsonl"
        plog.configure(
            level="DEBUG",
            console=False,
            files=[{"path": str(debug_file)}, {"path": str(error_file), "level": "ERROR"}],
        )
        log = get_logger("s")
        log.debug("d")
        log.error("e")
        assert [r["message"] for r in read_json(debug_file)] == ["d", "e"]
        assert [r["message"] for r in read_json(error_file)] == ["e"]

    def test_reconfigure_updates_existing_loggers(self, tmp_path: Path) -> None:
        path, section = json_file(tmp_path)
        log = get_logger("re")
        plog.configure(section, level="ERROR")
        log.info("dropped")
        plog.configure(section, level="INFO")
        log.info("kept")
        assert [r["message"] for r in read_json(path)] == ["kept"]
        assert Logging.config() is not None

    def test_raw_loguru_records_follow_the_rules(self, tmp_path: Path) -> None:
        from loguru import logger as raw

        path, section = json_file(tmp_path)
        # a rule for another logger leaves raw records alone (not "tests": an unpacked sdist
        # imports this module as tests.test_logger, which that rule would cover)
        plog.configure(section, levels={"elsewhere": "ERROR"})
        with context.scope(request_id="raw"):
            raw.bind(password="pw").warning("raw loguru")
        records = read_json(path)
        assert records[0]["request_id"] == "raw"
        assert records[0]["password"] == "***"


class TestRedaction:
    def test_secrets_never_reach_any_sink(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        json_path = tmp_path / "app.jsonl"
        text_path = tmp_path / "app.log"
        lines: list[str] = []
        plog.configure(
            {
                "console": {"colorize": False},
                "files": [{"path": str(json_path)}, {"path": str(text_path)}],
                "sinks": [{"sink": lines.append, "name": "memory"}],
                "redact": {"keys": ["ssn"]},
            }
        )
        secret = Secret("TOPSECRET-1")
        log = get_logger("sec")
        with context.scope(request_id="r", api_key="TOPSECRET-2"):
            log.info(
                "login password=TOPSECRET-3 with {}",
                secret,
                extra={"user": {"name": "ada", "password": "TOPSECRET-4"}, "ssn": "TOPSECRET-5"},
            )
            log.info("kw {token}", token="TOPSECRET-6")
            log.bind(credentials=secret).info("bound")
            logging.getLogger("third.party").warning(
                "stdlib %s", Secret("TOPSECRET-7"), extra={"authorization": "TOPSECRET-8"}
            )
            log.info("nested", extra={"items": [secret, {"token": "TOPSECRET-9"}]})
        outputs = [json_path.read_text(), text_path.read_text(), "".join(lines)]
        outputs.append(capsys.readouterr().err)
        for output in outputs:
            assert "TOPSECRET" not in output
            assert "***" in output
        records = read_json(json_path)
        assert records[0]["user"] == {"name": "ada", "password": "***"}
        assert records[0]["request_id"] == "r"

    def test_custom_mask_and_no_message_scrubbing(self, tmp_path: Path) -> None:
        path, section = json_file(tmp_path)
        plog.configure(section, redact={"mask": "[x]", "messages": False})
        get_logger("m").info("password=visible", extra={"password": "p"})
        record = read_json(path)[0]
        assert record["message"] == "password=visible"
        assert record["password"] == "[x]"


class TestSinks:
    def test_failing_sink_never_raises_and_is_reported_once(
        self, tmp_path: Path, capfd: pytest.CaptureFixture[str]
    ) -> None:
        class DiskFull:
            def write(self, message: str) -> None:
                raise OSError(errno.ENOSPC, "No space left on device")

        good = tmp_path / "good.jsonl"
        plog.configure(
            console=False,
            files=[{"path": str(good)}],
            sinks=[{"sink": DiskFull(), "name": "full-disk"}],
        )
        log = get_logger("fail")
        for i in range(5):
            log.info("line {}", i)
        assert len(read_json(good)) == 5  # the healthy sink keeps working
        failures = plog.sink_errors()
        assert list(failures) == ["full-disk"]
        assert failures["full-disk"].count == 5
        assert "No space left" in failures["full-disk"].first_error
        err = capfd.readouterr().err
        assert err.count("pepperpy.logging: sink 'full-disk' failed") == 1
        assert "Logging error in Loguru" not in err

    def test_closed_file_sink(self, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
        stream = (tmp_path / "closed.log").open("w")
        plog.configure(console=False, sinks=[stream])
        stream.close()
        get_logger("c").info("one")
        get_logger("c").info("two")
        (failure,) = plog.sink_errors().values()
        assert failure.count == 2
        assert "closed file" in failure.last_error
        assert capfd.readouterr().err.count("failed to write a record") == 1

    def test_bad_file_sink_keeps_the_previous_configuration(self, tmp_path: Path) -> None:
        path, section = json_file(tmp_path)
        plog.configure(section)
        with pytest.raises(ConfigurationError, match="cannot open log file sink"):
            plog.configure(console=False, files=[{"path": str(tmp_path)}])  # a directory
        with pytest.raises(ConfigurationError):
            plog.configure(console=False, files=[{"path": str(path), "rotation": "sometimes"}])
        get_logger("still").info("works")
        assert read_json(path)[-1]["message"] == "works"

    def test_invalid_section_raises_validation_error(self) -> None:
        with pytest.raises(ValidationError):
            plog.configure({"level": "loud"})

    def test_rotation_retention_compression(self, tmp_path: Path) -> None:
        logs = tmp_path / "logs"
        plog.configure(
            console=False,
            files=[
                {
                    "path": str(logs / "app.log"),
                    "rotation": "300 B",
                    "retention": 2,
                    "compression": "gz",
                    "format": "{message}",
                }
            ],
        )
        log = get_logger("rot")
        for i in range(40):
            log.info("line {:03d} {}", i, "x" * 40)
        plog.shutdown()
        archives = sorted(logs.glob("*.gz"))
        assert 1 <= len(archives) <= 2  # older archives were removed
        with gzip.open(archives[0], "rt") as fh:
            assert fh.read().startswith("line ")
        assert (logs / "app.log").exists()

    async def test_enqueue_from_threads_and_tasks(self, tmp_path: Path) -> None:
        path, section = json_file(tmp_path, enqueue=True)
        plog.configure(section)
        log = get_logger("q")

        def work(i: int) -> None:
            log.info("thread {}", i)

        async def task(i: int) -> None:
            await log.info("task {}", i)

        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(work, range(20)))
        await asyncio.gather(*(task(i) for i in range(20)))
        await plog.complete()
        assert len(read_json(path)) == 40

    def test_sink_added_as_callable_and_json(self) -> None:
        lines: list[str] = []
        plog.configure(console=False, sinks=[{"sink": lines.append, "json": True}])
        get_logger("cb").info("called")
        assert json.loads(lines[0])["message"] == "called"


class TestStdlibBridge:
    def test_stdlib_records_reach_our_sinks(self, tmp_path: Path) -> None:
        path, section = json_file(tmp_path)
        plog.configure(section, level="DEBUG", levels={"aiohttp.access": "WARNING"})
        with context.scope(request_id="std"):
            logging.getLogger("aiohttp.access").info("dropped by levels")
            logging.getLogger("aiohttp.access").warning("GET / %s", 200, extra={"peer": "::1"})
            logging.getLogger("asyncio").debug("debug from asyncio")
            try:
                raise RuntimeError("std boom")
            except RuntimeError:
                logging.getLogger("lib").exception("failed")
        records = read_json(path)
        assert [(r["logger"], r["level"], r["message"]) for r in records] == [
            ("aiohttp.access", "WARNING", "GET / 200"),
            ("asyncio", "DEBUG", "debug from asyncio"),
            ("lib", "ERROR", "failed"),
        ]
        assert records[0]["peer"] == "::1"
        assert records[0]["request_id"] == "std"
        assert records[0]["function"] == "test_stdlib_records_reach_our_sinks"
        assert records[2]["exception"]["type"] == "RuntimeError"

    def test_capture_can_be_disabled_and_is_removed_on_shutdown(self, tmp_path: Path) -> None:
        path, section = json_file(tmp_path)
        root = logging.getLogger()
        before = list(root.handlers)
        plog.configure(section, capture_stdlib=False)
        logging.getLogger("x").warning("not captured")
        assert root.handlers == before
        plog.configure(section)
        assert any(isinstance(h, plog.InterceptHandler) for h in root.handlers)
        plog.shutdown()
        assert root.handlers == before
        assert not path.read_text()

    def test_our_records_reach_stdlib_handlers(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        plog.configure(console=False, to_stdlib=True)
        caplog.set_level(logging.INFO)
        with context.scope(request_id="to-std"):
            get_logger("ours.module").warning("to stdlib", extra={"password": "pw"})
        (record,) = [r for r in caplog.records if r.name == "ours.module"]
        assert record.levelname == "WARNING"
        assert record.getMessage() == "to stdlib"
        assert record.request_id == "to-std"  # type: ignore[attr-defined]
        assert record.password == "***"  # type: ignore[attr-defined]


def test_done_when_every_line_has_its_request_id_and_no_secret(tmp_path: Path) -> None:
    """Concurrent tasks and a thread pool: each line carries the right id; no secret leaks."""
    path = tmp_path / "app.jsonl"
    text = tmp_path / "app.log"
    plog.configure(
        console=False, level="DEBUG", files=[{"path": str(path), "enqueue": True}, str(text)]
    )
    log = get_logger("done")
    secret = Secret("NEVER-LOG-ME")

    def blocking(i: int) -> None:
        log.debug("in thread {}", i, extra={"password": "NEVER-LOG-ME"})
        logging.getLogger("stdlib.lib").info("stdlib in thread %s", i)

    async def handler(i: int, pool: ThreadPoolExecutor) -> None:
        async with context.scope(request_id=f"req-{i}", token=secret):
            await log.info("start {}", i)
            await asyncio.sleep(0)
            await context.to_thread(blocking, i)
            await asyncio.get_running_loop().run_in_executor(pool, context.wrap(blocking), i)
            await log.info("end {}", i, extra={"credentials": secret})

    async def main() -> None:
        with ThreadPoolExecutor(max_workers=3) as pool:
            await asyncio.gather(*(handler(i, pool) for i in range(12)))
        await plog.complete()

    asyncio.run(main())
    plog.shutdown()
    records = [r for r in read_json(path) if r["logger"] in ("done", "stdlib.lib")]
    assert len(records) == 12 * 6
    for record in records:
        number = record["message"].rsplit(" ", 1)[-1]
        assert record["request_id"] == f"req-{number}", record
    for output in (path.read_text(), text.read_text()):
        assert "NEVER-LOG-ME" not in output


def test_hostile_values_never_break_logging(tmp_path: Path) -> None:
    class Hostile:
        def __getattr__(self, name: str) -> Any:
            raise RuntimeError("no attributes for you")

    class BadMapping(dict[str, Any]):
        def items(self) -> Any:
            raise RuntimeError("cannot iterate")

    path, section = json_file(tmp_path)
    plog.configure(section)
    get_logger("h").info("hostile", extra={"obj": Hostile()})
    get_logger("h").info("bad mapping", extra={"nested": BadMapping(a=1)})
    first, second = read_json(path)
    assert first["obj"] == "***"
    assert second["message"] == "bad mapping"
    assert "redaction_error" in second


def test_contextualize_and_colours(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, section = json_file(tmp_path)
    plog.configure(section)
    log = get_logger("ctx")
    with log.contextualize(request_id="cz"):
        get_logger("other").info("from another logger")
    assert read_json(path)[0]["request_id"] == "cz"
    plog.configure({"console": {"colorize": True}})
    log.warning("coloured")
    assert "\x1b[" in capsys.readouterr().err


async def test_catch_logs_and_reraises_or_swallows(tmp_path: Path) -> None:
    path, section = json_file(tmp_path)
    plog.configure(section)
    log = get_logger("catch")

    @log.catch("sync failed")
    def sync_fail() -> None:
        raise ValueError("v")

    @log.catch("async failed", reraise=False)
    async def async_fail() -> int:
        raise KeyError("k")

    @log.catch()
    async def fine() -> int:
        return 3

    with pytest.raises(ValueError):
        sync_fail()
    assert await async_fail() is None
    assert await fine() == 3
    with log.catch("block", reraise=False, level="WARNING"):
        raise RuntimeError("r")
    with pytest.raises(KeyError):
        async with log.catch("ignored", exclude=(LookupError,), reraise=False):
            raise KeyError("excluded: passes through, not logged")
    records = read_json(path)
    assert [(r["message"], r["level"], r["exception"]["type"]) for r in records] == [
        ("sync failed", "ERROR", "ValueError"),
        ("async failed", "ERROR", "KeyError"),
        ("block", "WARNING", "RuntimeError"),
    ]
    assert records[2]["function"] == "test_catch_logs_and_reraises_or_swallows"


async def test_catch_reports_the_decorated_function(tmp_path: Path) -> None:
    """The record points at the decorated function, sync or async, even run as a task."""
    path, section = json_file(tmp_path)
    plog.configure(section)
    log = get_logger("catch")

    @log.catch("async failed", reraise=False)
    async def async_fail() -> None:
        await asyncio.sleep(0)
        raise KeyError("k")  # line: async_fail

    @log.catch("sync failed", reraise=False)
    def sync_fail() -> None:
        raise ValueError("v")  # line: sync_fail

    def nested() -> None:
        raise RuntimeError("deep")

    @log.catch("nested failed", reraise=False)
    async def calls_nested() -> None:
        nested()  # line: calls_nested

    await asyncio.create_task(async_fail())  # the task's own coroutine: asyncio is the caller
    await async_fail()
    await asyncio.get_running_loop().run_in_executor(None, sync_fail)
    sync_fail()
    await asyncio.create_task(calls_nested())
    records = read_json(path)
    source = (await asyncio.to_thread(Path(__file__).read_text, encoding="utf-8")).splitlines()

    def line(marker: str) -> int:
        return next(n for n, text in enumerate(source, 1) if text.endswith(f"# line: {marker}"))

    where = [(r["function"], r["module"], r["line"]) for r in records]
    assert where == [
        ("async_fail", "test_logger", line("async_fail")),
        ("async_fail", "test_logger", line("async_fail")),
        ("sync_fail", "test_logger", line("sync_fail")),
        ("sync_fail", "test_logger", line("sync_fail")),
        ("calls_nested", "test_logger", line("calls_nested")),
    ]
    assert all(r["logger"] == "catch" for r in records)


class TestThreadQueue:
    async def test_thread_queue_file_with_rotation(self, tmp_path: Path) -> None:
        logs = tmp_path / "q"
        plog.configure(
            console=False,
            enqueue="thread",
            files=[{"path": str(logs / "app.jsonl"), "rotation": "2 KB", "retention": 3}],
        )
        log = get_logger("tq")
        with context.scope(request_id="tq-1"):
            for i in range(60):
                await log.info("record {}", i)
        await plog.complete()
        plog.shutdown()
        files = sorted(logs.iterdir())
        assert 2 <= len(files) <= 4
        current = read_json(logs / "app.jsonl")
        assert current[-1]["message"] == "record 59"
        assert current[-1]["request_id"] == "tq-1"

    def test_full_queue_drops_and_reports_once(self, capfd: pytest.CaptureFixture[str]) -> None:
        gate = threading.Event()
        written: list[str] = []

        def slow(message: str) -> None:
            gate.wait(10)  # released below; the bound only guards against a hang
            written.append(message)

        plog.configure(
            console=False,
            queue_size=2,
            sinks=[{"sink": slow, "name": "slow", "enqueue": "thread"}],
        )
        log = get_logger("drop")
        try:
            for i in range(20):
                log.info("m{}", i)  # never blocks the caller
            failure = plog.sink_errors()["slow"]
        finally:
            gate.set()
        assert failure.dropped >= 15
        assert failure.count == 0
        gate.set()
        plog.shutdown()  # drains what was queued
        assert 2 <= len(written) <= 5
        assert capfd.readouterr().err.count("cannot keep up") == 1

    def test_block_policy_keeps_everything(self, tmp_path: Path) -> None:
        lines: list[str] = []
        plog.configure(
            console=False,
            enqueue="thread",
            queue_size=1,
            queue_overflow="block",
            sinks=[{"sink": lines.append, "json": True}],
        )
        log = get_logger("block")
        for i in range(50):
            log.info("b{}", i)
        plog.shutdown()
        assert [json.loads(line)["message"] for line in lines] == [f"b{i}" for i in range(50)]

    def test_failing_sink_behind_a_thread_queue(self, capfd: pytest.CaptureFixture[str]) -> None:
        def broken(message: str) -> None:
            raise OSError(errno.EPIPE, "Broken pipe")

        plog.configure(console=False, sinks=[{"sink": broken, "name": "pipe", "enqueue": "thread"}])
        for _ in range(3):
            get_logger("p").info("x")
        asyncio.run(plog.complete())
        assert plog.sink_errors()["pipe"].count == 3
        assert capfd.readouterr().err.count("sink 'pipe' failed") == 1

    def test_console_through_a_thread_queue(self, capsys: pytest.CaptureFixture[str]) -> None:
        plog.configure({"console": {"colorize": False}, "enqueue": "thread"})
        get_logger("c").info("queued console")
        plog.shutdown()
        assert "queued console" in capsys.readouterr().err

    def test_queue_options_are_validated(self) -> None:
        with pytest.raises(ValidationError) as info:
            plog.configure(enqueue="process", queue_size=0, queue_overflow="spill")
        assert set(info.value.paths) == {"/enqueue", "/queue_size", "/queue_overflow"}


def add_hostname(record: dict[str, Any]) -> None:
    record["extra"]["host"] = "test-host"


def test_processors_run_before_redaction(tmp_path: Path) -> None:
    def add_user_secret(record: dict[str, Any]) -> None:
        record["extra"]["password"] = "LEAK?"  # a processor cannot leak: redaction runs after
        record["message"] = record["message"].upper()

    def broken(record: dict[str, Any]) -> None:
        raise RuntimeError("processor bug")

    path, section = json_file(tmp_path)
    plog.configure(
        section,
        processors=[add_user_secret, f"{__name__}:add_hostname", broken],
    )
    get_logger("proc").info("hello token=abc")
    (record,) = read_json(path)
    assert record["message"] == "HELLO TOKEN=***"
    assert record["password"] == "***"
    assert record["host"] == "test-host"
    assert "processor bug" in record["processor_error"]
    with pytest.raises(ValidationError) as info:
        plog.configure(section, processors=["no.such.module:fn", 3])
    assert set(info.value.paths) == {"/processors/0", "/processors/1"}
