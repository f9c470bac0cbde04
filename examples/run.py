"""Run the PepperPy example service: ``python examples/run.py [--serve] [--help]``.

``python3 tools/dev.py demo`` runs this in a fresh venv with every package of
this checkout installed; see docs/getting-started.md.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from app.main import main

if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
