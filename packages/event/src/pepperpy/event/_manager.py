"""The :class:`EventManager`: subscriptions, routing, delivery, errors, stats."""

from __future__ import annotations

import asyncio
import functools
import inspect
import itertools
import logging
import math
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, Literal, TypeVar, Union, overload

import attrs

from pepperpy.context import current as current_context
from pepperpy.context import scope as context_scope
from pepperpy.core.exceptions import ClosedError, InvalidArgumentError, OperationTimeoutError
from pepperpy.core.exceptions import safe_repr as _safe_repr
from pepperpy.core.types import Clock, Lifecycle, LifecycleState, system_clock
from pepperpy.core.utils import cancel_requested, is_async_callable
from pepperpy.event._cancel import HAS_CANCELLING, is_handler_failure
from pepperpy.event._errors import BackpressureError, HandlerError
from pepperpy.event._topics import compile_pattern, matches, topic_of, validate_topic

__all__ = [
    "Backpressure",
    "DeadLetter",
    "Delivery",
    "ErrorPolicy",
    "Event",
    "EventManager",
    "Middleware",
    "Subscription",
    "TopicStats",
]

logger = logging.getLogger("pepperpy.event")

E = TypeVar("E")
H = TypeVar("H", bound=Callable[..., Any])

_Item = tuple[Any, str, Any, Mapping[str, Any], "TopicStats"]


class _Unfinished:
    """A count of work in flight and the futures of those waiting until it is 0.

    A count with a *parent* is part of it: the parent counts the same work
    (plus that of its other parts).
    """

    __slots__ = ("_waiters", "count", "parent")

    def __init__(self, parent: _Unfinished | None = None) -> None:
        self.count = 0
        self.parent = parent
        self._waiters: list[asyncio.Future[None]] = []

    def start(self) -> None:
        """Count one more piece of work."""
        self.count += 1
        if self.parent is not None:
            self.parent.count += 1

    def finish(self) -> None:
        """Count one piece of work done; wake the waiters when none is left."""
        self.count -= 1
        if not self.count and self._waiters:
            waiters, self._waiters = self._waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)
        if self.parent is not None:
            self.parent.finish()

    def waiter(self) -> asyncio.Future[None]:
        """A future done when the count is next 0; cancel it to stop waiting.

        Call it only while the count is above 0.
        """
        waiter = asyncio.get_running_loop().create_future()
        waiters = self._waiters
        if len(waiters) > 64:  # cancelled waits of a count that stays up
            waiters[:] = [w for w in waiters if not w.done()]
        waiters.append(waiter)
        return waiter


def _wake_one(waiters: deque[asyncio.Future[None]]) -> None:
    while waiters:
        waiter = waiters.popleft()
        if not waiter.done():
            waiter.set_result(None)
            return


class _WorkQueue:
    """A queued subscription's bounded FIFO, with the semantics of :class:`asyncio.Queue`.

    Its own class (not an ``asyncio.Queue`` subclass) because it is the
    queued round trip's hot path. It counts the events put and not yet marked
    done for its subscription (:meth:`join`, :attr:`unfinished`) and, as a
    part of *total*, for the whole manager (what ``drain()`` waits on).
    """

    __slots__ = ("_getters", "_items", "_putters", "_unfinished", "maxsize", "task_done")

    def __init__(self, maxsize: int, total: _Unfinished) -> None:
        self.maxsize = maxsize
        self._items: deque[_Item] = deque()
        self._getters: deque[asyncio.Future[None]] = deque()
        self._putters: deque[asyncio.Future[None]] = deque()
        self._unfinished = _Unfinished(total)  # put and not yet task_done()
        self.task_done: Callable[[], None] = self._unfinished.finish
        """Mark one event taken by :meth:`get` handled."""

    @property
    def unfinished(self) -> int:
        """Events put and not yet marked done."""
        return self._unfinished.count

    def qsize(self) -> int:
        return len(self._items)

    def empty(self) -> bool:
        return not self._items

    def offer(self, item: _Item) -> bool:
        """Put *item* if there is room; return whether it was put."""
        if len(self._items) >= self.maxsize:
            return False
        self._items.append(item)
        self._unfinished.start()
        if self._getters:
            _wake_one(self._getters)
        return True

    async def put(self, item: _Item) -> None:
        """Wait for room, then put (as ``asyncio.Queue.put``)."""
        while len(self._items) >= self.maxsize:
            putter = asyncio.get_running_loop().create_future()
            self._putters.append(putter)
            try:
                await putter
            except BaseException:
                putter.cancel()
                if putter in self._putters:
                    self._putters.remove(putter)
                if len(self._items) < self.maxsize and not putter.cancelled():
                    _wake_one(self._putters)  # the room it was woken for
                raise
        self.offer(item)

    def get_nowait(self) -> _Item:
        item = self._items.popleft()
        if self._putters:
            _wake_one(self._putters)
        return item

    async def get(self) -> _Item:
        """Wait for an event, then take it (as ``asyncio.Queue.get``)."""
        items = self._items
        while not items:
            getter = asyncio.get_running_loop().create_future()
            self._getters.append(getter)
            try:
                await getter
            except BaseException:
                getter.cancel()
                if getter in self._getters:
                    self._getters.remove(getter)
                if items and not getter.cancelled():
                    _wake_one(self._getters)  # the event it was woken for
                raise
        return self.get_nowait()

    async def join(self) -> None:
        """Wait until every event put was marked done."""
        if self._unfinished.count:
            await self._unfinished.waiter()


Delivery = Literal["inline", "concurrent", "queued"]
"""How a subscription receives events: ``"inline"`` (awaited by ``publish``, in
priority order), ``"concurrent"`` (a task per event, started in priority
order) or ``"queued"`` (a bounded queue drained by the subscription's workers)."""

Backpressure = Literal["block", "drop_oldest", "error"]
"""What ``publish`` does when a queued subscription is full."""

ErrorPolicy = Union[
    Literal["log", "collect", "raise", "dead_letter"], Callable[[HandlerError], Any]
]
"""What happens to a :class:`HandlerError`: ``"log"`` it, ``"collect"`` it in
:attr:`EventManager.errors`, ``"raise"`` it from ``publish`` once every inline
handler ran, publish a :class:`DeadLetter` on the dead-letter topic, or call a
function with it."""

_NO_DATA: Any = object()
_DELIVERIES = ("inline", "concurrent", "queued")
_BACKPRESSURES = ("block", "drop_oldest", "error")
_POLICIES = ("log", "collect", "raise", "dead_letter")
_LIVE = (LifecycleState.RUNNING, LifecycleState.STOPPING)


