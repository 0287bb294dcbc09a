"""Help Scout's rate limits (spec §4), when they are asked for (`--rate-limit`, `--burst-limit`,
`--helpscout-limits`; off by default): requests per minute per account, and writes per 5 seconds.

Each API request is counted before it reaches its endpoint, in fixed windows (a minute, and 5
seconds for the burst) that start on the clock's whole minute and every fifth second. Over a
limit, the answer is 429 with `Retry-After`; every answer to a request with a live key (a
principal: http/auth.py) carries its account's `X-RateLimit-*` headers.

A v2 request (v2 spec §6) counts against the same minute as v1's, a write (POST, PUT, PATCH,
DELETE) twice; v2 has no burst limit. Its answers carry v2's two headers
(`X-RateLimit-Limit-Minute`, `X-RateLimit-Remaining-Minute`), and its 429 also
`X-RateLimit-Retry-After` (docs/decisions/v2-rate-limits.md).

A request without a live key (none, an unreadable one, an unknown or a revoked one) is counted
too, against the same limits, by the address it came from, in the memory of the process that
serves it: trying keys is no way around the limits. It has no account, so its answers (401, or
429 past a limit) carry no `X-RateLimit-*` headers.

An account's counts are kept where every process that serves the database sees them (`counters`):
in the process's own memory when it is the only one (one worker on SQLite), otherwise in the
database (one upsert per request, `rate_limits`), or in Redis with `--redis-url` (keys per
account, period and window, INCRBY and EXPIRE in one transaction).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openscout import extras
from openscout.config import Settings
from openscout.contract.v1 import wire
from openscout.contract.v2 import wire as v2_wire
from openscout.domain.errors import RateLimited, StoreUnavailable
from openscout.http.accesslog import is_api_path
from openscout.http.auth import principal
from openscout.http.errors import error_response
from openscout.store.base import Hit, Store, unbounded
from openscout.store.engine import safe_url

MINUTE = "minute"
BURST = "burst"
_SECONDS = {MINUTE: wire.MINUTE_SECONDS, BURST: wire.BURST_SECONDS}


@dataclass(frozen=True, slots=True)
class Limits:
    """Requests per minute per account; writes per burst window. 0: no such limit."""

    per_minute: int
    burst: int


#: How many addresses the counts of requests without a live key hold per window; past it, the
#: requests of new addresses share one count (memory stays bounded whatever the addresses).
MAX_ADDRESSES = 100_000
#: The count that the requests of addresses past `MAX_ADDRESSES` share.
_OTHER_ADDRESSES = "other addresses"


class Counters(Protocol):
    """Where an account's counts are kept."""

    #: True when `count` keeps the counts in this process's memory: it never waits, and is
    #: called on the event loop. Otherwise it is a call of the store's (`store.run`).
    in_memory: bool

    def count(self, account_id: int, hits: Sequence[Hit]) -> dict[str, int]:
        """The account's counts (per period) after these hits."""

    def close(self) -> None: ...


class MemoryCounters:
    """Counts in this process's memory, for any kind of key (an account id, an address), as the
    database keeps them: per key and period, the count of one window. A hit of a later window
    starts a new count; one of an earlier window (a request that read the clock before it
    turned) adds to the current one. When a period's newest window moves on, the counts of
    the windows before the last are dropped: memory holds the keys of two windows at most.

    Runs on the event loop, between two awaits: nothing else changes the counts meanwhile."""

    in_memory = True

    def __init__(self, max_keys: int | None = None) -> None:
        #: Keys per period; past it, new keys share one count. None: no bound (accounts, which
        #: are as many as the database holds).
        self.max_keys = max_keys
        #: Per period: the newest window's start, and each key's window start and count.
        self.periods: dict[str, tuple[int, dict[Hashable, tuple[int, int]]]] = {}

    def count(self, key: Hashable, hits: Sequence[Hit]) -> dict[str, int]:
        counts = {}
        for hit in hits:
            newest, by_key = self.periods.get(hit.period, (hit.start, {}))
            if hit.start > newest:
                oldest = hit.start - _SECONDS[hit.period]
                by_key = {k: entry for k, entry in by_key.items() if entry[0] >= oldest}
                newest = hit.start
            self.periods[hit.period] = (newest, by_key)
            counted = key
            if self.max_keys is not None and key not in by_key and len(by_key) >= self.max_keys:
                counted = _OTHER_ADDRESSES
            start, used = by_key.get(counted, (hit.start, 0))
            if hit.start > start:
                start, used = hit.start, 0
            by_key[counted] = (start, used + hit.weight)
            counts[hit.period] = used + hit.weight
        return counts

    def close(self) -> None:
        self.periods.clear()


class DatabaseCounters:
    """Counts in the `rate_limits` table: one upsert per request, in a transaction of its own."""

    in_memory = False

    def __init__(self, store: Store) -> None:
        self.store = store

    def count(self, account_id: int, hits: Sequence[Hit]) -> dict[str, int]:
        with self.store.writing() as transaction:
            return transaction.count_hits(account_id, hits)

    def close(self) -> None:
        pass


