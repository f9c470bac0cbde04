"""The error codes pepperpy-telemetry raises, in one place (its one error class is in _metrics)."""

from __future__ import annotations

from pepperpy.core.exceptions import (
    ConfigurationError,
    ConflictError,
    ErrorCatalogue,
    ErrorCode,
    ExternalError,
    InvalidArgumentError,
    NotFoundError,
)
from pepperpy.telemetry._metrics import LabelCardinalityError

__all__ = ["ERRORS"]

ERRORS = ErrorCatalogue(
    "pepperpy.telemetry",
    # metrics
    ErrorCode(
        "pepperpy.telemetry.cardinality",
        LabelCardinalityError,
        "A metric was asked for more distinct label sets than max_label_sets allows "
        "(with overflow='raise').",
        "Drop unbounded values (ids, URLs) from the labels, or raise max_label_sets.",
    ),
    ErrorCode(
        "pepperpy.telemetry.labels",
        InvalidArgumentError,
        "A metric was used with missing, unknown or extra label values (or with labels "
        "it does not have).",
        "Pass exactly the labels the metric declares, e.g. requests.labels(route='/').",
    ),
    ErrorCode(
        "pepperpy.telemetry.counter_negative",
        InvalidArgumentError,
        "A counter was asked to go down (inc() with a negative amount).",
        "Use a Gauge for values that go up and down.",
    ),
    ErrorCode(
        "pepperpy.telemetry.enum_state",
        InvalidArgumentError,
        "An enum metric was set to a state it does not declare.",
        "Use one of the states declared with enum(..., states=[...]).",
    ),
    ErrorCode(
        "pepperpy.telemetry.enum_states",
        InvalidArgumentError,
        "An enum metric was declared without a list of states.",
        "Pass states=['starting', 'running', 'stopped'].",
    ),
    ErrorCode(
        "pepperpy.telemetry.metric_set",
        InvalidArgumentError,
        "A metric declaration was read from an object that is not a MetricSet.",
        "Declare metrics as attributes of a MetricSet subclass, or use Metrics.register().",
    ),
    ErrorCode(
        "pepperpy.telemetry.metric_name",
        InvalidArgumentError,
        "A metric name is not a valid Prometheus name.",
        "Use letters, digits, '_' and ':', not starting with a digit.",
    ),
    ErrorCode(
        "pepperpy.telemetry.label_name",
        InvalidArgumentError,
        "A label name is not a valid Prometheus label name.",
        "Use letters, digits and '_', not starting with '__'.",
    ),
    ErrorCode(
        "pepperpy.telemetry.limit",
        InvalidArgumentError,
        "max_label_sets is not an int >= 1.",
        "Pass a positive int.",
    ),
    ErrorCode(
        "pepperpy.telemetry.overflow",
        InvalidArgumentError,
        "Metrics(overflow=) is neither 'raise' nor 'other'.",
        "Use 'other' (the default: excess label sets share one series) or 'raise'.",
    ),
    ErrorCode(
        "pepperpy.telemetry.duplicate",
        ConflictError,
        "A metric name is already registered with a different kind, labels or buckets.",
        "Declare each metric once (share the MetricSet), or give it another name.",
    ),
    ErrorCode(
        "pepperpy.telemetry.collect_hook",
        InvalidArgumentError,
        "A collect hook is not callable, or its timeout is not a number of seconds > 0.",
        "Decorate a function taking no arguments; pass timeout in seconds.",
    ),
    # tracing
    ErrorCode(
        "pepperpy.telemetry.span_status",
        InvalidArgumentError,
        "A span status is not 'unset', 'ok' or 'error'.",
        "Use one of 'unset', 'ok' or 'error'.",
    ),
    ErrorCode(
        "pepperpy.telemetry.sample_rate",
        InvalidArgumentError,
        "A tracer's sample_rate is not between 0 and 1.",
        "Use 1.0 to keep every trace, 0.1 to keep one in ten.",
    ),
    # health
    ErrorCode(
        "pepperpy.telemetry.health_timeout",
        InvalidArgumentError,
        "A health timeout or cache_ttl is not a finite number of seconds.",
        "Pass seconds, e.g. timeout=2.0.",
    ),
    ErrorCode(
        "pepperpy.telemetry.health_check",
        InvalidArgumentError,
        "A health check is not callable, or its name is not a non-empty str.",
        "Register a function taking no arguments under the name of what it probes.",
    ),
    ErrorCode(
        "pepperpy.telemetry.health_duplicate",
        ConflictError,
        "A health check with that name is already registered.",
        "Pick another name, or pass register_check(..., replace=True).",
    ),
    ErrorCode(
        "pepperpy.telemetry.health_missing",
        NotFoundError,
        "No health check has the name given to unregister_check().",
        "Check the name; the error's context lists the registered checks.",
    ),
    # alerts
    ErrorCode(
        "pepperpy.telemetry.alert_rule",
        InvalidArgumentError,
        "An alert rule is malformed: not a Threshold/Rate/Absence, no metric or sample "
        "name, an unknown comparison, or a rate window that is not positive.",
        "Fix the rule as the message says; the hint lists what is accepted.",
    ),
    ErrorCode(
        "pepperpy.telemetry.alert_interval",
        InvalidArgumentError,
        "An AlertManager's evaluation interval is not positive.",
        "Pass interval in seconds, e.g. interval=15.",
    ),
    ErrorCode(
        "pepperpy.telemetry.alert_duplicate",
        ConflictError,
        "An alert rule with that name is already added.",
        "Give each rule its own name, or remove_rule() the old one first.",
    ),
    # push and exposition
    ErrorCode(
        "pepperpy.telemetry.push_url",
        InvalidArgumentError,
        "A Pushgateway URL does not start with http:// or https://.",
        "Pass e.g. 'http://pushgateway:9091'.",
    ),
    ErrorCode(
        "pepperpy.telemetry.push_job",
        InvalidArgumentError,
        "A push has no job name.",
        "Pass job='nightly-import' (or your job's name).",
    ),
    ErrorCode(
        "pepperpy.telemetry.push_interval",
        InvalidArgumentError,
        "A PeriodicPush interval is not positive.",
        "Pass interval in seconds.",
    ),
    ErrorCode(
        "pepperpy.telemetry.push_failed",
        ExternalError,
        "The Pushgateway could not be reached or refused the push.",
        "Retry later; check the gateway's URL and that it is up.",
    ),
    ErrorCode(
        "pepperpy.telemetry.aiohttp_missing",
        ConfigurationError,
        "The /metrics web app needs aiohttp, which is not installed.",
        "pip install 'pepperpy-telemetry[aiohttp]', or use start_http_server().",
    ),
    ErrorCode(
        "pepperpy.telemetry.otel_missing",
        ConfigurationError,
        "The OpenTelemetry bridge needs opentelemetry-sdk, which is not installed.",
        "pip install 'pepperpy-telemetry[otel]'.",
    ),
)
"""The error codes pepperpy-telemetry raises: ``ERRORS[error.code]`` says what one
means and what to do."""
