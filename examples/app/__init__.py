"""The PepperPy example service: every PepperPy package working together.

Run it with ``python3 tools/dev.py demo`` (or ``python examples/run.py``);
``--serve`` keeps its HTTP API running for curl. See ``docs/getting-started.md``.
"""
