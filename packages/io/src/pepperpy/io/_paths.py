"""Resolve user-supplied paths under a root directory, refusing every escape."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath, PureWindowsPath

from pepperpy.core.exceptions import InvalidArgumentError
from pepperpy.io._errors import PathTraversalError

__all__ = ["is_within", "safe_join"]

StrPath = str | os.PathLike[str]


def is_within(path: StrPath, root: StrPath) -> bool:
    """Whether *path* (after resolving symlinks and ``..``) lies inside *root*."""
    try:
        real_root = Path(os.path.realpath(root))
        real = Path(os.path.realpath(path))
    except (UnicodeEncodeError, ValueError):  # a lone surrogate or a NUL: no such path
        return False
    return real == real_root or real_root in real.parents


def safe_join(root: StrPath, *parts: str, follow_symlinks: bool = True) -> Path:
    """Join user-supplied *parts* under *root* and return the resolved path.

    The result is guaranteed to be inside *root* (itself resolved): absolute
    parts, drive letters, ``..`` that climbs out, NUL bytes and symlinks that
    point outside the root all raise :class:`PathTraversalError`. The target
    does not need to exist (so it can be used to create files).

    Args:
        root: The directory everything must stay in.
        parts: Relative path pieces from an untrusted source.
        follow_symlinks: When ``False``, any symlink on the way (inside the
            root or not) is refused as well.

    Raises:
        PathTraversalError: The path escapes *root*.
        InvalidArgumentError: A part is not a string.
    """
    real_root = Path(os.path.realpath(root))
    candidate = real_root
    for part in parts:
        if not isinstance(part, str):
            raise InvalidArgumentError(
                "path parts must be strings",
                context={"part": repr(part)},
                hint="Convert the value to str before joining it.",
            )
        if "\x00" in part:
            raise PathTraversalError(
                "path contains a NUL byte",
                context={"root": str(real_root), "path": part.replace("\x00", "\\0")},
                hint="Reject the request; NUL bytes are never valid in file names.",
            )
        try:
            os.fsencode(part)
        except UnicodeEncodeError:
            raise PathTraversalError(
                "path contains characters no file name can hold (a lone surrogate)",
                context={"root": str(real_root), "path": part.encode("utf-8", "replace").decode()},
                hint="Reject the request; the name is not valid Unicode.",
            ) from None
        if (
            PurePosixPath(part).is_absolute()
            or PureWindowsPath(part).is_absolute()
            or PureWindowsPath(part).drive
            or part.startswith(("\\", "/"))
        ):
            raise PathTraversalError(
                f"absolute path {part!r} is not allowed here",
                context={"root": str(real_root), "path": part},
                hint="Pass a path relative to the root directory.",
            )
        candidate = candidate / part.replace("\\", "/")
    normalized = Path(os.path.normpath(candidate))
    if normalized != real_root and real_root not in normalized.parents:
        raise PathTraversalError(
            f"path {'/'.join(parts)!r} climbs out of {str(real_root)!r}",
            context={"root": str(real_root), "path": "/".join(parts)},
            hint="Remove '..' segments; the path must stay inside the root directory.",
        )
    if not follow_symlinks:
        probe = real_root
        for piece in normalized.relative_to(real_root).parts:
            probe = probe / piece
            if probe.is_symlink():
                raise PathTraversalError(
                    f"path {'/'.join(parts)!r} goes through a symlink",
                    context={"root": str(real_root), "path": "/".join(parts), "link": str(probe)},
                    hint="Symlinks are not allowed here; pass the real path.",
                )
    resolved = Path(os.path.realpath(normalized))
    if resolved != real_root and real_root not in resolved.parents:
        raise PathTraversalError(
            f"path {'/'.join(parts)!r} leads out of {str(real_root)!r} through a symlink",
            context={"root": str(real_root), "path": "/".join(parts), "resolved": str(resolved)},
            hint="Symlinks pointing outside the root are refused; remove the link.",
        )
    return resolved
