"""Rules: small, named checks with an error code and template parameters."""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from decimal import Decimal
from typing import Any, Union

from pepperpy.validation._errors import SchemaError

__all__ = [
    "Rule",
    "RuleLike",
    "as_rule",
    "check",
    "email",
    "hostname",
    "ip",
    "iso_date",
    "iso_datetime",
    "iso_time",
    "length",
    "multiple_of",
    "not_empty",
    "one_of",
    "range_",
    "regex",
    "rule",
    "slug",
    "url",
    "uuid_",
]

CheckResult = Union[bool, str, None]
"""What a check returns: ``False`` (or an error message) fails, anything else passes."""


class Rule:
    """A named check of one value.

    A check returns ``False`` to fail, a ``str`` to fail with that message,
    and anything else (``True``, ``None``) to pass; raising ``ValueError`` or
    ``TypeError`` fails with the exception's message. Async checks (coroutine
    functions) run only in ``avalidate``.

    Args:
        check: ``value -> bool | str | None`` (sync or async).
        code: The error code reported when the check fails.
        params: Parameters for the message template (``{"min": 3}``).
        message: A template that replaces the catalog's for this rule.
        applies_to: Only run the check for values of these types (others pass).
    """

    __slots__ = ("applies_to", "check", "code", "is_async", "message", "params")

    def __init__(
        self,
        check: Callable[[Any], CheckResult] | Callable[[Any], Awaitable[CheckResult]],
        *,
        code: str = "custom",
        params: Mapping[str, Any] | None = None,
        message: str | None = None,
        applies_to: type | tuple[type, ...] | None = None,
    ) -> None:
        self.check = check
        self.code = code
        self.params = dict(params) if params else None
        self.message = message
        self.applies_to = applies_to
        self.is_async = _is_async(check)

    def violation(self, value: Any) -> tuple[str, dict[str, Any] | None]:
        """The code and template parameters reported when *value* fails."""
        return self.code, self.params

    def with_message(self, message: str) -> Rule:
        """The same rule reporting *message* (a template) instead of the catalog's."""
        return Rule(
            self.check,
            code=self.code,
            params=self.params,
            message=message,
            applies_to=self.applies_to,
        )

    def __repr__(self) -> str:
        extra = f", params={self.params!r}" if self.params else ""
        return f"Rule(code={self.code!r}{extra}{', async' if self.is_async else ''})"


_CO_COROUTINE = 0x80


def _is_async(fn: Any) -> bool:
    """Like inspect.iscoroutinefunction (partials and async __call__ too), without importing it."""
    seen = 0
    while seen < 10:
        seen += 1
        inner = getattr(fn, "func", None)  # functools.partial
        if inner is not None and callable(inner):
            fn = inner
            continue
        code = getattr(getattr(fn, "__func__", fn), "__code__", None)
        if code is not None:
            return bool(code.co_flags & _CO_COROUTINE)
        call = getattr(type(fn), "__call__", None)  # noqa: B004 - async __call__
        if call is None or call is fn:
            return False
        fn = call
    return False


RuleLike = Union[Rule, Callable[[Any], Any]]
"""A :class:`Rule`, or a plain callable used as a custom rule."""


def as_rule(value: RuleLike) -> Rule:
    """Turn a plain callable into a custom :class:`Rule` (rules pass through)."""
    if isinstance(value, Rule):
        return value
    if callable(value):
        name = getattr(value, "__name__", "custom")
        code = name if name.isidentifier() and name != "<lambda>" else "custom"
        return Rule(value, code=code)
    raise SchemaError(
        f"a rule must be a Rule or a callable, got {type(value).__name__}",
        context={"rule": repr(value)},
        hint="Use a built-in rule (email(), length(min=3), ...) or a function of the value.",
    )


def rule(
    code: str, *, message: str | None = None, **params: Any
) -> Callable[[Callable[[Any], Any]], Rule]:
    """Decorator: make a function a named rule with its own code and message.

    Example::

        @rule("even", message="must be an even number")
        def even(value: int) -> bool:
            return value % 2 == 0
    """

    def decorate(fn: Callable[[Any], Any]) -> Rule:
        return Rule(fn, code=code, params=params or None, message=message)

    return decorate