@attrs.frozen
class Event:
    """The envelope of a published event, given to middleware and ``envelope=True`` handlers.

    Attributes:
        topic: The concrete topic it was published on.
        data: The event object (or the payload of a string topic).
        id: A number unique within the manager.
        timestamp: Wall-clock time of the publish (from the manager's clock).
        context: The publisher's pepperpy.context values.
    """

    topic: str
    data: Any
    id: int
    timestamp: float
    context: Mapping[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen
class DeadLetter:
    """Published on the dead-letter topic when a handler fails under ``"dead_letter"``."""

    topic: str
    event: Any
    handler: str
    error: HandlerError


@attrs.define
class TopicStats:
    """Delivery counters of one topic.

    Every publish counts once in *published*, then either in *unrouted* (no
    subscription received it) or once in *routed* per subscription it was
    handed to. Every routed delivery ends in exactly one of *delivered*,
    *failed*, *dropped* and *cancelled*; until then it is in flight (counted
    by :attr:`EventManager.pending`). So once :meth:`EventManager.drain` or
    :meth:`~EventManager.stop` returned::

        routed == delivered + failed + dropped + cancelled

    and, on a topic with one subscription,
    ``published == unrouted + delivered + failed + dropped + cancelled``.

    Attributes:
        published: Events published on the topic.
        delivered: Handler calls that returned.
        failed: Handler calls that raised (any exception but their own
            cancellation).
        dropped: Deliveries discarded before their handler ran: by a full
            ``drop_oldest`` queue, refused by ``"error"`` backpressure, left
            in a queue at stop, a publisher cancelled (or stopped) while it
            waited for room, or a weak handler collected meanwhile.
        routed: Deliveries: (event, subscription) pairs handed out.
        unrouted: Events no subscription received (no match, filtered out,
            or stopped by a middleware).
        cancelled: Handler calls cancelled by stop() (a concurrent call
            possibly before it started), or inline calls whose publisher was
            cancelled.
    """

    published: int = 0
    delivered: int = 0
    failed: int = 0
    dropped: int = 0
    routed: int = 0
    unrouted: int = 0
    cancelled: int = 0
    _open: int = attrs.field(default=0, init=False, repr=False, eq=False)
    _mark: int = attrs.field(default=0, init=False, repr=False, eq=False)

    def _settled(self) -> bool:
        return not self._open and self.routed == (
            self.delivered + self.failed + self.dropped + self.cancelled
        )

    def _add(self, other: TopicStats) -> None:
        self.published += other.published
        self.delivered += other.delivered
        self.failed += other.failed
        self.dropped += other.dropped
        self.routed += other.routed
        self.unrouted += other.unrouted
        self.cancelled += other.cancelled


Middleware = Callable[[Event, Callable[[Event], Awaitable[int]]], Awaitable[int]]
"""``async def mw(event, call_next) -> int``: call ``await call_next(event)``
(possibly with an evolved event) to continue, or return 0 to filter the event out."""

_Target = Union[str, type]


class Subscription:
    """One handler subscribed to a topic pattern or an event class.

    Returned by :meth:`EventManager.subscribe`; call :meth:`unsubscribe` to stop.
    """

    __slots__ = (
        "__weakref__",
        "_fn",
        "_ref",
        "_tasks",
        "active",
        "backpressure",
        "cls",
        "delivery",
        "envelope",
        "filter",
        "is_async",
        "manager",
        "max_concurrency",
        "name",
        "on_error",
        "once",
        "pattern",
        "priority",
        "queue",
        "seq",
        "slots",
        "stopping",
        "workers",
    )

    def __init__(
        self,
        manager: EventManager,
        target: _Target,
        handler: Callable[[Any], Any],
        *,
        seq: int,
        priority: int,
        delivery: Delivery,
        queue_size: int,
        backpressure: Backpressure,
        workers: int,
        max_concurrency: int,
        on_error: ErrorPolicy | None,
        once: bool,
        weak: bool,
        envelope: bool,
        filter: Callable[[Any], bool] | None,
        name: str | None,
    ) -> None:
        self.manager = manager
        self.pattern: str | None = None
        self.cls: type | None = None
        if isinstance(target, str):
            compile_pattern(target)
            self.pattern = target
        else:
            self.cls = target
        self.seq = seq
        self.priority = priority
        self.delivery = delivery
        self.backpressure = backpressure
        self.workers = workers
        self.max_concurrency = max_concurrency
        self.on_error = on_error
        self.once = once
        self.envelope = envelope
        self.filter = filter
        self.name = name or getattr(handler, "__qualname__", None) or _safe_repr(handler)
        self.is_async = is_async_callable(handler)
        self.active = True
        self._fn: Callable[[Any], Any] | None = None
        self._ref: Callable[[], Callable[[Any], Any] | None] | None = None
        if weak:
            wr = weakref.ref(self)

            def gone(_: object) -> None:
                sub = wr()
                if sub is not None:
                    sub.unsubscribe()

            if inspect.ismethod(handler):
                self._ref = weakref.WeakMethod(handler, gone)
            else:
                self._ref = weakref.ref(handler, gone)
        else:
            self._fn = handler
        self.queue: _WorkQueue | None = (
            _WorkQueue(queue_size, manager._queued) if delivery == "queued" else None
        )
        self.slots: asyncio.Semaphore | None = (
            asyncio.Semaphore(max_concurrency) if delivery == "concurrent" else None
        )
        self.stopping = False  # set before the manager cancels this subscription's workers
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def handler(self) -> Callable[[Any], Any] | None:
        """The handler, or ``None`` once a weakly referenced handler was collected."""
        if self._fn is not None:
            return self._fn
        return self._ref() if self._ref is not None else None

    @property
    def target(self) -> _Target:
        """The topic pattern or event class subscribed to."""
        return self.pattern if self.pattern is not None else self.cls  # type: ignore[return-value]

    @property
    def pending(self) -> int:
        """Events waiting in this subscription's queue (0 unless queued)."""
        return self.queue.qsize() if self.queue is not None else 0

    def unsubscribe(self) -> None:
        """Stop receiving events; queued events already accepted are still handled."""
        if self.active:
            self.active = False
            self.manager._remove(self)

    def __repr__(self) -> str:
        target = self.pattern if self.pattern is not None else getattr(self.cls, "__name__", "?")
        return (
            f"<Subscription {self.name} to {target!r} priority={self.priority} "
            f"delivery={self.delivery}{'' if self.active else ' inactive'}>"
        )


class EventManager(Lifecycle):
    """An in-process publish/subscribe bus with typed events and topic wildcards.

    Events are attrs instances (routed by class, and by topic through
    ``__topic__`` or the class name) or any payload published on a string
    topic. Patterns use dotted segments: ``*`` matches one segment and ``#``
    zero or more. Handlers run in priority order (higher first, then in
    subscription order), one failing handler never stops the others, and
    handlers see the publisher's pepperpy.context values.

    Args:
        on_error: The default :data:`ErrorPolicy` for handler failures.
        dead_letter_topic: Where ``"dead_letter"`` failures are published.
        queue_size: Default capacity of queued subscriptions.
        stop_timeout: Seconds :meth:`stop` waits for queued and running
            handlers before cancelling them (a finite number >= 0).
        max_errors: How many collected errors :attr:`errors` keeps (>= 0).
        max_concurrency: Default cap on the handler calls a
            ``"concurrent"`` subscription runs at once; at the cap, its
            backpressure policy applies (``"block"`` makes ``publish`` wait).
        max_topics: How many topics the routing cache and :meth:`stats` keep
            (topics not published lately forgotten first; :meth:`totals`
            keeps counting).
        clock: Time source for timestamps and timeouts.

    Raises:
        InvalidArgumentError: An argument has the wrong type or range.
    """

    def __init__(
        self,
        *,
        on_error: ErrorPolicy = "log",
        dead_letter_topic: str = "events.dead_letter",
        queue_size: int = 1000,
        stop_timeout: float = 5.0,
        max_errors: int = 1000,
        max_concurrency: int = 1000,
        max_topics: int = 10_000,
        clock: Clock = system_clock,
    ) -> None:
        _check_policy(on_error)
        self.on_error = on_error
        self.dead_letter_topic = _check_topic(
            "dead_letter_topic", dead_letter_topic, code="pepperpy.event.dead_letter_topic"
        )
        self.queue_size = _check_int("queue_size", queue_size, code="pepperpy.event.queue_size")
        self.stop_timeout = _check_seconds(
            "stop_timeout", stop_timeout, code="pepperpy.event.stop_timeout"
        )
        self.max_concurrency = _check_int(
            "max_concurrency", max_concurrency, code="pepperpy.event.max_concurrency"
        )
        self.max_topics = _check_int("max_topics", max_topics, code="pepperpy.event.max_topics")
        self.clock = _check_clock(clock)
        self._subs: list[Subscription] = []
        self._retiring: set[Subscription] = set()
        self._cache: dict[Any, tuple[Subscription, ...]] = {}
        self._seq = itertools.count()
        self._ids = itertools.count(1)
        self._middleware: list[Middleware] = []
        self._stats: dict[str, TopicStats] = {}
        self._forgotten = TopicStats()  # counters of topics evicted from _stats
        self._errors: deque[HandlerError] = deque(
            maxlen=_check_int("max_errors", max_errors, 0, code="pepperpy.event.max_errors")
        )
        self._tasks: set[asyncio.Task[Any]] = set()
        self._queued = _Unfinished()  # events in every queue, put and not yet done
        self._waiters: set[asyncio.Future[Any]] = set()
        self._stopping = False  # set before stop() cancels tasks (Python 3.10 needs it)

    # ------------------------------------------------------------------ lifecycle

    async def _on_start(self) -> None:
        self._stopping = False
        for sub in self._subs:
            sub.stopping = False
            self._start_workers(sub)

    async def _on_stop(self) -> None:
        try:
            await self._drain(self.stop_timeout)
        except OperationTimeoutError:
            logger.warning(
                "event bus stop: handlers still busy after %ss; cancelling", self.stop_timeout
            )
        self._stopping = True
        subs = [*self._subs, *self._retiring]
        tasks = list(self._tasks)
        for sub in subs:
            sub.stopping = True
            tasks.extend(sub._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        for sub in subs:
            sub._tasks.clear()
            left = _drop_queued(sub)
            if left:
                logger.warning("event bus stop: %d queued events for %s dropped", left, sub.name)
        self._retiring.clear()
        self._tasks.clear()
        for waiter in list(self._waiters):
            if not waiter.done():
                waiter.set_exception(
                    ClosedError(
                        "the event manager stopped while wait_for() was waiting",
                        code="pepperpy.event.closed",
                        hint="Start the manager again and call wait_for() anew.",
                    )
                )

    def _start_workers(self, sub: Subscription) -> None:
        if sub.queue is None or sub._tasks:
            return
        loop = asyncio.get_running_loop()
        for _ in range(sub.workers):
            sub._tasks.append(loop.create_task(self._worker(sub)))

    # ------------------------------------------------------------------ subscribing

    @overload
    def subscribe(
        self,
        target: type[E],
        handler: Callable[[E], Any],
        *,
        priority: int = ...,
        delivery: Delivery = ...,
        queue_size: int | None = ...,
        backpressure: Backpressure = ...,
        workers: int = ...,
        max_concurrency: int | None = ...,
        on_error: ErrorPolicy | None = ...,
        once: bool = ...,
        weak: bool = ...,
        envelope: bool = ...,
        filter: Callable[[Any], bool] | None = ...,
        name: str | None = ...,
    ) -> Subscription: ...

    @overload
    def subscribe(
        self,
        target: str,
        handler: Callable[[Any], Any],
        *,
        priority: int = ...,
        delivery: Delivery = ...,
        queue_size: int | None = ...,
        backpressure: Backpressure = ...,
        workers: int = ...,
        max_concurrency: int | None = ...,
        on_error: ErrorPolicy | None = ...,
        once: bool = ...,
        weak: bool = ...,
        envelope: bool = ...,
        filter: Callable[[Any], bool] | None = ...,
        name: str | None = ...,
    ) -> Subscription: ...

    def subscribe(
        self,
        target: _Target,
        handler: Callable[[Any], Any],
        *,
        priority: int = 0,
        delivery: Delivery = "inline",
        queue_size: int | None = None,
        backpressure: Backpressure = "block",
        workers: int = 1,
        max_concurrency: int | None = None,
        on_error: ErrorPolicy | None = None,
        once: bool = False,
        weak: bool = False,
        envelope: bool = False,
        filter: Callable[[Any], bool] | None = None,
        name: str | None = None,
    ) -> Subscription:
        """Call *handler* for every event matching *target*.

        Args:
            target: A topic pattern (``"orders.created"``, ``"orders.*"``,
                ``"orders.#"``, ``"#"``) or an event class (instances of it
                and of its subclasses match).
            handler: A sync or async callable taking the event (or, with
                ``envelope=True``, the :class:`Event` envelope).
            priority: Higher runs first; equal priorities run in subscription order.
            delivery: ``"inline"`` (default), ``"concurrent"`` or ``"queued"``.
            queue_size: Capacity of a queued subscription (default: the manager's).
            backpressure: When a queued subscription is full or a concurrent
                one runs ``max_concurrency`` calls: ``"block"`` the publisher
                until there is room, ``"drop_oldest"`` queued event (queued
                only), or raise :class:`BackpressureError`.
            workers: Tasks draining a queued subscription (1 keeps order).
            max_concurrency: Most handler calls a concurrent subscription runs
                at once (default: the manager's).
            on_error: This handler's :data:`ErrorPolicy` (default: the manager's).
            once: Unsubscribe after the first matching event.
            weak: Hold the handler by weak reference (it is unsubscribed when
                collected). The default is a strong reference, so a lambda
                handler is never dropped silently.
            envelope: Pass the :class:`Event` envelope instead of the event.
            filter: Only events for which ``filter(event)`` is true are delivered.
            name: Shown in errors and logs (default: the handler's qualified name).

        Returns:
            The :class:`Subscription`; call ``unsubscribe()`` on it to stop.

        Raises:
            InvalidArgumentError: An argument has the wrong type or value.
        """
        if not callable(handler):
            raise InvalidArgumentError(
                f"a handler must be callable, got {_safe_repr(handler)}",
                code="pepperpy.event.handler",
                hint="Pass a function or coroutine function taking the event.",
            )
        if not isinstance(target, (str, type)):
            raise InvalidArgumentError(
                f"subscribe() takes a topic pattern or an event class, got {_safe_repr(target)}",
                code="pepperpy.event.target",
                hint="Use 'orders.*' or an attrs event class such as OrderCreated.",
            )
        if delivery not in _DELIVERIES:
            raise InvalidArgumentError(
                f"delivery must be one of {', '.join(_DELIVERIES)}, got {_safe_repr(delivery)}",
                code="pepperpy.event.delivery",
                hint="Use 'inline', 'concurrent' or 'queued'.",
            )
        if backpressure not in _BACKPRESSURES:
            raise InvalidArgumentError(
                f"backpressure must be one of {', '.join(_BACKPRESSURES)}, "
                f"got {_safe_repr(backpressure)}",
                code="pepperpy.event.invalid_backpressure",
                hint="Use 'block', 'drop_oldest' or 'error'.",
            )
        if delivery == "concurrent" and backpressure == "drop_oldest":
            raise InvalidArgumentError(
                "backpressure='drop_oldest' does not apply to concurrent delivery: "
                "running handler calls cannot be dropped",
                code="pepperpy.event.invalid_backpressure",
                hint="Use backpressure='block' or 'error' with delivery='concurrent', "
                "or delivery='queued' to drop the oldest waiting event.",
            )
        if on_error is not None:
            _check_policy(on_error)
        if isinstance(priority, bool) or not isinstance(priority, int):
            raise InvalidArgumentError(
                f"priority must be an integer, got {_safe_repr(priority)}",
                code="pepperpy.event.priority",
                hint="Pass priority=10 to run before default handlers, -10 to run after.",
            )
        _check_flag("once", once, code="pepperpy.event.once")
        _check_flag("weak", weak, code="pepperpy.event.weak")
        _check_flag("envelope", envelope, code="pepperpy.event.envelope")
        if filter is not None and not callable(filter):
            raise InvalidArgumentError(
                f"filter must be a callable or None, got {_safe_repr(filter)}",
                code="pepperpy.event.filter",
                hint="Pass a function taking the event and returning a bool.",
            )
        if name is not None and not isinstance(name, str):
            raise InvalidArgumentError(
                f"name must be a string or None, got {_safe_repr(name)}",
                code="pepperpy.event.name",
                hint="Pass a short label such as name='billing'.",
            )
        sub = Subscription(
            self,
            target,
            handler,
            seq=next(self._seq),
            priority=priority,
            delivery=delivery,
            queue_size=_check_int(
                "queue_size",
                self.queue_size if queue_size is None else queue_size,
                code="pepperpy.event.queue_size",
            ),
            backpressure=backpressure,
            workers=_check_int("workers", workers, code="pepperpy.event.workers"),
            max_concurrency=_check_int(
                "max_concurrency",
                self.max_concurrency if max_concurrency is None else max_concurrency,
                code="pepperpy.event.max_concurrency",
            ),
            on_error=on_error,
            once=once,
            weak=weak,
            envelope=envelope,
            filter=filter,
            name=name,
        )
        self._subs.append(sub)
        self._cache.clear()
        if self._lc_state is LifecycleState.RUNNING:
            self._start_workers(sub)
        return sub

    def on(self, target: _Target, **options: Any) -> Callable[[H], H]:
        """Decorator form of :meth:`subscribe`; returns the function unchanged."""

        def decorate(fn: H) -> H:
            self.subscribe(target, fn, **options)
            return fn

        return decorate

    def once(self, target: _Target, handler: Callable[[Any], Any], **options: Any) -> Subscription:
        """Subscribe *handler* for the first matching event only."""
        return self.subscribe(target, handler, once=True, **options)

    def unsubscribe(self, subscription: Subscription) -> None:
        """Remove *subscription* (same as ``subscription.unsubscribe()``).

        Raises:
            InvalidArgumentError: *subscription* is not one of this manager's.
        """
        if not isinstance(subscription, Subscription) or subscription.manager is not self:
            raise InvalidArgumentError(
                f"unsubscribe() takes a Subscription of this manager, got "
                f"{_safe_repr(subscription)}",
                code="pepperpy.event.subscription",
                hint="Pass what subscribe() returned, or call subscription.unsubscribe().",
            )
        subscription.unsubscribe()

    def _remove(self, sub: Subscription) -> None:
        try:
            self._subs.remove(sub)
        except ValueError:
            return
        self._cache.clear()
        if sub._tasks and sub.queue is not None:
            # Workers finish what was accepted, then stop.
            self._retiring.add(sub)
            task = asyncio.ensure_future(self._retire(sub))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _retire(self, sub: Subscription) -> None:
        assert sub.queue is not None
        try:
            await sub.queue.join()
        finally:  # also when stop() cancels this: the workers must not outlive it
            sub.stopping = True
            for task in sub._tasks:
                task.cancel()
            await asyncio.gather(*sub._tasks, return_exceptions=True)
            sub._tasks.clear()
            _drop_queued(sub)
            self._retiring.discard(sub)

    def subscriptions(self) -> list[Subscription]:
        """Every active subscription, in delivery order for a catch-all topic."""
        return sorted(self._subs, key=_order)

    def use(self, middleware: Middleware) -> None:
        """Add a middleware around every publish (first added runs outermost).

        Raises:
            InvalidArgumentError: *middleware* is not callable.
        """
        if not callable(middleware):
            raise InvalidArgumentError(
                f"middleware must be an async function (event, call_next), "
                f"got {_safe_repr(middleware)}",
                code="pepperpy.event.middleware",
                hint="Define it as: async def mw(event, call_next): return await call_next(event)",
            )
        self._middleware.append(middleware)

    # ------------------------------------------------------------------ publishing

    def _resolve(self, key: Any) -> tuple[Subscription, ...]:
        if isinstance(key, str):
            name = key
            found = [s for s in self._subs if s.pattern is not None and matches(s.pattern, name)]
        else:
            name = topic_of(key)
            found = [
                s
                for s in self._subs
                if (s.cls is not None and issubclass(key, s.cls))
                or (s.pattern is not None and matches(s.pattern, name))
            ]
        found.sort(key=_order)
        subs = tuple(found)
        cache = self._cache
        cache[key] = subs
        if len(cache) > self.max_topics:  # forget the oldest entry: re-resolved if needed
            del cache[next(iter(cache))]
        return subs

    def _new_stats(self, topic: str) -> TopicStats:
        """Add a topic's counters, forgetting one not published lately (CLOCK).

        The table is in insertion order. The oldest entry is forgotten unless
        it was published since the last time it was looked at here (then it
        goes to the end with its mark updated: a second chance) or has
        deliveries in flight. So a publish costs one dict lookup, and the
        topics kept approximate the least recently published ones.
        """
        table = self._stats
        stats = table[topic] = TopicStats()
        stats._mark = 1  # the publish creating it
        if len(table) > self.max_topics:
            for _ in range(2 * len(table)):  # two passes at most: marks are refreshed
                oldest = next(iter(table))
                if oldest == topic:
                    break
                old = table[oldest]
                if old.published == old._mark and old._settled():
                    del table[oldest]
                    self._forgotten._add(old)
                    break
                old._mark = old.published
                del table[oldest]
                table[oldest] = old
        return stats

    @overload
    async def publish(self, event: str, data: Any = None) -> int: ...

    @overload
    async def publish(self, event: object) -> int: ...

    async def publish(self, event: Any, data: Any = _NO_DATA) -> int:
        """Deliver an event to every matching subscription.

        Inline handlers run before this returns, one after another in
        priority order; concurrent handlers are started (in priority order),
        waiting for room under ``max_concurrency``; queued ones are enqueued;
        both follow their backpressure policy.

        Args:
            event: An event object, or a topic name (then *data* is the payload).
            data: The payload of a string topic.

        Returns:
            How many subscriptions the event was handed to.

        Raises:
            ClosedError: The manager is not running (or stopped while this
                waited for room).
            HandlerError: A handler failed under the ``"raise"`` policy (after
                every other handler ran).
            BackpressureError: A full subscription uses ``"error"``.
            InvalidArgumentError: *event* is not a valid topic or event object.
        """
        if self._lc_state is not LifecycleState.RUNNING:
            self._ensure_running()
        if type(event) is not str:
            event = _check_event(event)
        if type(event) is str:
            key: Any = event
            topic = event
            payload = None if data is _NO_DATA else data
        else:
            if data is not _NO_DATA:
                raise InvalidArgumentError(
                    f"publish() got data for an event object of type {type(event).__name__}",
                    code="pepperpy.event.data",
                    hint="Pass data only with a string topic: publish('orders.paid', payload).",
                )
            key = type(event)
            topic = ""
            payload = event
        subs = self._cache.get(key)
        if subs is None:
            if key is event:
                validate_topic(topic)
            subs = self._resolve(key)
        if key is not event:
            topic = topic_of(key)
        stats = self._stats.get(topic)
        if stats is None:
            stats = self._new_stats(topic)
        stats.published += 1
        if not self._middleware:
            # No await before the first delivery is counted, so stats cannot
            # be forgotten meanwhile; _Dispatch counts an unrouted event.
            return await _Dispatch(self, topic, payload, None, stats, None).run(subs)
        stats._open += 1  # middleware may await before delivering: keep stats
        routes = [0]
        try:
            envelope = self._envelope(topic, payload)
            return await self._through_middleware(envelope, subs, stats, routes)
        finally:
            stats._open -= 1
            if not routes[0]:
                stats.unrouted += 1

    def _envelope(self, topic: str, payload: Any) -> Event:
        return Event(topic, payload, next(self._ids), self.clock.time(), current_context())

    async def _through_middleware(
        self,
        envelope: Event,
        subs: tuple[Subscription, ...],
        stats: TopicStats,
        routes: list[int],
    ) -> int:
        chain = self._middleware

        async def call(index: int, env: Event) -> int:
            if index == len(chain):
                return await _Dispatch(self, env.topic, env.data, env, stats, routes).run(subs)
            return await chain[index](env, lambda e: call(index + 1, e))

        return await call(0, envelope)

    async def _reserve(self, sub: Subscription, topic: str, stats: TopicStats) -> None:
        """Take one of a concurrent subscription's ``max_concurrency`` slots."""
        slots = sub.slots
        assert slots is not None
        if slots.locked() and sub.backpressure == "error":
            stats.dropped += 1
            raise BackpressureError(
                f"handler {sub.name!r} already runs {sub.max_concurrency} calls (max_concurrency)",
                context={
                    "handler": sub.name,
                    "topic": topic,
                    "max_concurrency": sub.max_concurrency,
                },
                hint="Slow down publishing, raise max_concurrency, or use backpressure='block'.",
            )
        try:
            await slots.acquire()
        except BaseException:  # the publisher was cancelled while it waited
            stats.dropped += 1
            raise
        if self._stopping or self._lc_state not in _LIVE:
            # The manager stopped while this publisher waited for a slot.
            slots.release()
            stats.dropped += 1
            raise ClosedError(
                "the event manager stopped while publish() waited for max_concurrency room",
                code="pepperpy.event.closed",
                context={"handler": sub.name, "topic": topic},
                hint="Publish before stop(), or use backpressure='error'.",
            )

    def _concurrent_done(
        self, sub: Subscription, stats: TopicStats, task: asyncio.Task[Any]
    ) -> None:
        self._tasks.discard(task)
        assert sub.slots is not None
        sub.slots.release()
        if task.cancelled():  # by stop(), possibly before it started
            stats.cancelled += 1

    def _queue_full(
        self, sub: Subscription, queue: _WorkQueue, item: _Item, stats: TopicStats
    ) -> Awaitable[None] | None:
        """Apply *sub*'s backpressure policy to *item*, its *queue* being full.

        Returns the wait for room under ``"block"``, else ``None`` (done).
        """
        if sub.backpressure == "block":
            return self._wait_for_room(sub, queue, item, stats)
        if sub.backpressure == "error":
            stats.dropped += 1
            raise BackpressureError(
                f"queue of handler {sub.name!r} is full ({queue.maxsize} events)",
                context={"handler": sub.name, "topic": item[1], "queue_size": queue.maxsize},
                hint="Slow down publishing, raise queue_size, or use backpressure='block' "
                "or 'drop_oldest'.",
            )
        old = queue.get_nowait()  # "drop_oldest"
        queue.task_done()
        old[4].dropped += 1
        queue.offer(item)
        return None

    async def _wait_for_room(
        self, sub: Subscription, queue: _WorkQueue, item: _Item, stats: TopicStats
    ) -> None:
        try:
            await queue.put(item)
        except BaseException:  # the publisher was cancelled while it waited
            stats.dropped += 1
            raise
        if self._lc_state is not LifecycleState.RUNNING and not sub._tasks:
            # The manager stopped while this publisher waited for room:
            # nobody will handle the event, so say so instead of losing it.
            _drop_queued(sub)
            raise ClosedError(
                "the event manager stopped while publish() waited for queue room",
                code="pepperpy.event.closed",
                context={"handler": sub.name, "topic": item[1]},
                hint="Publish before stop(), or use backpressure='drop_oldest'/'error'.",
            )

    async def _call(
        self,
        sub: Subscription,
        fn: Callable[[Any], Any],
        arg: Any,
        topic: str,
        payload: Any,
        stats: TopicStats,
        *,
        inline: bool,
        cancelled: list[bool] | None = None,
    ) -> HandlerError | None:
        """Call a handler and count the outcome (inline delivery does the same in _Dispatch).

        *cancelled* is set by :meth:`_call_in_child` when it cancels this call.
        """
        try:
            if sub.is_async:
                await fn(arg)
            else:
                result = fn(arg)
                if result is not None and inspect.isawaitable(result):
                    await result
        except BaseException as exc:
            return await self._raised(sub, exc, topic, payload, stats, inline, cancelled)
        stats.delivered += 1
        return None

    async def _raised(
        self,
        sub: Subscription,
        exc: BaseException,
        topic: str,
        payload: Any,
        stats: TopicStats,
        inline: bool,
        cancelled: list[bool] | None = None,
    ) -> HandlerError | None:
        """Count and handle what a handler raised; the one place that judges it.

        Anything is the handler's failure, except the cancellation of the task
        calling it (stop(), or an inline publisher cancelled),
        ``KeyboardInterrupt`` and ``SystemExit``: those are re-raised.
        """
        if cancelled is not None and isinstance(exc, asyncio.CancelledError):
            # A 3.10 child call: when the worker was cancelled in the same
            # loop iteration (the loop shutting down cancels every task),
            # let it mark this call cancelled before judging.
            try:
                await asyncio.sleep(0)
            except asyncio.CancelledError:
                pass  # the worker cancelled this call; cancelled[0] is set
        stopping = (
            None
            if inline
            else (self._stopping or sub.stopping or (cancelled is not None and cancelled[0]))
        )
        if not is_handler_failure(exc, stopping=stopping):
            if not isinstance(exc, asyncio.CancelledError):
                stats.failed += 1
            elif sub.delivery != "concurrent":  # counted by _concurrent_done
                stats.cancelled += 1
            raise exc
        stats.failed += 1
        return await self._failed(sub, topic, payload, exc, inline=inline)

    async def _worker(self, sub: Subscription) -> None:
        queue = sub.queue
        assert queue is not None
        get = queue.get
        call: Callable[..., Awaitable[HandlerError | None]] = self._call
        # Task.cancelling() (3.11+) tells whether a handler swallowed our
        # cancellation, and a handler's CancelledError from our own; without it
        # (3.10) each call runs in a child task, see _call_in_child.
        if not HAS_CANCELLING:
            call = self._call_in_child
        while True:
            arg, topic, payload, values, stats = await get()
            try:
                fn = sub._fn if sub._fn is not None else sub.handler
                if fn is None:  # a weak handler was collected meanwhile
                    stats.dropped += 1
                elif values:
                    with context_scope(values):
                        await call(sub, fn, arg, topic, payload, stats, inline=False)
                else:
                    await call(sub, fn, arg, topic, payload, stats, inline=False)
            finally:
                queue.task_done()
            if cancel_requested(self._stopping or sub.stopping):
                # A handler swallowed this worker's cancellation: stop anyway.
                raise asyncio.CancelledError

    async def _call_in_child(
        self,
        sub: Subscription,
        fn: Callable[[Any], Any],
        arg: Any,
        topic: str,
        payload: Any,
        stats: TopicStats,
        *,
        inline: bool,
    ) -> HandlerError | None:
        """:meth:`_call` for workers and concurrent tasks on Python 3.10 (no ``Task.cancelling()``).

        The call runs in a child task (copying the caller's context) that the
        caller waits for with ``asyncio.wait``, which never raises the
        child's exception: a ``CancelledError`` reaching the caller is its own
        (stop(), or the event loop shutting down without stop()), and then the
        child is cancelled as such. Without this a worker would take the
        loop's shutdown for a handler failure and wait for the next event.
        """
        cancelled = [False]
        child = asyncio.get_running_loop().create_task(
            self._call(sub, fn, arg, topic, payload, stats, inline=inline, cancelled=cancelled)
        )
        try:
            await asyncio.wait((child,))
        except asyncio.CancelledError:
            cancelled[0] = True
            child.cancel()
            await asyncio.wait((child,))
            raise
        return child.result()

    async def _failed(
        self, sub: Subscription, topic: str, payload: Any, exc: BaseException, *, inline: bool
    ) -> HandlerError | None:
        error = HandlerError(sub.name, topic, payload, exc)
        policy = sub.on_error if sub.on_error is not None else self.on_error
        if policy == "raise":
            if inline:
                return error
            policy = "collect"
        if policy == "log":
            logger.error("%s", error.message, exc_info=exc)
        elif policy == "collect":
            self._errors.append(error)
            logger.debug("%s", error.message, exc_info=exc)
        elif policy == "dead_letter":
            if topic == self.dead_letter_topic:
                logger.error("dead-letter handler failed: %s", error.message, exc_info=exc)
            else:
                try:
                    await self.publish(
                        self.dead_letter_topic, DeadLetter(topic, payload, sub.name, error)
                    )
                except BaseException as again:  # never let the error channel break delivery
                    self._error_channel_failed(sub, again, inline, "dead-letter publish")
        else:
            try:
                outcome = policy(error)
                if inspect.isawaitable(outcome):
                    await outcome
            except BaseException as again:
                self._error_channel_failed(sub, again, inline, "error callback")
        return None

    def _error_channel_failed(
        self, sub: Subscription, exc: BaseException, inline: bool, what: str
    ) -> None:
        stopping = None if inline else (self._stopping or sub.stopping)
        if not is_handler_failure(exc, stopping=stopping):
            raise exc
        logger.error("%s failed: %r", what, exc, exc_info=exc)

    # ------------------------------------------------------------------ waiting

    def wait_for(
        self,
        target: _Target,
        predicate: Callable[[Any], bool] | None = None,
        *,
        timeout: float | None = None,
    ) -> Coroutine[Any, Any, Any]:
        """Return an awaitable of the next event matching *target* and *predicate*.

        The subscription is made when ``wait_for`` is called, so an event
        published between the call and the ``await`` is not missed::

            waiter = events.wait_for("orders.paid", lambda o: o["id"] == 7, timeout=5)
            await events.publish("orders.paid", {"id": 7})
            order = await waiter

        Raises:
            OperationTimeoutError: Nothing matched within *timeout* seconds
                (measured on the manager's clock).
            ClosedError: The manager stopped while waiting.
            InvalidArgumentError: *timeout* or *predicate* is not valid.
        """
        if timeout is not None:
            _check_seconds("timeout", timeout, code="pepperpy.event.timeout")
        if predicate is not None and not callable(predicate):
            raise InvalidArgumentError(
                f"predicate must be a callable or None, got {_safe_repr(predicate)}",
                code="pepperpy.event.predicate",
                hint="Pass a function taking the event and returning a bool.",
            )
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()

        def check(event: Any) -> None:
            if future.done():
                return
            if predicate is None or predicate(event):
                future.set_result(event)
                sub.unsubscribe()

        sub = self.subscribe(target, check, priority=2**31, name=f"wait_for({target!r})")
        self._waiters.add(future)
        return self._wait(future, sub, target, timeout)

    async def _wait(
        self,
        future: asyncio.Future[Any],
        sub: Subscription,
        target: _Target,
        timeout: float | None,
    ) -> Any:
        try:
            if timeout is None:
                return await future
            sleeper = asyncio.ensure_future(self.clock.sleep(timeout))
            try:
                await asyncio.wait((future, sleeper), return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
            if not future.done():
                raise OperationTimeoutError(
                    f"no event matching {target!r} within {timeout}s",
                    code="pepperpy.event.wait_timeout",
                    context={"target": _safe_repr(target), "timeout": timeout},
                    hint="Check that the event is published, or wait longer.",
                )
            return future.result()
        finally:
            sub.unsubscribe()
            self._waiters.discard(future)
            if not future.done():
                future.cancel()

    async def drain(self, timeout: float | None = None) -> None:
        """Wait until every queued event is handled and every concurrent handler ended.

        Events published by handlers while draining are waited for too.

        Raises:
            OperationTimeoutError: Work was still pending after *timeout* seconds.
            InvalidArgumentError: *timeout* is not a number of seconds >= 0.
        """
        if timeout is not None:
            _check_seconds("timeout", timeout, code="pepperpy.event.timeout")
            await self._drain(timeout)
            return
        while True:
            waiting = self._unsettled()
            if waiting is None:
                return
            await waiting

    def _unsettled(self) -> Awaitable[Any] | None:
        """What to wait for next, or ``None`` once nothing is pending.

        Pending are the queued events not yet handled (in the queues of
        subscriptions being retired too: their retiring task waits for them
        anyway) and every task but the caller's.
        """
        if self._tasks:
            current = asyncio.current_task()
            tasks = [t for t in self._tasks if t is not current and not t.done()]
            if tasks:
                return self._wait_all(tasks)
        queued = self._queued
        return queued.waiter() if queued.count else None

    async def _wait_all(self, tasks: list[asyncio.Task[Any]]) -> None:
        """Wait for *tasks* and for the queues to empty."""
        queued = self._queued
        idle = queued.waiter() if queued.count else None
        try:
            # asyncio.wait, not gather: a drain() timing out must not
            # cancel the handlers it was waiting for.
            await asyncio.wait(tasks if idle is None else [*tasks, idle])
        finally:
            if idle is not None:
                idle.cancel()

    async def _drain(self, timeout: float) -> None:
        work = asyncio.ensure_future(self.drain())
        sleeper = asyncio.ensure_future(self.clock.sleep(timeout))
        try:
            await asyncio.wait((work, sleeper), return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            if not work.done():
                work.cancel()
                await asyncio.gather(work, return_exceptions=True)
                raise OperationTimeoutError(
                    f"events still pending after {timeout}s",
                    code="pepperpy.event.drain_timeout",
                    context={"timeout": timeout, "pending": self.pending},
                    hint="Give drain() more time, or look for a handler that never returns.",
                )
            await asyncio.gather(sleeper, return_exceptions=True)

    # ------------------------------------------------------------------ introspection

    @property
    def pending(self) -> int:
        """Events queued or being handled by queued and concurrent subscriptions."""
        queued = sum(s.queue.unfinished for s in self._subs if s.queue is not None)
        return queued + sum(1 for t in self._tasks if not t.done())

    @property
    def errors(self) -> list[HandlerError]:
        """Handler errors kept by the ``"collect"`` policy (oldest first)."""
        return list(self._errors)

    def clear_errors(self) -> None:
        """Forget the collected errors."""
        self._errors.clear()

    def stats(self) -> dict[str, TopicStats]:
        """Return a snapshot of the delivery counters of the topics kept.

        At most ``max_topics`` topics are kept, those not published lately
        forgotten first (a topic with deliveries in flight never is);
        :meth:`totals` counts every topic.
        """
        return {topic: attrs.evolve(stats) for topic, stats in self._stats.items()}

    def totals(self) -> TopicStats:
        """Return the counters summed over every topic ever published, forgotten ones included."""
        total = attrs.evolve(self._forgotten)
        for stats in self._stats.values():
            total._add(stats)
        return total

    def __repr__(self) -> str:
        return f"<EventManager {self.state.value} subscriptions={len(self._subs)}>"


class _Dispatch:
    """One event handed to its subscriptions: what their deliveries share and count.

    The envelope and the publisher's context values are made once, for the
    first subscription that needs them; *count* is the number of deliveries
    and *raised* the errors ``publish`` raises once every subscription had
    its turn. *routes* counts deliveries across middleware calls; without it
    (no middleware) :meth:`run` counts an event handed to nobody unrouted.
    """

    __slots__ = (
        "count",
        "envelope",
        "manager",
        "payload",
        "raised",
        "routes",
        "stats",
        "topic",
        "values",
    )

    def __init__(
        self,
        manager: EventManager,
        topic: str,
        payload: Any,
        envelope: Event | None,
        stats: TopicStats,
        routes: list[int] | None,
    ) -> None:
        self.manager = manager
        self.topic = topic
        self.payload = payload
        self.envelope = envelope
        self.stats = stats
        self.routes = routes
        self.values: Mapping[str, Any] | None = None
        self.count = 0
        self.raised: list[BaseException] | None = None

    async def run(self, subs: tuple[Subscription, ...]) -> int:
        """Offer the event to each active subscription, then raise what failed."""
        for sub in subs:
            if sub.active:
                pending = self._offer(sub)
                if pending is not None:  # a handler call or a wait for room
                    self._fail(await pending)
        if not self.count and self.routes is None:
            self.stats.unrouted += 1
        if self.raised:
            first = self.raised[0]
            if isinstance(first, HandlerError):
                first.errors = [e for e in self.raised if isinstance(e, HandlerError)]
            raise first
        return self.count

    def _offer(self, sub: Subscription) -> Awaitable[BaseException | None] | None:
        """Hand the event to *sub*: what is left to await for it, if anything."""
        if sub.filter is not None:
            try:
                if not sub.filter(self.payload):
                    return None
            except BaseException as exc:  # the subscription's code failed
                self._route()
                return self._raised(sub, exc)
        fn = sub._fn if sub._fn is not None else sub.handler
        if fn is None:
            sub.unsubscribe()
            return None
        if sub.once:
            sub.unsubscribe()
        arg = self._envelope() if sub.envelope else self.payload
        self._route()
        delivery = sub.delivery
        if delivery == "inline":
            return self._inline(sub, fn, arg)
        if delivery == "concurrent":
            return self._concurrent(sub, fn, arg)
        return self._queued(sub, arg)

    def _envelope(self) -> Event:
        if self.envelope is None:
            self.envelope = self.manager._envelope(self.topic, self.payload)
        return self.envelope

    def _route(self) -> None:
        self.count += 1
        self.stats.routed += 1
        if self.routes is not None:
            self.routes[0] += 1

    def _fail(self, error: BaseException | None) -> None:
        if error is not None:
            self.raised = self.raised or []
            self.raised.append(error)

    def _raised(self, sub: Subscription, exc: BaseException) -> Awaitable[HandlerError | None]:
        return self.manager._raised(sub, exc, self.topic, self.payload, self.stats, inline=True)

    async def _inline(
        self, sub: Subscription, fn: Callable[[Any], Any], arg: Any
    ) -> HandlerError | None:
        # EventManager._call inlined: this is the hot path.
        try:
            if sub.is_async:
                await fn(arg)
            else:
                result = fn(arg)
                if result is not None and inspect.isawaitable(result):
                    await result
        except BaseException as exc:
            return await self._raised(sub, exc)
        self.stats.delivered += 1
        return None

    async def _concurrent(
        self, sub: Subscription, fn: Callable[[Any], Any], arg: Any
    ) -> BackpressureError | None:
        manager = self.manager
        try:
            await manager._reserve(sub, self.topic, self.stats)
        except BackpressureError as exc:
            return exc
        call = manager._call if HAS_CANCELLING else manager._call_in_child
        task = asyncio.get_running_loop().create_task(
            call(sub, fn, arg, self.topic, self.payload, self.stats, inline=False)
        )
        manager._tasks.add(task)
        task.add_done_callback(functools.partial(manager._concurrent_done, sub, self.stats))
        return None

    def _queued(self, sub: Subscription, arg: Any) -> Awaitable[None] | None:
        if self.values is None:
            self.values = current_context()
        item = (arg, self.topic, self.payload, self.values, self.stats)
        queue = sub.queue
        assert queue is not None
        if queue.offer(item):
            return None
        try:
            return self.manager._queue_full(sub, queue, item, self.stats)
        except BackpressureError as exc:
            self._fail(exc)
            return None


def _order(sub: Subscription) -> tuple[int, int]:
    return (-sub.priority, sub.seq)


def _drop_queued(sub: Subscription) -> int:
    """Discard the events left in a subscription's queue, counting them dropped."""
    queue = sub.queue
    left = 0
    if queue is not None:
        while not queue.empty():
            queue.get_nowait()[4].dropped += 1
            queue.task_done()
            left += 1
    return left


def _check_event(event: object) -> object:
    """Turn a str subclass (a StrEnum member) into its topic; refuse non-events."""
    if isinstance(event, str):
        return str.__str__(event)
    if event is None or isinstance(event, type):
        what = "None" if event is None else f"the class {event.__name__}"
        raise InvalidArgumentError(
            f"publish() takes a topic or an event object, got {what}",
            code="pepperpy.event.event",
            hint="Publish an instance, publish(OrderCreated(1)), or a topic with its "
            "payload, publish('orders.created', data).",
        )
    return event


def _check_flag(name: str, value: object, *, code: str) -> None:
    if not isinstance(value, bool):
        raise InvalidArgumentError(
            f"{name} must be True or False, got {_safe_repr(value)}",
            code=code,
            hint=f"Pass {name}=True or {name}=False.",
        )


def _check_int(name: str, value: object, minimum: int = 1, *, code: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidArgumentError(
            f"{name} must be an integer >= {minimum}, got {_safe_repr(value)}",
            code=code,
            hint=f"Pass {name}={minimum} or more.",
        )
    return value


def _check_seconds(name: str, value: object, *, code: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise InvalidArgumentError(
            f"{name} must be a finite number of seconds >= 0, got {_safe_repr(value)}",
            code=code,
            hint=f"Pass {name}=5 (seconds), or 0 not to wait.",
        )
    return float(value)


def _check_topic(name: str, value: object, *, code: str) -> str:
    try:
        return validate_topic(value)  # type: ignore[arg-type]
    except InvalidArgumentError as exc:
        raise InvalidArgumentError(
            f"{name}: {exc.message}",
            code=code,
            context={name: _safe_repr(value)},
            hint=exc.hint,
        ) from None


def _check_clock(clock: object) -> Clock:
    if not (callable(getattr(clock, "time", None)) and callable(getattr(clock, "sleep", None))):
        raise InvalidArgumentError(
            f"clock must have time() and async sleep(), got {_safe_repr(clock)}",
            code="pepperpy.event.clock",
            hint="Pass pepperpy.core.system_clock (the default) or a ManualClock in tests.",
        )
    return clock  # type: ignore[return-value]


def _check_policy(policy: object) -> None:
    if policy in _POLICIES or (callable(policy) and not isinstance(policy, str)):
        return
    raise InvalidArgumentError(
        f"on_error must be one of {', '.join(_POLICIES)} or a callable, got {_safe_repr(policy)}",
        code="pepperpy.event.on_error",
        hint="Use 'log', 'collect', 'raise', 'dead_letter' or a function taking a HandlerError.",
    )
