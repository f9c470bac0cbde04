"""``@cached``: one decorator for sync and async functions, with single-flight."""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import threading
from collections.abc import Callable, Hashable, Iterable
from datetime import timedelta
from typing import Any, Concatenate, Generic, NoReturn, ParamSpec, TypeVar, overload

from pepperpy.cache._cache import Cache, CacheStats, Policy, _as_duration, _tag_tuple
from pepperpy.cache._errors import CacheFullError, ValueTooLargeError
from pepperpy.cache._tiers import TieredCache
from pepperpy.core.exceptions import InvalidArgumentError, safe_repr
from pepperpy.core.types import MISSING, Clock, MissingType, system_clock
from pepperpy.core.utils import is_async_callable

__all__ = ["BoundCachedFunction", "CachedFunction", "cached", "make_key"]

P = ParamSpec("P")
P2 = ParamSpec("P2")
R = TypeVar("R")
R2 = TypeVar("R2")

_log = logging.getLogger("pepperpy.cache")

_FAST_TYPES = frozenset({int, str})


class _KwMark:
    """Separates positional from keyword arguments inside a key."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<kw>"


_KW = _KwMark()


def make_key(args: tuple[Any, ...], kwargs: dict[str, Any], typed: bool = False) -> Hashable:
    """Build the default cache key for a call: hashable, order-independent for keywords.

    A single ``int`` or ``str`` argument is its own key (the common fast
    path); otherwise the key is a tuple of the positional arguments, then the
    keyword arguments sorted by name. With *typed*, ``f(1)`` and ``f(1.0)``
    get different keys.
    """
    if not kwargs and len(args) == 1 and type(args[0]) in _FAST_TYPES and not typed:
        return args[0]  # type: ignore[no-any-return]
    key: tuple[Any, ...] = args
    if kwargs:
        key = (*args, _KW, *sorted(kwargs.items()))
    if typed:
        key = (*key, *(type(v) for v in args), *(type(v) for v in kwargs.values()))
    return key


class _Failure:
    """A cached exception (``cache_errors=``) with its traceback as it was raised.

    A hit re-raises it with that stored traceback, as ``asyncio.Future.result()``
    does: raising one exception object again would append the new frames to
    the old ones, so its traceback would grow with every hit.
    """

    __slots__ = ("error", "traceback")

    def __init__(self, error: BaseException) -> None:
        self.error = error
        self.traceback = error.__traceback__

    def reraise(self) -> NoReturn:
        raise self.error.with_traceback(self.traceback)


class _Stamped:
    """A value with the moment it turns stale (``stale_while_revalidate=``)."""

    __slots__ = ("fresh_until", "value")

    def __init__(self, value: Any, fresh_until: float) -> None:
        self.value = value
        self.fresh_until = fresh_until


class _SyncCall:
    """One in-flight sync computation that other threads wait for."""

    __slots__ = ("done", "failure", "owner", "result")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.owner = threading.get_ident()
        self.result: Any = None
        self.failure: _Failure | None = None


def _mark_coroutine_function(obj: object) -> None:
    """Make ``inspect.iscoroutinefunction(obj)`` (3.12+) and asyncio's check say yes."""
    marker = getattr(inspect, "markcoroutinefunction", None)
    if marker is not None:
        marker(obj)
    legacy = getattr(asyncio.coroutines, "_is_coroutine", None)
    if legacy is not None:
        obj._is_coroutine = legacy  # type: ignore[attr-defined]


