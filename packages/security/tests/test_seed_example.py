"""The seed's "Secure API" example, as written, with every package it names.

It needs pepperpy-validation, pepperpy-logging and the ``pepperpy`` facade,
which pepperpy-security does not depend on: this test runs in the workspace
environment (everything installed) and is skipped in the package-alone
session.  The README carries the security-only version that always runs.
"""

from __future__ import annotations

import textwrap

import pytest

pytest.importorskip("pepperpy.validation")
pytest.importorskip("pepperpy.logging")

SEED_EXAMPLE = textwrap.dedent(
    """
    import asyncio
    import os
    from types import SimpleNamespace

    from pepperpy import (
        Security,
        Validation,
        Logging
    )
    from pepperpy.security import AuthenticationError, KeyRing

    os.environ["PEPPERPY_KEYRING"] = KeyRing.generate().to_json(include_secrets=True)
    token = Security().issue_token("ann", roles=["editor"])   # same key ring: same env var
    request = SimpleNamespace(data={"title": "Q3 plan", "pages": 3})
    processed = []

    async def process_data(user, data):
        processed.append((user.id, data))
        return {"ok": True, "by": user.id}

    async def secure_endpoint():
        # Security
        security = Security()

        # Validation
        validator = Validation()

        # Logging
        logger = Logging.get_logger()

        try:
            # Authenticate
            user = await security.authenticate(token)

            # Validate
            data = await validator.validate(request.data)

            # Process
            result = await process_data(user, data)

            # Log
            await logger.info("Operation successful", extra={
                "user": user.id,
                "operation": "process"
            })

            return result
        except Exception as e:
            # Log error
            await logger.error("Operation failed", exc_info=e)
            raise

    assert asyncio.run(secure_endpoint()) == {"ok": True, "by": "ann"}
    assert processed == [("ann", {"title": "Q3 plan", "pages": 3})]

    # Tamper inside the signature (not its last base64 character, whose low bits
    # are padding: changing those makes a non-canonical token, refused as malformed).
    i = len(token) - 10
    token = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1:]   # refused and logged
    try:
        asyncio.run(secure_endpoint())
    except AuthenticationError as error:
        assert error.reason.value == "bad_signature"
    else:
        raise AssertionError("a tampered token was accepted")
    print("seed example ok")
    """
)


def test_seed_secure_api_example_runs(tmp_path, monkeypatch):
    pytest.importorskip("pepperpy", reason="needs the pepperpy facade")
    import pepperpy

    if not hasattr(pepperpy, "__getattr__"):
        pytest.skip("the pepperpy facade (meta-package) is not installed")
    import subprocess
    import sys

    script = tmp_path / "seed_secure_api.py"
    script.write_text(SEED_EXAMPLE, encoding="utf-8")
    monkeypatch.delenv("PEPPERPY_KEYRING", raising=False)
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "seed example ok" in result.stdout
    assert "Operation failed" in result.stderr + result.stdout
