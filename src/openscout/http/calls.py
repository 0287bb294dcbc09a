"""Where the endpoints' store calls run: on the event loop itself when the store allows it,
otherwise (and whenever an inline call would have to wait) in a worker thread.

An embedded SQLite database answers a customer's read or update in tens of microseconds, far
less than handing the call to a thread and back; and with many threads taking turns at the
interpreter lock, that hand-off cost several times the call itself (docs/performance.md). So
bounded calls (one customer, one key) run inline on SQLite. Whatever could wait runs in a
thread: a write while another process holds SQLite's write lock (the inline attempt gives up at
once, having changed nothing, and the call starts again in a thread, which waits), PostgreSQL's
network round trips, and lists and searches, whose cost grows with what they match.

The writes of one process take turns on the event loop (`write`): while one waits in a thread
for another process's lock, the next ones wait for their turn without holding a thread, and run
inline again as soon as the lock is free.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

import anyio
import anyio.to_thread
from anyio import CapacityLimiter

from openscout.store.base import Store, StoreBusy

P = ParamSpec("P")
T = TypeVar("T")


class StoreCalls:
    """Runs store calls for one app: `run` for bounded reads, `write` for bounded writes (the
    same, one at a time), `in_thread` for the rest."""

    def __init__(self, store: Store, threads: int) -> None:
        self.store = store
        self.limiter = CapacityLimiter(threads)
        self._turn: anyio.Lock | None = None

    async def run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """A bounded read: inline when the store allows it and nothing has to wait."""
        if self.store.inline:
            try:
                return self.store.call_inline(function, *args, **kwargs)
            except StoreBusy:
                pass  # rolled back, nothing written: wait for the lock in a thread instead
        return await self.in_thread(function, *args, **kwargs)

    async def write(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """A bounded write: inline in its turn, or in a thread when the database is locked."""
        if not self.store.inline:
            return await self.in_thread(function, *args, **kwargs)
        if self._turn is None:
            self._turn = anyio.Lock()
        async with self._turn:
            return await self.run(function, *args, **kwargs)

    async def in_thread(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await anyio.to_thread.run_sync(
            lambda: function(*args, **kwargs), limiter=self.limiter
        )
