"""Attacks on pepperpy.context (issue 20 #5, #18) and hostile arguments.

Each test names the finding it covers; each failed on the code before the fix.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from pepperpy import context
from pepperpy.core.exceptions import InvalidArgumentError

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"


# --------------------------------------------------------------------------- #18


def test_generator_finalised_in_another_thread_keeps_that_threads_values() -> None:
    """issue 20 #18: restore by token; an equal (interned) value elsewhere is not ours."""

    def gen() -> Iterator[int]:
        with context.scope(tenant="acme"):
            yield 1
            yield 2

    def run() -> str | None:
        g = gen()
        next(g)

        def other() -> object:
            context.bind(tenant="acme")  # the same interned string, bound by this thread
            g.close()
            return context.get("tenant")

        with ThreadPoolExecutor(1) as pool:
            return pool.submit(other).result()  # type: ignore[return-value]

    assert contextvars.copy_context().run(run) == "acme"


def test_generator_finalised_in_another_thread_inside_its_own_scope() -> None:
    """issue 20 #18: the other thread's own scope with an equal value survives too."""

    def gen() -> Iterator[int]:
        with context.scope(tenant="acme", user="u1"):
            yield 1

    def run() -> tuple[object, object]:
        g = gen()
        next(g)
        result: list[tuple[object, object]] = []

        def other() -> None:
            with context.scope(tenant="acme"):
                context.bind(user="u1")
                g.close()
                result.append((context.get("tenant"), context.get("user")))

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        return result[0]

    assert contextvars.copy_context().run(run) == ("acme", "u1")


# --------------------------------------------------------------------------- #5


def test_unsampled_traceparent_is_forwarded_unsampled_with_tracestate() -> None:
    """issue 20 #5: W3C Trace Context: keep the sampled flag and forward tracestate."""
    incoming = {"traceparent": f"00-{TRACE}-{SPAN}-00", "tracestate": "congo=t61rcWkgMzE,rojo=1"}
    with context.scope(context.extract_headers(incoming)):
        assert context.get(context.TRACE_FLAGS) == "00"
        out: dict[str, str] = {}
        context.inject_headers(out)
    assert out["traceparent"].endswith("-00")
    assert out["traceparent"].startswith(f"00-{TRACE}-")
    assert out["tracestate"] == "congo=t61rcWkgMzE,rojo=1"


def test_sampled_traceparent_stays_sampled_and_default_is_sampled() -> None:
    """issue 20 #5: "-01" stays "-01"; a locally started trace is sampled."""
    with context.scope(context.extract_headers({"traceparent": f"00-{TRACE}-{SPAN}-01"})):
        out: dict[str, str] = {}
        context.inject_headers(out)
    assert out["traceparent"].endswith("-01")
    assert "tracestate" not in out
    with context.scope(trace_id=TRACE, span_id=SPAN):
        out = {}
        context.inject_headers(out)
    assert out["traceparent"] == f"00-{TRACE}-{SPAN}-01"


@pytest.mark.parametrize(
    "state", ["x" * 600, "bad\nline", "caf\u00e9=1"], ids=["long", "newline", "non-ascii"]
)
def test_malformed_tracestate_is_dropped(state: str) -> None:
    """issue 20 #5: tracestate is untrusted input: oversized or odd values are ignored."""
    snap = context.extract_headers({"traceparent": f"00-{TRACE}-{SPAN}-01", "tracestate": state})
    assert context.TRACESTATE not in snap


# --------------------------------------------------------------------------- hostile


class Boom:
    def __str__(self) -> str:
        raise RuntimeError("str exploded")

    __repr__ = __str__

    def __hash__(self) -> int:
        raise RuntimeError("hash exploded")


def test_hostile_values_never_break_propagation() -> None:
    """issue 20, close the class: odd values bound in the context never leak or raise."""
    with context.scope(request_id=Boom(), trace_id=Boom(), span_id=float("nan"), secret="pw"):
        out: dict[str, str] = {}
        context.inject_headers(out, baggage=["secret_not_listed", "span_id"])
    assert "X-Request-ID" not in out and "traceparent" not in out
    assert "pw" not in str(out)
    headers = {
        "traceparent": "00-" + "f" * 1000,
        "X-Request-ID": "x" * 10_000,
        "baggage": "a" * 10**5,
    }
    assert dict(context.extract_headers(headers, baggage=["a"])) == {}
    with pytest.raises(InvalidArgumentError):
        context.scope(Boom())  # type: ignore[arg-type]
    assert "scope(" in repr(context.scope(x=Boom()))
