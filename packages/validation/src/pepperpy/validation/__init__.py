"""Schemas, rules, sanitizers and aggregated errors for PepperPy.

The seed's shape::

    from pepperpy.validation import Validation

    validator = Validation.create_schema({"name": str, "age": int, "email": "email"})
    person = validator.validate({"name": "Ada", "age": 36, "email": "ada@example.com"})

``validate`` is sync and returns the cleaned value (so ``validator.validate``
is a pipeline step as it is); ``await validator.avalidate(data)`` also runs
async rules. ``Validation(schema)`` gives the seed's async
``await validator.validate(data)``. Every failure lists *every* problem with
its JSON-Pointer path, a stable code and a replaceable message template.
"""

from __future__ import annotations

from pepperpy.validation._errors import ERRORS, SchemaError, ValidationError, Violation
from pepperpy.validation._messages import DEFAULT_MESSAGES, MESSAGES_PT, Messages
from pepperpy.validation._rules import (
    FORMATS,
    Rule,
    RuleLike,
    check,
    email,
    hostname,
    ip,
    iso_date,
    iso_datetime,
    iso_time,
    length,
    multiple_of,
    not_empty,
    one_of,
    range_,
    regex,
    rule,
    slug,
    url,
    uuid_,
)
from pepperpy.validation._sanitize import (
    SANITIZERS,
    Sanitizer,
    casefold,
    collapse_whitespace,
    escape_html,
    lower,
    nfc,
    nfkc,
    remove_control,
    strip,
    upper,
)
from pepperpy.validation._schema import (
    META_KEY,
    CrossCheck,
    Field,
    Schema,
    constraints,
    cross_field,
)
from pepperpy.validation._validation import Validation
from pepperpy.validation._version import __version__

__all__ = [
    "DEFAULT_MESSAGES",
    "ERRORS",
    "FORMATS",
    "MESSAGES_PT",
    "META_KEY",
    "SANITIZERS",
    "CrossCheck",
    "Field",
    "Messages",
    "Rule",
    "RuleLike",
    "Sanitizer",
    "Schema",
    "SchemaError",
    "Validation",
    "ValidationError",
    "Violation",
    "__version__",
    "casefold",
    "check",
    "collapse_whitespace",
    "constraints",
    "cross_field",
    "email",
    "escape_html",
    "hostname",
    "ip",
    "iso_date",
    "iso_datetime",
    "iso_time",
    "length",
    "lower",
    "multiple_of",
    "nfc",
    "nfkc",
    "not_empty",
    "one_of",
    "range_",
    "regex",
    "remove_control",
    "rule",
    "slug",
    "strip",
    "upper",
    "url",
    "uuid_",
]
