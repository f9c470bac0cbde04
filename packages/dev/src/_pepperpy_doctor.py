"""The ``pepperpy`` console script's entry: runs without importing the ``pepperpy`` namespace.

``pepperpy doctor`` exists for broken installations, such as a foreign
``pepperpy/__init__.py`` first on ``sys.path`` that hides every PepperPy
portion. An entry point ``pepperpy.dev._cli:main`` would die there with
``ModuleNotFoundError: No module named 'pepperpy.dev'`` before printing a word,
so the console script enters through this top-level module instead: it loads
pepperpy-dev's command line and doctor (stdlib-only modules) from their files
next to it, whatever the ``pepperpy`` namespace resolves to.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

__all__ = ["main"]

_HERE = Path(__file__).resolve().parent / "pepperpy" / "dev"


def _load(name: str, filename: str) -> ModuleType:
    module = sys.modules.get(name)
    if module is not None:
        return module
    spec = importlib.util.spec_from_file_location(name, _HERE / filename)
    if spec is None or spec.loader is None:  # pragma: no cover - the file ships with us
        raise ImportError(f"cannot load {_HERE / filename}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def main(argv: list[str] | None = None) -> int:
    """Run ``pepperpy doctor`` / ``pepperpy info AREA`` (the console script)."""
    # the doctor first: _cli's "from pepperpy.dev._doctor import ..." then finds it
    # in sys.modules without importing the (possibly broken) namespace package
    _load("pepperpy.dev._doctor", "_doctor.py")
    cli = _load("pepperpy.dev._cli", "_cli.py")
    result: int = cli.main(argv)
    return result


if __name__ == "__main__":
    sys.exit(main())
