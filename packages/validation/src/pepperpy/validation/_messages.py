"""Message templates: every error code has a replaceable, translatable template."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pepperpy.core.exceptions import safe_repr

__all__ = ["DEFAULT_MESSAGES", "MESSAGES_PT", "Messages"]

DEFAULT_MESSAGES: Mapping[str, str] = {
    "type": "must be of type {expected}",
    "missing": "is required",
    "null": "must not be null",
    "extra_forbidden": "is not an allowed field",
    "email": "must be a valid email address",
    "url": "must be a valid URL",
    "uuid": "must be a valid UUID",
    "ip": "must be a valid IP address",
    "ipv4": "must be a valid IPv4 address",
    "ipv6": "must be a valid IPv6 address",
    "slug": "must be a slug (lowercase letters, digits and hyphens)",
    "datetime": "must be an ISO 8601 date and time",
    "date": "must be an ISO 8601 date",
    "time": "must be an ISO 8601 time",
    "hostname": "must be a valid host name",
    "pattern": "must match the pattern {pattern}",
    "too_short": "must have at least {min} characters",
    "too_long": "must have at most {max} characters",
    "too_few": "must have at least {min} items",
    "too_many": "must have at most {max} items",
    "too_small": "must be at least {min}",
    "too_large": "must be at most {max}",
    "not_gt": "must be greater than {gt}",
    "not_lt": "must be less than {lt}",
    "multiple_of": "must be a multiple of {multiple_of}",
    "one_of": "must be one of {choices}",
    "not_empty": "must not be empty",
    "length": "must have a length that can be checked",
    "range": "must be a value that can be compared with the bounds",
    "invalid": "is invalid",
    "custom": "is invalid",
    "depth": "is nested deeper than {max_depth} levels",
    "not_json": "must be JSON data (objects, arrays, strings, numbers, booleans, null)",
    "cross_field": "is invalid",
}
"""The English templates, keyed by error code (``str.format`` style placeholders)."""

MESSAGES_PT: Mapping[str, str] = {
    "type": "deve ser do tipo {expected}",
    "missing": "é obrigatório",
    "null": "não pode ser nulo",
    "extra_forbidden": "não é um campo permitido",
    "email": "deve ser um endereço de e-mail válido",
    "url": "deve ser uma URL válida",
    "uuid": "deve ser um UUID válido",
    "ip": "deve ser um endereço IP válido",
    "ipv4": "deve ser um endereço IPv4 válido",
    "ipv6": "deve ser um endereço IPv6 válido",
    "slug": "deve ser um slug (letras minúsculas, dígitos e hífens)",
    "datetime": "deve ser uma data e hora ISO 8601",
    "date": "deve ser uma data ISO 8601",
    "time": "deve ser um horário ISO 8601",
    "hostname": "deve ser um nome de host válido",
    "pattern": "deve corresponder ao padrão {pattern}",
    "too_short": "deve ter pelo menos {min} caracteres",
    "too_long": "deve ter no máximo {max} caracteres",
    "too_few": "deve ter pelo menos {min} itens",
    "too_many": "deve ter no máximo {max} itens",
    "too_small": "deve ser no mínimo {min}",
    "too_large": "deve ser no máximo {max}",
    "not_gt": "deve ser maior que {gt}",
    "not_lt": "deve ser menor que {lt}",
    "multiple_of": "deve ser múltiplo de {multiple_of}",
    "one_of": "deve ser um de {choices}",
    "not_empty": "não pode ser vazio",
    "length": "deve ter um comprimento que possa ser verificado",
    "range": "deve ser um valor comparável com os limites",
    "invalid": "é inválido",
    "custom": "é inválido",
    "depth": "tem mais de {max_depth} níveis de aninhamento",
    "not_json": "deve ser um dado JSON",
    "cross_field": "é inválido",
}
"""Brazilian Portuguese templates, an example catalog for :class:`Messages`."""


class _View:
    """A format_map mapping: displays parameters on demand, keeps unknown placeholders."""

    __slots__ = ("_params",)

    def __init__(self, params: Mapping[str, Any]) -> None:
        self._params = params

    def __getitem__(self, key: str) -> Any:
        try:
            return _display(self._params[key])
        except KeyError:
            return "{" + key + "}"


class Messages:
    """A catalog of message templates, layered over the English defaults.

    Args:
        overrides: Templates by error code; they replace the defaults (or the
            *base* catalog) for those codes only.
        base: The catalog to fall back to (default :data:`DEFAULT_MESSAGES`).

    Templates use ``str.format`` placeholders filled from the error's
    parameters (``{min}``, ``{max}``, ``{expected}``, ``{choices}`` ...); an
    unknown placeholder is left as is rather than failing.
    """

    __slots__ = ("_templates",)

    _templates: dict[str, str]

    def __init__(
        self,
        overrides: Mapping[str, str] | None = None,
        *,
        base: Mapping[str, str] | Messages | None = None,
    ) -> None:
        templates: dict[str, str]
        if isinstance(base, Messages):
            templates = dict(base._templates)
        else:
            templates = dict(DEFAULT_MESSAGES if base is None else {**DEFAULT_MESSAGES, **base})
        if overrides:
            templates.update(overrides)
        self._templates = templates

    def template(self, code: str) -> str:
        """The template for *code* (``"is invalid"`` when the code is unknown)."""
        return self._templates.get(code) or self._templates.get("invalid", "is invalid")

    def render(self, code: str, params: Mapping[str, Any] | None = None) -> str:
        """Fill the template for *code* with *params*."""
        return fill(self.template(code), params)

    def with_overrides(self, overrides: Mapping[str, str]) -> Messages:
        """A new catalog with *overrides* layered on top of this one."""
        return Messages(overrides, base=self)

    def __repr__(self) -> str:
        return f"Messages({len(self._templates)} templates)"


def fill(template: str, params: Mapping[str, Any] | None) -> str:
    """Fill *template*'s ``{placeholders}`` from *params*; never raises."""
    if not params or "{" not in template:
        return template
    try:
        return template.format_map(_View(params))
    except (ValueError, IndexError, AttributeError, KeyError, TypeError):
        return template


def _display(value: Any) -> Any:
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(safe_repr(v, 40) for v in value)
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return value
    return safe_repr(value, 60)


DEFAULT_CATALOG = Messages()
