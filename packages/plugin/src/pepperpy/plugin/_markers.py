"""The markers that turn methods into hook specifications and implementations."""

from __future__ import annotations

from typing import Final

import pluggy

__all__ = ["PROJECT", "hookimpl", "hookspec"]

PROJECT: Final = "pepperpy"
"""The pluggy project name shared by every PepperPy host."""

hookspec: Final = pluggy.HookspecMarker(PROJECT)
"""Mark a method of a spec class as a hook specification.

``@hookspec`` or ``@hookspec(firstresult=True)``. Declare the method ``async``
to make an asynchronous hook (called with ``await manager.acall(...)``).
"""

hookimpl: Final = pluggy.HookimplMarker(PROJECT)
"""Mark a plugin's function or method as a hook implementation.

Options: ``tryfirst=True``, ``trylast=True``, ``wrapper=True`` (a generator
that receives the result of the inner implementations, see the docs) and
``specname="..."`` to implement a hook under another name.
"""
