"""The durable task queue on Redis (``pepperpy-task[redis]``): same API, shared by machines.

:class:`RedisQueue` implements the storage operations of
:class:`~pepperpy.task.DurableQueueBase` on Redis instead of a SQLite file, so
workers on several machines share one queue; ``TaskManager(durable=RedisQueue(...))``
runs it exactly like the SQLite one (the worker loop, leases, retries,
cancellation and results are the same code, and one conformance suite runs
against every backend). Every state change is one server-side script, so it is
atomic.

Keys (``ns`` is the namespace, ``"pepperpy:tasks"`` by default)
    ``{ns}:t:{id}``               the task (a hash: state, attempts, payload, result ...)
    ``{ns}:q:{name}:{priority}``  queued tasks of one function and priority,
                                  scored by ``run_at`` (delayed tasks wait here too);
                                  members are ``{seq:016d}:{id}`` so equal scores
                                  keep insertion order (``{ns}:seq`` counts)
    ``{ns}:running``              running tasks scored by their lease's end
                                  (the visibility timeout, renewed while they run)
    ``{ns}:f:{state}``            finished tasks scored by when they expire
    ``{ns}:dedup:{key}``          the task holding a ``dedup_key``

Why sorted sets rather than a Stream: a claim must pick the highest
priority, then the earliest due task, among only the functions a worker has
registered, and a lease must be movable; sorted sets do all of that in one
script, where a Stream's consumer group only hands out entries in append order.
Times come from the queue's ``clock`` (keep workers' clocks in sync, e.g. NTP).
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

from pepperpy.core.exceptions import ConfigurationError, ExternalError, InvalidArgumentError
from pepperpy.core.utils import import_driver
from pepperpy.task._base import Claim, DurableQueueBase, DurableTask, NewTask

__all__ = ["REDIS_URL_ENV", "RedisQueue"]

REDIS_URL_ENV = "PEPPERPY_REDIS_URL"
"""The environment variable :class:`RedisQueue` reads its URL from when given none."""

_ENQUEUE = """
local ns, id, name, prio, dedup = ARGV[1], ARGV[2], ARGV[3], ARGV[5], ARGV[7]
if dedup ~= '' then
  local existing = redis.call('GET', ns .. ':dedup:' .. dedup)
  if existing then
    local state = redis.call('HGET', ns .. ':t:' .. existing, 'state')
    if state == 'queued' or state == 'running' then return {0, existing} end
  end
end
local key = ns .. ':t:' .. id
if redis.call('EXISTS', key) == 1 then return {-1, id} end
-- The member sorts equal run_at scores in insertion order: 16 digits, ':', the id.
local member = string.format('%016d', redis.call('INCR', ns .. ':seq')) .. ':' .. id
redis.call('HSET', key, 'id', id, 'name', name, 'payload', ARGV[4], 'priority', prio,
  'state', 'queued', 'run_at', ARGV[6], 'attempts', 0, 'max_attempts', ARGV[8],
  'dedup_key', dedup, 'created_at', ARGV[9], 'cancel', 0, 'member', member)
redis.call('ZADD', ns .. ':q:' .. name .. ':' .. prio, ARGV[6], member)
redis.call('SADD', ns .. ':names', name)
redis.call('SADD', ns .. ':prio:' .. name, prio)
if dedup ~= '' then redis.call('SET', ns .. ':dedup:' .. dedup, id) end
return {1, id}
"""

# Finish a task: state, expiry, bookkeeping. Shared by several scripts.
_FINISH = """
local function finish(ns, id, state, now, expires, fields)
  local key = ns .. ':t:' .. id
  redis.call('ZREM', ns .. ':running', id)
  redis.call('HSET', key, 'state', state, 'lease_until', '', 'lease_token', '',
    'finished_at', now, 'expires_at', expires, unpack(fields))
  redis.call('ZADD', ns .. ':f:' .. state, expires, id)
  local dedup = redis.call('HGET', key, 'dedup_key')
  if dedup and dedup ~= '' and redis.call('GET', ns .. ':dedup:' .. dedup) == id then
    redis.call('DEL', ns .. ':dedup:' .. dedup)
  end
