"""PepperPy state: observable typed state, crash-safe persistence, typed state machines.

* :class:`StateManager` (a core ``Lifecycle``): named slices holding attrs
  instances or JSON-like values; ``get``/``set``/``update``/``select``;
  ordered sync and async observers with isolation; a task-reentrant lock per
  slice, compare-and-set by version and all-or-nothing transactions.
* Persistence through a :class:`StateStore`: a snapshot plus a change log
  where every committed change is one atomic record
  (:class:`StorageStateStore` on pepperpy-storage, :class:`MemoryStateStore`).
* :class:`RedisLock` (``pepperpy-state[redis]``): a distributed lock with a
  lease and fencing tokens; :class:`Fence` refuses writes from stale holders.
* :class:`Machine`: declarative typed state machines over an ``Enum``, with
  guards, async actions, sequential enter/exit hooks, history,
  ``snapshot()``/``restore()`` without hooks and Mermaid export.
"""

from __future__ import annotations

from pepperpy.state._errors import (
    ERRORS,
    ConcurrentWriterError,
    GuardRejectedError,
    SliceNotFoundError,
    StatePersistenceError,
    TransitionNotAllowedError,
    VersionConflictError,
)
from pepperpy.state._lock import TaskLock
from pepperpy.state._machine import (
    ANY,
    HistoryEntry,
    Machine,
    MachineSnapshot,
    Transition,
    TransitionEvent,
    Trigger,
    on_enter,
    on_exit,
)
from pepperpy.state._manager import (
    Change,
    ObserverError,
    Slice,
    StateManager,
    Subscription,
    Transaction,
    Watch,
)
from pepperpy.state._redis_lock import (
    Fence,
    LockLostError,
    LockUnavailableError,
    RedisLock,
    StaleTokenError,
)
from pepperpy.state._store import (
    ChangeRecord,
    MemoryStateStore,
    SliceRecord,
    StateSnapshot,
    StateStore,
    StorageStateStore,
)
from pepperpy.state._version import __version__

__all__ = [
    "ANY",
    "ERRORS",
    "ConcurrentWriterError",
    "Change",
    "ChangeRecord",
    "Fence",
    "GuardRejectedError",
    "HistoryEntry",
    "LockLostError",
    "LockUnavailableError",
    "Machine",
    "MachineSnapshot",
    "MemoryStateStore",
    "ObserverError",
    "RedisLock",
    "Slice",
    "SliceNotFoundError",
    "SliceRecord",
    "StaleTokenError",
    "StateManager",
    "StatePersistenceError",
    "StateSnapshot",
    "StateStore",
    "StorageStateStore",
    "Subscription",
    "TaskLock",
    "Transaction",
    "Transition",
    "TransitionEvent",
    "TransitionNotAllowedError",
    "Trigger",
    "VersionConflictError",
    "Watch",
    "__version__",
    "on_enter",
    "on_exit",
]
