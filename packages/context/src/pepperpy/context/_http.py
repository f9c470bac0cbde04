"""Propagation across HTTP: a request-id header and a W3C ``traceparent`` header."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Collection, Mapping, MutableMapping
from typing import Any
from urllib.parse import quote, unquote

from pepperpy.context._core import _VAR
from pepperpy.context._snapshot import Snapshot

__all__ = [
    "BAGGAGE_HEADER",
    "REQUEST_ID",
    "REQUEST_ID_HEADER",
    "SPAN_ID",
    "TRACEPARENT_HEADER",
    "TRACESTATE",
    "TRACESTATE_HEADER",
    "TRACE_FLAGS",
    "TRACE_ID",
    "extract_headers",
    "inject_headers",
    "new_request_id",
    "new_span_id",
    "new_trace_id",
]

REQUEST_ID = "request_id"
"""The context key of the request id."""

TRACE_ID = "trace_id"
"""The context key of the current trace id (32 lowercase hex digits)."""

SPAN_ID = "span_id"
"""The context key of the current span id (16 lowercase hex digits)."""

TRACE_FLAGS = "trace_flags"
"""The context key of the W3C trace flags (two lowercase hex digits; ``"01"`` = sampled)."""

TRACESTATE = "tracestate"
"""The context key of the incoming W3C ``tracestate`` header, forwarded unchanged."""

REQUEST_ID_HEADER = "X-Request-ID"
"""The header carrying the request id."""

TRACEPARENT_HEADER = "traceparent"
"""The W3C Trace Context header carrying trace and parent span ids."""

TRACESTATE_HEADER = "tracestate"
"""The W3C Trace Context header carrying vendor-specific trace data."""

BAGGAGE_HEADER = "baggage"
"""The W3C baggage header, used only for keys you list explicitly."""

_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._:/+=@-]{1,128}")
_TRACEPARENT_RE = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")
_HEX32_RE = re.compile(r"[0-9a-f]{32}")
_HEX16_RE = re.compile(r"[0-9a-f]{16}")
_FLAGS_RE = re.compile(r"[0-9a-f]{2}")
# W3C tracestate: at most 32 list members of printable ASCII, 512 characters in all
_TRACESTATE_RE = re.compile(r"[\x20-\x7e]{1,512}")
_ZERO32 = "0" * 32
_ZERO16 = "0" * 16
_MAX_BAGGAGE = 8192


def new_request_id() -> str:
    """Return a fresh random request id (32 hex digits)."""
    return uuid.uuid4().hex


def new_trace_id() -> str:
    """Return a fresh random W3C trace id (32 hex digits, never all zero)."""
    while True:
        value = os.urandom(16).hex()  # what secrets.token_hex does, without its imports
        if value != _ZERO32:
            return value


def new_span_id() -> str:
    """Return a fresh random W3C span id (16 hex digits, never all zero)."""
    while True:
        value = os.urandom(8).hex()
        if value != _ZERO16:
            return value


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    value = headers.get(lowered)
    if value is not None:
        return value
    for key, item in headers.items():
        if isinstance(key, str) and key.lower() == lowered:
            return item
    return None


def inject_headers(
    headers: MutableMapping[str, str],
    *,
    snapshot: Snapshot | None = None,
    baggage: Collection[str] = (),
) -> None:
    """Write the current context (or *snapshot*) into outgoing HTTP *headers*.

    * ``X-Request-ID``: the bound ``request_id``, when there is one.
    * ``traceparent``: ``00-<trace_id>-<span_id>-<flags>`` when a valid
      ``trace_id`` and ``span_id`` are bound (pepperpy.telemetry spans bind
      them); a bound ``trace_id`` without a span gets a fresh parent id. The
      flags are the bound ``trace_flags`` (``"00"`` when the caller did not
      sample the trace), ``"01"`` when none are bound.
    * ``tracestate``: the bound ``tracestate``, unchanged (W3C: forward it).
    * ``baggage``: only the keys listed in *baggage* whose values are
      str/int/float/bool, percent-encoded. Nothing else leaves the process,
      so secrets bound in the context are never sent by accident.

    Headers already present are overwritten.
    """
    values: Mapping[str, Any] = _VAR.get()[0] if snapshot is None else snapshot
    request_id = values.get(REQUEST_ID)
    if request_id is not None:
        try:
            text = request_id if isinstance(request_id, str) else str(request_id)
        except Exception:  # a value whose __str__ raises is not a request id
            text = ""
        if _REQUEST_ID_RE.fullmatch(text):
            headers[REQUEST_ID_HEADER] = text
    trace_id = values.get(TRACE_ID)
    if isinstance(trace_id, str) and _HEX32_RE.fullmatch(trace_id) and trace_id != _ZERO32:
        span_id = values.get(SPAN_ID)
        if not (isinstance(span_id, str) and _HEX16_RE.fullmatch(span_id) and span_id != _ZERO16):
            span_id = new_span_id()
        flags = values.get(TRACE_FLAGS)
        if not (isinstance(flags, str) and _FLAGS_RE.fullmatch(flags)):
            flags = "01"
        headers[TRACEPARENT_HEADER] = f"00-{trace_id}-{span_id}-{flags}"
        state = values.get(TRACESTATE)
        if isinstance(state, str) and _TRACESTATE_RE.fullmatch(state):
            headers[TRACESTATE_HEADER] = state
    if baggage:
        items = []
        for key in baggage:
            value = values.get(key)
            if isinstance(value, (str, int, float, bool)):
                items.append(f"{quote(key, safe='')}={quote(str(value), safe='')}")
        if items:
            headers[BAGGAGE_HEADER] = ",".join(items)


def extract_headers(headers: Mapping[str, str], *, baggage: Collection[str] = ()) -> Snapshot:
    """Read the propagation headers of an incoming request into a detached snapshot.

    Returns a :class:`Snapshot` with ``request_id`` (from ``X-Request-ID``),
    ``trace_id`` / ``span_id`` / ``trace_flags`` (the caller's span and its
    sampling decision, from ``traceparent``) and ``tracestate`` (forwarded by
    :func:`inject_headers`, as W3C Trace Context asks), each present only when
    the header is well formed; malformed or oversized
    values are ignored, never trusted. Baggage entries are read only for the
    keys listed in *baggage*, as strings.

    Header names match case-insensitively. Typical server use::

        with context.scope(extract_headers(request.headers)):
            ...
    """
    values: dict[str, Any] = {}
    request_id = _header(headers, REQUEST_ID_HEADER)
    if request_id is not None:
        request_id = request_id.strip()
        if _REQUEST_ID_RE.fullmatch(request_id):
            values[REQUEST_ID] = request_id
    parent = _header(headers, TRACEPARENT_HEADER)
    if parent is not None:
        match = _TRACEPARENT_RE.fullmatch(parent.strip())
        if match is not None:
            version, trace_id, span_id, flags, rest = match.groups()
            valid = (
                version != "ff"
                and trace_id != _ZERO32
                and span_id != _ZERO16
                and (version != "00" or rest is None)
            )
            if valid:
                values[TRACE_ID] = trace_id
                values[SPAN_ID] = span_id
                values[TRACE_FLAGS] = flags
                state = _header(headers, TRACESTATE_HEADER)
                if state is not None:
                    state = state.strip()
                    if _TRACESTATE_RE.fullmatch(state):
                        values[TRACESTATE] = state
    if baggage:
        raw = _header(headers, BAGGAGE_HEADER)
        if raw is not None and len(raw) <= _MAX_BAGGAGE:
            wanted = set(baggage)
            for member in raw.split(","):
                key, sep, value = member.partition("=")
                if not sep:
                    continue
                key = unquote(key.strip())
                value = unquote(value.split(";", 1)[0].strip())
                if key in wanted:
                    values[key] = value
    return Snapshot(values)
