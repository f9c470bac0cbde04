"""The service calls its own API with pepperpy-net, as a client in another service would."""

from __future__ import annotations

import random
import time
from typing import Any

import attrs

from pepperpy.core.utils import gather_limited
from pepperpy.net import BearerAuth, HttpClient, Retry, Timeout
from pepperpy.security import Security
from pepperpy.telemetry import Tracer


@attrs.frozen
class Outcome:
    """One self-test call and what came back."""

    label: str
    path: str
    status: int
    expected: int
    detail: str

    @property
    def ok(self) -> bool:
        return self.status == self.expected


@attrs.define
class SelfTest:
    """Every outcome, and the latencies of the load phase (seconds)."""

    outcomes: list[Outcome] = attrs.Factory(list)
    latencies: list[float] = attrs.Factory(list)
    concurrency: int = 8
    health: dict[str, Any] = attrs.Factory(dict)
    metrics_text: str = ""
    trace_id: str = ""


def tamper(token: str) -> str:
    """Change one character in the middle of the signature: it no longer matches.

    (Not the last character: its low bits are padding, and a changed padding bit
    makes the token malformed rather than wrongly signed.)
    """
    head, _, tag = token.rpartition(".")
    i = len(tag) // 2
    return f"{head}.{tag[:i]}{'A' if tag[i] != 'A' else 'B'}{tag[i + 1 :]}"


async def run_selftest(
    url: str,
    security: Security,
    tracer: Tracer,
    ids: list[str],
    *,
    requests: int,
    concurrency: int = 8,
) -> SelfTest:
    """Call the API: good, bad and missing credentials, a missing record, then load.

    Everything runs inside one span: the client sends its trace as ``traceparent``,
    so the server's spans for these requests join the same trace.
    """
    async with tracer.span("selftest") as root:
        result = await _calls(url, security, ids, requests=requests, concurrency=concurrency)
        result.trace_id = root.trace_id
    return result


async def _calls(
    url: str, security: Security, ids: list[str], *, requests: int, concurrency: int
) -> SelfTest:
    support = security.issue_token("sam", roles=["support"], ttl=300)
    analyst = security.issue_token("ana", roles=["analyst"], ttl=300)
    guest = security.issue_token("gus", ttl=300)
    first, missing = ids[0], "c-99999"
    result = SelfTest(concurrency=concurrency)
    async with HttpClient(
        url, timeout=Timeout(connect=2, read=10, total=15), retry=Retry(attempts=2)
    ) as client:

        async def call(label: str, path: str, expected: int, token: str | None) -> None:
            auth = BearerAuth(token) if token is not None else None
            response = await client.get(path, auth=auth)
            body = await response.json()
            if response.status == 200:
                detail = f"email={body.get('email', body.get('email_masked'))}"
            else:
                # An RFC 9457 problem (pepperpy-web): its title and stable code.
                detail = f"{body['title']}: {body['code']}"
            result.outcomes.append(Outcome(label, path, response.status, expected, detail))

        await call("valid token (support role)", f"/customers/{first}", 200, support)
        await call("same again (served from the cache)", f"/customers/{first}", 200, support)
        await call("valid token (analyst role): masked", f"/customers/{first}", 200, analyst)
        await call("invalid token (tampered)", f"/customers/{first}", 401, tamper(support))
        await call("no token", f"/customers/{first}", 401, None)
        await call("valid token, no role", f"/customers/{first}", 403, guest)
        await call("missing record", f"/customers/{missing}", 404, support)

        # Load: reads of random stored ids (a hot set, so the cache has work to do).
        rng = random.Random(7)
        hot = ids[: max(1, len(ids) // 50)]
        auth = BearerAuth(support)

        async def read(customer_id: str) -> None:
            started = time.perf_counter()
            response = await client.get(f"/customers/{customer_id}", auth=auth)
            await response.read()
            result.latencies.append(time.perf_counter() - started)
            response.raise_for_status()

        picks = [
            rng.choice(hot) if rng.random() < 0.8 else rng.choice(ids) for _ in range(requests)
        ]
        await gather_limited((read(i) for i in picks), concurrency)

        result.health = await client.get_json("/health")
        metrics = await client.get("/metrics")
        result.metrics_text = await metrics.text()
    return result
