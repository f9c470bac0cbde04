"""Counters kept per host and their immutable snapshots."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from pepperpy.net._breaker import CircuitState

__all__ = ["ClientStats", "HostStats"]


@attrs.frozen
class HostStats:
    """A snapshot of one host's counters (``scheme://host:port``).

    Attributes:
        requests: Attempts sent (retries included).
        responses: Responses received (any status).
        errors: Attempts that failed with a network error.
        retries: Retries made.
        retries_denied: Retries refused by the retry budget.
        rejected_by_breaker: Requests refused because the circuit was open.
        rate_limited: Requests that waited for the rate limiter.
        in_flight: Requests holding a connection slot now.
        circuit: The circuit breaker's state (``CLOSED`` when there is none).
        statuses: Responses counted per status code.
    """

    requests: int
    responses: int
    errors: int
    retries: int
    retries_denied: int
    rejected_by_breaker: int
    rate_limited: int
    in_flight: int
    circuit: CircuitState
    statuses: Mapping[int, int]


@attrs.frozen
class ClientStats:
    """A snapshot of a client's counters.

    Attributes:
        requests: Attempts sent, all hosts.
        responses: Responses received, all hosts.
        errors: Failed attempts, all hosts.
        retries: Retries made, all hosts.
        retries_denied: Retries refused by the retry budget.
        in_flight: Requests holding a connection slot now.
        connections_open: Open connections in the pool (idle and in use).
        connections_in_use: Connections currently lent to a request.
        retry_budget: Retry tokens available now.
        hosts: Per-host snapshots, keyed ``scheme://host:port``.
    """

    requests: int
    responses: int
    errors: int
    retries: int
    retries_denied: int
    in_flight: int
    connections_open: int
    connections_in_use: int
    retry_budget: float
    hosts: Mapping[str, HostStats]
