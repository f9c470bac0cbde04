"""Errors of :mod:`pepperpy.validation`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pepperpy.core.exceptions import (
    ErrorCatalogue,
    ErrorCode,
    ErrorDetail,
    InvalidArgumentError,
    safe_repr,
)
from pepperpy.core.exceptions import ValidationError as _CoreValidationError
from pepperpy.validation._messages import DEFAULT_CATALOG, Messages, fill

__all__ = ["ERRORS", "NO_VALUE", "SchemaError", "ValidationError", "Violation"]


class _NoValue:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_VALUE"

    def __reduce__(self) -> str:
        return "NO_VALUE"


NO_VALUE: Any = _NoValue()
"""Marks a violation that has no value to quote (missing keys, whole-object checks)."""


class Quoted(str):
    """An already quoted value: its ``repr`` is itself (used for pickling and nesting)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


class Violation:
    """One broken rule, before it is rendered into a message.

    Kept by :class:`ValidationError` so its messages can be rendered again
    with another catalog (another language) after the fact.

    Attributes:
        path: JSON-Pointer path of the value (``/items/0/email``).
        code: The error code (``"email"``, ``"too_short"``, ``"missing"`` ...).
        params: Values for the message template (``{"min": 3}``).
        value: The offending value (:data:`NO_VALUE` when there is none).
        template: A template that wins over the catalog (set by a rule's
            ``message=`` or by a custom rule's own message).
    """

    __slots__ = ("code", "params", "path", "template", "value")

    def __init__(
        self,
        path: str,
        code: str,
        params: Mapping[str, Any] | None = None,
        value: Any = NO_VALUE,
        template: str | None = None,
    ) -> None:
        self.path = path
        self.code = code
        self.params = params
        self.value = value
        self.template = template

    def render(self, messages: Messages | Mapping[str, str] = DEFAULT_CATALOG) -> ErrorDetail:
        """Render this violation as a core :class:`ErrorDetail` (with *messages*' templates)."""
        if not isinstance(messages, Messages):
            messages = Messages(messages)
        params = dict(self.params) if self.params else {}
        quoted = None if self.value is NO_VALUE else safe_repr(self.value)
        params.setdefault("value", "<none>" if quoted is None else quoted)
        template = self.template if self.template is not None else messages.template(self.code)
        message = fill(template, params)
        exp = params.get("expected")
        expected = None if exp is None else str(exp)
        value = quoted
        return ErrorDetail(self.path, message, code=self.code, expected=expected, value=value)

    def __repr__(self) -> str:
        return f"Violation(path={self.path!r}, code={self.code!r}, params={self.params!r})"


class ValidationError(_CoreValidationError):
    """Data failed validation; :attr:`errors` lists *every* problem with its path.

    A subclass of :class:`pepperpy.core.exceptions.ValidationError`, so one
    ``except`` catches validation failures from every PepperPy package.
    :meth:`render` re-renders the messages with another :class:`Messages`
    catalog (for example the request's language). Values of fields marked
    ``secret`` are never quoted.
    """

    code = "pepperpy.validation.invalid"

    def __init__(
        self,
        message: str | None = None,
        *,
        errors: Iterable[ErrorDetail] = (),
        violations: Sequence[Violation] = (),
        messages: Messages = DEFAULT_CATALOG,
        code: str | None = None,
        context: Mapping[str, Any] | None = None,
        hint: str | None = None,
        retryable: bool | None = None,
    ) -> None:
        details = list(errors)
        if message is None:
            count = len(details) or len(violations)
            message = f"{count} validation error{'s' if count != 1 else ''}"
        super().__init__(
            message, errors=details, code=code, context=context, hint=hint, retryable=retryable
        )
        self.violations: list[Violation] = list(violations)
        self._catalog = messages
        if not details and self.violations:
            self._rendered = None  # rendered on first access to .errors

    @property  # type: ignore[override,unused-ignore]
    def errors(self) -> list[ErrorDetail]:
        """Every problem as a core :class:`ErrorDetail` (rendered on first access)."""
        rendered = self.__dict__.get("_rendered")
        if rendered is None:
            rendered = [v.render(self._catalog) for v in self.__dict__.get("violations", ())]
            self.__dict__["_rendered"] = rendered
        return rendered

    @errors.setter
    def errors(self, value: list[ErrorDetail]) -> None:
        self.__dict__["_rendered"] = list(value)

    def __reduce__(self) -> tuple[Any, ...]:
        # Render now and keep only quoted values, so any payload pickles safely.
        state = dict(self.__dict__)
        state["_rendered"] = list(self.errors)
        state["violations"] = [
            Violation(
                v.path,
                v.code,
                v.params,
                v.value if v.value is NO_VALUE else Quoted(safe_repr(v.value)),
                v.template,
            )
            for v in self.violations
        ]
        return (_rebuild, (type(self), state))

    def render(self, messages: Messages | Mapping[str, str]) -> list[ErrorDetail]:
        """The error details rendered with another catalog (e.g. another language)."""
        catalog = messages if isinstance(messages, Messages) else Messages(messages)
        return [v.render(catalog) for v in self.violations]

    def by_path(self) -> dict[str, list[str]]:
        """The messages grouped by path, e.g. for a form: ``{"/email": ["must be ..."]}``."""
        grouped: dict[str, list[str]] = {}
        for detail in self.errors:
            grouped.setdefault(detail.path, []).append(detail.message)
        return grouped


def _rebuild(cls: type[ValidationError], state: dict[str, Any]) -> ValidationError:
    error = cls.__new__(cls)
    Exception.__init__(error, state.get("message", ""))
    error.__dict__.update(state)
    return error


class SchemaError(InvalidArgumentError):
    """A schema definition is invalid (unknown format name, bad rule argument ...)."""

    code = "pepperpy.validation.schema"


ERRORS = ErrorCatalogue(
    "pepperpy.validation",
    ErrorCode(
        "pepperpy.validation.invalid",
        ValidationError,
        "The data failed validation; .errors lists every problem with its path and detail code.",
        "Fix the values at the paths listed (or show .by_path() to the user).",
    ),
    ErrorCode(
        "pepperpy.validation.schema",
        SchemaError,
        "A schema, field spec, rule or sanitizer definition is invalid (a programming error).",
        "Fix the schema definition as the message and hint say; it fails when it is built.",
    ),
)
"""The error codes pepperpy-validation raises: code -> class, meaning and what to do.

The codes inside :attr:`ValidationError.errors` (``"type"``, ``"missing"``,
``"too_short"`` ...) are per-problem *detail* codes, listed in the docs, not error codes.
"""
