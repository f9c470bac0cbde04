"""pepperpy.context: bind/scope against raw ContextVar set/reset (and structlog's contextvars)."""

from __future__ import annotations

import contextvars

from harness import compare
from pepperpy import context

REQUIRES = ["structlog"]

_RAW: contextvars.ContextVar[str] = contextvars.ContextVar("raw", default="")


def _ours_scope() -> None:
    with context.scope(request_id="r"):
        pass


def bench_scope_enter_exit():
    def raw() -> None:
        token = _RAW.set("r")
        _RAW.reset(token)

    return contextvars.Context().run(
        compare,
        "context: scope enter+exit (1 key)",
        {"pepperpy": _ours_scope, "raw ContextVar set/reset": raw},
        inner=2000,
    )


def bench_scope_vs_structlog():
    # Separate from the raw case: structlog's context manager leaves garbage that
    # slows every allocating case while the harness keeps the GC off.
    import structlog.contextvars as slc

    def structlog_bound() -> None:
        with slc.bound_contextvars(request_id="r"):
            pass

    return contextvars.Context().run(
        compare,
        "context: scope vs structlog bound_contextvars",
        {"pepperpy": _ours_scope, "structlog": structlog_bound},
        inner=2000,
    )


def bench_bind():
    import structlog.contextvars as slc

    def ours() -> None:
        context.bind(request_id="r")

    def raw() -> None:
        _RAW.set("r")

    def structlog_bind() -> None:
        slc.bind_contextvars(request_id="r")

    return contextvars.Context().run(
        compare,
        "context: bind (1 key)",
        {"pepperpy": ours, "raw ContextVar": raw, "structlog": structlog_bind},
        inner=2000,
    )


def bench_get():
    def ours() -> object:
        return context.get("request_id")

    def raw() -> object:
        return _RAW.get()

    def setup() -> object:
        context.bind(request_id="r", user="u")
        _RAW.set("r")
        return compare(
            "context: get",
            {"pepperpy": ours, "raw ContextVar": raw},
            inner=5000,
        )

    return contextvars.Context().run(setup)