end
local function requeue(ns, id, run_at)
  local key = ns .. ':t:' .. id
  local name = redis.call('HGET', key, 'name')
  local prio = redis.call('HGET', key, 'priority')
  local member = redis.call('HGET', key, 'member') or id
  redis.call('ZREM', ns .. ':running', id)
  redis.call('HSET', key, 'state', 'queued', 'lease_until', '', 'lease_token', '',
    'run_at', run_at)
  redis.call('ZADD', ns .. ':q:' .. name .. ':' .. prio, run_at, member)
end
-- Whether the claim with this fencing token still holds the running task.
local function holds(ns, id, token)
  local info = redis.call('HMGET', ns .. ':t:' .. id, 'state', 'lease_token')
  return info[1] == 'running' and info[2] == token and token ~= ''
end
"""

# ARGV: ns, now, lease_until, worker, limit, expires (for lost tasks), token, names...
_CLAIM = (
    _FINISH
    + """
local ns, now, lease, worker = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local limit = tonumber(ARGV[5])
-- Leases that ran out: the worker died. Back to the queue, or failed on its last attempt.
for _, id in ipairs(redis.call('ZRANGEBYSCORE', ns .. ':running', '-inf', '(' .. now)) do
  local key = ns .. ':t:' .. id
  local attempts = tonumber(redis.call('HGET', key, 'attempts') or '0')
  local allowed = tonumber(redis.call('HGET', key, 'max_attempts') or '1')
  if redis.call('HGET', key, 'cancel') == '1' then
    finish(ns, id, 'cancelled', now, ARGV[6], {})
  elseif attempts >= allowed then
    finish(ns, id, 'failed', now, ARGV[6], {'error',
      'lost: the worker stopped responding during all ' .. attempts .. ' attempts'})
  else
    requeue(ns, id, redis.call('HGET', key, 'run_at'))
  end