class CachedFunction(Generic[P, R]):
    """A function wrapped by :func:`cached`; call it like the original.

    Attributes:
        cache: The memory :class:`~pepperpy.cache.Cache` holding results.
        __wrapped__: The original function.
    """

    cache: Cache[Hashable, Any]
    __wrapped__: Callable[P, R]

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        cache: Cache[Hashable, Any],
        tiered: TieredCache[Hashable, Any] | None,
        shared: bool,
        key: Callable[..., Hashable] | None,
        typed: bool,
        ttl: float | MissingType | None,
        tags: Iterable[str] | Callable[..., Iterable[str]],
        single_flight: bool,
        error_types: tuple[type[BaseException], ...],
        error_ttl: float | MissingType | None,
        stale: float | None,
    ) -> None:
        functools.update_wrapper(self, fn)
        self.__wrapped__ = fn
        self.cache = cache
        self._tiered = tiered
        self._fn = fn
        self._id = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"
        self._shared = shared
        self._fn_tag = f"\x00fn:{self._id}" if shared else None
        user_key = key
        self._user_key = user_key
        self._typed = typed
        self._ttl = ttl
        self._tags = tags
        self._single_flight = single_flight
        self._error_types = error_types
        self._error_ttl = error_ttl
        self._stale = stale
        self._plain = not error_types and stale is None
        self._simple_keys = key is None and not typed and not shared
        # Bumped by invalidate()/cache_clear(): a call that started before an
        # invalidation returns its result to its callers but does not store it,
        # and _detach() makes sure no later caller joins it (issue 18 #5).
        self._epoch = 0
        self._get = cache.get
        self._peek = cache.peek
        self._now = cache._now

    # -------------------------------------------------------------- keys & storage

    def _key(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Hashable:
        if self._user_key is not None:
            base = self._user_key(*args, **kwargs)
        elif not kwargs and len(args) == 1 and type(args[0]) in _FAST_TYPES and not self._typed:
            base = args[0]
        else:
            base = make_key(args, kwargs, self._typed)
        if self._shared:
            return (self._id, base)
        return base

    def key_for(self, *args: Any, **kwargs: Any) -> Hashable:
        """Return the cache key a call with these arguments uses."""
        return self._key(args, kwargs)

    def _tags_for(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, ...]:
        tags = self._tags
        result = _tag_tuple(tags(*args, **kwargs)) if callable(tags) else tuple(tags)
        if self._fn_tag is not None:
            result = (*result, self._fn_tag)
        return result

    def _wrap(self, value: Any) -> Any:
        if self._stale is not None:
            ttl = self._ttl if isinstance(self._ttl, float) else 0.0
            return _Stamped(value, self._now() + ttl)
        return value

    def _entry_ttl(self) -> float | MissingType | None:
        if self._stale is not None and isinstance(self._ttl, float):
            return self._ttl + self._stale
        return self._ttl

    def _store_sync(
        self,
        key: Hashable,
        value: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        epoch: int,
    ) -> None:
        if epoch != self._epoch:
            return
        tags = self._tags_for(args, kwargs)  # user code: run before taking the lock
        try:
            # The epoch is checked again and the value stored under the cache's
            # lock, which invalidation holds too: a thread invalidating while
            # this one stores cannot be overtaken by the result it invalidated.
            with self.cache._lock:
                if epoch == self._epoch:
                    self.cache.set(key, value, ttl=self._entry_ttl(), tags=tags)
        except (CacheFullError, ValueTooLargeError) as exc:
            _log.debug("result of %s not cached: %s", self._id, exc)

    def _store_failure(
        self,
        key: Hashable,
        exc: BaseException,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        epoch: int,
    ) -> None:
        if epoch != self._epoch:
            return
        tags = self._tags_for(args, kwargs)
        try:
            with self.cache._lock:
                if epoch == self._epoch:
                    self.cache.set(key, _Failure(exc), ttl=self._error_ttl, tags=tags)
        except (CacheFullError, ValueTooLargeError) as exc2:
            _log.debug("error of %s not cached: %s", self._id, exc2)

    def _unhashable(self, exc: TypeError) -> InvalidArgumentError:
        return InvalidArgumentError(
            f"cannot build a cache key for {self._id}: {exc}",
            code="pepperpy.cache.unhashable_key",
            context={"function": self._id},
            hint="Pass hashable arguments, or give @cached(key=...) a function that builds "
            "a hashable key from them.",
        )

    # -------------------------------------------------------------- public helpers

    def cache_info(self) -> CacheStats:
        """The statistics of the underlying cache (shared caches report every user)."""
        return self.cache.stats()

    def _detach(self, key: Hashable | MissingType) -> None:
        """Forget the in-flight computation of *key* (``MISSING``: of every key).

        Callers already waiting for it still get its result; calls made from now
        on start a computation of their own instead of joining the stale one.
        """

    def _invalidated(self, key: Hashable | MissingType) -> None:
        with self.cache._lock:  # see _store_sync
            self._epoch += 1
        self._detach(key)

    def cache_clear(self) -> int:
        """Drop every result of this function; return how many were dropped.

        Calls already running when this is called still return their results
        to their callers, but do not store them, and calls made afterwards do
        not join them: they compute afresh (as async-lru's ``cache_clear``).
        """
        self._invalidated(MISSING)
        if self._fn_tag is not None:
            return self.cache.invalidate_tag(self._fn_tag)
        return self.cache.clear()

    async def acache_clear(self) -> int:
        """Like :meth:`cache_clear`, and with a TieredCache also drop the tier's results.

        With a tier that keeps tags (Redis, a pepperpy-storage store) every
        process's results of this function are dropped; returns how many
        entries the tier removed.
        """
        if self._tiered is None or self._fn_tag is None:
            return self.cache_clear()
        self._invalidated(MISSING)
        return await self._tiered.invalidate_tag(self._fn_tag)

    def invalidate(self, *args: Any, **kwargs: Any) -> bool:
        """Drop the cached result of one call (same arguments); return whether it existed.

        A computation of that call already running is detached: its callers get
        its result, but it is not stored and later calls compute afresh.
        """
        try:
            key = self._key(args, kwargs)
            self._invalidated(key)
            return self.cache.delete(key)
        except TypeError as exc:
            raise self._unhashable(exc) from None

    async def ainvalidate(self, *args: Any, **kwargs: Any) -> bool:
        """Like :meth:`invalidate`, and also delete the entry from a TieredCache's tier."""
        found = self.invalidate(*args, **kwargs)
        if self._tiered is not None:
            await self._tiered.delete(self._key(args, kwargs))
        return found

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        raise NotImplementedError  # pragma: no cover - subclasses implement it

    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None) -> CachedFunction[P, R]: ...

    @overload
    def __get__(
        self: CachedFunction[Concatenate[Any, P2], R2],
        instance: object,
        owner: type[Any] | None = None,
    ) -> BoundCachedFunction[P2, R2]: ...

    def __get__(self, instance: object, owner: type[Any] | None = None) -> Any:
        if instance is None:
            return self
        return BoundCachedFunction(self, instance)

    def __repr__(self) -> str:
        return f"<cached {self._id} cache={self.cache!r}>"