def check(fn: Callable[[Any], Any], *, code: str = "custom", message: str | None = None) -> Rule:
    """A custom rule from *fn* with an explicit *code* and optional *message*."""
    return Rule(fn, code=code, message=message)


def _plain(value: Any) -> Any:
    """A ``str`` subclass as the characters it holds (its overridden methods ignored)."""
    if isinstance(value, str) and type(value) is not str:
        return str.__str__(value)  # an exact str copy: no override of the subclass runs
    return value


class _Guarded:
    """A built-in rule's check made total over hostile values.

    A value's own ``__len__``, ``__hash__``, ``__eq__``, ``__lt__`` ... may raise
    anything; only PepperPyError may leave validation, so such a value fails the
    rule (its code, its template) instead of escaping raw. ``str`` subclasses are
    judged by their characters. :attr:`raw` is the check itself, which the
    generated fast path calls directly, handing any exception to the full pass.
    """

    __slots__ = ("raw",)

    def __init__(self, raw: Callable[[Any], CheckResult]) -> None:
        self.raw = raw

    def __call__(self, value: Any) -> CheckResult:
        if type(value) is not str and isinstance(value, str):
            value = str.__str__(value)  # as _plain(), inlined: this runs for every value
        try:
            return self.raw(value)
        except Exception:  # the value's own method raised: it cannot pass the rule
            return False


def _builtin(check: Callable[[Any], CheckResult]) -> Callable[[Any], CheckResult]:
    """*check* as a built-in rule's check (see :class:`_Guarded`)."""
    return _Guarded(check)


# --------------------------------------------------------------------------- strings

# Every anchored rule uses fullmatch: "$" would also match before a final "\n".
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_HOSTNAME = re.compile(
    r"(?=[^\n]{1,253}\Z)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?"
)
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# What str.strip() removes (str.isspace()), spelled out so the JSON Schema export can
# carry the same class: Python's and ECMA-262's \s differ (\x1c-\x1f, \x85, \ufeff).
SPACE_CHARS = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004"
    "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def _is_email(value: str) -> bool:
    if len(value) > 254 or not _EMAIL.fullmatch(value):
        return False
    return len(value.partition("@")[0]) <= 64


def email() -> Rule:
    """A practical email address check (``local@domain.tld``, RFC 5321 lengths)."""
    return _EMAIL_RULE


_EMAIL_RULE = Rule(_builtin(_is_email), code="email", applies_to=str)


def url(*, schemes: Iterable[str] = ("http", "https"), require_tld: bool = False) -> Rule:
    """An absolute URL with one of *schemes* and a host."""
    allowed = frozenset(s.lower() for s in schemes)

    def is_url(value: str) -> bool:
        # urlsplit drops leading C0 controls and spaces (WHATWG) before parsing:
        # refuse them all, so what was validated is what is stored
        if any(ch.isspace() or ch < " " or ch == "\x7f" for ch in value):
            return False
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(value)
            host = parts.hostname
            parts.port  # noqa: B018 - raises ValueError for a bad port
        except ValueError:
            return False
        if parts.scheme.lower() not in allowed or not host:
            return False
        if require_tld and "." not in host:
            return False
        return _is_host(host)

    return Rule(_builtin(is_url), code="url", params={"schemes": sorted(allowed)}, applies_to=str)


# An IPv6 scope (zone) id: an interface name or number. ipaddress takes any text
# after "%" (a newline, markup); RFC 6874 allows unreserved characters only.
_SCOPE = re.compile(r"[A-Za-z0-9._~-]+")


def _ip_address(value: str) -> Any:
    """The address *value* spells (``None`` if it is none), with a sane scope id."""
    import ipaddress

    _, percent, scope = value.partition("%")
    if percent and _SCOPE.fullmatch(scope) is None:
        return None
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _is_host(host: str) -> bool:
    if _HOSTNAME.fullmatch(host):
        return True
    if host.startswith("[") and host.endswith("]"):  # one bracketed IPv6 literal
        host = host[1:-1]
        return ":" in host and _ip_address(host) is not None
    return _ip_address(host) is not None


