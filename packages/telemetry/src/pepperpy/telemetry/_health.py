"""Health checks: registered probes, an aggregated report and readiness."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import math
import threading
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal, Union

import attrs

from pepperpy.core import default_redactor, safe_str
from pepperpy.core.exceptions import ConflictError, InvalidArgumentError, NotFoundError, safe_repr
from pepperpy.core.types import Clock, system_clock
from pepperpy.core.utils import cancel_requested

__all__ = ["CheckResult", "Health", "HealthReport", "HealthStatus"]

HealthStatus = Literal["ok", "degraded", "failing"]
_ORDER: dict[str, int] = {"ok": 0, "degraded": 1, "failing": 2}

CheckReturn = Union[None, bool, str, tuple[str, str], "CheckResult"]
CheckFn = Callable[[], Union[CheckReturn, Awaitable[CheckReturn]]]


@attrs.frozen
class CheckResult:
    """The outcome of one check.

    Attributes:
        name: The check's name.
        status: ``"ok"``, ``"degraded"`` or ``"failing"``.
        detail: Why (an error message, a timeout, what the check said).
        duration: Seconds the check took.
        critical: Whether a failure makes the whole report ``failing``.
    """

    name: str
    status: HealthStatus
    detail: str | None = None
    duration: float = 0.0
    critical: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {
            "status": self.status,
            "detail": self.detail,
            "duration": round(self.duration, 6),
            "critical": self.critical,
        }


@attrs.frozen
class HealthReport:
    """Every check's result and the aggregate.

    ``status`` is ``failing`` when a critical check fails, ``degraded`` when a
    non-critical check fails or any check reports ``degraded``, else ``ok``.
    """

    status: HealthStatus
    checks: Mapping[str, CheckResult]
    ready: bool
    time: float

    @property
    def http_status(self) -> int:
        """200 unless failing (503)."""
        return 503 if self.status == "failing" else 200

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict (the body of the health endpoint)."""
        return {
            "status": self.status,
            "ready": self.ready,
            "time": self.time,
            "checks": {name: result.to_dict() for name, result in self.checks.items()},
        }


@attrs.frozen
class _Check:
    name: str
    fn: CheckFn
    timeout: float
    critical: bool


def _interpret(name: str, value: Any, critical: bool, duration: float) -> CheckResult:
    # Every text here leaves the process (the health endpoint): through the redactor.
    if isinstance(value, CheckResult):
        given = value.detail
        return attrs.evolve(
            value,
            name=name,
            duration=duration,
            critical=critical,
            detail=None if given is None else safe_str(given, 500),
        )
    if value is None or value is True:
        return CheckResult(name, "ok", None, duration, critical)
    if value is False:
        return CheckResult(name, "failing", "check returned False", duration, critical)
    detail: str | None = None
    if isinstance(value, tuple) and len(value) == 2:
        value, detail = value[0], safe_str(value[1], 500)
    if isinstance(value, str) and value in _ORDER:
        return CheckResult(name, value, detail, duration, critical)  # type: ignore[arg-type]
    return CheckResult(
        name,
        "failing",
        f"check returned {default_redactor.safe_repr(value, 200)}; expected None/True/False, "
        "'ok'/'degraded'/'failing', (status, detail) or a CheckResult",
        duration,
        critical,
    )


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: the /health body could not be written
        return False
    return True


