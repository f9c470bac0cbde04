"""``debug()`` and the pretty traceback formatter."""

from __future__ import annotations

import ast
import inspect
import linecache
import os
import sys
import sysconfig
import traceback
from collections.abc import Callable
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, TextIO, TypeVar

from pepperpy.core import default_redactor, redact_text
from pepperpy.core.exceptions import safe_repr

__all__ = ["debug", "format_exception", "install_excepthook"]

T = TypeVar("T")

ENV_SWITCH = "PEPPERPY_DEBUG"
_LIBRARY_DIRS = tuple(
    {
        str(Path(p).resolve())
        for p in (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"])
    }
)


def _enabled() -> bool:
    return os.environ.get(ENV_SWITCH, "1").lower() not in ("0", "false", "off", "no")


def _call_source(frame: FrameType) -> list[str] | None:
    """Return the source text of each argument of the ``debug(...)`` call in *frame*."""
    try:
        lines, _ = inspect.findsource(frame)
    except (OSError, TypeError):
        return None
    lineno = frame.f_lineno - 1
    # Parse growing windows from the call line until a complete statement appears.
    for end in range(lineno + 1, min(len(lines), lineno + 40) + 1):
        snippet = "".join(lines[lineno:end]).strip()
        try:
            tree = ast.parse(snippet)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("debug", "d"):
                return [ast.get_source_segment(snippet, arg) or "?" for arg in node.args]
        return None
    return None


def debug(*values: Any, file: TextIO | None = None, redact: bool = True) -> Any:
    """Print each argument's expression text, value and the caller's file:line.

    ``debug(user.id, len(items))`` prints ``app.py:12 user.id = 7, len(items) = 3``.
    Returns its argument (or a tuple of them) so it can wrap an expression in place.
    Output goes to pepperpy.logging at DEBUG level when that package is loaded
    and a sink would show a DEBUG record of ``pepperpy.dev``; otherwise to *file*
    (stderr): a helper you called always shows its output. ``PEPPERPY_DEBUG=0``
    switches it off. Secrets are masked by pepperpy.core's redactor (values of
    secret-looking names, secret objects, dataclass/attrs fields, URL passwords)
    unless ``redact=False``. Never raises, even for values whose ``repr`` raises.
    """
    result = values[0] if len(values) == 1 else values
    if not _enabled():
        return result
    frame = inspect.currentframe()
    caller = frame.f_back if frame is not None else None
    where = "?"
    texts: list[str] | None = None
    if caller is not None:
        where = f"{Path(caller.f_code.co_filename).name}:{caller.f_lineno}"
        texts = _call_source(caller)
    del frame, caller
    if texts is None or len(texts) != len(values):
        texts = [f"arg{i}" for i in range(len(values))]
    show = default_redactor.safe_repr if redact else safe_repr
    parts = [f"{text} = {show(value, 500)}" for text, value in zip(texts, values, strict=True)]
    line = f"{where} {', '.join(parts)}" if parts else where
    if redact:
        line = redact_text(line)
    if file is None:
        logger = _pepperpy_logger()
        if logger is not None:
            logger(line)
            return result
    try:
        print(line, file=file or sys.stderr, flush=True)
    except (OSError, ValueError):  # a closed or broken stream, or one that cannot encode
        pass  # debug() never raises into the code it watches
    return result


def _pepperpy_logger() -> Callable[[str], Any] | None:
    if "pepperpy.logging" not in sys.modules:
        return None  # never import it just to print a line
    try:
        logging_mod: Any = sys.modules["pepperpy.logging"]
        logger = logging_mod.Logging.get_logger("pepperpy.dev")
        if not logger.is_enabled_for("DEBUG"):
            return None  # configured above DEBUG, or no sink: print instead
        return logger.debug  # type: ignore[no-any-return]
    except Exception:
        return None


def _is_library(filename: str) -> bool:
    try:
        resolved = str(Path(filename).resolve())
    except OSError:
        return False
    return resolved.startswith(_LIBRARY_DIRS) or filename.startswith("<frozen")


def format_exception(
    exc: BaseException, *, hide_libraries: bool = True, redact: bool = True, context: int = 1
) -> str:
    """Format *exc* readably: your frames with source, library frames folded, secrets masked.

    Consecutive frames from the standard library and site-packages are folded
    into one line saying how many were hidden. Chained causes are included.
    """
    chunks: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    chain: list[tuple[BaseException, str]] = []
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, ""))
        nxt = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
        if nxt is not None:
            link = (
                "The above exception was the direct cause of:"
                if current.__cause__ is not None
                else "During handling of the above exception, another exception occurred:"
            )
            chain[-1] = (current, link)
        current = nxt
    for item, link in reversed(chain):
        if link:  # this exception has a cause, printed just above it
            chunks.append(f"\n{link}\n\n")
        chunks.append(_format_one(item, hide_libraries, context, redact))
    text = "".join(chunks)
    return redact_text(text) if redact else text


def _format_one(exc: BaseException, hide_libraries: bool, context: int, redact: bool) -> str:
    lines = ["Traceback (most recent call last):\n"]
    hidden = 0
    tb: TracebackType | None = exc.__traceback__
    for frame_summary in traceback.extract_tb(tb):
        if hide_libraries and _is_library(frame_summary.filename):
            hidden += 1
            continue
        if hidden:
            lines.append(f"  ... {hidden} library frame{'s' if hidden > 1 else ''} hidden\n")
            hidden = 0
        lines.append(
            f'  File "{frame_summary.filename}", line {frame_summary.lineno}, '
            f"in {frame_summary.name}\n"
        )
        lineno = frame_summary.lineno or 0
        for n in range(max(1, lineno - context + 1), lineno + 1):
            source = linecache.getline(frame_summary.filename, n).rstrip()
            if source:
                marker = ">" if n == lineno else " "
                lines.append(f"  {marker} {n:4} | {source}\n")
    if hidden:
        lines.append(f"  ... {hidden} library frame{'s' if hidden > 1 else ''} hidden\n")
    only = traceback.format_exception_only(type(exc), exc)
    if redact:  # the message as the redactor renders the exception (secret arguments masked)
        try:
            raw = str(exc)
        except Exception:
            raw = ""
        shown = default_redactor.safe_str(exc)
        if raw and shown != raw:
            only = [line.replace(raw, shown) for line in only]
    lines.extend(only)
    return "".join(lines)


def install_excepthook(*, hide_libraries: bool = True) -> Callable[[], None]:
    """Make uncaught exceptions print with :func:`format_exception`; returns an undo function."""
    previous = sys.excepthook

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        sys.stderr.write(format_exception(exc.with_traceback(tb), hide_libraries=hide_libraries))

    sys.excepthook = hook

    def undo() -> None:
        sys.excepthook = previous

    return undo