def hostname() -> Rule:
    """A DNS host name (labels of letters, digits and hyphens) or an IP address."""
    return Rule(_builtin(_is_host), code="hostname", applies_to=str)


def _is_uuid(value: str) -> bool:
    return _UUID.fullmatch(value) is not None


def uuid_() -> Rule:
    """A UUID as 8-4-4-4-12 hex digits, either case (no braces, no ``urn:uuid:``)."""
    return Rule(_builtin(_is_uuid), code="uuid", applies_to=str)


def ip(version: int | None = None) -> Rule:
    """An IP address; *version* 4 or 6 restricts it."""
    if version not in (None, 4, 6):
        raise SchemaError(
            f"ip(version=...) must be 4, 6 or None, got {version!r}",
            context={"version": repr(version)},
        )

    def is_ip(value: str) -> bool:
        address = _ip_address(value)
        if address is None:
            return False
        return version is None or address.version == version

    code = "ip" if version is None else f"ipv{version}"
    return Rule(_builtin(is_ip), code=code, applies_to=str)


def slug() -> Rule:
    """Lowercase letters and digits separated by single hyphens (``my-post-1``)."""
    return Rule(_builtin(_is_slug), code="slug", applies_to=str)


def _is_slug(value: str) -> bool:
    return _SLUG.fullmatch(value) is not None


def _iso(parser: Callable[[str], Any]) -> Callable[[Any], CheckResult]:
    def is_iso(value: str) -> bool:
        text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
        try:
            parser(text)
        except ValueError:
            return False
        return True

    return _builtin(is_iso)


def iso_datetime() -> Rule:
    """An ISO 8601 date and time (``2026-11-26T12:00:00+00:00``, ``Z`` accepted)."""
    import datetime

    return Rule(_iso(datetime.datetime.fromisoformat), code="datetime", applies_to=str)


def iso_date() -> Rule:
    """An ISO 8601 calendar date (``2026-11-26``)."""
    import datetime

    return Rule(_iso(datetime.date.fromisoformat), code="date", applies_to=str)


def iso_time() -> Rule:
    """An ISO 8601 time of day (``12:30:00``)."""
    import datetime

    return Rule(_iso(datetime.time.fromisoformat), code="time", applies_to=str)


def regex(pattern: str | re.Pattern[str], *, flags: int = 0, full: bool = True) -> Rule:
    """The string matches *pattern* (the whole string unless *full* is false)."""
    try:
        compiled = re.compile(pattern, flags) if isinstance(pattern, str) else pattern
    except re.error as exc:
        raise SchemaError(
            f"invalid regular expression {pattern!r}: {exc}",
            context={"pattern": str(pattern)},
        ) from None
    matcher = compiled.fullmatch if full else compiled.search
    return Rule(
        _builtin(lambda v: matcher(v) is not None),
        code="pattern",
        params={"pattern": compiled.pattern, "full": full},
        applies_to=str,
    )


# --------------------------------------------------------------------------- sizes and ranges


def length(*, min: int | None = None, max: int | None = None) -> Rule:
    """The length of a string (characters) or collection (items) is within bounds."""
    if min is None and max is None:
        raise SchemaError("length() needs min=, max= or both")
    for bound in (min, max):
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int)):
            raise SchemaError(
                f"length() bounds are whole numbers, got {bound!r}",
                context={"min": min, "max": max},
                hint="Pass ints, e.g. length(min=1, max=80).",
            )
    if min is not None and max is not None and min > max:
        raise SchemaError(
            f"length(min={min}, max={max}): min is greater than max",
            context={"min": min, "max": max},
        )
    return _SizeRule(min, max)


class _SizeRule(Rule):
    """length(): picks too_short/too_long and the unit (characters or items)."""

    __slots__ = ("high", "low")

    def __init__(self, low: int | None, high: int | None):
        lo = 0 if low is None else low
        hi = sys.maxsize if high is None else high  # no len() exceeds it

        def within(value: Any) -> CheckResult:
            try:
                size = len(value)
            except TypeError:
                return True  # not sized: length() does not apply
            return lo <= size <= hi

        super().__init__(_builtin(within), code="length", params={"min": low, "max": high})
        self.low = low
        self.high = high

    def violation(self, value: Any) -> tuple[str, dict[str, Any] | None]:
        value = _plain(value)
        try:
            size = len(value)
        except Exception:  # the value's own __len__ raised (again): no size to report
            return self.code, self.params
        text = isinstance(value, str)
        if self.low is not None and size < self.low:
            return ("too_short" if text else "too_few"), {"min": self.low, "length": size}
        return ("too_long" if text else "too_many"), {"max": self.high, "length": size}


