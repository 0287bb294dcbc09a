"""Help Scout's rate limits (spec §4): requests per minute per account, and a burst limit on
writes, counted where every process of the server sees the same counts.

Each API request with a live key is counted before it reaches its endpoint, in fixed windows
(a minute, and 5 seconds for the burst) that start on the clock's whole minute and every fifth
second. Over a limit, the answer is 429 with `Retry-After`; every answer to a counted request
carries the `X-RateLimit-*` headers. A request without a live key (no principal: http/auth.py)
is not counted: it cannot be told apart from another account's, and the endpoint answers it 401.

The counters live in the database (one upsert per request, `rate_limits`), or in Redis with
`--redis-url`: keys per account, period and window, INCRBY and EXPIRE in one transaction.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openscout.config import Settings
from openscout.contract.v1 import wire
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
    """Requests per minute per account; writes per burst window (0: no burst limit)."""

    per_minute: int
    burst: int


class Counters(Protocol):
    """Where the counts are kept."""

    def count(self, account_id: int, hits: Sequence[Hit]) -> dict[str, int]:
        """The account's counts after these hits."""

    def close(self) -> None: ...


class DatabaseCounters:
    """Counts in the `rate_limits` table, one transaction per request."""

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

    def __init__(self, redis_url: str, database_url: str) -> None:
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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_api_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        found = principal(scope)
        if found is None:  # not a live key: the endpoint says 401
            await self.app(scope, receive, send)
            return
        now = self.clock().timestamp()
        is_write = scope["method"] in wire.WRITE_METHODS
        hits = [Hit(MINUTE, _window(now, MINUTE))]
        if self.limits.burst:
            # GETs read the burst count without adding to it, for the headers.
            hits.append(Hit(BURST, _window(now, BURST), 1 if is_write else 0))
        try:
            counts = await self.store.run(self.counters.count, found.account_id, hits)
        except Exception as error:  # answered before the app: through the app's one table
            await error_response(error, scope)(scope, receive, send)
            return
        used_minute, used_burst = counts[MINUTE], counts.get(BURST, 0)
        headers = wire.rate_limit_headers(
            self.limits.per_minute, used_minute, self.limits.burst or None, used_burst
        )
        waits = []
        if used_minute > self.limits.per_minute:
            waits.append(_retry_after(now, MINUTE))
        if is_write and self.limits.burst and used_burst > self.limits.burst:
            waits.append(_retry_after(now, BURST))
        if waits:
            refusal = error_response(RateLimited(max(waits)), scope)
            refusal.headers.update(headers)
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, _adding(send, headers))


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
    """The counters the settings ask for: Redis with a `redis_url`, else the database."""
    if settings.redis_url:
        return RedisCounters(settings.redis_url, settings.database_url)
    return DatabaseCounters(store)
