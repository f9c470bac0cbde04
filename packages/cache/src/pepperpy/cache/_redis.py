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

import importlib
import json
import os
from collections.abc import Callable, Hashable, Iterable, Mapping
from datetime import timedelta
from typing import Any

from pepperpy.cache._cache import _as_duration
from pepperpy.cache._tiers import encode_key
from pepperpy.core.exceptions import (
    ConfigurationError,
    ExternalError,
    InvalidArgumentError,
    safe_repr,
)
from pepperpy.core.types import MISSING, MissingType

__all__ = ["REDIS_URL_ENV", "RedisCache", "RedisCacheError", "RedisTier"]

REDIS_URL_ENV = "PEPPERPY_REDIS_URL"
"""The environment variable :class:`RedisCache` reads its URL from when given none."""

_MAX_HEADER = 4096
_CHUNK = 500

# KEYS[1] the entry; ARGV: payload, ttl ms (0 = none), the tag-set key prefix, member, tags...
_SET_TAGGED = """
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[1])
end
for i = 5, #ARGV do
  local tk = ARGV[3] .. ARGV[i]
  local left = redis.call('PTTL', tk)
  redis.call('SADD', tk, ARGV[4])
  if ttl <= 0 then
    redis.call('PERSIST', tk)
  elseif left == -2 or (left >= 0 and left < ttl) then
    redis.call('PEXPIRE', tk, ttl)
  end
end
return 1
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


class RedisCacheError(ExternalError):
    """Redis could not be reached or failed a command; ``context`` says which."""

    code = "pepperpy.cache.redis"


def _redis_asyncio() -> Any:
    try:
        return importlib.import_module("redis.asyncio")
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ConfigurationError(
            "the Redis cache needs the redis package",
            code="pepperpy.cache.missing_driver",
            hint="Install the extra: pip install 'pepperpy-cache[redis]'.",
        ) from exc


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


def _check_tag(tag: object) -> str:
    if not isinstance(tag, str) or not tag or "\n" in tag or "\x1f" in tag:
        raise InvalidArgumentError(
            f"invalid cache tag {safe_repr(tag)}",
            code="pepperpy.cache.invalid_tag",
            context={"tag": safe_repr(tag)},
            hint="Tags are non-empty strings without newlines or \\x1f.",
        )
    return tag


class RedisCache:
    """An async cache shared by every process that uses the same Redis namespace.

    Values are JSON (attrs instances and other rich values go through
    pepperpy-serialization and come back as *value_type* when given); ``None``
    is a value like any other. TTLs are kept by Redis.

    Args:
        client: A ``redis.asyncio.Redis`` client, or a URL
            (``redis://host:6379/0``); default ``$PEPPERPY_REDIS_URL``.
        namespace: Prefix of every Redis key this cache writes.
        ttl: Default time to live (seconds, ``"5m"``, a ``timedelta``; ``None``: never).
        value_type: The type values are structured into on read.
        key_encoder: Turns keys into strings (default: ``str`` as-is, others ``repr``).
        max_connections: The pool size when this cache makes the client from a
            URL (callers beyond it wait up to *connect_timeout* seconds).
        connect_timeout: Seconds to wait for a pooled connection.

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
        self._owns_client = isinstance(client, str)
        if isinstance(client, str):
            self.url: str | None = client
            aioredis = _redis_asyncio()
            # Concurrent callers wait for a free connection instead of failing.
            pool = aioredis.BlockingConnectionPool.from_url(
                client, max_connections=max_connections, timeout=connect_timeout
            )
            client = aioredis.Redis(connection_pool=pool)
        else:
            self.url = None
        if not isinstance(namespace, str) or not namespace:
            raise InvalidArgumentError(
                f"namespace must be a non-empty string, got {safe_repr(namespace)}",
                code="pepperpy.cache.invalid_namespace",
            )
        self.client = client
        self.namespace = namespace
        self.ttl = None if ttl is None else _as_duration("ttl", ttl)
        self.value_type = value_type
        self._encode_key = key_encoder
        self._entry = f"{namespace}:k:"
        self._tagset = f"{namespace}:t:"
        self._set_tagged = client.register_script(_SET_TAGGED)
        self._invalidate = client.register_script(_INVALIDATE)

    def __repr__(self) -> str:
        return f"RedisCache(namespace={self.namespace!r})"

    # ------------------------------------------------------------------ encoding

    def _key(self, key: Hashable) -> str:
        return self._entry + self._encode_key(key)

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

    def _decode(self, raw: bytes | str | None) -> Any:
        if raw is None:
            return MISSING
        if isinstance(raw, str):  # a client made with decode_responses=True
            raw = raw.encode()
        if raw[:1] == b"t":
            raw = raw[raw.index(b"\n") + 1 :]
        elif raw[:1] == b"j":
            raw = raw[1:]
        else:
            return MISSING  # not written by this cache
        value = json.loads(raw)
        if self.value_type is not None and value is not None:
            serialization = importlib.import_module("pepperpy.serialization")
            value = serialization.structure(value, self.value_type)
        return value

    def _ttl_ms(self, ttl: float | str | timedelta | MissingType | None) -> int:
        seconds = (
            self.ttl if ttl is MISSING else (None if ttl is None else _as_duration("ttl", ttl))
        )
        if seconds is None:
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

    # ------------------------------------------------------------------ API

    async def get(self, key: Hashable, default: Any = None) -> Any:
        """Return the value cached under *key*, or *default*."""
        try:
            raw = await self.client.get(self._key(key))
        except Exception as exc:
            raise self._failed(exc, "get", key=safe_repr(key)) from exc
        value = self._decode(raw)
        return default if value is MISSING else value

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
        tag_list = tuple(dict.fromkeys(_check_tag(t) for t in tags)) if tags else ()
        payload = self._payload(value, tag_list)
        ttl_ms = self._ttl_ms(ttl)
        name = self._key(key)
        try:
            if tag_list:
                member = self._encode_key(key)
                await self._set_tagged(
                    keys=[name], args=[payload, ttl_ms, self._tagset, member, *tag_list]
                )
            elif ttl_ms:
                await self.client.set(name, payload, px=ttl_ms)
            else:
                await self.client.set(name, payload)
        except Exception as exc:
            raise self._failed(exc, "set", key=safe_repr(key)) from exc

    async def set_many(
        self,
        items: Mapping[Hashable, Any] | Iterable[tuple[Hashable, Any]],
        *,
        ttl: float | str | timedelta | MissingType | None = MISSING,
    ) -> None:
        """Cache several untagged values in one round trip (a ``MULTI`` pipeline)."""
        pairs = list(items.items() if isinstance(items, Mapping) else items)
        ttl_ms = self._ttl_ms(ttl)
        encoded = [(self._key(k), self._payload(v, ())) for k, v in pairs]
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                for name, payload in encoded:
                    if ttl_ms:
                        pipe.set(name, payload, px=ttl_ms)
                    else:
                        pipe.set(name, payload)
                await pipe.execute()
        except Exception as exc:
            raise self._failed(exc, "set_many") from exc

    async def delete(self, key: Hashable) -> bool:
        """Remove *key*; return whether it was cached."""
        try:
            return bool(await self.client.delete(self._key(key)))
        except Exception as exc:
            raise self._failed(exc, "delete", key=safe_repr(key)) from exc

    async def delete_many(self, keys: Iterable[Hashable]) -> int:
        """Remove several keys; return how many were cached."""
        names = [self._key(k) for k in keys]
        if not names:
            return 0
        try:
            return int(await self.client.delete(*names))
        except Exception as exc:
            raise self._failed(exc, "delete_many") from exc

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
        return removed

    async def clear(self) -> int:
        """Remove every key of this namespace (``SCAN`` + ``UNLINK``; not for hot paths)."""
        removed = 0
        try:
            batch: list[Any] = []
            async for name in self.client.scan_iter(match=f"{self.namespace}:*", count=_CHUNK):
                batch.append(name)
                if len(batch) >= _CHUNK:
                    removed += await self._unlink(batch)
                    batch = []
            if batch:
                removed += await self._unlink(batch)
        except Exception as exc:
            raise self._failed(exc, "clear") from exc
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
        """Close the client if this cache created it from a URL."""
        if self._owns_client:
            await self.client.aclose()

    async def __aenter__(self) -> RedisCache:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class RedisTier:
    """A :class:`RedisCache` as the shared second tier of a :class:`~pepperpy.cache.TieredCache`.

    Every process keeps its own memory tier in front; a miss reads Redis, a
    write goes to Redis first.
    """

    def __init__(self, cache: RedisCache) -> None:
        self.cache = cache

    async def get(self, key: str) -> Any:
        """The value under *key*, or ``MISSING``."""
        return await self.cache.get(key, MISSING)

    async def set(self, key: str, value: Any, *, ttl: float | None) -> None:
        """Write *value* under *key* for *ttl* seconds (``None``: never expires)."""
        await self.cache.set(key, value, ttl=ttl)

    async def delete(self, key: str) -> None:
        """Remove *key*."""
        await self.cache.delete(key)

    def __repr__(self) -> str:
        return f"RedisTier({self.cache!r})"