def range_(
    *,
    min: Any = None,
    max: Any = None,
    gt: Any = None,
    lt: Any = None,
) -> Rule:
    """The value is within bounds: ``min``/``max`` inclusive, ``gt``/``lt`` exclusive.

    Works for anything ordered: numbers, dates, ``Decimal``.
    """
    if min is None and max is None and gt is None and lt is None:
        raise SchemaError("range_() needs at least one of min=, max=, gt=, lt=")
    return _RangeRule(min, max, gt, lt)


class _RangeRule(Rule):
    __slots__ = ("bool_bounds", "bounds")

    def __init__(self, low: Any, high: Any, gt: Any, lt: Any) -> None:
        self.bounds = (low, high, gt, lt)
        self.bool_bounds = any(isinstance(b, bool) for b in self.bounds)
        # Bounds that are all plain int/float: a plain int value compares with them
        # exactly and cannot raise or be NaN, so it needs none of _failure()'s cases.
        numeric = all(
            b is None or type(b) is int or (type(b) is float and not math.isnan(b))
            for b in self.bounds
        )
        lo = -math.inf if low is None else low
        hi = math.inf if high is None else high

        def within(value: Any) -> CheckResult:
            if numeric and type(value) is int:
                return (
                    lo <= value <= hi and (gt is None or value > gt) and (lt is None or value < lt)
                )
            return self._failure(value) is None

        super().__init__(
            _builtin(within),
            code="range",
            params={
                k: v
                for k, v in zip(("min", "max", "gt", "lt"), self.bounds, strict=True)
                if v is not None
            },
        )

    def _failure(self, value: Any) -> tuple[str, dict[str, Any] | None] | None:
        if isinstance(value, bool) and not self.bool_bounds:
            return None  # True is not the number 1 (JSON Schema's minimum ignores it too)
        try:
            return self._compare(value)
        except (TypeError, ArithmeticError):  # not comparable; Decimal("NaN") < 1 raises
            return None
        except Exception:  # the value's own __lt__/__gt__ raised: within no bounds
            return self.code, self.params

    def _compare(self, value: Any) -> tuple[str, dict[str, Any] | None] | None:
        low, high, gt, lt = self.bounds
        if _is_nan(value):  # within no bounds (a float NaN compares false both ways)
            if low is not None:
                return "too_small", {"min": low}
            if high is not None:
                return "too_large", {"max": high}
            if gt is not None:
                return "not_gt", {"gt": gt}
            return "not_lt", {"lt": lt}
        if low is not None and value < low:
            return "too_small", {"min": low}
        if high is not None and value > high:
            return "too_large", {"max": high}
        if gt is not None and not value > gt:
            return "not_gt", {"gt": gt}
        if lt is not None and not value < lt:
            return "not_lt", {"lt": lt}
        return None

    def violation(self, value: Any) -> tuple[str, dict[str, Any] | None]:
        return self._failure(value) or ("invalid", {})


def multiple_of(step: float | int | Decimal) -> Rule:
    """A number that is a whole multiple of *step*, computed exactly.

    Floats count as the decimal number they print as (``0.3`` is a multiple
    of ``0.1``, ``0.30000000000000004`` is not), the value JSON text holds;
    NaN and infinities are never multiples. ``bool`` values are not numbers.
    """
    if isinstance(step, bool) or not isinstance(step, (int, float, Decimal)):
        raise SchemaError(f"multiple_of() needs a number, got {step!r}")
    if step == 0 or (isinstance(step, (float, Decimal)) and not _finite(step)):
        raise SchemaError(
            f"multiple_of({step!r}) can never match", hint="Use a finite, non-zero step."
        )
    step_coefficient, step_exponent = _decimal_parts(step)
    step_coefficient = abs(step_coefficient)

    def is_multiple(value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            return True
        if type(value) is int and type(step) is int:
            return value % step == 0
        if not _finite(value):
            return False
        coefficient, exponent = _decimal_parts(value)
        return _divides(step_coefficient, step_exponent, coefficient, exponent)

    return Rule(_builtin(is_multiple), code="multiple_of", params={"multiple_of": step})


def _is_nan(value: Any) -> bool:
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, Decimal) and Decimal.is_nan(value)


