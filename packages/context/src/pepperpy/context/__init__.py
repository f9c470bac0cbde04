"""PepperPy context: an execution context that follows your code everywhere.

Values bound here (a request id, a user, a tenant) are visible to everything
the current code calls, and they follow it:

* into asyncio tasks, automatically (each task starts with a copy);
* into threads and executors, with :func:`to_thread`, :class:`ContextExecutor`,
  :func:`wrap_executor`, :func:`install_executor` and :func:`wrap`;
* into subprocesses, with :func:`wrap` (pickled) or :func:`inject_env`;
* across HTTP, with :func:`inject_headers` / :func:`extract_headers`.

A :class:`scope` never leaks its values to the parent or to sibling tasks and
always restores the context on exit, even when a generator holding it is
closed late or from another task. pepperpy.logging adds the values to every
log record and pepperpy.telemetry stores the current span here.

Example::

    from pepperpy import context

    with context.scope(request_id="r-1"):
        assert context.get("request_id") == "r-1"
        snap = context.snapshot()
    assert context.run_in(snap, context.get, "request_id") == "r-1"
"""

from __future__ import annotations

from pepperpy.context._core import Key, bind, clear, current, get, scope, unbind
from pepperpy.context._errors import ERRORS
from pepperpy.context._http import (
    BAGGAGE_HEADER,
    REQUEST_ID,
    REQUEST_ID_HEADER,
    SPAN_ID,
    TRACE_FLAGS,
    TRACE_ID,
    TRACEPARENT_HEADER,
    TRACESTATE,
    TRACESTATE_HEADER,
    extract_headers,
    inject_headers,
    new_request_id,
    new_span_id,
    new_trace_id,
)
from pepperpy.context._snapshot import (
    ENV_VAR,
    Snapshot,
    create_task,
    extract_env,
    inject_env,
    run_in,
    snapshot,
    wrap,
)
from pepperpy.context._threads import (
    ContextExecutor,
    install_executor,
    to_thread,
    wrap_executor,
)
from pepperpy.context._version import __version__

__all__ = [
    "BAGGAGE_HEADER",
    "ENV_VAR",
    "ERRORS",
    "REQUEST_ID",
    "REQUEST_ID_HEADER",
    "SPAN_ID",
    "TRACEPARENT_HEADER",
    "TRACESTATE",
    "TRACESTATE_HEADER",
    "TRACE_FLAGS",
    "TRACE_ID",
    "ContextExecutor",
    "Key",
    "Snapshot",
    "__version__",
    "bind",
    "clear",
    "create_task",
    "current",
    "extract_env",
    "extract_headers",
    "get",
    "inject_env",
    "inject_headers",
    "install_executor",
    "new_request_id",
    "new_span_id",
    "new_trace_id",
    "run_in",
    "scope",
    "snapshot",
    "to_thread",
    "unbind",
    "wrap",
    "wrap_executor",
]