class BoundCachedFunction(Generic[P, R]):
    """``obj.method`` for a method wrapped by :func:`cached`: prepends ``obj`` to calls.

    It forwards ``cache``, ``cache_info()`` and ``cache_clear()`` to the
    :class:`CachedFunction`, and fills in ``obj`` for ``invalidate`` and ``key_for``.
    """

    __slots__ = ("__func__", "__self__")

    def __init__(self, func: CachedFunction[Any, Any], instance: object) -> None:
        self.__func__ = func
        self.__self__ = instance

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.__func__(self.__self__, *args, **kwargs)  # type: ignore[no-any-return]

    def invalidate(self, *args: Any, **kwargs: Any) -> bool:
        """Drop the cached result of ``obj.method(*args, **kwargs)``."""
        return self.__func__.invalidate(self.__self__, *args, **kwargs)

    async def ainvalidate(self, *args: Any, **kwargs: Any) -> bool:
        """Drop the cached result of ``obj.method(*args, **kwargs)`` from every tier."""
        return await self.__func__.ainvalidate(self.__self__, *args, **kwargs)

    def key_for(self, *args: Any, **kwargs: Any) -> Hashable:
        """The key ``obj.method(*args, **kwargs)`` is cached under."""
        return self.__func__.key_for(self.__self__, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__func__, name)

    def __repr__(self) -> str:
        return f"<bound {self.__func__!r} of {safe_repr(self.__self__)}>"


