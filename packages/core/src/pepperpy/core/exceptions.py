"""The PepperPy exception hierarchy.

Every error that PepperPy raises on purpose is a :class:`PepperPyError`.
The shared categories below are subclassed by the other packages::

    PepperPyError
    ├── ConfigurationError
    ├── InvalidArgumentError (ValueError)
    ├── ValidationError (ValueError)       carries every ErrorDetail
    ├── NotFoundError (LookupError)
    ├── ConflictError
    ├── OperationTimeoutError (TimeoutError)
    ├── LifecycleError (RuntimeError)
    │   ├── StartupError
    │   └── ClosedError
    ├── SecurityError
    ├── ExternalError                      an external dependency failed
    └── PluginError

Each error has a stable dotted ``code``, a ``context`` mapping of JSON-safe
values, an optional ``hint`` telling the user what to do, and a ``retryable``
flag.  ``str(error)`` renders all of it on one line; :meth:`PepperPyError.to_dict`
returns a JSON-safe dict; errors survive :mod:`pickle` and keep their cause.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

__all__ = [
    "ConfigurationError",
    "ConflictError",
    "ClosedError",
    "ERRORS",
    "ErrorCatalogue",
    "ErrorCode",
    "ErrorDetail",
    "ExternalError",
    "InvalidArgumentError",
    "LifecycleError",
    "NotFoundError",
    "OperationTimeoutError",
    "PepperPyError",
    "PluginError",
    "SecurityError",
    "StartupError",
    "ValidationError",
    "safe_repr",
]

_MAX_REPR = 80


def safe_repr(value: object, limit: int = _MAX_REPR) -> str:
    """Return ``repr(value)`` cut to *limit* characters, never raising.

    Used wherever a user-supplied value is quoted in an error message, so a
    huge payload cannot flood a log line.
    """
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ must not hide the real error
        text = f"<{type(value).__name__} object (repr failed)>"
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_json_safe(v) for v in value]
    return safe_repr(value)


def _redacted(context: Mapping[str, Any]) -> Mapping[str, Any]:
    """*context* with secret keys, secret objects and secrets inside strings masked."""
    from pepperpy.core._redact import default_redactor as redactor

    masked = redactor.redact_mapping(context)
    return {k: redactor.redact_text(v) if isinstance(v, str) else v for k, v in masked.items()}


class ErrorDetail:
    """One problem found while checking input: where, what, and why.

    Attributes:
        path: JSON-Pointer style location of the problem (``/items/3/price``),
            ``""`` for the whole input.
        message: A human readable explanation.
        code: A stable machine readable code, such as ``"type"`` or ``"missing"``.
        expected: What would have been valid, if that can be said.
        value: A truncated ``repr`` of the offending value, or ``None``.
    """

    __slots__ = ("code", "expected", "message", "path", "value")

    def __init__(
        self,
        path: str,
        message: str,
        *,
        code: str = "invalid",
        expected: str | None = None,
        value: str | None = None,
    ) -> None:
        self.path = path
        self.message = message
        self.code = code
        self.expected = expected
        self.value = value

    def __repr__(self) -> str:
        return (
            f"ErrorDetail(path={self.path!r}, message={self.message!r}, code={self.code!r}, "
            f"expected={self.expected!r}, value={self.value!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ErrorDetail):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((self.path, self.message, self.code, self.expected, self.value))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_detail, (self.to_dict(),))

    def __str__(self) -> str:
        where = self.path or "/"
        text = f"{where}: {self.message}"
        if self.value is not None:
            text += f" (got {self.value})"
        return text

    def to_dict(self) -> dict[str, str | None]:
        """Return the detail as a JSON-safe dict."""
        return {
            "path": self.path,
            "message": self.message,
            "code": self.code,
            "expected": self.expected,
            "value": self.value,
        }


def _rebuild_detail(data: dict[str, Any]) -> ErrorDetail:
    return ErrorDetail(
        data["path"],
        data["message"],
        code=data["code"],
        expected=data["expected"],
        value=data["value"],
    )


def _picklable(value: Any) -> bool:
    try:
        pickle.dumps(value)
    except Exception:
        return False
    return True


def _portable(value: Any) -> Any:
    """*value* if it pickles, else its safe repr (so an error always crosses processes)."""
    return value if _picklable(value) else safe_repr(value)


def _portable_cause(cause: BaseException | None) -> BaseException | None:
    if cause is None or _picklable(cause):
        return cause
    try:
        text = str(cause)
    except Exception:
        text = safe_repr(cause)
    return RuntimeError(f"{type(cause).__qualname__}: {text}")


def _rebuild_error(
    cls: type[PepperPyError], state: dict[str, Any], cause: BaseException | None = None
) -> PepperPyError:
    error = cls.__new__(cls)
    Exception.__init__(error, state["message"])
    error.__dict__.update(state)
    if cause is not None:
        error.__cause__ = cause
    return error


class PepperPyError(Exception):
    """The root of every error PepperPy raises on purpose.

    Args:
        message: What went wrong, in one sentence.
        code: A stable dotted code; defaults to the class's ``code``.
        context: Structured facts about the failure (key, path, limit ...).
            Values should be JSON-safe; others are rendered with ``repr``.
        hint: What the user should do about it.
        retryable: Whether retrying the same operation may succeed; defaults
            to the class's ``retryable``.

    Subclasses set the class attributes ``code`` and ``retryable`` to give
    their instances a default.
    """

    code: str = "pepperpy.error"
    retryable: bool = False
    hint: str | None = None

    _category: ClassVar[str] = "error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        context: Mapping[str, Any] | None = None,
        hint: str | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.context: dict[str, Any] = dict(context or {})
        if hint is not None:
            self.hint = hint
        if retryable is not None:
            self.retryable = retryable

    def __str__(self) -> str:
        parts = [self.message]
        if self.context:
            ctx = ", ".join(f"{k}={safe_repr(v)}" for k, v in _redacted(self.context).items())
            parts.append(f"[{ctx}]")
        if self.hint:
            parts.append(f"Hint: {self.hint}")
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # The context and other attributes cross as they are when they pickle, else
        # as their safe repr; the explicit cause (``raise ... from``) goes along.
        state = {key: _portable(value) for key, value in self.__dict__.items() if key != "context"}
        state["context"] = {key: _portable(value) for key, value in self.context.items()}
        return (_rebuild_error, (type(self), state, _portable_cause(self.__cause__)))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe description of the error and its causes."""
        data: dict[str, Any] = {
            "type": type(self).__name__,
            "code": self.code,
            "message": self.message,
            "context": _json_safe(_redacted(self.context)),
            "hint": self.hint,
            "retryable": self.retryable,
        }
        cause = self.__cause__ or (None if self.__suppress_context__ else self.__context__)
        if cause is not None:
            if isinstance(cause, PepperPyError):
                data["cause"] = cause.to_dict()
            else:
                data["cause"] = {"type": type(cause).__name__, "message": str(cause)}
        return data

    def with_context(self, **context: Any) -> PepperPyError:
        """Add *context* entries to this error and return it (for re-raising)."""
        self.context.update(context)
        return self


