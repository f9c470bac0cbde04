"""The retry loop: each attempt applies auth, then runs the middleware chain once.

:class:`RetryLoop` is the outer step of every request and of every redirect
hop: it decides whether a failed attempt (an error, or a retryable status) is
sent again, within the :class:`~pepperpy.net.Retry` policy and the client's
:class:`~pepperpy.net.RetryBudget`, and waits the backoff (or ``Retry-After``)
in between.
"""

from __future__ import annotations

from pepperpy.core.types import Clock
from pepperpy.net._auth import Auth
from pepperpy.net._errors import (
    ConnectError,
    ConnectionClosedError,
    ConnectTimeoutError,
    NetworkError,
    ReadTimeoutError,
    WriteTimeoutError,
)
from pepperpy.net._hosts import HostTable
from pepperpy.net._metrics import ClientMetrics
from pepperpy.net._models import Handler, Request, Response
from pepperpy.net._retry import Retry, RetryBudget, parse_retry_after

__all__ = ["Options", "RetryLoop"]

_RETRYABLE_ERRORS = (
    ConnectError,
    ConnectionClosedError,
    ConnectTimeoutError,
    ReadTimeoutError,
    WriteTimeoutError,
)


class Options:
    """Per-call options that do not travel on the Request."""

    __slots__ = ("auth", "follow", "force_retry", "retry")

    def __init__(
        self, auth: Auth | None, retry: Retry | None, force_retry: bool, follow: bool
    ) -> None:
        self.auth = auth
        self.retry = retry
        self.force_retry = force_retry
        self.follow = follow


class RetryLoop:
    """Send a request under the retry policy, each attempt through *chain*.

    Args:
        chain: The middleware chain ending in one attempt through aiohttp.
        budget: The client's retry budget (every first attempt deposits).
        hosts: The client's hosts, for their retry counters.
        clock: Sleeps the backoff and reads ``Retry-After`` dates.
        metrics: Where retry metrics go (``None``: counters only).
    """

    __slots__ = ("_budget", "_chain", "_clock", "_hosts", "_metrics")

    def __init__(
        self,
        chain: Handler,
        budget: RetryBudget,
        hosts: HostTable,
        clock: Clock,
        metrics: ClientMetrics | None,
    ) -> None:
        self._chain = chain
        self._budget = budget
        self._hosts = hosts
        self._clock = clock
        self._metrics = metrics

    async def send(self, request: Request, options: Options, same_origin: bool) -> Response:
        """Send *request* under the retry policy: auth, then the middleware chain, per attempt.

        Every attempt is one send (aiohttp's own resend is off), counted in the
        host's ``requests`` and paid for from the retry budget. *same_origin*
        is false for a redirect hop to another origin: no auth is applied.
        """
        config = options.retry
        auth = options.auth if same_origin else None
        if config is None:
            if auth is not None:
                await auth.apply(request)
            return await self._chain(request)
        self._budget.deposit()
        can_retry: bool | None = None  # worked out only when an attempt fails
        attempt = 1
        while True:
            request.attempt = attempt
            try:
                if auth is not None:
                    await auth.apply(request)
                response = await self._chain(request)
            except NetworkError as exc:
                if can_retry is None:
                    can_retry = _may_retry(request, options, config)
                delay = self._after_error(exc, request, config, can_retry, attempt)
            else:
                if response.status not in config.statuses:
                    response.attempts = attempt
                    return response  # the common case
                if can_retry is None:
                    can_retry = _may_retry(request, options, config)
                retry_in = self._after_status(response, request, config, can_retry, attempt)
                if retry_in is None:
                    response.attempts = attempt
                    return response
                delay = retry_in
                await response.close()
            await self._backoff(request, delay)
            attempt += 1

    def _after_error(
        self, exc: NetworkError, request: Request, config: Retry, can_retry: bool, attempt: int
    ) -> float:
        """The backoff before resending after *exc*; re-raise it when no retry may follow."""
        if not can_retry or attempt >= config.attempts or not isinstance(exc, _RETRYABLE_ERRORS):
            exc.context.setdefault("attempts", attempt)
            raise exc
        if not self._budget.try_withdraw():
            self._hosts.get(request.url).retries_denied += 1
            exc.context.setdefault("attempts", attempt)
            exc.context["retry_budget"] = "exhausted"
            raise exc
        return config.backoff_delay(attempt)

    def _after_status(
        self, response: Response, request: Request, config: Retry, can_retry: bool, attempt: int
    ) -> float | None:
        """The wait before resending after a retryable status, or ``None`` to return it."""
        if not can_retry or attempt >= config.attempts:
            return None
        wait = None
        if config.respect_retry_after:
            wait = parse_retry_after(response.headers.get("Retry-After"), self._clock.time())
            if wait is not None and wait > config.max_retry_after:
                return None
        if not self._budget.try_withdraw():
            self._hosts.get(request.url).retries_denied += 1
            return None
        return max(config.backoff_delay(attempt), wait or 0.0)

    async def _backoff(self, request: Request, delay: float) -> None:
        """Wait *delay* seconds before the next attempt, and count the retry."""
        try:
            await self._clock.sleep(delay)
        except BaseException:
            self._budget.refund()  # cancelled in the backoff: no retry was sent
            raise
        host = self._hosts.get(request.url)
        host.retries += 1
        if self._metrics is not None:
            self._metrics.retry(host.name)


def _may_retry(request: Request, options: Options, config: Retry) -> bool:
    """Whether *request* may be sent again: a replayable body and a safe method or key."""
    content = request.content
    return (content is None or isinstance(content, bytes)) and (
        options.force_retry
        or request.method in config.methods
        or "Idempotency-Key" in request.headers
    )
