"""create_app(): the ASGI application over a store. Nothing is built at import time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openscout import control
from openscout.config import Settings
from openscout.contract.v2 import oauth
from openscout.contract.v2 import wire as v2_wire
from openscout.domain.errors import StoreUnavailable
from openscout.http import accesslog, deadline, errors, openapi, ratelimit
from openscout.http.accesslog import AccessLog, is_api_path
from openscout.http.auth import ACCESS_TOKEN, API_KEY, Authenticate
from openscout.http.oauth import OAuth
from openscout.http.responses import JsonResponse
from openscout.http.v1 import V1
from openscout.http.v2 import V2
from openscout.http.webhooks import WebhookEvents
from openscout.store.base import Store
from openscout.webhooks import service as webhooks
from openscout.webhooks.delivery import Deliverer, stopped

#: Sent on every response, errors included, as Help Scout did (spec §2).
CORS_HEADERS: list[tuple[bytes, bytes]] = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-credentials", b"true"),
    (b"access-control-allow-methods", b"GET, POST, PUT, DELETE"),
    (
        b"access-control-allow-headers",
        b"Origin, X-Requested-With, Content-Type, Accept, Authorization",
    ),
]


def create_app(
    settings: Settings,
    store: Store,
    *,
    clock: Callable[[], datetime] | None = None,
    owns_store: bool = False,
) -> ASGIApp:
    """The openscout ASGI app. With `owns_store`, the store is closed when the server stops.

    A request goes through `FixedHeaders` → `AccessLog` (its id) → `BodyDeadline` (its body's
    deadline) → `Authenticate` (its principal) → the control API's journal → `RateLimits` →
    the routes; every error, wherever it is raised, is answered through the one table of
    http/errors.py. Unless `settings.webhook_delivery` is off, the app delivers webhooks while
    it runs (its lifespan runs a `Deliverer`, which its writes wake)."""
    server_clock = clock or (lambda: datetime.now(UTC))
    # The control API (docs/testing.md) gives each account a clock of its own.
    controls = control.ControlState(server_clock) if settings.control_api else None
    account_clock = controls.time_of if controls else (lambda _account: server_clock())
    deliverer = Deliverer.from_settings(settings, store) if settings.webhook_delivery else None
    events = WebhookEvents(settings.public_url, deliverer.wake if deliverer else _nothing)
    v1 = V1(store, account_clock, public_url=settings.public_url, events=events)
    v2 = V2(store, account_clock, public_url=settings.public_url, events=events)
    # Tokens are issued and expire by the server's clock: an account's own clock (the control
    # API's) is known only once its token has been looked up.
    oauth_endpoints = OAuth(store, server_clock, token_lifetime=settings.token_lifetime)
    counters = ratelimit.counters(settings, store) if settings.rate_limited else None

    async def healthz(_request: Request) -> Response:
        try:
            await store.run(store.ping)
            backlog = await store.run(webhooks.webhook_backlog, store)
        except StoreUnavailable:
            return JsonResponse({"status": "unavailable", "database": "unreachable"}, 503)
        return JsonResponse({"status": "ok", "database": "ok", "webhooks": {"backlog": backlog}})

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        delivering = asyncio.create_task(deliverer.run()) if deliverer else None
        yield
        if deliverer is not None and delivering is not None:
            await stopped(deliverer, delivering)
        accesslog.flush()
        if counters is not None:
            counters.close()
        if owns_store:
            store.close()

    app = Starlette(
        lifespan=lifespan,
        routes=[
            *v1.routes(),
            *v2.routes(),
            *oauth_endpoints.routes(),
            Route("/healthz", healthz, methods=["GET"]),
            *openapi.routes(),
            *(control.control_routes(controls, store) if controls else []),
        ],
        exception_handlers=dict(errors.HANDLERS),
    )
    # v1 and v2 answer every path they do not serve with a 404 (v1 spec §7), trailing slash or
    # not; a redirect would also point at the socket's own URL, not at `public_url`.
    app.router.redirect_slashes = False
    served: ASGIApp = app
    if counters is not None:
        limits = ratelimit.Limits(settings.rate_limit, settings.burst_limit)
        served = ratelimit.RateLimits(served, counters, limits, server_clock, store)
    if controls is not None:  # outside the rate limits: the journal sees their 429s too
        served = control.Journal(served, controls)
    served = Authenticate(served, store, accepted_credentials, server_clock)
    served = deadline.BodyDeadline(served, settings.body_timeout)
    return FixedHeaders(AccessLog(served, logs=settings.access_log), CORS_HEADERS)


_NONE: frozenset[str] = frozenset()
_KEYS = frozenset({API_KEY})
_TOKENS = frozenset({ACCESS_TOKEN})


def accepted_credentials(path: str) -> frozenset[str]:
    """The kinds of credential a path takes, for every family of paths in one place: v1's API
    takes API keys only (v1 spec §3), v2's (`/v2/`, `/v3/`) access tokens only (v2 spec §1);
    the control API either, so that a v2 client's tests can steer their account with the token
    they hold. The OAuth endpoints read their own credentials, and other paths (the OpenAPI
    documents among them) none."""
    if oauth.is_oauth_path(path):
        return _NONE
    if is_api_path(path):
        return _TOKENS if v2_wire.is_v2_path(path) else _KEYS
    if control.is_control_path(path):
        return _KEYS | _TOKENS
    return _NONE


def _nothing() -> None:
    pass


def _is_guarded(path: str) -> bool:
    """Paths whose requests act for an account: the v1 API's, and the control API's."""
    return is_api_path(path) or control.is_control_path(path)


class FixedHeaders:
    """ASGI middleware that adds fixed headers to every HTTP response."""

    def __init__(self, app: ASGIApp, headers: list[tuple[bytes, bytes]]) -> None:
        self.app = app
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)