class ConfigurationError(PepperPyError):
    """Configuration is missing, malformed or invalid."""

    code = "pepperpy.configuration"


class InvalidArgumentError(PepperPyError, ValueError):
    """A caller passed an argument that cannot be used (a programming error)."""

    code = "pepperpy.invalid_argument"


class ValidationError(PepperPyError, ValueError):
    """Input data failed validation; :attr:`errors` lists *every* problem.

    Args:
        message: A summary; when omitted, one is built from the details.
        errors: Every problem found, each with its path.
    """

    code = "pepperpy.validation"

    def __init__(
        self,
        message: str | None = None,
        *,
        errors: Iterable[ErrorDetail] = (),
        code: str | None = None,
        context: Mapping[str, Any] | None = None,
        hint: str | None = None,
        retryable: bool | None = None,
    ) -> None:
        details = list(errors)
        if message is None:
            count = len(details)
            message = f"{count} validation error{'s' if count != 1 else ''}"
        super().__init__(message, code=code, context=context, hint=hint, retryable=retryable)
        self.errors: list[ErrorDetail] = details

    def __str__(self) -> str:
        head = super().__str__()
        if not self.errors:
            return head
        lines = "\n".join(f"  {detail}" for detail in self.errors)
        return f"{head}\n{lines}"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe description, including every error detail."""
        data = super().to_dict()
        data["errors"] = [detail.to_dict() for detail in self.errors]
        return data

    @property
    def paths(self) -> Sequence[str]:
        """The paths of every problem, in the order they were found."""
        return [detail.path for detail in self.errors]


class NotFoundError(PepperPyError, LookupError):
    """Something that was asked for does not exist."""

    code = "pepperpy.not_found"


class ConflictError(PepperPyError):
    """The operation conflicts with the current state (version mismatch, duplicate)."""

    code = "pepperpy.conflict"
    retryable = True


class OperationTimeoutError(PepperPyError, TimeoutError):
    """An operation did not finish within its time limit."""

    code = "pepperpy.timeout"
    retryable = True


class LifecycleError(PepperPyError, RuntimeError):
    """A component was used in a lifecycle state that does not allow it."""

    code = "pepperpy.lifecycle"


class StartupError(LifecycleError):
    """A component failed to start; it was left stopped and the cause is chained."""

    code = "pepperpy.lifecycle.startup"


class ClosedError(LifecycleError):
    """A component was used after it was stopped or closed."""

    code = "pepperpy.lifecycle.closed"
    hint = "Start the component (or create a new one) before using it."


class SecurityError(PepperPyError):
    """A security check failed (authentication, authorization, integrity)."""

    code = "pepperpy.security"


class ExternalError(PepperPyError):
    """An external dependency (database, network service, subprocess) failed."""

    code = "pepperpy.external"
    retryable = True


class PluginError(PepperPyError):
    """A plugin could not be loaded, is incompatible, or failed in a hook."""

    code = "pepperpy.plugin"


# --------------------------------------------------------------------------- the catalogue

_CODE = re.compile(r"pepperpy(\.([a-z0-9_]|\{[a-z_]+\})+)+")
_SLOT = re.compile(r"\\\{[a-z_]+\\\}")


class ErrorCode:
    """One documented error code: which class carries it, what it means, what to do.

    Args:
        code: The stable dotted code (``pepperpy.net.invalid_method``). A
            ``{name}`` slot stands for any lower-case word, for codes a shared helper
            raises on behalf of every package (``pepperpy.{area}.unknown_backend``).
        error: The :class:`PepperPyError` subclass raised with this code.
        meaning: One line: what happened.
        action: One line: what the caller should do about it.
    """

    __slots__ = ("_pattern", "action", "code", "error", "meaning")

    def __init__(self, code: str, error: type[PepperPyError], meaning: str, action: str) -> None:
        if not isinstance(code, str) or _CODE.fullmatch(code) is None:
            raise InvalidArgumentError(
                f"{safe_repr(code)} is not an error code",
                code="pepperpy.core.error_code",
                hint="Write a dotted lower-case code such as 'pepperpy.net.invalid_method'.",
            )
        if not (isinstance(error, type) and issubclass(error, PepperPyError)):
            raise InvalidArgumentError(
                f"the class of {code!r} must be a PepperPyError subclass, got {safe_repr(error)}",
                code="pepperpy.core.error_code",
                hint="Name the exception class that is raised with this code.",
            )
        for name, text in (("meaning", meaning), ("action", action)):
            if not isinstance(text, str) or not text.strip():
                raise InvalidArgumentError(
                    f"the {name} of {code!r} is empty",
                    code="pepperpy.core.error_code",
                    hint="Say in one line what the code means and what the caller should do.",
                )
        self.code = code
        self.error = error
        self.meaning = meaning
        self.action = action
        self._pattern = (
            re.compile(_SLOT.sub(r"[a-z0-9_]+", re.escape(code))) if "{" in code else None
        )

    def matches(self, code: str) -> bool:
        """Whether *code* is this code (a ``{name}`` slot matches any lower-case word)."""
        if self._pattern is None:
            return code == self.code
        return self._pattern.fullmatch(code) is not None

    def __repr__(self) -> str:
        return f"ErrorCode({self.code!r}, {self.error.__name__})"


class ErrorCatalogue(Mapping[str, ErrorCode]):
    """Every error code one package raises, in one place, each with its meaning.

    A mapping from code to :class:`ErrorCode`, in the order given. Each package
    exports its catalogue as ``ERRORS``; the docs' "Errors" page is generated
    from them, and the suite fails when a raised code is missing here or a code
    here is never raised.

    Args:
        package: The package's import name (``pepperpy.net``); every code starts
            with it (core's catalogue, ``pepperpy``, holds the shared codes).
        codes: The package's codes.
    """

    __slots__ = ("_codes", "package")

    def __init__(self, package: str, *codes: ErrorCode) -> None:
        self.package = package
        self._codes: dict[str, ErrorCode] = {}
        for entry in codes:
            if entry.code != package and not entry.code.startswith(package + "."):
                raise InvalidArgumentError(
                    f"{entry.code!r} does not belong to {package!r}",
                    code="pepperpy.core.error_code",
                    hint=f"Start the package's codes with {package + '.'!r}.",
                )
            if entry.code in self._codes:
                raise InvalidArgumentError(
                    f"{entry.code!r} is catalogued twice",
                    code="pepperpy.core.error_code",
                    hint="Keep one entry per code.",
                )
            self._codes[entry.code] = entry

    def __getitem__(self, code: str) -> ErrorCode:
        entry = self._codes.get(code)
        if entry is not None:
            return entry
        for candidate in self._codes.values():
            if candidate.matches(code):
                return candidate
        raise KeyError(code)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self.get(code) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._codes)

    def __len__(self) -> int:
        return len(self._codes)

    def __repr__(self) -> str:
        return f"ErrorCatalogue({self.package!r}, {len(self._codes)} codes)"


ERRORS = ErrorCatalogue(
    "pepperpy",
    ErrorCode(
        "pepperpy.error",
        PepperPyError,
        "An error with no more specific code (the root class's default).",
        "Read the message and the hint; report it if no hint says what to do.",
    ),
    ErrorCode(
        "pepperpy.configuration",
        ConfigurationError,
        "Configuration is missing, malformed or invalid.",
        "Fix the setting the message names; the hint says which source it came from.",
    ),
    ErrorCode(
        "pepperpy.invalid_argument",
        InvalidArgumentError,
        "A caller passed an argument that cannot be used.",
        "Fix the call: the message names the argument and what it accepts.",
    ),
    ErrorCode(
        "pepperpy.validation",
        ValidationError,
        "Input data failed validation; `errors` lists every problem with its path.",
        "Show the problems to whoever sent the data; do not retry unchanged.",
    ),
    ErrorCode(
        "pepperpy.not_found",
        NotFoundError,
        "Something that was asked for does not exist.",
        "Check the name or key; create it first if it should exist.",
    ),
    ErrorCode(
        "pepperpy.conflict",
        ConflictError,
        "The operation conflicts with the current state (a version mismatch, a duplicate).",
        "Read the current state again and retry the operation on top of it.",
    ),
    ErrorCode(
        "pepperpy.timeout",
        OperationTimeoutError,
        "An operation did not finish within its time limit.",
        "Retry, or raise the limit if the operation is expected to take longer.",
    ),
    ErrorCode(
        "pepperpy.lifecycle",
        LifecycleError,
        "A component was used in a lifecycle state that does not allow it.",
        "Start the component before use and stop it once.",
    ),
    ErrorCode(
        "pepperpy.lifecycle.startup",
        StartupError,
        "A component failed to start; it was left stopped and the cause is chained.",
        "Read the chained cause, fix it, then start the component again.",
    ),
    ErrorCode(
        "pepperpy.lifecycle.closed",
        ClosedError,
        "A component was used after it was stopped or closed.",
        "Start the component (or create a new one) before using it.",
    ),
    ErrorCode(
        "pepperpy.security",
        SecurityError,
        "A security check failed (authentication, authorization, integrity).",
        "Do not retry with the same credentials; the message says which check failed.",
    ),
    ErrorCode(
        "pepperpy.external",
        ExternalError,
        "An external dependency (database, network service, subprocess) failed.",
        "Retry later; check the dependency named in the message.",
    ),
    ErrorCode(
        "pepperpy.plugin",
        PluginError,
        "A plugin could not be loaded, is incompatible, or failed in a hook.",
        "Check the plugin named in the message: its version and its installation.",
    ),
    ErrorCode(
        "pepperpy.{area}.missing_driver",
        ConfigurationError,
        "An optional driver (redis, asyncpg, ...) that a backend needs is not installed.",
        "Install the extra the hint names, such as pip install 'pepperpy-task[redis]'.",
    ),
    ErrorCode(
        "pepperpy.{area}.backend_name",
        InvalidArgumentError,
        "A backend was asked for by something other than its name (a str).",
        "Pass the backend's name; the hint lists the available ones.",
    ),
    ErrorCode(
        "pepperpy.{area}.unknown_backend",
        ConfigurationError,
        "No built-in or installed backend has the name (or URL scheme) given.",
        "Use one of the names listed, or install the package that registers it.",
    ),
    ErrorCode(
        "pepperpy.{area}.backend_load",
        PluginError,
        "A registered backend failed to import, or has no from_url() classmethod.",
        "Reinstall the package that provides the backend; the cause is chained.",
    ),
    ErrorCode(
        "pepperpy.{area}.no_{noun}_url",
        ConfigurationError,
        "A connect_<noun>() call got no URL and its environment variable is unset.",
        "Pass a URL, or set the environment variable the context names.",
    ),
    ErrorCode(
        "pepperpy.{area}.{noun}_url",
        InvalidArgumentError,
        "The string given as a backend URL has no scheme.",
        "Pass a URL such as sqlite:///tasks.db or redis://127.0.0.1:6379/0.",
    ),
    ErrorCode(
        "pepperpy.core.error_code",
        InvalidArgumentError,
        "An ErrorCode or ErrorCatalogue entry is malformed.",
        "Fix the entry as the hint says.",
    ),
    ErrorCode(
        "pepperpy.core.merge_depth",
        InvalidArgumentError,
        "deep_merge() met mappings nested deeper than it will follow.",
        "Flatten the data, or merge the deep part yourself.",
    ),
)
"""The codes pepperpy-core raises, and the class defaults every package inherits."""
