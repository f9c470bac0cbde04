"""Masking of secret-looking values in text (tracebacks, debug output)."""

from __future__ import annotations

import re

_SECRET_WORDS = r"password|passwd|secret|token|api[_-]?key|authorization|private[_-]?key|credential"
_ASSIGNMENT = re.compile(
    rf"(?P<key>[\w.-]*(?:{_SECRET_WORDS})[\w.-]*)(?P<sep>['\"]?\s*[:=]\s*)"
    r"(?P<value>'[^']*'|\"[^\"]*\"|[^\s,;)}\]]+)",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")

MASK = "***"


def redact_text(text: str) -> str:
    """Mask values assigned to secret-looking keys and bearer/basic credentials."""

    def _mask(match: re.Match[str]) -> str:
        value = match.group("value")
        quote = value[0] if value[:1] in ("'", '"') else ""
        return f"{match.group('key')}{match.group('sep')}{quote}{MASK}{quote}"

    return _ASSIGNMENT.sub(_mask, _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text))
