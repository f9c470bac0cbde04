"""Hostile review of pepperpy-core's utilities after issue 19 #12-16.

Each test attacks a variation next to a fixed finding (the docstring names it):
user code that raises a BaseException where the helper caught only Exception,
and "none is left running" promises.
"""

from __future__ import annotations

import asyncio

import pytest

from pepperpy.core import ManualClock
from pepperpy.core.utils import debounce, gather_limited


async def _settle(rounds: int = 20) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0)


async def test_debounced_call_whose_function_raises_cancelled_error_does_not_hang() -> None:
    """Next to issue 19 #16 (once/throttle after a cancel): an async debounced function that
    raises CancelledError (it awaited a future someone else cancelled) left every caller of
    the burst waiting forever: the run caught only Exception and never resolved the callers."""
    clock = ManualClock()
    other: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @debounce(1, clock=clock)
    async def save() -> None:
        await other

    caller = asyncio.ensure_future(save())
    await _settle()
    await clock.advance(1)
    await _settle()
    other.cancel()
    await _settle()
    assert caller.done()
    with pytest.raises(asyncio.CancelledError):
        caller.result()


async def test_gather_limited_cancels_given_tasks_it_never_reached() -> None:
    """Next to issue 19 #16: gather_limited promises that on the first error "none is left
    running"; tasks (not coroutines) it had not reached yet kept running."""
    gate = asyncio.Event()

    async def fail() -> None:
        raise LookupError("first fails")

    async def wait() -> None:
        await gate.wait()

    later = [asyncio.ensure_future(wait()) for _ in range(3)]
    with pytest.raises(LookupError):
        await gather_limited([fail(), *later], 1)
    await _settle()
    assert all(task.cancelled() for task in later)


async def test_gather_limited_returns_an_inner_cancellation_as_a_result() -> None:
    """Next to issue 19 #12 (a cancellation nobody asked for): with return_exceptions=True an
    awaitable that raises CancelledError is a result, as asyncio.gather does, and the caller
    (not cancelled) is not cancelled."""
    cancelled: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    cancelled.cancel()

    async def ok() -> int:
        return 1

    results = await gather_limited([ok(), cancelled, ok()], 2, return_exceptions=True)
    assert results[0] == 1 and results[2] == 1
    assert isinstance(results[1], asyncio.CancelledError)


# -- the one redactor (issue 20 #1/#2): secrets in the positions next to the fixed ones ---------

from collections import namedtuple  # noqa: E402
from dataclasses import dataclass  # noqa: E402

from pepperpy.core import redact, redact_text, safe_str  # noqa: E402

_Creds = namedtuple("_Creds", "user password")


@dataclass(frozen=True)
class _Login:
    name: str
    password: str


def _leaks(rendered: object, secret: str = "hunter2") -> bool:
    return secret in str(rendered) or secret in repr(rendered)


def test_redact_masks_a_namedtuple_field() -> None:
    """Next to issue 20 #2 (dataclass/attrs fields): a namedtuple is a tuple subclass, so
    redact() returned it whole and a JSON sink then wrote ["app", "hunter2"]."""
    import json

    out = redact({"creds": _Creds("app", "hunter2")})
    assert not _leaks(out)
    assert not _leaks(json.dumps(out, default=str))
    assert not _leaks(safe_str(_Creds("app", "hunter2")))


def test_redact_masks_inside_sets_and_list_subclasses() -> None:
    """Next to issue 20 #2: containers other than exact list/tuple were returned whole."""
    import collections

    assert not _leaks(redact({"logins": frozenset({_Login("a", "hunter2")})}))
    assert not _leaks(redact({"logins": {_Login("a", "hunter2")}}))
    assert not _leaks(redact(collections.deque([{"password": "hunter2"}])))

    class Rows(list):  # type: ignore[type-arg]
        pass

    assert not _leaks(redact(Rows([{"password": "hunter2"}])))


def test_bytes_keys_and_bytes_values_are_masked() -> None:
    """Next to issue 20 #2: ``{b"password": b"hunter2"}`` (raw header maps) kept the value, and
    rendered as text the mask covered only the ``b`` of ``b'hunter2'``."""
    assert not _leaks(redact({b"password": b"hunter2"}))
    assert not _leaks(safe_str({b"password": b"hunter2"}))
    assert not _leaks(redact_text("password=b'hunter2'"))


def test_url_passwords_holding_at_signs_or_slashes_are_masked() -> None:
    """Issue 20 #2 (URL userinfo): a hand-written DSN whose password holds ``@`` or ``/``
    kept part or all of the password (``app:***@ss@db``, ``:pa/ss@cache``)."""
    for text, secret in (
        ("postgresql://app:p@ss@db:5432/x", "ss@db"),
        ("redis://:pa/ss@cache:6379/0", "pa/ss"),
        ("amqp://u:a@b@c@mq/vhost and then http://x.example/y", "b@c"),
    ):
        out = redact_text(text)
        assert secret not in out, out
        assert "***" in out
    # an ordinary URL keeps its host
    assert redact_text("see http://u:pw@host.example/path?mail=a@b.example") == (
        "see http://u:***@host.example/path?mail=a@b.example"
    )


def test_quoted_secret_values_with_escaped_quotes_are_masked_whole() -> None:
    """Issue 20 #2 (key=value in text): a JSON or repr value holding an escaped quote was
    masked only up to the escape (``"***"ter2"``)."""
    assert "ter2" not in redact_text('{"password": "hun\\"ter2"}')
    assert "r2" not in redact_text(repr({"password": "hun'te\"r2"}))
    assert "ter2" not in redact_text('password="hunter2')  # never closed