def _finite(value: float | int | Decimal) -> bool:
    if isinstance(value, int):
        return True  # math.isfinite(10**400) raises OverflowError
    return Decimal.is_finite(value) if isinstance(value, Decimal) else math.isfinite(value)


def _decimal_parts(value: float | int | Decimal) -> tuple[int, int]:
    """``(c, e)`` with value = c * 10**e, exactly (a float by its shortest repr).

    Never builds 10**e: a Decimal's exponent may be ~10**18 ("1e999999999").
    """
    if isinstance(value, int):
        return int(value), 0
    # float.__repr__ and Decimal.as_tuple: a subclass's overrides do not decide the number
    number = Decimal(float.__repr__(value)) if isinstance(value, float) else value
    sign, digits, exponent = Decimal.as_tuple(number)
    assert isinstance(exponent, int)  # finite: checked by the callers
    coefficient = 0
    for digit in digits:  # bounded by the input's length, unlike 10**exponent
        coefficient = coefficient * 10 + digit
    return (-coefficient if sign else coefficient), exponent


def _divides(step: int, step_exponent: int, value: int, exponent: int) -> bool:
    """Whether value * 10**exponent is a whole multiple of step * 10**step_exponent."""
    if value == 0:
        return True
    value = abs(value)
    shift = exponent - step_exponent
    if shift >= 0:
        # only the 2s and 5s of step can be met by 10**shift, and step has fewer
        # of each than its bit length
        scale: int = 10 ** min(shift, step.bit_length())
        return (value * scale) % step == 0
    if -shift > value.bit_length():  # 10**-shift > 2**-shift > value
        return False
    unit: int = 10 ** (-shift)
    return value % (step * unit) == 0


def one_of(choices: Collection[Any]) -> Rule:
    """The value is one of *choices*, compared as JSON compares them.

    ``True`` is not ``1`` (``bool`` is never equal to a number here), while
    ``1`` and ``1.0`` are the same number, as JSON Schema's ``enum`` says.
    """
    allowed = list(choices)
    try:
        lookup: Collection[Any] = frozenset(_choice_key(c) for c in allowed)
    except TypeError:
        lookup = [_choice_key(c) for c in allowed]

    # plain-str choices, for the common plain-str value: a hit there is a hit in lookup
    strings = frozenset(c for c in allowed if type(c) is str)

    def is_member(value: Any) -> bool:
        if type(value) is str and value in strings:
            return True
        try:
            return _choice_key(value) in lookup
        except TypeError:
            return False

    return Rule(_builtin(is_member), code="one_of", params={"choices": allowed})


def _choice_key(value: Any) -> tuple[bool, Any]:
    # bool is an int in Python; tagging it keeps True and 1 apart.
    return (isinstance(value, bool), value)


def not_empty() -> Rule:
    """A string with non-space content, or a non-empty collection."""

    def has_content(value: Any) -> bool:
        if isinstance(value, str):
            return bool(value.strip())  # JSON Schema: pattern of a non-SPACE_CHARS char
        try:
            return len(value) > 0
        except TypeError:
            return True

    return Rule(_builtin(has_content), code="not_empty")


FORMATS: dict[str, Callable[[], Rule]] = {
    "email": email,
    "url": url,
    "uuid": uuid_,
    "ip": ip,
    "ipv4": lambda: ip(4),
    "ipv6": lambda: ip(6),
    "slug": slug,
    "datetime": iso_datetime,
    "date": iso_date,
    "time": iso_time,
    "hostname": hostname,
}
"""Named string formats usable in dict specs: ``{"email": "email"}``."""
