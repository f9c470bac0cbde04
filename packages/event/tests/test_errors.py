"""Tests for pepperpy.event._errors: handler failures keep their context."""

from __future__ import annotations

import pickle

from pepperpy.core import ConflictError, PepperPyError
from pepperpy.event import BackpressureError, EventError, HandlerError


def _raise() -> None:
    raise RuntimeError("handler broke")


def test_handler_error_carries_handler_topic_event_and_traceback():
    try:
        _raise()
    except RuntimeError as exc:
        error = HandlerError("Billing.charge", "orders.created", {"id": 7}, exc)
    assert isinstance(error, EventError)
    assert isinstance(error, PepperPyError)
    assert error.handler == "Billing.charge"
    assert error.topic == "orders.created"
    assert error.event == {"id": 7}
    assert error.__cause__ is error.cause
    assert "_raise" in error.traceback
    assert "RuntimeError: handler broke" in str(error)
    assert error.to_dict()["context"]["handler"] == "Billing.charge"
    assert error.errors == [error]


def test_handler_error_pickles():
    error = HandlerError("h", "t", 1, ValueError("v"))
    again = pickle.loads(pickle.dumps(error))
    assert (again.handler, again.topic, again.event) == ("h", "t", 1)


def test_backpressure_error_is_retryable():
    error = BackpressureError("full")
    assert error.retryable
    assert not isinstance(error, ConflictError)