class RedisCounters:
    """Counts in Redis. Keys are named for the database (its URL without the password), so
    that servers on one database share counts and servers on two never mix their accounts."""

    in_memory = False

    def __init__(self, redis_url: str, database_url: str) -> None:
        extras.require("redis")
        import redis

        self.errors: tuple[type[Exception], ...] = (redis.RedisError,)
        self.client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        database = safe_url(database_url)
        self.prefix = "openscout:" + hashlib.sha256(database.encode()).hexdigest()[:16]

    @unbounded  # waits on Redis
    def count(self, account_id: int, hits: Sequence[Hit]) -> dict[str, int]:
        pipeline = self.client.pipeline(transaction=True)
        for hit in hits:
            name = f"{self.prefix}:ratelimit:{account_id}:{hit.period}:{hit.start}"
            pipeline.incrby(name, hit.weight)
            pipeline.expire(name, 2 * _SECONDS[hit.period])  # gone once its window is over
        try:
            results = pipeline.execute()
        except self.errors as error:
            raise StoreUnavailable(f"Redis: {error}") from error
        return {hit.period: int(results[2 * n]) for n, hit in enumerate(hits)}

    def close(self) -> None:
        self.client.close()


class RateLimits:
    """ASGI middleware that counts API requests and refuses those over a limit."""

    def __init__(
        self,
        app: ASGIApp,
        counters: Counters,
        limits: Limits,
        clock: Callable[[], datetime],
        store: Store,
    ) -> None:
        self.app = app
        self.counters = counters
        self.limits = limits
        self.clock = clock
        self.store = store
        #: The counts of requests without a live key, by address: in this process.
        self.strangers = MemoryCounters(max_keys=MAX_ADDRESSES)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_api_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        now = self.clock().timestamp()
        is_v2 = v2_wire.is_v2_path(scope["path"])
        is_write = scope["method"] in (v2_wire.WRITE_METHODS if is_v2 else wire.WRITE_METHODS)
        hits = []
        if self.limits.per_minute:
            weight = v2_wire.WRITE_WEIGHT if is_v2 and is_write else 1
            hits.append(Hit(MINUTE, _window(now, MINUTE), weight))
        if self.limits.burst and not is_v2:
            # GETs read the burst count without adding to it, for the headers.
            hits.append(Hit(BURST, _window(now, BURST), 1 if is_write else 0))
        if not hits:  # v2 with a burst limit only: nothing of v2's to count
            await self.app(scope, receive, send)
            return
        found = principal(scope)
        try:
            if found is None:  # counted by address; the endpoint says 401
                counts = self.strangers.count(_address(scope), hits)
            elif self.counters.in_memory:  # not a store call: at once, on the event loop
                counts = self.counters.count(found.account_id, hits)
            else:
                counts = await self.store.run(self.counters.count, found.account_id, hits)
        except Exception as error:  # answered before the app: through the app's one table
            await error_response(error, scope)(scope, receive, send)
            return
        headers: dict[str, str] = {}
        if found is not None and is_v2:
            headers = v2_wire.rate_limit_headers(self.limits.per_minute, counts[MINUTE])
        elif found is not None:
            headers = wire.rate_limit_headers(
                self.limits.per_minute or None,
                counts.get(MINUTE, 0),
                self.limits.burst or None,
                counts.get(BURST, 0),
            )
        waits = []
        if self.limits.per_minute and counts[MINUTE] > self.limits.per_minute:
            waits.append(_retry_after(now, MINUTE))
        if is_write and self.limits.burst and not is_v2 and counts[BURST] > self.limits.burst:
            waits.append(_retry_after(now, BURST))
        if waits:
            refusal = error_response(RateLimited(max(waits)), scope)
            refusal.headers.update(headers)
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, _adding(send, headers) if headers else send)


def _address(scope: Scope) -> str:
    """The address a request came from (the proxy's, behind one: all its clients share it)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _window(now: float, period: str) -> int:
    """The start of the fixed window `now` falls in."""
    seconds = _SECONDS[period]
    return int(now // seconds) * seconds


def _retry_after(now: float, period: str) -> int:
    """Whole seconds until the window of `now` is over (at least 1)."""
    return max(math.ceil(_window(now, period) + _SECONDS[period] - now), 1)


def _adding(send: Send, headers: dict[str, str]) -> Send:
    encoded = [(name.lower().encode(), value.encode()) for name, value in headers.items()]

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), *encoded]
        await send(message)

    return send_with_headers


def counters(settings: Settings, store: Store) -> Counters:
    """Where an account's counts are kept: in Redis with a `redis_url`; in the process's memory
    when one process serves a SQLite database; else in the database, where every process
    serving it counts together (several workers, or servers on several machines sharing one
    PostgreSQL: docs/deploy.md)."""
    if settings.redis_url:
        return RedisCounters(settings.redis_url, settings.database_url)
    if settings.worker_count() == 1 and settings.database_url.startswith("sqlite"):
        return MemoryCounters()
    return DatabaseCounters(store)
