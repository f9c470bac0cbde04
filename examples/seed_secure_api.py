"""The seed's "Secure API" example, on the real API.

    python examples/seed_secure_api.py

``secure_endpoint`` is the seed's text. Around it: a key ring in the
environment (``Security()`` reads ``PEPPERPY_KEYRING``), a token, a request,
a schema for ``Validation`` (the seed's ``Validation()`` with no schema accepts
any mapping) and ``process_data``. A tampered token is refused, logged, and
re-raised as the seed says.
"""

# ruff: noqa: I001
# fmt: off

import asyncio
import os
from types import SimpleNamespace

from pepperpy import (
    Security,
    Validation,
    Logging
)
from pepperpy.security import AuthenticationError, KeyRing

os.environ.setdefault("PEPPERPY_KEYRING", KeyRing.generate().to_json(include_secrets=True))
token = Security().issue_token("ann", roles=["editor"])
request = SimpleNamespace(data={"title": "Q3 plan", "pages": 3})


async def process_data(user, data):
    return {"ok": True, "by": user.id, "title": data["title"]}


async def secure_endpoint():
    # Security
    security = Security()

    # Validation
    validator = Validation({"title": str, "pages": int})

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


async def main():
    global token
    print(await secure_endpoint())
    head, _, tag = token.rpartition(".")  # tamper with the middle of the signature
    token = f"{head}.{tag[:9]}{'A' if tag[9] != 'A' else 'B'}{tag[10:]}"
    try:
        await secure_endpoint()
    except AuthenticationError as error:
        print("refused:", error.reason.value)


if __name__ == "__main__":
    asyncio.run(main())
