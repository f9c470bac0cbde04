r"""A cache shared through Redis (``pepperpy-cache[redis]``), with server-side tag invalidation.

Layout (``ns`` is the namespace, ``"pepperpy:cache"`` by default)
    ``{ns}:k:{key}``  the entry: a small header and the JSON value; Redis
                      expires it (``SET ... PX``), so every process sees one TTL.
    ``{ns}:t:{tag}``  a set of the keys written with that tag.

A tagged entry's header lists its tags (``t<tag>\\x1f<tag>\\n<json>``; an
untagged one starts with ``j``). :meth:`RedisCache.invalidate_tag` runs a
server-side script that pops members of the tag's set in bounded chunks and
deletes each entry whose *current* header still names the tag, so an entry
rewritten without the tag since is left alone and no ``KEYS``/``SCAN`` ever
runs in a hot path. Plain ``get``/``set``/``delete`` are one command each,
like raw redis-py.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
import os
import uuid
import weakref
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from pepperpy.cache._cache import _as_duration, _tag_tuple
from pepperpy.cache._errors import RedisCacheError
from pepperpy.cache._tiers import Invalidation, InvalidationListener, TierEntry, encode_key
from pepperpy.core.exceptions import (
    ConfigurationError,
    InvalidArgumentError,
    safe_repr,
)
from pepperpy.core.types import MISSING, MissingType
from pepperpy.core.utils import import_driver

__all__ = ["REDIS_URL_ENV", "RedisCache", "RedisCacheError", "RedisTier"]

REDIS_URL_ENV = "PEPPERPY_REDIS_URL"
"""The environment variable :class:`RedisCache` reads its URL from when given none."""

_MAX_HEADER = 4096
_FOREVER = 1e15  # seconds: beyond this a TTL means "never" (Redis takes up to 2**63 ms)
_CHUNK = 500
_EVERYTHING = Invalidation(everything=True)

_log = logging.getLogger("pepperpy.cache")

# KEYS[1] the entry; ARGV: payload, ttl ms (0 = none), the tag-set key prefix, member,
# channel ('' = none), announcement, tags...
_SET_TAGGED = """
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[1])
end
for i = 7, #ARGV do
  local tk = ARGV[3] .. ARGV[i]
  local left = redis.call('PTTL', tk)
  redis.call('SADD', tk, ARGV[4])
  if ttl <= 0 then
    redis.call('PERSIST', tk)
  elseif left == -2 or (left >= 0 and left < ttl) then
    redis.call('PEXPIRE', tk, ttl)
  end
end
if ARGV[5] ~= '' then
  redis.call('PUBLISH', ARGV[5], ARGV[6])
end
return 1
"""

# KEYS[1] the entry; ARGV: payload, ttl ms (0 = none), channel, announcement.
_SET_ANNOUNCED = """
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[1])
end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
"""

# KEYS: entries; ARGV: channel, announcement. Returns how many existed.
_DELETE_ANNOUNCED = """
local n = redis.call('DEL', unpack(KEYS))
redis.call('PUBLISH', ARGV[1], ARGV[2])
return n
"""

# KEYS[1] the entry. Returns {} when absent, else {value, pttl}.
_GET_ENTRY = """
local v = redis.call('GET', KEYS[1])
if not v then
  return {}
end
return {v, redis.call('PTTL', KEYS[1])}
"""

# KEYS[1] the tag set; ARGV: entry key prefix, tag, chunk size. Returns {deleted, popped}.
_INVALIDATE = """
local members = redis.call('SPOP', KEYS[1], tonumber(ARGV[3]))
local deleted = 0
local needle = '\\31' .. ARGV[2] .. '\\31'
for _, member in ipairs(members) do
  local key = ARGV[1] .. member
  local head = redis.call('GETRANGE', key, 0, MAX_HEADER)
  if string.sub(head, 1, 1) == 't' then
    local nl = string.find(head, '\\n', 2, true)
    if nl then
      local tags = '\\31' .. string.sub(head, 2, nl - 1) .. '\\31'
      if string.find(tags, needle, 1, true) then
        deleted = deleted + redis.call('DEL', key)
      end
    end
  end