class _SyncCached(CachedFunction[P, R]):
    """The sync flavour: thread-safe, single-flight across threads, re-entrancy safe."""

    def __init__(self, fn: Callable[P, R], **options: Any) -> None:
        super().__init__(fn, **options)
        self._calls: dict[Hashable, _SyncCall] = {}
        self._calls_lock = threading.Lock()

    def _detach(self, key: Hashable | MissingType) -> None:
        with self._calls_lock:
            if key is MISSING:
                self._calls.clear()
            else:
                self._calls.pop(key, None)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            if self._simple_keys and not kwargs and len(args) == 1 and type(args[0]) in _FAST_TYPES:
                key = args[0]
            else:
                key = self._key(args, kwargs)
            value = self._get(key, MISSING)
        except TypeError as exc:
            raise self._unhashable(exc) from None
        if value is not MISSING:
            if self._plain:
                return value  # type: ignore[no-any-return]
            return self._hit(key, value, args, kwargs)  # type: ignore[no-any-return]
        return self._miss(key, args, kwargs)  # type: ignore[no-any-return]

    def _hit(self, key: Hashable, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if type(value) is _Failure:
            value.reraise()
        if type(value) is _Stamped:
            if value.fresh_until <= self._now():
                self._revalidate(key, args, kwargs)
            return value.value
        return value

    def _revalidate(self, key: Hashable, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        with self._calls_lock:
            if key in self._calls:
                return
            call = self._calls[key] = _SyncCall()

        def refresh() -> None:
            try:
                self._compute(key, args, kwargs, call)
            except Exception:
                _log.warning("refreshing a stale result of %s failed", self._id, exc_info=True)

        threading.Thread(target=refresh, name=f"cache-refresh:{self._id}", daemon=True).start()

    def _compute(
        self, key: Hashable, args: tuple[Any, ...], kwargs: dict[str, Any], call: _SyncCall | None
    ) -> Any:
        epoch = self._epoch
        try:
            result = self._fn(*args, **kwargs)
        except BaseException as exc:
            if call is not None:
                call.failure = _Failure(exc)
            if self._error_types and isinstance(exc, self._error_types):
                self._store_failure(key, exc, args, kwargs, epoch)
            raise
        else:
            self._store_sync(key, self._wrap(result), args, kwargs, epoch)
            if call is not None:
                call.result = result
            return result
        finally:
            if call is not None:
                with self._calls_lock:
                    if self._calls.get(key) is call:
                        del self._calls[key]
                call.done.set()

    def _miss(self, key: Hashable, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if not self._single_flight:
            return self._compute(key, args, kwargs, None)
        with self._calls_lock:
            call = self._calls.get(key)
            leader = call is None
            if call is None:
                call = self._calls[key] = _SyncCall()
        if not leader:
            if call.owner == threading.get_ident():
                # A recursive call for the key this thread is computing: waiting
                # would deadlock, so compute it directly.
                return self._compute(key, args, kwargs, None)
            call.done.wait()
            if call.failure is not None:
                call.failure.reraise()
            return call.result
        value = self._peek(key, MISSING)  # stored while we were becoming leader?
        if value is not MISSING:
            with self._calls_lock:
                if self._calls.get(key) is call:
                    del self._calls[key]
            if type(value) is _Failure:
                call.failure = value
            else:
                call.result = value.value if type(value) is _Stamped else value
            call.done.set()
            return self._hit(key, value, args, kwargs)
        return self._compute(key, args, kwargs, call)


class _AsyncCached(CachedFunction[P, R]):
    """The async flavour: caches the coroutine's result, single-flight per event loop."""

    def __init__(self, fn: Callable[P, R], **options: Any) -> None:
        super().__init__(fn, **options)
        self._tasks: dict[Hashable, asyncio.Task[Any]] = {}
        _mark_coroutine_function(self)

    def _detach(self, key: Hashable | MissingType) -> None:
        if key is MISSING:
            self._tasks.clear()
        else:
            self._tasks.pop(key, None)

    async def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Any:  # type: ignore[override]
        try:
            if self._simple_keys and not kwargs and len(args) == 1 and type(args[0]) in _FAST_TYPES:
                key = args[0]
            else:
                key = self._key(args, kwargs)
            value = self._get(key, MISSING)
        except TypeError as exc:
            raise self._unhashable(exc) from None
        if value is not MISSING:
            if self._plain:
                return value
            return self._hit(key, value, args, kwargs)
        return await self._miss(key, args, kwargs)

    def _hit(self, key: Hashable, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if type(value) is _Failure:
            value.reraise()
        if type(value) is _Stamped:
            if value.fresh_until <= self._now():
                self._start(key, args, kwargs)
            return value.value
        return value

    def _start(
        self, key: Hashable, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> asyncio.Task[Any]:
        loop = asyncio.get_running_loop()
        task = self._tasks.get(key)
        if task is not None and not task.done() and task.get_loop() is loop:
            return task
        task = loop.create_task(self._load(key, args, kwargs, self._epoch))
        self._tasks[key] = task
        task.add_done_callback(functools.partial(self._finished, key))
        return task

    def _finished(self, key: Hashable, task: asyncio.Task[Any]) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]
        if not task.cancelled():
            task.exception()  # retrieved: the callers (if any) got it already

    async def _miss(self, key: Hashable, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if not self._single_flight:
            return await self._load(key, args, kwargs, self._epoch)
        task = self._tasks.get(key)
        if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
            value = self._peek(key, MISSING)
            if value is not MISSING:
                return self._hit(key, value, args, kwargs)
            task = self._start(key, args, kwargs)
        return await asyncio.shield(task)

    async def _load(
        self, key: Hashable, args: tuple[Any, ...], kwargs: dict[str, Any], epoch: int
    ) -> Any:
        tiered = self._tiered
        if tiered is not None and tiered.read_through:
            # Memory already missed in the caller: read the tier only (one miss counted).
            value = await tiered._read_through(key, MISSING)
            if value is not MISSING:
                return value
        try:
            result = await self._fn(*args, **kwargs)  # type: ignore[misc]
        except Exception as exc:
            if self._error_types and isinstance(exc, self._error_types):
                self._store_failure(key, exc, args, kwargs, epoch)
            raise
        if tiered is None:
            self._store_sync(key, self._wrap(result), args, kwargs, epoch)
        elif epoch == self._epoch:
            await tiered.set(key, result, ttl=self._ttl, tags=self._tags_for(args, kwargs))
            if epoch != self._epoch:
                # Invalidated while the write was in flight: the write may have
                # landed after the invalidation's delete, in memory and in the
                # tier. Drop it from both, so later calls compute afresh.
                tiered.memory.delete(key)
                await tiered.delete(key)
        return result


_Decorator = Callable[[Callable[P, R]], CachedFunction[P, R]]


@overload
def cached(fn: Callable[P, R], /) -> CachedFunction[P, R]: ...


@overload
def cached(
    fn: None = None,
    /,
    *,
    cache: Cache[Any, Any] | TieredCache[Any, Any] | None = None,
    maxsize: int | None = 1024,
    policy: Policy | str = Policy.LRU,
    ttl: float | str | timedelta | None = None,
    jitter: float = 0.0,
    key: Callable[..., Hashable] | None = None,
    typed: bool = False,
    tags: Iterable[str] | Callable[..., Iterable[str]] = (),
    single_flight: bool = True,
    cache_errors: bool | type[BaseException] | tuple[type[BaseException], ...] = False,
    error_ttl: float | str | timedelta | None = None,
    stale_while_revalidate: float | str | timedelta | None = None,
    clock: Clock = system_clock,
) -> Callable[[Callable[P, R]], CachedFunction[P, R]]: ...


def cached(
    fn: Callable[P, R] | None = None,
    /,
    *,
    cache: Cache[Any, Any] | TieredCache[Any, Any] | None = None,
    maxsize: int | None = 1024,
    policy: Policy | str = Policy.LRU,
    ttl: float | str | timedelta | None = None,
    jitter: float = 0.0,
    key: Callable[..., Hashable] | None = None,
    typed: bool = False,
    tags: Iterable[str] | Callable[..., Iterable[str]] = (),
    single_flight: bool = True,
    cache_errors: bool | type[BaseException] | tuple[type[BaseException], ...] = False,
    error_ttl: float | str | timedelta | None = None,
    stale_while_revalidate: float | str | timedelta | None = None,
    clock: Clock = system_clock,
) -> CachedFunction[P, R] | Callable[[Callable[P, R]], CachedFunction[P, R]]:
    """Cache a function's results; works on sync and async functions and methods.

    For an ``async def`` function the *result* is cached (never the coroutine),
    and concurrent callers of a missing key share one in-flight call
    (single-flight), so a stampede runs the function once. Sync functions get
    the same guarantee across threads; a recursive call for the key being
    computed runs directly instead of deadlocking.

    Exceptions are not cached unless *cache_errors* says so. With
    *stale_while_revalidate*, a result older than *ttl* (but younger than
    ``ttl + stale_while_revalidate``) is returned at once while one refresh
    runs in the background.

    Args:
        fn: The function (when used without parentheses).
        cache: A shared :class:`Cache` (keys are prefixed by the function's
            name) or a :class:`TieredCache` (async functions only). By default
            each function gets its own cache built from *maxsize*, *policy*,
            *ttl*, *jitter* and *clock*.
        maxsize: Entries kept by the function's own cache.
        policy: Eviction policy of the function's own cache.
        ttl: How long a result is fresh (``None``: until evicted).
        jitter: TTL jitter fraction for the function's own cache.
        key: ``key(*args, **kwargs) -> Hashable`` replaces the default key
            (:func:`make_key`); for methods it receives ``self`` too.
        typed: Cache ``f(1)`` and ``f(1.0)`` separately.
        tags: Tags for every result, or ``tags(*args, **kwargs)`` per call, so
            ``cache.invalidate_tag(...)`` can drop them.
        single_flight: Share one in-flight call per key (default on).
        cache_errors: ``True`` (any ``Exception``), a class or a tuple of
            classes whose exceptions are cached and re-raised on hits.
        error_ttl: How long a cached error lives (default: *ttl*).
        stale_while_revalidate: Extra seconds a stale result may be served
            while it is refreshed; needs *ttl*.
        clock: The clock of the function's own cache.

    The wrapper has ``cache``, ``cache_info()``, ``cache_clear()``,
    ``invalidate(*args, **kwargs)`` and ``key_for(*args, **kwargs)``.

    Raises:
        InvalidArgumentError: Incompatible options (for example
            ``stale_while_revalidate`` without ``ttl``).
    """
    ttl_s = None if ttl is None else _as_duration("ttl", ttl)
    stale_s = (
        None
        if stale_while_revalidate is None
        else _as_duration("stale_while_revalidate", stale_while_revalidate)
    )
    if stale_s is not None and ttl_s is None:
        raise InvalidArgumentError(
            "stale_while_revalidate needs a ttl",
            code="pepperpy.cache.invalid_option",
            hint="Pass ttl=... (how long a result is fresh) with stale_while_revalidate=...",
        )
    error_types = _error_types(cache_errors)
    if not callable(tags):
        tags = _tag_tuple(tags)
    if key is not None and not callable(key):
        raise InvalidArgumentError(
            f"key must be a callable building a key from the arguments, got {safe_repr(key)}",
            code="pepperpy.cache.invalid_option",
        )
    error_ttl_s: float | MissingType | None
    if error_ttl is not None:
        error_ttl_s = _as_duration("error_ttl", error_ttl)
    else:
        error_ttl_s = ttl_s if ttl_s is not None else MISSING

    def decorate(func: Callable[P, R]) -> CachedFunction[P, R]:
        _check_function(func)
        is_async = is_async_callable(func)
        tiered: TieredCache[Any, Any] | None = None
        if isinstance(cache, TieredCache):
            if not is_async:
                raise InvalidArgumentError(
                    f"a TieredCache needs an async function, and {safe_repr(func)} is sync",
                    code="pepperpy.cache.invalid_option",
                    hint="Pass the TieredCache's memory cache instead, or make the function async.",
                )
            if error_types or stale_s is not None:
                raise InvalidArgumentError(
                    "cache_errors and stale_while_revalidate are not available with a TieredCache",
                    code="pepperpy.cache.invalid_option",
                    hint="Use a plain Cache for these options.",
                )
            tiered = cache
            store = cache.memory
            shared = True
        elif isinstance(cache, Cache):
            store = cache
            shared = True
        elif cache is None:
            store = Cache(
                maxsize,
                policy=policy,
                ttl=None if ttl_s is None else ttl_s + (stale_s or 0.0),
                jitter=jitter,
                clock=clock,
                name=getattr(func, "__qualname__", "cached"),
            )
            shared = False
        else:
            raise InvalidArgumentError(
                f"cache must be a Cache or a TieredCache, got {safe_repr(cache)}",
                code="pepperpy.cache.invalid_option",
            )
        options: dict[str, Any] = {
            "cache": store,
            "tiered": tiered,
            "shared": shared,
            "key": key,
            "typed": typed,
            "ttl": ttl_s if ttl_s is not None else (MISSING if shared else None),
            "tags": tags,
            "single_flight": single_flight,
            "error_types": error_types,
            "error_ttl": error_ttl_s,
            "stale": stale_s,
        }
        if not shared:
            # The private cache's own default ttl already includes the stale window.
            options["ttl"] = MISSING if stale_s is None else ttl_s
        if is_async:
            return _AsyncCached(func, **options)
        return _SyncCached(func, **options)

    if fn is not None:
        return decorate(fn)
    return decorate


def _error_types(
    cache_errors: bool | type[BaseException] | tuple[type[BaseException], ...],
) -> tuple[type[BaseException], ...]:
    """The exception classes ``cache_errors=`` asks @cached to cache."""
    if cache_errors is True:
        return (Exception,)
    if cache_errors is False:
        return ()
    if isinstance(cache_errors, type) and issubclass(cache_errors, BaseException):
        return (cache_errors,)
    if isinstance(cache_errors, tuple) and all(
        isinstance(t, type) and issubclass(t, BaseException) for t in cache_errors
    ):
        return cache_errors
    raise InvalidArgumentError(
        f"cache_errors must be a bool, an exception class or a tuple of them, got "
        f"{safe_repr(cache_errors)}",
        code="pepperpy.cache.invalid_option",
    )


def _check_function(func: object) -> None:
    """Refuse what @cached cannot decorate: a non-callable, or a generator function."""
    if not callable(func):
        raise InvalidArgumentError(
            f"@cached decorates a function, got {safe_repr(func)}",
            code="pepperpy.cache.invalid_option",
        )
    if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
        raise InvalidArgumentError(
            f"@cached cannot cache the generator function {safe_repr(func)}: a generator "
            "is consumed once, so a cached one would come back empty",
            code="pepperpy.cache.invalid_option",
            hint="Return a list (or a tuple) from the function and cache that instead.",
        )
