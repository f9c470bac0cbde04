"""Tests for pepperpy.pipeline._errors: what a failure tells the user."""

from __future__ import annotations

import pickle

from pepperpy.core import PepperPyError
from pepperpy.pipeline import ItemDroppedError, PipelineError, StepError, StepFailure


def test_step_error_names_step_item_type_and_cause():
    cause = ValueError("bad value")
    error = StepError({"id": 1}, "validate", cause, attempts=3)
    assert isinstance(error, PipelineError)
    assert isinstance(error, PepperPyError)
    assert error.code == "pepperpy.pipeline.step_failed"
    assert "validate" in str(error)
    assert "{'id': 1}" not in str(error)  # items may hold secrets (issue 20 #4)
    assert "dict item" in str(error)
    assert error.item == {"id": 1}
    assert "ValueError: bad value" in str(error)
    assert error.hint
    data = error.to_dict()
    assert data["context"] == {"step": "validate", "item_type": "dict", "attempts": 3}
    assert data["cause"]["type"] == "ValueError"


def test_step_error_quotes_huge_items_briefly():
    error = StepError("x" * 10_000, "step", RuntimeError("boom"))
    assert len(str(error)) < 400


def test_errors_pickle():
    error = pickle.loads(pickle.dumps(StepError(1, "s", KeyError("k"))))
    assert error.step == "s"
    assert error.item == 1
    dropped = pickle.loads(pickle.dumps(ItemDroppedError("dropped", context={"step": "f"})))
    assert isinstance(dropped, LookupError)


def test_step_failure_record():
    failure = StepFailure(item=5, step="parse", error=ValueError("x"), attempts=2)
    assert (failure.item, failure.step, failure.attempts) == (5, "parse", 2)