end
local candidates = {}
for i = 8, #ARGV do
  local name = ARGV[i]
  for _, prio in ipairs(redis.call('SMEMBERS', ns .. ':prio:' .. name)) do
    local queue = ns .. ':q:' .. name .. ':' .. prio
    local due = redis.call('ZRANGEBYSCORE', queue, '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit)
    for j = 1, #due, 2 do
      table.insert(candidates, {tonumber(prio), tonumber(due[j + 1]), due[j], queue})
    end
  end
end
-- Highest priority, then earliest run_at, then insertion order (the member's prefix).
table.sort(candidates, function(a, b)
  if a[1] ~= b[1] then return a[1] > b[1] end
  if a[2] ~= b[2] then return a[2] < b[2] end
  return a[3] < b[3]
end)
local claimed = {}
for k = 1, math.min(limit, #candidates) do
  local c = candidates[k]
  local id = string.match(c[3], '^%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d:(.*)$') or c[3]
  local key = ns .. ':t:' .. id
  redis.call('ZREM', c[4], c[3])
  local attempts = redis.call('HINCRBY', key, 'attempts', 1)
  redis.call('HSET', key, 'state', 'running', 'lease_until', lease, 'worker', worker,
    'lease_token', ARGV[7])
  redis.call('ZADD', ns .. ':running', lease, id)
  local info = redis.call('HMGET', key, 'name', 'payload', 'max_attempts')
  table.insert(claimed, {id, info[1], info[2], attempts, tonumber(info[3])})
end
return claimed
"""
)

# ARGV: ns, lease_until, id, token, id, token, ...
_RENEW = (
    _FINISH
    + """
local ns, lease = ARGV[1], ARGV[2]
for i = 3, #ARGV, 2 do
  if holds(ns, ARGV[i], ARGV[i + 1]) then
    redis.call('HSET', ns .. ':t:' .. ARGV[i], 'lease_until', lease)
    redis.call('ZADD', ns .. ':running', 'XX', lease, ARGV[i])
  end
end
return 1
"""
)

# ARGV: ns, id, state, now, expires, token, field, value, ... (fenced by the token)
_DONE = (
    _FINISH
    + """
local fields = {}
for i = 7, #ARGV do table.insert(fields, ARGV[i]) end
if not holds(ARGV[1], ARGV[2], ARGV[6]) then return 0 end
finish(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], fields)
return 1
"""
)

# ARGV: ns, id, run_at, error, token, now, expires (fenced; a cancel request wins)
_RETRY = (
    _FINISH
    + """
local ns, id = ARGV[1], ARGV[2]
local key = ns .. ':t:' .. id
if not holds(ns, id, ARGV[5]) then return 0 end
redis.call('HSET', key, 'error', ARGV[4])
if redis.call('HGET', key, 'cancel') == '1' then
  finish(ns, id, 'cancelled', ARGV[6], ARGV[7], {})
else
  requeue(ns, id, ARGV[3])
end
return 1
"""
)

# ARGV: ns, id, token, now, expires — a graceful shutdown gives a running task back
# without using an attempt (fenced; a cancel request wins).
_RELEASE = (
    _FINISH
    + """
local ns, id = ARGV[1], ARGV[2]
local key = ns .. ':t:' .. id
if not holds(ns, id, ARGV[3]) then return 0 end
if redis.call('HGET', key, 'cancel') == '1' then
  finish(ns, id, 'cancelled', ARGV[4], ARGV[5], {})
  return 1
end
local attempts = tonumber(redis.call('HGET', key, 'attempts'))
redis.call('HSET', key, 'attempts', math.max(attempts - 1, 0), 'worker', '')
requeue(ns, id, redis.call('HGET', key, 'run_at'))
return 1
"""
)

# ARGV: ns, id, now — an operator queues a failed task again.
_REQUEUE_FAILED = (
    _FINISH
    + """
local ns, id = ARGV[1], ARGV[2]
local key = ns .. ':t:' .. id
if redis.call('HGET', key, 'state') ~= 'failed' then return 0 end
redis.call('ZREM', ns .. ':f:failed', id)
redis.call('HSET', key, 'attempts', 0, 'cancel', 0, 'finished_at', '', 'expires_at', '',
  'worker', '')
requeue(ns, id, ARGV[3])
return 1
"""
)

# ARGV: ns, state — delete every task in a final state.
_DELETE_STATE = """
local ns = ARGV[1]
local finished = ns .. ':f:' .. ARGV[2]
local ids = redis.call('ZRANGE', finished, 0, -1)
for _, id in ipairs(ids) do redis.call('DEL', ns .. ':t:' .. id) end
redis.call('DEL', finished)
return #ids
"""

# ARGV: ns, id, now, expires. Returns -1 missing, 0 finished, 1 cancelled/requested.
_CANCEL = (
    _FINISH
    + """
local ns, id = ARGV[1], ARGV[2]
local key = ns .. ':t:' .. id
local info = redis.call('HMGET', key, 'state', 'name', 'priority', 'member')
if not info[1] then return -1 end
if info[1] == 'queued' then
  redis.call('ZREM', ns .. ':q:' .. info[2] .. ':' .. info[3], info[4] or id)
  finish(ns, id, 'cancelled', ARGV[3], ARGV[4], {})
  return 1
end
if info[1] == 'running' then
  redis.call('HSET', key, 'cancel', 1)
  return 1
end
return 0
"""
)

# ARGV: ns, now
_PURGE = """
local ns, now = ARGV[1], ARGV[2]
local purged = 0
for _, state in ipairs({'done', 'failed', 'cancelled'}) do
  local finished = ns .. ':f:' .. state
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', finished, '-inf', '(' .. now)) do
    redis.call('DEL', ns .. ':t:' .. id)
    redis.call('ZREM', finished, id)
    purged = purged + 1
  end
end
return purged
"""


def _num(value: float) -> str:
    return repr(float(value))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisQueue(DurableQueueBase):
    """The durable task queue stored in Redis, shared by every worker.

    Producers ``await queue.enqueue("name", *args)`` from anywhere; each
    ``TaskManager(durable=queue)`` claims ready tasks whose name it has
    registered. A claim is a lease of ``visibility_timeout`` seconds renewed
    while the task runs: when a worker dies mid-task, another worker runs the
    task once the lease ran out (at-least-once delivery: make tasks idempotent).
    Higher ``priority`` is claimed first, ``delay`` holds a task back, failures
    retry with the queue's backoff up to ``max_attempts``. While Redis is
    unreachable, calls raise a retryable :class:`~pepperpy.core.ExternalError`
    and workers keep polling (logging a warning) until it is back.

    Args:
        client: A ``redis.asyncio.Redis`` client or a URL (``redis://host:6379/0``);
            default ``$PEPPERPY_REDIS_URL``.
        namespace: Prefix of every Redis key of this queue.
        options: As for :class:`~pepperpy.task.DurableQueue` (``queue``,
            ``concurrency``, ``visibility_timeout``, ``result_ttl``,
            ``poll_interval``, ``max_attempts``, ``retry``, ``clock``).

    Raises:
        ConfigurationError: No client or URL was given or found, or redis-py is missing.
    """

    def __init__(
        self, client: Any = None, *, namespace: str = "pepperpy:tasks", **options: Any
    ) -> None:
        if client is None:
            client = os.environ.get(REDIS_URL_ENV)
            if not client:
                raise ConfigurationError(
                    "RedisQueue needs a client or a URL",
                    code="pepperpy.task.no_redis_url",
                    context={"env": REDIS_URL_ENV},
                    hint="Pass 'redis://host:6379/0' or a redis.asyncio.Redis, or set "
                    f"${REDIS_URL_ENV}.",
                )
        if not isinstance(namespace, str) or not namespace:
            raise InvalidArgumentError(
                f"namespace must be a non-empty string, got {namespace!r}",
                code="pepperpy.task.namespace",
            )
        super().__init__(**options)
        self.url = client if isinstance(client, str) else None
        self.namespace = namespace
        self._given_client = None if isinstance(client, str) else client
        self._client: Any = None
        self._scripts: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"<RedisQueue {self.namespace} {self.state.value}>"

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisQueue:
        """``redis://host:6379/0`` (or ``rediss://``, ``unix://``), for :func:`connect_queue`."""
        return cls(url, **options)

    # ------------------------------------------------------------------ plumbing

    async def _open(self) -> None:
        if self._given_client is not None:
            client = self._given_client
        else:
            aioredis = import_driver("redis.asyncio", area="task", user="RedisQueue", extra="redis")
            client = aioredis.Redis.from_url(self.url)
        self._client = client
        for name, source in (
            ("enqueue", _ENQUEUE),
            ("claim", _CLAIM),
            ("renew", _RENEW),
            ("done", _DONE),
            ("retry", _RETRY),
            ("release", _RELEASE),
            ("cancel", _CANCEL),
            ("purge", _PURGE),
            ("requeue_failed", _REQUEUE_FAILED),
            ("delete_state", _DELETE_STATE),
        ):
            self._scripts[name] = client.register_script(source)
        await self._call(client.ping(), "connect")

    async def _close(self) -> None:
        client, self._client = self._client, None
        if client is not None and self._given_client is None:
            await client.aclose()

    async def _call(self, awaitable: Any, operation: str) -> Any:
        try:
            return await awaitable
        except Exception as exc:
            raise ExternalError(
                f"Redis task queue {self.namespace!r}: {operation} failed: "
                f"{type(exc).__name__}: {exc}",
                code="pepperpy.task.redis",
                context={"namespace": self.namespace, "operation": operation},
                hint="Check that the Redis server is running and reachable; stored tasks "
                "are not lost.",
                retryable=True,
            ) from exc

    def _redis(self) -> Any:
        if self._client is None:
            self._ensure_running()  # raises ClosedError
        return self._client

    async def _run(self, script: str, *args: Any, operation: str | None = None) -> Any:
        self._redis()
        return await self._call(
            self._scripts[script](keys=[], args=[self.namespace, *args]), operation or script
        )

    # ------------------------------------------------------------------ storage operations

    async def _insert(self, task: NewTask) -> str:
        status, stored = await self._run(
            "enqueue",
            task.id,
            task.name,
            task.payload,
            task.priority,
            _num(task.run_at),
            task.dedup_key or "",
            task.max_attempts,
            _num(task.created_at),
        )
        if int(status) == -1:
            raise self._duplicate_id(task.id)
        return _text(stored)

    async def _load(self, task_id: str) -> DurableTask | None:
        raw = await self._call(self._redis().hgetall(f"{self.namespace}:t:{task_id}"), "get")
        if not raw:
            return None
        row = {_text(k): _text(v) for k, v in raw.items()}

        def opt_float(field: str) -> float | None:
            value = row.get(field, "")
            return float(value) if value else None

        result = row.get("result", "")
        return DurableTask(
            id=row["id"],
            name=row["name"],
            state=row["state"],
            attempts=int(row["attempts"]),
            max_attempts=int(row["max_attempts"]),
            priority=int(row["priority"]),
            run_at=float(row["run_at"]),
            dedup_key=row.get("dedup_key") or None,
            result=json.loads(result) if result else None,
            error=row.get("error") or None,
            created_at=float(row["created_at"]),
            finished_at=opt_float("finished_at"),
            expires_at=opt_float("expires_at"),
        )

    async def _request_cancel(self, task_id: str, now: float, expires_at: float) -> bool | None:
        status = int(await self._run("cancel", task_id, _num(now), _num(expires_at)))
        return None if status == -1 else bool(status)

    async def _count_states(self) -> dict[str, int]:
        ns, client = self.namespace, self._redis()
        names = [_text(n) for n in await self._call(client.smembers(f"{ns}:names"), "counts")]
        async with client.pipeline(transaction=False) as pipe:
            queues = []
            for name in names:
                for prio in await self._call(client.smembers(f"{ns}:prio:{name}"), "counts"):
                    queues.append(f"{ns}:q:{name}:{_text(prio)}")
            for key in queues:
                pipe.zcard(key)
            pipe.zcard(f"{ns}:running")
            for state in ("done", "failed", "cancelled"):
                pipe.zcard(f"{ns}:f:{state}")
            sizes = [int(n) for n in await self._call(pipe.execute(), "counts")]
        return {
            "queued": sum(sizes[: len(queues)]),
            "running": sizes[len(queues)],
            "done": sizes[len(queues) + 1],
            "failed": sizes[len(queues) + 2],
            "cancelled": sizes[len(queues) + 3],
        }

    async def _purge(self, now: float) -> int:
        return int(await self._run("purge", _num(now)))

    async def _claim(
        self, limit: int, names: list[str], now: float, lease_until: float, expires_at: float
    ) -> list[Claim]:
        token = uuid.uuid4().hex
        rows = await self._run(
            "claim",
            _num(now),
            _num(lease_until),
            self.worker_id,
            limit,
            _num(expires_at),
            token,
            *names,
        )
        return [
            Claim(_text(i), _text(n), _text(p), int(a), int(m), token) for i, n, p, a, m in rows
        ]

    async def _renew_leases(self, leases: dict[str, str], lease_until: float) -> None:
        pairs = [value for item in leases.items() for value in item]
        await self._run("renew", _num(lease_until), *pairs)

    async def _cancel_flags(self, ids: list[str]) -> set[str]:
        if not ids:
            return set()
        async with self._redis().pipeline(transaction=False) as pipe:
            for task_id in ids:
                pipe.hget(f"{self.namespace}:t:{task_id}", "cancel")
            flags = await self._call(pipe.execute(), "check cancellations")
        return {
            task_id
            for task_id, flag in zip(ids, flags, strict=True)
            if flag is not None and _text(flag) == "1"
        }

    async def _finish(
        self,
        task_id: str,
        state: str,
        now: float,
        expires_at: float,
        *,
        token: str,
        result: str | None = None,
        error: str | None = None,
    ) -> bool:
        fields: list[str] = []
        if state == "done":
            fields = ["result", result or "null", "error", ""]
        elif state == "failed":
            fields = ["error", error or ""]
        applied = await self._run(
            "done", task_id, state, _num(now), _num(expires_at), token, *fields
        )
        return bool(int(applied))

    async def _retry_later(
        self, task_id: str, run_at: float, error: str, now: float, expires_at: float, *, token: str
    ) -> bool:
        applied = await self._run(
            "retry", task_id, _num(run_at), error, token, _num(now), _num(expires_at)
        )
        return bool(int(applied))

    async def _release(self, task_id: str, now: float, expires_at: float, *, token: str) -> bool:
        applied = await self._run("release", task_id, token, _num(now), _num(expires_at))
        return bool(int(applied))

    async def _list_state(self, state: str, limit: int) -> list[DurableTask]:
        ids = await self._call(
            self._redis().zrange(f"{self.namespace}:f:{state}", 0, limit - 1), "list tasks"
        )
        tasks = [await self._load(_text(task_id)) for task_id in ids]
        return sorted((t for t in tasks if t is not None), key=lambda t: t.created_at)

    async def _requeue_failed(self, task_id: str, now: float) -> bool:
        return bool(int(await self._run("requeue_failed", task_id, _num(now))))

    async def _delete_state(self, state: str) -> int:
        return int(await self._run("delete_state", state))
