from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pepperpy import context


def test_ids_are_well_formed() -> None:
    assert len(context.new_request_id()) == 32
    assert len(context.new_trace_id()) == 32
    assert len(context.new_span_id()) == 16
    assert context.new_trace_id() != context.new_trace_id()


def test_inject_then_extract_round_trip() -> None:
    trace, span = context.new_trace_id(), context.new_span_id()
    headers: dict[str, str] = {}
    with context.scope(request_id="req-1", trace_id=trace, span_id=span, password="hunter2"):
        context.inject_headers(headers)
    assert headers == {"X-Request-ID": "req-1", "traceparent": f"00-{trace}-{span}-01"}
    snap = context.extract_headers(headers)
    assert snap.detached
    assert dict(snap) == {
        "request_id": "req-1",
        "trace_id": trace,
        "span_id": span,
        "trace_flags": "01",
    }
    with context.scope(snap):
        assert context.get("request_id") == "req-1"


def test_trace_without_span_gets_a_fresh_parent() -> None:
    trace = context.new_trace_id()
    headers: dict[str, str] = {}
    context.inject_headers(headers, snapshot=context.Snapshot({"trace_id": trace}))
    version, got_trace, parent, flags = headers["traceparent"].split("-")
    assert (version, got_trace, flags) == ("00", trace, "01")
    assert len(parent) == 16


def test_nothing_bound_means_no_headers() -> None:
    headers: dict[str, str] = {}
    context.inject_headers(headers, snapshot=context.Snapshot({"trace_id": "bad"}))
    assert headers == {}


def test_extract_is_case_insensitive() -> None:
    trace, span = context.new_trace_id(), context.new_span_id()
    for flags, headers in (
        ("00", {"x-request-id": "abc", "TraceParent": f"00-{trace}-{span}-00"}),
        ("01", {"X-REQUEST-ID": "abc", "traceparent": f"00-{trace}-{span}-01"}),
    ):
        assert dict(context.extract_headers(headers)) == {
            "request_id": "abc",
            "trace_id": trace,
            "span_id": span,
            "trace_flags": flags,  # issue 20 #5: the caller's sampling decision is kept
        }


@pytest.mark.parametrize(
    "header",
    [
        "00-" + "0" * 32 + "-" + "1" * 16 + "-01",  # zero trace id
        "00-" + "1" * 32 + "-" + "0" * 16 + "-01",  # zero span id
        "ff-" + "1" * 32 + "-" + "1" * 16 + "-01",  # forbidden version
        "00-" + "1" * 32 + "-" + "1" * 16 + "-01-extra",  # v00 has no extra fields
        "00-" + "A" * 32 + "-" + "1" * 16 + "-01",  # uppercase is invalid
        "garbage",
    ],
)
def test_malformed_traceparent_is_ignored(header: str) -> None:
    assert dict(context.extract_headers({"traceparent": header})) == {}


def test_future_traceparent_versions_may_carry_more_fields() -> None:
    header = "01-" + "1" * 32 + "-" + "2" * 16 + "-01-more"
    assert context.extract_headers({"traceparent": header})["span_id"] == "2" * 16


@given(st.text(max_size=300))
def test_request_id_is_never_trusted_blindly(raw: str) -> None:
    snap = context.extract_headers({"X-Request-ID": raw})
    if "request_id" in snap:
        value = snap["request_id"]
        assert 1 <= len(value) <= 128
        assert all(c.isascii() and (c.isalnum() or c in "._:/+=@-") for c in value)


def test_baggage_only_for_listed_keys() -> None:
    headers: dict[str, str] = {}
    with context.scope(tenant="a b,c", token="s3cret", n=3):
        context.inject_headers(headers, baggage=["tenant", "n", "missing"])
    assert headers == {"baggage": "tenant=a%20b%2Cc,n=3"}
    snap = context.extract_headers(
        {"baggage": headers["baggage"] + ",token=x;prop=1,broken"}, baggage=["tenant", "token"]
    )
    assert dict(snap) == {"tenant": "a b,c", "token": "x"}
    assert dict(context.extract_headers(headers)) == {}
