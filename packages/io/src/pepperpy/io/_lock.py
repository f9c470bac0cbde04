"""Advisory, cross-process file locks with timeouts (async and sync)."""

from __future__ import annotations

import asyncio
import math
import os
import sys
import time
from typing import TYPE_CHECKING

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.core.types import MISSING, LifecycleState, Missing
from pepperpy.io._errors import LockTimeoutError, check_path, check_seconds, translate_os_error

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["FileLock"]

StrPath = str | os.PathLike[str]

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int, shared: bool) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int, shared: bool) -> bool:
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class FileLock:
    """An advisory lock on a file, shared by every process (and task) that uses it.

    ::

        lock = FileLock("data/.lock", timeout=10)
        async with lock:            # or: with lock:  (blocking, for sync code)
            ...                     # one holder at a time, across processes

    The lock is ``flock(2)`` on POSIX and ``msvcrt.locking`` on Windows: it is
    released by the OS when the holder dies, even on ``kill -9``. Two
    :class:`FileLock` objects on the same path exclude each other even in one
    process. One object is not reentrant. The lock file is created when
    missing and never deleted (deleting it would race with other holders);
    the holder's PID is written into it for diagnostics.

    Args:
        path: The lock file.
        timeout: Default seconds to wait; ``None`` waits forever, ``0`` tries once.
        poll_interval: Seconds between attempts while waiting.
        shared: Take a shared (reader) lock instead of an exclusive one (POSIX).
    """

    def __init__(
        self,
        path: StrPath,
        *,
        timeout: float | None = None,
        poll_interval: float = 0.05,
        shared: bool = False,
    ) -> None:
        check_path(path)
        check_seconds("timeout", timeout, zero=True)
        check_seconds("poll_interval", poll_interval, zero=False, none=False)
        if poll_interval == math.inf:
            raise InvalidArgumentError(
                "poll_interval must be finite",
                context={"poll_interval": poll_interval},
                hint="Pass e.g. 0.05 seconds.",
            )
        self.path = os.fspath(path)
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.shared = shared
        self._fd: int | None = None

    def __repr__(self) -> str:
        return f"FileLock({self.path!r}, locked={self.locked})"

    @property
    def locked(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    @property
    def state(self) -> LifecycleState:
        """``RUNNING`` while held, ``STOPPED`` otherwise."""
        return LifecycleState.RUNNING if self.locked else LifecycleState.STOPPED

    def _attempt(self) -> bool:
        if self._fd is not None:
            raise InvalidArgumentError(
                f"lock {self.path!r} is already held by this object",
                context={"path": self.path},
                hint="FileLock is not reentrant; release it first or use a second object.",
            )
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise translate_os_error(exc, "open lock file", self.path) from exc
        try:
            if not _try_lock(fd, self.shared):
                os.close(fd)
                return False
        except OSError as exc:
            os.close(fd)
            raise translate_os_error(exc, "lock", self.path) from exc
        self._fd = fd
        if not self.shared:
            try:
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
            except OSError:
                pass  # the PID is informative only
        return True

    def _timeout_error(self, timeout: float | None) -> LockTimeoutError:
        holder = None
        try:
            with open(self.path, encoding="ascii", errors="replace") as f:
                holder = f.read(32).strip() or None
        except OSError:
            pass
        return LockTimeoutError(
            f"could not lock {self.path!r} within {timeout}s",
            context={"path": self.path, "timeout": timeout, "holder_pid": holder},
            hint="Another process holds the lock; wait longer, or check that the holder is alive.",
        )

    def _resolve(self, timeout: float | Missing | None) -> float | None:
        if timeout is MISSING:
            return self.timeout
        return check_seconds("timeout", timeout, zero=True)  # type: ignore[no-any-return]

    async def acquire(self, timeout: float | Missing | None = MISSING) -> None:
        """Wait for the lock, without blocking the event loop.

        Args:
            timeout: Seconds to wait; the lock's default when omitted.

        Raises:
            LockTimeoutError: The lock was not free in time.
        """
        limit = self._resolve(timeout)
        deadline = None if limit is None else time.monotonic() + limit
        while not self._attempt():
            if deadline is not None and time.monotonic() >= deadline:
                raise self._timeout_error(limit)
            delay = self.poll_interval
            if deadline is not None:
                delay = max(0.0, min(delay, deadline - time.monotonic()))
            await asyncio.sleep(delay)

    def acquire_sync(self, timeout: float | Missing | None = MISSING) -> None:
        """Blocking :meth:`acquire` for synchronous code."""
        limit = self._resolve(timeout)
        deadline = None if limit is None else time.monotonic() + limit
        while not self._attempt():
            if deadline is not None and time.monotonic() >= deadline:
                raise self._timeout_error(limit)
            delay = self.poll_interval
            if deadline is not None:
                delay = max(0.0, min(delay, deadline - time.monotonic()))
            time.sleep(delay)

    def release(self) -> None:
        """Release the lock (a no-op when not held)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            _unlock(fd)
        finally:
            os.close(fd)

    async def __aenter__(self) -> FileLock:
        await self.acquire()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def __enter__(self) -> FileLock:
        self.acquire_sync()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
