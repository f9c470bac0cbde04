"""pepperpy.telemetry.ERRORS: every code telemetry raises, with its meaning (issue 24)."""

from __future__ import annotations

import pytest

from pepperpy.core.exceptions import ConflictError, InvalidArgumentError, PepperPyError
from pepperpy.telemetry import (
    ERRORS,
    AlertManager,
    Health,
    LabelCardinalityError,
    Metrics,
    MetricSet,
    Threshold,
    counter,
)


def _documented(error: PepperPyError) -> None:
    """A program can look the error's code up and learn its class, meaning and action."""
    entry = ERRORS[error.code]
    assert isinstance(error, entry.error)
    assert entry.meaning and entry.action


def test_metric_misuse_is_catalogued() -> None:
    """issue 24: label cardinality, bad labels and a falling counter carry catalogued codes."""

    class App(MetricSet):
        hits = counter("hits_total", "Hits.", labels=["route"], max_label_sets=1)

    metrics = Metrics(overflow="raise")
    app = App(metrics)
    app.hits.labels(route="/").inc()
    with pytest.raises(LabelCardinalityError) as caught:
        app.hits.labels(route="/other").inc()
    assert caught.value.code == "pepperpy.telemetry.cardinality"
    _documented(caught.value)

    with pytest.raises(InvalidArgumentError) as bad:
        app.hits.labels(path="/").inc()
    assert bad.value.code == "pepperpy.telemetry.labels"
    _documented(bad.value)

    with pytest.raises(InvalidArgumentError) as down:
        app.hits.labels(route="/").inc(-1)
    assert down.value.code == "pepperpy.telemetry.counter_negative"
    _documented(down.value)


def test_malformed_alert_rules_share_one_code() -> None:
    """issue 24: every malformed rule is pepperpy.telemetry.alert_rule (merged codes)."""
    cases = [
        lambda: Threshold("high", "errors_total", op="!!", value=1),
        lambda: Threshold("high", 42, op=">", value=1),  # type: ignore[arg-type]
        lambda: AlertManager(Metrics()).add_rule("not a rule"),  # type: ignore[arg-type]
    ]
    for case in cases:
        with pytest.raises(InvalidArgumentError) as caught:
            case()
        assert caught.value.code == "pepperpy.telemetry.alert_rule"
        _documented(caught.value)


def test_health_registration_errors_are_catalogued() -> None:
    """issue 24: a duplicate or missing health check carries a catalogued code."""
    health = Health()
    health.register_check("db", lambda: True)
    with pytest.raises(ConflictError) as dup:
        health.register_check("db", lambda: True)
    assert dup.value.code == "pepperpy.telemetry.health_duplicate"
    _documented(dup.value)
    with pytest.raises(PepperPyError) as missing:
        health.unregister_check("cache")
    assert missing.value.code == "pepperpy.telemetry.health_missing"
    _documented(missing.value)
