"""The seed's "Secure API" example, as a real HTTP endpoint on pepperpy-web (Starlette, uvicorn).

    python examples/seed_secure_api.py            # serve on 127.0.0.1, call it, stop
    python examples/seed_secure_api.py --serve    # stay up on 127.0.0.1:8081 for curl

``secure_endpoint`` keeps the seed's steps: authenticate, validate, process,
log, or log the error and re-raise. It is a Starlette endpoint, so the app is
plain ASGI: uvicorn serves it here, and any ASGI server (hypercorn, granian)
or framework mounting it (FastAPI, Litestar) can. On pepperpy-web the steps
the seed wrote by hand happen around it:

* the bearer token is authenticated by the middleware (``Web(security=...)``)
  before the handler runs; ``principal()`` hands the user over, and a missing,
  malformed or forged token is a 401 problem-details response with
  ``WWW-Authenticate``;
* ``json_body(request, validator)`` reads the body and validates it with the
  seed's ``Validation`` instance; every error at once is a 422 with JSON
  pointers;
* the error the seed re-raises becomes RFC 9457 problem details, and every log
  line carries the request id, route and principal.

Differences from the seed: ``Security()`` reads its key ring from
``PEPPERPY_KEYRING`` (set here to a fresh one when absent); the seed's
``Validation()`` had no schema, this one gives the body's fields; the seed
built its parts inside the handler, here they are built once per app;
``process_data`` is a stand-in for the application's work.
"""

# ruff: noqa: I001
# fmt: off

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from pepperpy import (
    Security,
    Validation,
    Logging
)
from pepperpy.net import BearerAuth, HttpClient
from pepperpy.security import KeyRing
from pepperpy.web import Web
from pepperpy.web.asgi import PepperPyMiddleware, json_body
from pepperpy.web.security import principal

# Validation: the body the endpoint accepts (a bad schema fails here, at import)
validator = Validation({"title": str, "pages": int})

logger = Logging.get_logger("example.secure_api")


async def process_data(user, data):
    return {"ok": True, "by": user.id, "title": data["title"]}


async def secure_endpoint(request: Request) -> JSONResponse:
    try:
        # Authenticate (done by the middleware: no valid bearer token, no call)
        user = principal()

        # Validate
        data = await json_body(request, validator)

        # Process
        result = await process_data(user, data)

        # Log
        await logger.info("Operation successful", extra={
            "user": user.id,
            "operation": "process"
        })

        return JSONResponse(result)
    except Exception as e:
        # Log error (pepperpy-web turns it into problem details)
        await logger.error("Operation failed", exc_info=e)
        raise


def create_app(security: Security) -> Starlette:
    """The endpoint as an ASGI application: ``POST /process`` on pepperpy-web."""
    app = Starlette(routes=[Route("/process", secure_endpoint, methods=["POST"])])
    app.add_middleware(PepperPyMiddleware, web=Web(security=security, max_body_size=64 * 1024))
    return app


def tamper(token: str) -> str:
    """Change one character in the middle of the signature: it no longer matches."""
    head, _, tag = token.rpartition(".")
    i = len(tag) // 2
    return f"{head}.{tag[:i]}{'A' if tag[i] != 'A' else 'B'}{tag[i + 1:]}"


@contextlib.asynccontextmanager
async def serve(app: Starlette, port: int):
    """Run *app* under uvicorn on 127.0.0.1:*port* (0: any free one); yield its URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    server.install_signal_handlers = lambda: None  # main() handles Ctrl-C itself
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()  # uvicorn could not start: say why
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help="keep serving until Ctrl-C")
    parser.add_argument("--port", type=int, help="port (default: any free one; 8081 with --serve)")
    args = parser.parse_args(argv)
    port = args.port if args.port is not None else (8081 if args.serve else 0)

    os.environ.setdefault("PEPPERPY_KEYRING", KeyRing.generate().to_json(include_secrets=True))
    security = Security()
    token = security.issue_token("ann", roles=["editor"])

    try:
        async with serve(create_app(security), port) as url:
            if args.serve:
                print(
                    f"Serving on {url} (Ctrl-C to stop). Try:\n"
                    f"  curl -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json'"
                    f" -d '{{\"title\": \"Q3 plan\", \"pages\": 3}}' {url}/process",
                    flush=True,
                )
                stop = asyncio.Event()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    with contextlib.suppress(NotImplementedError):
                        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
                await stop.wait()
                return
            async with HttpClient(url, retry=None) as client:
                body = {"title": "Q3 plan", "pages": 3}
                ok = await client.post("/process", json=body, auth=BearerAuth(token))
                print(await ok.json())
                refused = await client.post("/process", json=body, auth=BearerAuth(tamper(token)))
                problem = await refused.json()
                print("refused:", problem["code"].rpartition(".")[2], f"({refused.status})")
    finally:
        await Logging.complete()


if __name__ == "__main__":
    asyncio.run(main())
