"""Pushing metrics to a Pushgateway-compatible endpoint."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from pepperpy.context import to_thread
from pepperpy.core.exceptions import ExternalError, InvalidArgumentError
from pepperpy.core.types import Clock, Lifecycle, system_clock
from pepperpy.telemetry._metrics import Metrics

__all__ = ["PeriodicPush", "PushGateway"]


class PushGateway:
    """Pushes a :class:`Metrics` registry to a Prometheus Pushgateway.

    For batch jobs and short-lived workers that a Prometheus server cannot
    scrape. The HTTP call runs in a worker thread, never on the event loop.

    Args:
        url: The gateway, e.g. ``"http://pushgateway:9091"``.
        job: The ``job`` label of the pushed group.
        metrics: The registry to push (default: :meth:`Metrics.default`).
        grouping_key: Extra labels identifying the group (``{"instance": "w1"}``).
        timeout: Seconds for the HTTP call.
    """

    def __init__(
        self,
        url: str,
        job: str,
        *,
        metrics: Metrics | None = None,
        grouping_key: Mapping[str, str] | None = None,
        timeout: float = 10.0,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise InvalidArgumentError(
                f"a Pushgateway URL must start with http:// or https://, got {url!r}",
                code="pepperpy.telemetry.push_url",
                hint="Pass e.g. 'http://pushgateway:9091'.",
            )
        if not job:
            raise InvalidArgumentError(
                "a push needs a job name",
                code="pepperpy.telemetry.push_job",
                hint="Pass job='nightly-import' (or your job's name).",
            )
        self.url = url.rstrip("/")
        self.job = job
        self.metrics = metrics if metrics is not None else Metrics.default()
        self.grouping_key = dict(grouping_key or {})
        self.timeout = timeout

    async def _call(self, what: str) -> None:
        import prometheus_client

        functions: dict[str, Any] = {
            "push": prometheus_client.push_to_gateway,
            "pushadd": prometheus_client.pushadd_to_gateway,
        }
        try:
            if what == "delete":
                await to_thread(
                    prometheus_client.delete_from_gateway,
                    self.url,
                    job=self.job,
                    grouping_key=self.grouping_key,
                    timeout=self.timeout,
                )
            else:
                await to_thread(
                    functions[what],
                    self.url,
                    job=self.job,
                    registry=self.metrics.registry,
                    grouping_key=self.grouping_key,
                    timeout=self.timeout,
                )
        except OSError as exc:  # URLError and HTTPError are OSErrors
            raise ExternalError(
                f"Pushgateway {what} to {self.url} failed: {exc}",
                code="pepperpy.telemetry.push_failed",
                context={"url": self.url, "job": self.job, "operation": what},
                hint="Check the gateway URL and that it is reachable; the push can be retried.",
            ) from exc

    async def push(self) -> None:
        """Replace the group's metrics with this registry's (HTTP PUT)."""
        await self._call("push")

    async def pushadd(self) -> None:
        """Replace only the metrics with the same names (HTTP POST)."""
        await self._call("pushadd")

    async def delete(self) -> None:
        """Delete the group from the gateway (HTTP DELETE)."""
        await self._call("delete")


class PeriodicPush(Lifecycle):
    """Pushes every *interval* seconds while started, and once more when stopped.

    Failed pushes are counted in :attr:`failures` and retried at the next
    tick; they never stop the loop.
    """

    def __init__(
        self, gateway: PushGateway, *, interval: float = 15.0, clock: Clock = system_clock
    ) -> None:
        if interval <= 0:
            raise InvalidArgumentError(
                "the push interval must be positive",
                code="pepperpy.telemetry.push_interval",
                hint="Pass interval in seconds.",
            )
        self.gateway = gateway
        self.interval = interval
        self.clock = clock
        self.pushes = 0
        self.failures = 0
        self.last_push_error: BaseException | None = None
        self._task: asyncio.Task[None] | None = None

    async def _push_once(self) -> None:
        try:
            await self.gateway.push()
            self.pushes += 1
        except ExternalError as exc:
            self.failures += 1
            self.last_push_error = exc

    async def _loop(self) -> None:
        while True:
            await self.clock.sleep(self.interval)
            await self._push_once()

    async def _on_start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def _on_stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        await self._push_once()