end
return {deleted, #members}
""".replace("MAX_HEADER", str(_MAX_HEADER - 1))


def _unstructure(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    try:
        serialization = importlib.import_module("pepperpy.serialization")
    except ImportError:  # pragma: no cover - serialization comes with the 'redis' extra
        return value
    return serialization.unstructure(value)


def _to_json(obj: Any) -> Any:
    """``json.dumps``' hook for what it cannot encode itself (attrs, sets, dates ...)."""
    converted = _unstructure(obj)
    if converted is obj:
        raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")
    return converted


_dumps = json.JSONEncoder(separators=(",", ":"), allow_nan=False, default=_to_json).encode
_quote: Callable[[str], str] = json.encoder.encode_basestring_ascii
_parse = json.JSONDecoder().decode


def _no_script_error() -> type[BaseException]:
    try:
        return importlib.import_module("redis.exceptions").NoScriptError  # type: ignore[no-any-return]
    except ImportError:  # a client object of another library: let its errors through
        return _NeverRaised


class _NeverRaised(Exception):
    pass


def _check_tag(tag: object) -> str:
    if not isinstance(tag, str) or not tag or "\n" in tag or "\x1f" in tag:
        raise InvalidArgumentError(
            f"invalid cache tag {safe_repr(tag)}",
            code="pepperpy.cache.invalid_tag",
            context={"tag": safe_repr(tag)},
            hint="Tags are non-empty strings without newlines or \\x1f.",
        )
    return tag


def _glob_escape(text: str) -> str:
    """*text* as a literal inside a Redis ``MATCH`` pattern."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


class _Feed:
    """One pub/sub subscription per :class:`RedisCache`, fanning announcements out to fronts.

    A change made through this cache is announced to local listeners at once
    (after Redis accepted it) and to other processes through Redis; messages
    from this cache itself are therefore skipped when they come back. Losing
    the subscription tells every listener to drop everything, and so does
    getting it back (changes may have been missed in between).
    """

    def __init__(self, cache: RedisCache, health_interval: float) -> None:
        self.cache = cache
        self.health_interval = health_interval
        self.connected = False
        self._listeners: list[weakref.WeakMethod[InvalidationListener] | Any] = []
        self._task: asyncio.Task[None] | None = None
        self._attempted: asyncio.Event | None = None
        self._barriers: dict[str, asyncio.Future[None]] = {}

    # ------------------------------------------------------------------ listeners

    async def listen(self, listener: InvalidationListener) -> None:
        ref: Any
        try:
            ref = weakref.WeakMethod(listener)
        except TypeError:
            ref = lambda: listener  # noqa: E731 - a plain function: keep it alive
        self._listeners.append(ref)
        if self._task is None or self._task.done():
            self._attempted = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"pepperpy.cache feed {self.cache.namespace}"
            )
        assert self._attempted is not None
        await self._attempted.wait()

    async def unlisten(self, listener: InvalidationListener) -> None:
        self._listeners = [r for r in self._listeners if r() not in (None, listener)]
        if not self._listeners:
            await self.stop()

    async def stop(self) -> None:
        """End the subscription and wait until its connection is closed."""
        task, self._task = self._task, None
        if self.connected:  # the fronts can no longer hear about changes
            self.connected = False
            self.dispatch(_EVERYTHING)
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def dispatch(self, change: Invalidation) -> None:
        alive = []
        for ref in self._listeners:
            listener = ref()
            if listener is None:
                continue
            alive.append(ref)
            try:
                listener(change)
            except Exception:
                _log.exception("a cache invalidation listener failed")
        self._listeners = alive

    # ------------------------------------------------------------------ sync

    async def sync(self, timeout: float) -> None:
        if self._task is None or not self.connected:
            return  # the fronts hold nothing while the feed is down
        token = uuid.uuid4().hex
        waiter = asyncio.get_running_loop().create_future()
        self._barriers[token] = waiter
        try:
            await self.cache._publish({"b": token})
            await asyncio.wait_for(waiter, timeout)
        except asyncio.TimeoutError as exc:
            raise RedisCacheError(
                f"cache announcements did not come back within {timeout} s",
                context={"namespace": self.cache.namespace, "operation": "sync"},
                hint="Check the Redis server; fronts drop their memory when the feed is lost.",
                retryable=True,
            ) from exc
        finally:
            self._barriers.pop(token, None)

    # ------------------------------------------------------------------ the loop

    def _handle(self, data: bytes | str) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            _log.warning("ignoring a malformed cache announcement %r", data[:200])
            return
        if not isinstance(message, dict):
            return
        if message.get("n") == self.cache._node:
            token = message.get("b")
            waiter = self._barriers.get(token) if isinstance(token, str) else None
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
            return  # our own change: announced locally already
        if "b" in message:
            return
        if message.get("c"):
            self.dispatch(_EVERYTHING)
            return
        keys = message.get("k") or ()
        tags = message.get("t") or ()
        prefix = message.get("p")
        self.dispatch(
            Invalidation(
                keys=tuple(str(k) for k in keys),
                tags=tuple(str(t) for t in tags),
                prefix=prefix if isinstance(prefix, str) else None,
            )
        )

    async def _run(self) -> None:
        backoff = 0.05
        while True:
            pubsub = self.cache.client.pubsub()
            try:
                await pubsub.subscribe(self.cache.channel)
                while True:  # wait for the confirmation: from here on nothing is missed
                    message = await pubsub.get_message(timeout=self.health_interval)
                    if message is None:
                        raise ConnectionError("no subscription confirmation from Redis")
                    if message["type"] == "subscribe":
                        break
                self.dispatch(_EVERYTHING)  # anything kept before may have missed a change
                self.connected = True
                backoff = 0.05
                if self._attempted is not None:
                    self._attempted.set()
                await self._receive(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                _log.warning(
                    "cache announcements for %r lost (%s: %s); memory fronts dropped, reconnecting",
                    self.cache.namespace,
                    type(exc).__name__,
                    exc,
                )
            finally:
                if self.connected:
                    self.connected = False
                    self.dispatch(_EVERYTHING)
                if self._attempted is not None:
                    self._attempted.set()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 2.0)

    async def _receive(self, pubsub: Any) -> None:
        awaiting_pong = False
        while True:
            message = await pubsub.get_message(
                ignore_subscribe_messages=True, timeout=self.health_interval
            )
            if message is None:
                if awaiting_pong:
                    raise ConnectionError("Redis did not answer a PING on the feed")
                await pubsub.ping()
                awaiting_pong = True
                continue
            awaiting_pong = False
            if message["type"] == "message":
                self._handle(message["data"])


class RedisCache:
    """An async cache shared by every process that uses the same Redis namespace.

    Values are JSON (attrs instances and other rich values go through
    pepperpy-serialization and come back as *value_type* when given); ``None``
    is a value like any other. TTLs are kept by Redis.

    Every write, delete and invalidation is announced on the namespace's
    pub/sub channel ``{namespace}:changes`` in the same round trip (a
    ``PUBLISH`` inside the command's script), so the memory fronts of
    :class:`~pepperpy.cache.TieredCache` instances over :meth:`tier` drop
    what changed, in every process. ``announce=False`` saves that for a
    namespace no memory front ever reads.

    Args:
        client: A ``redis.asyncio.Redis`` client, or a URL
            (``redis://host:6379/0``); default ``$PEPPERPY_REDIS_URL``.
        namespace: Prefix of every Redis key this cache writes.
        ttl: Default time to live (seconds, ``"5m"``, a ``timedelta``; ``None``: never).
        value_type: The type values are structured into on read.
        key_encoder: Turns keys into strings (default :func:`~pepperpy.cache.encode_key`:
            plain ``str`` keys as-is, other keys with their type, so ``1`` and ``"1"``
            never share an entry).
        max_connections: The pool size when this cache makes the client from a
            URL (callers beyond it wait up to *connect_timeout* seconds).
        connect_timeout: Seconds to wait for a pooled connection.
        announce: Publish changes for memory fronts (see above).
        health_interval: Seconds of silence after which the announcement
            subscription is checked with a ``PING`` (a front notices a dead
            connection within about twice this).

    Raises:
        ConfigurationError: No client or URL was given or found, or redis-py is missing.
    """

    def __init__(
        self,
        client: Any = None,
        *,
        namespace: str = "pepperpy:cache",
        ttl: float | str | timedelta | None = None,
        value_type: Any = None,
        key_encoder: Callable[[Any], str] = encode_key,
        max_connections: int = 64,
        connect_timeout: float = 10.0,
        announce: bool = True,
        health_interval: float = 5.0,
    ) -> None:
        if client is None:
            client = os.environ.get(REDIS_URL_ENV)
            if not client:
                raise ConfigurationError(
                    "RedisCache needs a client or a URL",
                    code="pepperpy.cache.no_redis_url",
                    context={"env": REDIS_URL_ENV},
                    hint=f"Pass 'redis://host:6379/0' or a redis.asyncio.Redis, or set "
                    f"${REDIS_URL_ENV}.",
                )
        if not isinstance(namespace, str) or not namespace:
            raise InvalidArgumentError(
                f"namespace must be a non-empty string, got {safe_repr(namespace)}",
                code="pepperpy.cache.invalid_namespace",
            )
        if not isinstance(health_interval, (int, float)) or not health_interval > 0:
            raise InvalidArgumentError(
                f"health_interval must be a positive number of seconds, got "
                f"{safe_repr(health_interval)}",
                code="pepperpy.cache.invalid_option",
                hint="Pass e.g. health_interval=5.",
            )
        self._owns_client = isinstance(client, str)
        if isinstance(client, str):
            self.url: str | None = client
            aioredis = import_driver(
                "redis.asyncio", area="cache", user="RedisCache", extra="redis"
            )
            # Concurrent callers wait for a free connection instead of failing.
            pool = aioredis.BlockingConnectionPool.from_url(
                client, max_connections=max_connections, timeout=connect_timeout
            )
            client = aioredis.Redis(connection_pool=pool)
        else:
            self.url = None
        self.client = client
        self.namespace = namespace
        self.channel = f"{namespace}:changes"
        self._channel = self.channel.encode()  # arguments as bytes skip redis-py's encoder
        self.announce = bool(announce)
        self.ttl = None if ttl is None else _as_duration("ttl", ttl)
        self.value_type = value_type
        self._encode_key = key_encoder
        self._entry = f"{namespace}:k:"
        self._tagset = f"{namespace}:t:"
        self._node = uuid.uuid4().hex[:16]
        self._keys_message = '{"n":' + _quote(self._node) + ',"k":['  # + quoted key + "]}"
        self._noscript: type[BaseException] = _no_script_error()
        self._set_tagged = client.register_script(_SET_TAGGED)
        self._set_announced = client.register_script(_SET_ANNOUNCED)
        self._delete_announced = client.register_script(_DELETE_ANNOUNCED)
        self._get_entry = client.register_script(_GET_ENTRY)
        self._invalidate = client.register_script(_INVALIDATE)
        self._feed = _Feed(self, float(health_interval))

    def __repr__(self) -> str:
        return f"RedisCache(namespace={self.namespace!r})"

    # ------------------------------------------------------------------ encoding

    def _member(self, key: Hashable) -> str:
        """The string a key is stored under (a tier's names are already encoded)."""
        if type(key) is _TierName:
            return key
        return self._encode_key(key)

    def _key(self, key: Hashable) -> str:
        return self._entry + self._member(key)

    def _payload(self, value: Any, tags: tuple[str, ...]) -> bytes:
        try:
            body = _dumps(value)
        except Exception as exc:  # TypeError, ValueError, a converter's own errors
            raise InvalidArgumentError(
                f"cannot cache {type(value).__name__} values in Redis: "
                f"{type(exc).__name__}: {str(exc)[:200]}",
                code="pepperpy.cache.bad_value",
                context={"type": type(value).__name__},
                hint="Cache JSON-like values or attrs classes (pepperpy-serialization "
                "converts them); NaN and infinity are refused.",
            ) from exc
        if not tags:
            return b"j" + body.encode()
        header = "\x1f".join(tags)
        if len(header) + 2 > _MAX_HEADER:
            raise InvalidArgumentError(
                f"the tags of one entry may take {_MAX_HEADER - 2} characters, got {len(header)}",
                code="pepperpy.cache.too_many_tags",
                hint="Use fewer or shorter tags.",
            )
        return ("t" + header + "\n" + body).encode()

    def _split(self, raw: bytes | str | None) -> tuple[Any, tuple[str, ...]]:
        if raw is None:
            return MISSING, ()
        if isinstance(raw, str):  # a client made with decode_responses=True
            raw = raw.encode()
        tags: tuple[str, ...] = ()
        if raw[:1] == b"t":
            newline = raw.index(b"\n")
            tags = tuple(raw[1:newline].decode().split("\x1f"))
            raw = raw[newline + 1 :]
        elif raw[:1] == b"j":
            raw = raw[1:]
        else:
            return MISSING, ()  # not written by this cache
        value = json.loads(raw)
        if self.value_type is not None and value is not None:
            serialization = importlib.import_module("pepperpy.serialization")
            value = serialization.structure(value, self.value_type)
        return value, tags

    def _decode(self, raw: bytes | str | None) -> Any:
        return self._split(raw)[0]

    def _ttl_ms(self, ttl: float | str | timedelta | MissingType | None) -> int:
        if ttl is MISSING:
            seconds = self.ttl
        elif ttl is None:
            return 0
        elif (type(ttl) is float or type(ttl) is int) and 0 <= ttl < _FOREVER:
            seconds = ttl  # the common case, without parsing
        else:
            seconds = _as_duration("ttl", ttl)
        if seconds is None or seconds >= _FOREVER:  # float('inf'): never expires
            return 0
        return max(1, round(seconds * 1000))

    def _failed(self, exc: Exception, operation: str, **context: Any) -> RedisCacheError:
        error = RedisCacheError(
            f"Redis cache {operation} failed: {type(exc).__name__}: {exc}",
            context={"namespace": self.namespace, "operation": operation, **context},
            hint="Check that the Redis server is running and reachable; nothing is "
            "wrong with the cached data.",
            retryable=True,
        )
        error.__cause__ = exc
        return error

    # ------------------------------------------------------------------ announcements

    def _message(self, body: dict[str, Any]) -> str:
        return _dumps({"n": self._node, **body})

    def _key_message(self, member: str) -> str:
        """``_message({"k": [member]})``, the announcement of every write, built cheaply."""
        return self._keys_message + _quote(member) + "]}"

    async def _run_script(self, script: Any, *args: Any) -> Any:
        """``EVALSHA`` *script* with one key (the first of *args*), loading it if needed.

        What redis-py's ``Script.__call__`` does, without its per-call argument
        building (a measurable share of a cache ``set``).
        """
        try:
            return await self.client.execute_command("EVALSHA", script.sha, b"1", *args)
        except self._noscript:  # a new or flushed server: load it and retry
            script.sha = await self.client.script_load(script.script)
            return await self.client.execute_command("EVALSHA", script.sha, b"1", *args)

    async def _publish(self, body: dict[str, Any]) -> None:
        await self.client.publish(self.channel, self._message(body))

    def _announced(self, change: Invalidation) -> None:
        if self._feed._listeners:
            self._feed.dispatch(change)

    # ------------------------------------------------------------------ API

    async def get(self, key: Hashable, default: Any = None) -> Any:
        """Return the value cached under *key*, or *default*."""
        try:
            raw = await self.client.get(self._entry + self._member(key))
        except Exception as exc:
            raise self._failed(exc, "get", key=safe_repr(key)) from exc
        if raw is None:
            return default
        if raw[:1] == b"j" and self.value_type is None:  # untagged, plain JSON: the hot path
            return _parse(raw[1:].decode())
        value = self._decode(raw)
        return default if value is MISSING else value

    async def get_entry(self, key: Hashable) -> TierEntry | MissingType:
        """The value under *key* with its tags and seconds left (one round trip), or ``MISSING``."""
        try:
            reply = await self._get_entry(keys=[self._key(key)])
        except Exception as exc:
            raise self._failed(exc, "get_entry", key=safe_repr(key)) from exc
        if not reply:
            return MISSING
        value, tags = self._split(reply[0])
        if isinstance(value, MissingType):
            return MISSING
        left = int(reply[1])
        return TierEntry(value, tags, left / 1000 if left >= 0 else None)

    async def get_many(self, keys: Iterable[Hashable]) -> dict[Hashable, Any]:
        """The cached values of *keys* that are present (one ``MGET``)."""
        wanted = list(keys)
        if not wanted:
            return {}
        try:
            raws = await self.client.mget([self._key(k) for k in wanted])
        except Exception as exc:
            raise self._failed(exc, "get_many") from exc
        out: dict[Hashable, Any] = {}
        for key, raw in zip(wanted, raws, strict=True):
            value = self._decode(raw)
            if value is not MISSING:
                out[key] = value
        return out

    async def set(
        self,
        key: Hashable,
        value: Any,
        *,
        ttl: float | str | timedelta | MissingType | None = MISSING,
        tags: Iterable[str] = (),
    ) -> None:
        """Cache *value* under *key* for *ttl* (default: the cache's ``ttl``), with *tags*."""
        tag_list = tuple(dict.fromkeys(_check_tag(t) for t in _tag_tuple(tags))) if tags else ()
        payload = self._payload(value, tag_list)
        ttl_ms = self._ttl_ms(ttl)
        member = self._member(key)
        name = self._entry + member
        try:
            if tag_list:
                channel, message = (
                    (self.channel, self._key_message(member)) if self.announce else ("", "")
                )
                await self._run_script(
                    self._set_tagged,
                    name,
                    payload,
                    ttl_ms,
                    self._tagset,
                    member,
                    channel,
                    message,
                    *tag_list,
                )
            elif self.announce:
                await self._run_script(
                    self._set_announced,
                    name,
                    payload,
                    ttl_ms,
                    self._channel,
                    self._key_message(member),
                )
            elif ttl_ms:
                await self.client.set(name, payload, px=ttl_ms)
            else:
                await self.client.set(name, payload)
        except Exception as exc:
            raise self._failed(exc, "set", key=safe_repr(key)) from exc
        if self._feed._listeners:
            self._feed.dispatch(Invalidation(keys=(member,)))

    async def set_many(
        self,
        items: Mapping[Hashable, Any] | Iterable[tuple[Hashable, Any]],
        *,
        ttl: float | str | timedelta | MissingType | None = MISSING,
    ) -> None:
        """Cache several untagged values in one round trip (a ``MULTI`` pipeline)."""
        pairs = list(items.items() if isinstance(items, Mapping) else items)
        if not pairs:
            return
        ttl_ms = self._ttl_ms(ttl)
        members = [self._member(k) for k, _ in pairs]
        encoded = [(self._entry + m, self._payload(v, ())) for m, (_, v) in zip(members, pairs)]  # noqa: B905
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                for name, payload in encoded:
                    if ttl_ms:
                        pipe.set(name, payload, px=ttl_ms)
                    else:
                        pipe.set(name, payload)
                if self.announce:
                    pipe.publish(self.channel, self._message({"k": members}))
                await pipe.execute()
        except Exception as exc:
            raise self._failed(exc, "set_many") from exc
        self._announced(Invalidation(keys=tuple(members)))

    async def delete(self, key: Hashable) -> bool:
        """Remove *key*; return whether it was cached."""
        return bool(await self._delete([key], "delete"))

    async def delete_many(self, keys: Iterable[Hashable]) -> int:
        """Remove several keys; return how many were cached."""
        return await self._delete(list(keys), "delete_many")

    async def _delete(self, keys: list[Hashable], operation: str) -> int:
        if not keys:
            return 0
        members = [self._member(k) for k in keys]
        removed = 0
        try:
            for start in range(0, len(members), _CHUNK):
                chunk = members[start : start + _CHUNK]
                names = [self._entry + m for m in chunk]
                if self.announce:
                    removed += int(
                        await self._delete_announced(
                            keys=names, args=[self.channel, self._message({"k": chunk})]
                        )
                    )
                else:
                    removed += int(await self.client.delete(*names))
        except Exception as exc:
            context = {"key": safe_repr(keys[0])} if operation == "delete" else {}
            raise self._failed(exc, operation, **context) from exc
        finally:
            self._announced(Invalidation(keys=tuple(members)))
        return removed

    async def contains(self, key: Hashable) -> bool:
        """Whether *key* is cached."""
        try:
            return bool(await self.client.exists(self._key(key)))
        except Exception as exc:
            raise self._failed(exc, "contains", key=safe_repr(key)) from exc

    async def ttl_of(self, key: Hashable) -> float | None:
        """Seconds left before *key* expires (``None``: never, or not cached)."""
        try:
            left = int(await self.client.pttl(self._key(key)))
        except Exception as exc:
            raise self._failed(exc, "ttl_of", key=safe_repr(key)) from exc
        return left / 1000 if left >= 0 else None

    async def invalidate_tag(self, *tags: str) -> int:
        """Remove every entry written with any of *tags*; return how many were removed.

        Runs on the server in chunks of a few hundred keys (``SPOP`` on the tag's
        set), never scanning the keyspace; an entry rewritten without the tag
        since is kept.
        """
        removed = 0
        for tag in tags:
            _check_tag(tag)
        try:
            for tag in tags:
                while True:
                    try:
                        deleted, popped = await self._invalidate(
                            keys=[self._tagset + tag], args=[self._entry, tag, _CHUNK]
                        )
                    except Exception as exc:
                        raise self._failed(exc, "invalidate_tag", tag=tag) from exc
                    removed += int(deleted)
                    if int(popped) < _CHUNK:
                        break
            await self._announce_or_fail({"t": list(tags)}, "invalidate_tag")
        finally:
            self._announced(Invalidation(tags=tuple(tags)))
        return removed

    async def _announce_or_fail(self, body: dict[str, Any], operation: str) -> None:
        if self.announce:
            try:
                await self._publish(body)
            except Exception as exc:
                raise self._failed(exc, operation) from exc

    async def invalidate_prefix(self, prefix: str) -> int:
        """Remove every entry whose (encoded) key starts with *prefix*; return how many.

        Uses ``SCAN ... MATCH`` over the namespace (incremental, never ``KEYS``):
        fine for maintenance, not for a hot path; prefer tags there.
        """
        if not isinstance(prefix, str):
            raise InvalidArgumentError(
                f"prefix must be a str, got {safe_repr(prefix)}",
                code="pepperpy.cache.invalid_prefix",
                hint="Pass the start of the keys, e.g. 'user:42:'.",
            )
        try:
            removed = await self._unlink_matching(self._entry + _glob_escape(prefix) + "*")
            await self._announce_or_fail({"p": prefix}, "invalidate_prefix")
        except RedisCacheError:
            raise
        except Exception as exc:
            raise self._failed(exc, "invalidate_prefix", prefix=prefix) from exc
        finally:
            self._announced(Invalidation(prefix=prefix))
        return removed

    async def clear(self) -> int:
        """Remove every key of this namespace (``SCAN`` + ``UNLINK``; not for hot paths)."""
        try:
            removed = await self._unlink_matching(f"{_glob_escape(self.namespace)}:*")
            await self._announce_or_fail({"c": 1}, "clear")
        except RedisCacheError:
            raise
        except Exception as exc:
            raise self._failed(exc, "clear") from exc
        finally:
            self._announced(_EVERYTHING)
        return removed

    async def _unlink_matching(self, pattern: str) -> int:
        removed = 0
        batch: list[Any] = []
        async for name in self.client.scan_iter(match=pattern, count=_CHUNK):
            batch.append(name)
            if len(batch) >= _CHUNK:
                removed += await self._unlink(batch)
                batch = []
        if batch:
            removed += await self._unlink(batch)
        return removed

    async def _unlink(self, names: list[Any]) -> int:
        prefix = self._entry.encode()
        entries = [
            n for n in names if (n if isinstance(n, bytes) else n.encode()).startswith(prefix)
        ]
        await self.client.unlink(*names)
        return len(entries)

    async def ping(self) -> bool:
        """Whether the server answers."""
        try:
            return bool(await self.client.ping())
        except Exception as exc:
            raise self._failed(exc, "ping") from exc

    def tier(self) -> RedisTier:
        """This cache as the second tier of a :class:`~pepperpy.cache.TieredCache`."""
        return RedisTier(self)

    async def aclose(self) -> None:
        """Stop the announcement subscription, and close the client if this cache made it."""
        await self._feed.stop()
        if self._owns_client:
            await self.client.aclose()
            # A client given a pool does not close it: release its connections here.
            await self.client.connection_pool.disconnect()

    async def __aenter__(self) -> RedisCache:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class _TierName(str):
    """A key a :class:`~pepperpy.cache.TieredCache` already encoded: stored as it is."""

    __slots__ = ()


class RedisTier:
    """A :class:`RedisCache` as the shared second tier of a :class:`~pepperpy.cache.TieredCache`.

    A :class:`~pepperpy.cache.BroadcastingCacheTier`: tags live in Redis,
    invalidations run server-side, and every change made by any process on
    the namespace is announced to every front (one pub/sub subscription per
    :class:`RedisCache`, shared by all its tiers). Every process keeps its own
    memory tier in front; a miss reads Redis, a write goes to Redis first.
    """

    supports_tags = True

    def __init__(self, cache: RedisCache) -> None:
        self.cache = cache

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        namespace: str = "pepperpy:cache",
        value_type: Any = None,
        max_connections: int = 64,
        connect_timeout: float = 10.0,
        announce: bool = True,
        health_interval: float = 5.0,
    ) -> RedisTier:
        """A tier over a new :class:`RedisCache` on *url* (what ``connect_cache`` uses).

        The options are :class:`RedisCache`'s; the tier's default ttl comes from
        the memory front. :meth:`aclose` closes the cache and its connections.
        """
        return cls(
            RedisCache(
                url,
                namespace=namespace,
                value_type=value_type,
                max_connections=max_connections,
                connect_timeout=connect_timeout,
                announce=announce,
                health_interval=health_interval,
            )
        )

    async def aclose(self) -> None:
        """Close the :class:`RedisCache` behind this tier (its subscription and connections)."""
        await self.cache.aclose()

    @property
    def feed_connected(self) -> bool:
        """Whether announcements from other processes are arriving now."""
        return self.cache._feed.connected

    async def get(self, key: str) -> Any:
        """The value under *key*, or ``MISSING``."""
        return await self.cache.get(_TierName(key), MISSING)

    async def get_entry(self, key: str) -> TierEntry | MissingType:
        """The value under *key* with its tags and ttl left, or ``MISSING``."""
        return await self.cache.get_entry(_TierName(key))

    async def set(
        self, key: str, value: Any, *, ttl: float | None, tags: Sequence[str] = ()
    ) -> None:
        """Write *value* under *key* for *ttl* seconds (``None``: never expires), with *tags*."""
        await self.cache.set(_TierName(key), value, ttl=ttl, tags=tags)

    async def delete(self, key: str) -> bool:
        """Remove *key*; return whether it was there."""
        return await self.cache.delete(_TierName(key))

    async def invalidate_tag(self, *tags: str) -> int:
        """Remove the entries carrying any of *tags* (server-side)."""
        return await self.cache.invalidate_tag(*tags)

    async def invalidate_prefix(self, prefix: str) -> int:
        """Remove the entries whose key starts with *prefix* (``SCAN``)."""
        return await self.cache.invalidate_prefix(prefix)

    async def clear(self) -> int:
        """Remove every key of the namespace."""
        return await self.cache.clear()

    async def listen(self, listener: InvalidationListener) -> None:
        """Call *listener* with every change to the namespace (see :class:`TieredCache`)."""
        await self.cache._feed.listen(listener)

    async def unlisten(self, listener: InvalidationListener) -> None:
        """Stop calling *listener* (the last one leaving closes the subscription)."""
        await self.cache._feed.unlisten(listener)

    async def sync(self, timeout: float = 10.0) -> None:
        """Return once every change announced before the call has reached the listeners.

        Raises:
            RedisCacheError: The announcement did not come back within *timeout* seconds.
        """
        await self.cache._feed.sync(timeout)

    def __repr__(self) -> str:
        return f"RedisTier({self.cache!r})"