def _seconds(name: str, value: Any, *, allow_zero: bool = False) -> float:
    """*value* as finite seconds (> 0, or >= 0 with *allow_zero*); else InvalidArgumentError."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
        or (value == 0 and not allow_zero)
    ):
        raise InvalidArgumentError(
            f"Health {name} must be a finite number of seconds "
            f"{'>= 0' if allow_zero else '> 0'}, got {safe_repr(value)}",
            code="pepperpy.telemetry.health_timeout",
            hint=f"Pass {name} in seconds, e.g. {name}=2.0.",
        )
    return float(value)


# Python 3.10 has no Task.cancelling(): there a CancelledError caught around a check
# cannot be told from a cancellation of the caller, so every one is taken as that.
_CANNOT_TELL = not hasattr(asyncio.Task, "cancelling")


def _caller_cancelled(exc: BaseException) -> bool:
    """Whether *exc*, caught around user work (a check, a collect hook), cancels the caller.

    Then it must propagate; a ``CancelledError`` the work raised itself (it awaited
    something cancelled) is the work's failure. Core's ``cancel_requested`` decides.
    """
    return isinstance(exc, asyncio.CancelledError) and cancel_requested(_CANNOT_TELL)


class Health:
    """A set of health checks, run concurrently with a timeout each.

    A check is a sync or async callable returning ``None``/``True`` (ok),
    ``False`` (failing), a status string, ``(status, detail)`` or a
    :class:`CheckResult`; raising or timing out means failing. Sync checks
    run in their own daemon thread (with the caller's context), never in the
    event loop's default executor, so a blocking ping stalls neither the loop
    nor the application's ``to_thread`` calls; while a sync check's previous
    run is still going (it hung past its timeout), the check is not started
    again and is reported as timed out. At most one thread per check exists.

    Readiness (for a ``/ready`` endpoint) is :attr:`ready` (set by the
    application once started, see :meth:`set_ready`) and "not failing".

    Concurrent :meth:`run` calls share one evaluation, and with *cache_ttl*
    a report is reused for that many seconds, so a storm of probes never
    multiplies the load on the database being checked.

    Args:
        default_timeout: Seconds a check may take unless registered otherwise.
        cache_ttl: Seconds a report is reused (0: every run evaluates).
        clock: Time source for durations, report times and the cache.
    """

    def __init__(
        self,
        *,
        default_timeout: float = 5.0,
        cache_ttl: float = 0.0,
        clock: Clock = system_clock,
    ) -> None:
        self.default_timeout = _seconds("default_timeout", default_timeout)
        self.cache_ttl = _seconds("cache_ttl", cache_ttl, allow_zero=True)
        self.clock = clock
        self._checks: dict[str, _Check] = {}
        self._ready = False
        self._cached: tuple[float, HealthReport] | None = None
        self._inflight: asyncio.Future[HealthReport] | None = None
        self._running: set[str] = set()  # sync checks whose thread is still in the check
        self._running_lock = threading.Lock()

    def register_check(
        self,
        name: str,
        fn: CheckFn,
        timeout: float | None = None,
        *,
        critical: bool = True,
        replace: bool = False,
    ) -> None:
        """Add a check.

        Args:
            name: Unique name, shown in the report.
            fn: The check (sync or async, no arguments).
            timeout: Seconds before it counts as failing (default: ``default_timeout``).
            critical: A failure makes the report ``failing`` (else ``degraded``).
            replace: Allow replacing an existing check of that name.

        Raises:
            ConflictError: *name* is taken and *replace* is false.
        """
        if not callable(fn):
            raise InvalidArgumentError(
                f"health check {name!r} must be callable, got {safe_repr(fn)}",
                code="pepperpy.telemetry.health_check",
                hint="Pass a function or coroutine function taking no arguments.",
            )
        if not isinstance(name, str) or not name or not _encodable(name):
            raise InvalidArgumentError(
                f"a health check name must be a non-empty str of valid text, got {safe_repr(name)}",
                code="pepperpy.telemetry.health_check",
                hint="Name the check after what it probes, e.g. 'database'.",
            )
        limit = self.default_timeout if timeout is None else _seconds("timeout", timeout)
        if name in self._checks and not replace:
            raise ConflictError(
                f"a health check named {name!r} is already registered",
                code="pepperpy.telemetry.health_duplicate",
                context={"check": name},
                hint="Use another name, or pass replace=True.",
            )
        self._checks[name] = _Check(name, fn, float(limit), critical)
        self._cached = None

    def check(
        self, name: str, timeout: float | None = None, *, critical: bool = True
    ) -> Callable[[CheckFn], CheckFn]:
        """Decorator form of :meth:`register_check`."""

        def decorate(fn: CheckFn) -> CheckFn:
            self.register_check(name, fn, timeout, critical=critical)
            return fn

        return decorate

    def unregister_check(self, name: str) -> None:
        """Remove a check.

        Raises:
            NotFoundError: No such check.
        """
        if self._checks.pop(name, None) is None:
            raise NotFoundError(
                f"no health check named {name!r}",
                code="pepperpy.telemetry.health_missing",
                context={"check": name, "known": sorted(self._checks)},
                hint="Check the name against register_check().",
            )

    @property
    def names(self) -> list[str]:
        """Registered check names."""
        return list(self._checks)

    @property
    def ready(self) -> bool:
        """Whether the application declared itself ready."""
        return self._ready

    def set_ready(self, ready: bool = True) -> None:
        """Declare the application ready (or not, e.g. while draining)."""
        self._ready = bool(ready)

    def invalidate(self) -> None:
        """Forget the cached report: the next :meth:`run` evaluates."""
        self._cached = None

    async def _run_one(self, check: _Check) -> CheckResult:
        start = self.clock.monotonic()
        try:
            if inspect.iscoroutinefunction(check.fn):
                value = await asyncio.wait_for(check.fn(), check.timeout)
            else:
                value = await asyncio.wait_for(self._in_thread(check), check.timeout)
                if inspect.isawaitable(value):
                    value = await asyncio.wait_for(value, check.timeout)
        except asyncio.TimeoutError:
            duration = self.clock.monotonic() - start
            return CheckResult(
                check.name,
                "failing",
                f"timed out after {check.timeout:g}s",
                duration,
                check.critical,
            )
        except (Exception, asyncio.CancelledError) as exc:
            if _caller_cancelled(exc):
                raise  # run() itself is cancelled, not the check raising CancelledError
            duration = self.clock.monotonic() - start
            text = safe_str(exc, 500)
            return CheckResult(
                check.name,
                "failing",
                f"{type(exc).__name__}: {text}" if text else type(exc).__name__,
                duration,
                check.critical,
            )
        return _interpret(check.name, value, check.critical, self.clock.monotonic() - start)

    def _in_thread(self, check: _Check) -> asyncio.Future[Any]:
        """Run a sync check in its own daemon thread; refuse while its last run is going."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        name = check.name
        with self._running_lock:
            if name in self._running:
                future.set_exception(asyncio.TimeoutError())
                return future
            self._running.add(name)
            ctx = contextvars.copy_context()

            def settle(value: Any, error: BaseException | None) -> None:
                if future.done():
                    return
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(value)

            def target() -> None:
                error: BaseException | None
                try:
                    value, error = ctx.run(check.fn), None
                except Exception as exc:
                    value, error = None, exc
                except BaseException as exc:  # sys.exit() in a check: a failing check
                    value, error = None, RuntimeError(f"the check raised {type(exc).__name__}")
                if isinstance(error, StopIteration):  # cannot be set on a future (PEP 479)
                    error = RuntimeError(f"the check raised StopIteration: {safe_str(error)}")
                with self._running_lock:
                    self._running.discard(name)
                try:
                    loop.call_soon_threadsafe(settle, value, error)
                except RuntimeError:  # the loop is closed: nobody is waiting
                    pass

            thread = threading.Thread(target=target, name=f"pepperpy-health-{name}", daemon=True)
            try:
                thread.start()
            except BaseException:
                self._running.discard(name)
                raise
        return future

    async def run(self) -> HealthReport:
        """Run every check concurrently and aggregate (or reuse a fresh report)."""
        cached = self._cached
        if cached is not None and self.clock.monotonic() - cached[0] < self.cache_ttl:
            return attrs.evolve(cached[1], ready=self._ready and cached[1].status != "failing")
        inflight = self._inflight
        if inflight is not None:
            return await asyncio.shield(inflight)
        task = asyncio.ensure_future(self._evaluate())
        self._inflight = task
        task.add_done_callback(self._settle)
        return await asyncio.shield(task)

    def _settle(self, task: asyncio.Future[HealthReport]) -> None:
        if self._inflight is task:
            self._inflight = None
        if self.cache_ttl > 0 and not task.cancelled() and task.exception() is None:
            self._cached = (self.clock.monotonic(), task.result())

    async def _evaluate(self) -> HealthReport:
        checks = list(self._checks.values())
        results = await asyncio.gather(*(self._run_one(c) for c in checks))
        status: HealthStatus = "ok"
        for result in results:
            effective = result.status
            if effective == "failing" and not result.critical:
                effective = "degraded"
            if _ORDER[effective] > _ORDER[status]:
                status = effective
        return HealthReport(
            status=status,
            checks={r.name: r for r in results},
            ready=self._ready and status != "failing",
            time=self.clock.time(),
        )

    async def readiness(self) -> HealthReport:
        """Same as :meth:`run`; use ``report.ready`` for the answer."""
        return await self.run()
