"""The seed's "Secure API" (examples/seed_secure_api.py) as a real server on 127.0.0.1.

The endpoint is a Starlette (ASGI) application with pepperpy-web's middleware,
served by uvicorn on 127.0.0.1 and driven by pepperpy-net's client (issue 25,
gap a): a valid token gets the result; a missing, malformed, tampered or
foreign token gets a 401 problem with ``WWW-Authenticate``; a bad body gets a
422 (or 400, 415, 413) problem listing every error with its JSON pointer.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import uvicorn

from pepperpy.net import BearerAuth, HttpClient
from pepperpy.security import KeyRing, Security

SEED = Path(__file__).resolve().parent.parent / "seed_secure_api.py"
PROBLEM = "application/problem+json"


def load_seed() -> ModuleType:
    spec = importlib.util.spec_from_file_location("seed_secure_api", SEED)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


seed = load_seed()


@pytest.fixture
def security() -> Security:
    return Security(keyring=KeyRing.generate())


@pytest.fixture
async def client(security: Security) -> AsyncIterator[HttpClient]:
    """The seed's ASGI app under uvicorn on 127.0.0.1 (any free port), with its lifespan."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        seed.create_app(security), lifespan="on", log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()  # uvicorn gave up: show why
            await asyncio.sleep(0.01)
        port = sock.getsockname()[1]
        async with HttpClient(f"http://127.0.0.1:{port}", retry=None) as http:
            yield http
    finally:
        server.should_exit = True
        await task
        sock.close()


async def problem_of(response: Any) -> dict[str, Any]:
    assert response.headers["Content-Type"] == PROBLEM
    body = json.loads(await response.text())
    assert body["status"] == response.status
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


async def test_a_valid_token_and_body_get_the_result(client: HttpClient, security: Security):
    token = security.issue_token("ann", roles=["editor"])
    response = await client.post(
        "/process",
        json={"title": "Q3 plan", "pages": 3},
        auth=BearerAuth(token),
        headers={"X-Request-ID": "req-1"},
    )
    assert response.status == 200
    assert json.loads(await response.text()) == {"ok": True, "by": "ann", "title": "Q3 plan"}
    assert response.headers["X-Request-ID"] == "req-1"


async def test_no_token_is_a_401_problem_asking_for_a_bearer_token(client: HttpClient):
    response = await client.post("/process", json={"title": "Q3 plan", "pages": 3})
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    problem = await problem_of(response)
    assert problem["code"] == "pepperpy.web.missing_credentials"


async def test_the_app_is_starlette_on_asgi() -> None:
    """issue 25 gap a: the seed's endpoint is an ASGI application (Starlette), not aiohttp."""
    from starlette.applications import Starlette

    keyring_security = Security(keyring=KeyRing.generate())
    assert isinstance(seed.create_app(keyring_security), Starlette)


async def test_a_tampered_token_is_a_401_problem(client: HttpClient, security: Security):
    token = seed.tamper(security.issue_token("ann", roles=["editor"]))
    response = await client.post(
        "/process", json={"title": "Q3 plan", "pages": 3}, auth=BearerAuth(token)
    )
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    problem = await problem_of(response)
    assert problem["code"] == "pepperpy.security.authentication.bad_signature"
    assert token not in await response.text()


async def test_a_token_from_another_key_ring_is_a_401_problem(client: HttpClient):
    forged = Security(keyring=KeyRing.generate()).issue_token("mallory", roles=["editor"])
    response = await client.post(
        "/process", json={"title": "x", "pages": 1}, auth=BearerAuth(forged)
    )
    assert response.status == 401
    problem = await problem_of(response)
    assert problem["code"].startswith("pepperpy.security.authentication.")


async def test_a_malformed_authorization_header_is_a_401_problem(client: HttpClient):
    response = await client.post(
        "/process", json={"title": "x", "pages": 1}, headers={"Authorization": "Basic abc"}
    )
    assert response.status == 401
    # RFC 6750 section 3.1: a malformed request is invalid_request (a bad token: invalid_token)
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_request"'
    assert (await problem_of(response))["code"] == "pepperpy.web.bad_authorization"


async def test_an_invalid_body_is_a_422_with_every_pointer(client: HttpClient, security: Security):
    token = security.issue_token("ann", roles=["editor"])
    response = await client.post("/process", json={"pages": "many"}, auth=BearerAuth(token))
    assert response.status == 422
    problem = await problem_of(response)
    pointers = sorted(error["pointer"] for error in problem["errors"])
    assert pointers == ["/pages", "/title"]  # every error at once


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b'{"title": ', "application/json", 400, "pepperpy.web.malformed_json"),
        (
            b"title=x",
            "application/x-www-form-urlencoded",
            415,
            "pepperpy.web.unsupported_media_type",
        ),
        (
            b'{"title": "' + b"x" * 70_000 + b'"}',
            "application/json",
            413,
            "pepperpy.web.body_too_large",
        ),
    ],
)
async def test_bad_bodies_are_problems_with_a_clear_code(
    client: HttpClient, security: Security, body: bytes, content_type: str, status: int, code: str
):
    token = security.issue_token("ann", roles=["editor"])
    response = await client.post(
        "/process", content=body, headers={"Content-Type": content_type}, auth=BearerAuth(token)
    )
    assert response.status == status
    assert (await problem_of(response))["code"] == code


def test_serve_keeps_the_endpoint_up_until_interrupted(tmp_path: Path) -> None:
    """``python examples/seed_secure_api.py --serve``: the curl line it prints works."""
    env = {**os.environ, "PEPPERPY_DATA_DIR": str(tmp_path)}
    env.pop("PEPPERPY_KEYRING", None)
    proc = subprocess.Popen(
        [sys.executable, str(SEED), "--serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline(), proc.stdout.readline()]  # Serving on ..., curl ...
        assert lines[0].startswith("Serving on http://127.0.0.1:"), lines
        url = lines[0].split()[2]
        token = re.search(r"Bearer (\S+)'", lines[1])
        assert token is not None, lines
        request = urllib.request.Request(
            f"{url}/process",
            data=json.dumps({"title": "Q3 plan", "pages": 3}).encode(),
            headers={"Authorization": f"Bearer {token[1]}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert json.loads(response.read()) == {"ok": True, "by": "ann", "title": "Q3 plan"}
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
