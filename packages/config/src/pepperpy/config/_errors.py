"""The aggregated configuration error."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pepperpy.core.exceptions import ConfigurationError, ErrorCatalogue, ErrorCode, ErrorDetail

__all__ = ["ERRORS", "ConfigError", "pointer_to_key"]


def pointer_to_key(path: str) -> str:
    """``/db/port`` -> ``db.port`` (``""`` stays ``""``)."""
    if not path:
        return ""
    parts = path.lstrip("/").split("/")
    return ".".join(p.replace("~1", "/").replace("~0", "~") for p in parts)


class ConfigError(ConfigurationError):
    """Configuration is missing, malformed or invalid; :attr:`errors` lists *every* problem.

    Each :class:`~pepperpy.core.exceptions.ErrorDetail` has the key as a
    JSON-Pointer path; :attr:`sources` gives, for each, where the value came
    from (``config.toml:12``, ``env APP_DB__PORT``, ``secret /run/secrets/x``)
    or ``None`` when it was missing everywhere. A malformed file gives its
    ``file``, ``line`` and ``column`` in :attr:`context` and in the detail.
    """

    code = "pepperpy.config.invalid"

    def __init__(
        self,
        message: str | None = None,
        *,
        errors: Iterable[ErrorDetail] = (),
        sources: Sequence[str | None] = (),
        code: str | None = None,
        context: Mapping[str, Any] | None = None,
        hint: str | None = None,
    ) -> None:
        details = list(errors)
        if message is None:
            count = len(details)
            message = f"{count} configuration error{'s' if count != 1 else ''}"
        super().__init__(message, code=code, context=context, hint=hint)
        self.errors: list[ErrorDetail] = details
        self.sources: list[str | None] = list(sources) + [None] * (len(details) - len(sources))

    @property
    def keys(self) -> list[str]:
        """The dotted keys of every problem, in order (``["db.port", "api.token"]``)."""
        return [pointer_to_key(d.path) for d in self.errors]

    def __str__(self) -> str:
        head = super().__str__()
        lines = []
        for detail, source in zip(self.errors, self.sources, strict=False):
            key = pointer_to_key(detail.path)
            text = f"  {key}: {detail.message}" if key else f"  {detail.message}"
            if detail.value is not None:
                text += f" (got {detail.value})"
            text += f" [{source}]" if source else ""
            lines.append(text)
        return "\n".join([head, *lines]) if lines else head

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe description, with every detail and its source."""
        data = super().to_dict()
        data["errors"] = [
            {**d.to_dict(), "key": pointer_to_key(d.path), "source": s}
            for d, s in zip(self.errors, self.sources, strict=False)
        ]
        return data


ERRORS = ErrorCatalogue(
    "pepperpy.config",
    ErrorCode(
        "pepperpy.config.invalid",
        ConfigError,
        "Configuration is missing, malformed or invalid; error.errors lists every problem, "
        "each with its own detail code (file_missing, syntax, format, table_missing, "
        "profile, interpolation, missing, ...) and error.sources says where it came from.",
        "Fix every problem listed at the source shown (file:line, env variable, secret "
        "file); nothing was loaded, and a reload keeps the previous configuration.",
    ),
)
"""The error codes pepperpy-config raises: code -> class, meaning and what to do.

Mistakes in the arguments of :meth:`Config.load` and friends raise core's
``InvalidArgumentError`` (``pepperpy.invalid_argument``) and a missing key
core's ``NotFoundError`` (``pepperpy.not_found``): those codes are in
``pepperpy.core.ERRORS``.
"""
