"""A progress bar for sync and async iterables that degrades to log lines off a TTY."""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Sized
from typing import Any, Generic, TextIO, TypeVar, cast, overload

from pepperpy.core.exceptions import InvalidArgumentError, safe_repr

__all__ = ["Progress", "progress"]

T = TypeVar("T")
_log = logging.getLogger("pepperpy.dev.progress")


def _check_number(name: str, value: Any, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise InvalidArgumentError(
            f"progress() {name} must be a finite number >= 0, got {safe_repr(value)}",
            code="pepperpy.dev.progress",
            hint=f"Pass {name} as a non-negative int or float"
            + (", or leave it unset." if optional else "."),
        )


class Progress(Generic[T]):
    """Counts items passing through and renders progress.

    On a TTY it redraws one line (``desc [#####.....] 50/100 50% 12.3/s eta 4s``)
    at most every ``refresh`` seconds. Elsewhere (CI, log files) it emits a log
    line every ``log_every`` seconds instead, and a final summary either way.
    Use :func:`progress` to create one.
    """

    def __init__(
        self,
        iterable: Iterable[T] | AsyncIterable[T] | None,
        *,
        total: int | None = None,
        desc: str = "",
        file: TextIO | None = None,
        tty: bool | None = None,
        refresh: float = 0.1,
        log_every: float = 5.0,
        width: int = 30,
    ) -> None:
        self._iterable = iterable
        if total is None and hasattr(iterable, "__len__"):
            try:
                total = len(cast("Sized", iterable))
            except Exception:  # a __len__ that raises: no total
                total = None
        _check_number("total", total, optional=True)
        _check_number("refresh", refresh)
        _check_number("log_every", log_every)
        if isinstance(width, bool) or not isinstance(width, int) or not 1 <= width <= 1000:
            raise InvalidArgumentError(
                f"progress() width must be an int from 1 to 1000, got {safe_repr(width)}",
                code="pepperpy.dev.progress",
                hint="Leave width unset for a 30-character bar.",
            )
        if not isinstance(desc, str):
            raise InvalidArgumentError(
                f"progress() desc must be a str, got {type(desc).__name__}",
                code="pepperpy.dev.progress",
                hint="Pass a short text such as desc='import'.",
            )
        self.total = total
        self.desc = desc
        self._explicit_file = file is not None
        self.file = file or sys.stderr
        self.tty = self.file.isatty() if tty is None else tty
        self.refresh = refresh
        self.log_every = log_every
        self.width = width
        self.count = 0
        self.started = time.monotonic()
        self._last_draw = 0.0
        self._drawn = 0
        self._closed = False

    @property
    def rate(self) -> float:
        """Items per second so far."""
        elapsed = time.monotonic() - self.started
        return self.count / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        """The current status line."""
        rate = self.rate
        parts = [self.desc] if self.desc else []
        if self.total:
            frac = min(1.0, self.count / self.total)
            filled = int(frac * self.width)
            parts.append(f"[{'#' * filled}{'.' * (self.width - filled)}]")
            parts.append(f"{self.count}/{self.total} {frac:4.0%}")
            if rate > 0 and self.count < self.total:
                parts.append(f"{rate:.1f}/s eta {(self.total - self.count) / rate:.0f}s")
            else:
                parts.append(f"{rate:.1f}/s")
        else:
            parts.append(f"{self.count} {rate:.1f}/s")
        return " ".join(parts)

    def update(self, n: int = 1) -> None:
        """Record *n* more items and redraw if it is time."""
        self.count += n
        now = time.monotonic()
        interval = self.refresh if self.tty else self.log_every
        if now - self._last_draw >= interval:
            self._last_draw = now
            self._draw()

    def _to_log(self) -> bool:
        """Off a TTY, lines go to logging when the application's logging shows them.

        Exactly one destination is used, so a line never appears twice: an explicit
        ``file`` wins; otherwise the ``pepperpy.dev.progress`` logger when a handler
        would show its INFO lines (pepperpy.logging configured, or stdlib logging
        set up at INFO); else stderr. A helper you called always shows its output.
        """
        if self._explicit_file:
            return False
        # only when a handler would actually show an INFO line of this logger:
        # pepperpy.logging imported but not configured, or a root logger left at
        # WARNING, would swallow every line (the final summary included)
        return _log.hasHandlers() and _log.isEnabledFor(logging.INFO)

    def _draw(self, final: bool = False) -> None:
        # A broken stream (closed, a pipe whose reader left, an encoding that cannot
        # show the line) never breaks the loop the bar is watching.
        try:
            self._write_line(final)
        except (OSError, ValueError):
            pass

    def _write_line(self, final: bool) -> None:
        if self.tty:
            line = self.line()
            # pad over what is left of a longer previous line (no stale characters)
            pad = " " * max(0, self._drawn - len(line))
            self._drawn = len(line)
            self.file.write("\r" + line + pad + ("\n" if final else ""))
            self.file.flush()
            return
        text = f"{self.line()} (done)" if final else self.line()
        if self._to_log():
            _log.info(text)
        else:
            self.file.write(text + "\n")

    def close(self) -> None:
        """Draw the final state once."""
        if not self._closed:
            self._closed = True
            self._draw(final=True)

    def __iter__(self) -> Iterator[T]:
        if self._iterable is None or not isinstance(self._iterable, Iterable):
            raise InvalidArgumentError(
                "this progress() wraps an async iterable (or nothing): use 'async for'",
                code="pepperpy.dev.progress",
                hint="Use 'async for x in progress(source)', or 'with progress(total=n)'.",
            )
        try:
            for item in self._iterable:
                yield item
                self.update()
        finally:
            self.close()

    async def __aiter__(self) -> AsyncIterator[T]:
        source: Any = self._iterable
        try:
            if isinstance(source, AsyncIterable):
                async for item in source:
                    yield item
                    self.update()
            elif isinstance(source, Iterable):
                for item in source:
                    yield item
                    self.update()
            else:
                raise InvalidArgumentError(
                    "this progress() wraps nothing to iterate: use 'with progress(total=n)'",
                    code="pepperpy.dev.progress",
                    hint="Pass an iterable or async iterable, or call update() yourself.",
                )
        finally:
            self.close()

    def __enter__(self) -> Progress[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@overload
def progress(iterable: AsyncIterable[T], **kwargs: Any) -> Progress[T]: ...
@overload
def progress(iterable: Iterable[T], **kwargs: Any) -> Progress[T]: ...
@overload
def progress(iterable: None = None, **kwargs: Any) -> Progress[Any]: ...


def progress(iterable: Any = None, **kwargs: Any) -> Progress[Any]:
    """Wrap a sync or async iterable (or nothing, for manual ``update()``) in a progress bar.

    ``for row in progress(rows, desc="import"): ...``, ``async for x in progress(stream): ...``,
    or ``with progress(total=n) as bar: bar.update()``. Keyword arguments are those of
    :class:`Progress`.
    """
    return Progress(iterable, **kwargs)