# -- Lifecycle: a start failure is rendered safely (issue 20 #1/#6 for error messages) ---------

from pepperpy.core import Lifecycle  # noqa: E402
from pepperpy.core.exceptions import StartupError  # noqa: E402


class _Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str")


class _Failing(Lifecycle):
    def __init__(self, error: Exception) -> None:
        self.error = error

    async def _on_start(self) -> None:
        raise self.error


async def test_a_start_failure_whose_str_raises_is_still_a_startup_error() -> None:
    """Issue 19 #15 / issue 20 #6 neighbour: start() built its StartupError message with
    ``f"... {exc}"``; an error whose __str__ raises escaped as that raw RuntimeError."""
    with pytest.raises(StartupError) as info:
        await _Failing(_Unprintable()).start()
    assert isinstance(info.value.__cause__, _Unprintable)


async def test_a_start_failure_message_is_redacted() -> None:
    """Issue 20 #1: error texts go through the one redactor; a connection error naming its
    DSN put the password into the StartupError message (and every log line of it)."""
    with pytest.raises(StartupError) as info:
        await _Failing(ConnectionError("cannot reach postgresql://app:hunter2@db/app")).start()
    assert "hunter2" not in str(info.value)


# -- import_string / Backends: a module that fails at import (issue 22 #6's one mechanism) ----

import sys as _sys  # noqa: E402
from pathlib import Path as _Path  # noqa: E402

from pepperpy.core.exceptions import PepperPyError  # noqa: E402
from pepperpy.core.utils import import_string  # noqa: E402


@pytest.mark.parametrize(
    ("module", "body"),
    [
        ("rv_exits_at_import", "import sys\nsys.exit(2)\n"),
        ("rv_raises_at_import", "raise LookupError('password=hunter2')\n"),
    ],
)
def test_import_string_of_a_module_failing_at_import_is_a_pepperpy_error(
    tmp_path: _Path, monkeypatch: pytest.MonkeyPatch, module: str, body: str
) -> None:
    """Only PepperPyError subclasses escape: import_string caught only ImportError, so a
    module raising anything else at import (or calling sys.exit()) escaped raw, and a
    SystemExit ended the process."""
    (tmp_path / f"{module}.py").write_text(body, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with pytest.raises(PepperPyError) as info:
            import_string(f"{module}:thing")
    finally:
        _sys.modules.pop(module, None)
    assert "hunter2" not in str(info.value)


# -- parsing and merging: huge numbers and deep nesting (issue 19 #2 and #13 neighbours) -----

from pepperpy.core.exceptions import InvalidArgumentError  # noqa: E402
from pepperpy.core.utils import deep_merge, parse_duration, parse_size  # noqa: E402


@pytest.mark.parametrize("value", [10**400, "9" * 400 + "s", "1" + "0" * 400])
def test_parse_duration_of_a_huge_value_is_refused(value: object) -> None:
    """Issue 19 #2/#13 neighbour: ``parse_duration(10**400)`` raised OverflowError, and
    ``"999...9s"`` became an infinite duration although ``"inf"`` is refused."""
    with pytest.raises(InvalidArgumentError):
        parse_duration(value)  # type: ignore[arg-type]


def test_parse_size_of_a_huge_or_long_number() -> None:
    """Issue 19 #2 neighbour: ``parse_size("9"*400 + "KB")`` raised OverflowError (float to
    infinity), and long numbers lost bytes through a float."""
    assert parse_size("9" * 400 + "KB") == int("9" * 400) * 1000
    assert parse_size("12345678901234567891KB") == 12345678901234567891000


def test_deep_merge_of_deep_or_cyclic_input_is_a_pepperpy_error() -> None:
    """Issue 19 #2 (nesting gets a documented depth limit) and #16 (deep_merge): input nested
    5,000 deep, or a dict containing itself, raised RecursionError."""
    deep: dict[str, object] = {}
    node = deep
    for _ in range(5000):
        node["a"] = {}
        node = node["a"]  # type: ignore[assignment]
    with pytest.raises(InvalidArgumentError):
        deep_merge(deep, deep)
    cyclic: dict[str, object] = {}
    cyclic["self"] = cyclic
    with pytest.raises(InvalidArgumentError):
        deep_merge(cyclic)
    looped: list[object] = []
    looped.append(looped)
    with pytest.raises(InvalidArgumentError):
        deep_merge({"items": looped})
    # 150 levels still merge
    shallow: dict[str, object] = {}
    node = shallow
    for _ in range(150):
        node["a"] = {}
        node = node["a"]  # type: ignore[assignment]
    assert deep_merge(shallow, {"b": 1})["b"] == 1


@pytest.mark.parametrize("name", [["sqlite"], None, 5], ids=["list", "none", "int"])
def test_backends_load_refuses_a_name_that_is_not_a_str(name: object) -> None:
    """Issue 22 #6 (the one lookup mechanism): ``load(["sqlite"])`` raised a raw TypeError
    (unhashable) and ``load(None)`` said "no backend named None"; both are bad arguments."""
    from pepperpy.core.utils import Backends

    backends = Backends("demo", "backend", "pepperpy.demo.backends", {"json": "json:dumps"})
    with pytest.raises(InvalidArgumentError):
        backends.load(name)  # type: ignore[arg-type]
    assert backends.load("json") is __import__("json").dumps
