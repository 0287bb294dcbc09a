"""create_app(): the ASGI application over a store. Nothing is built at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openscout.config import Settings
from openscout.domain.errors import StoreUnavailable
from openscout.http import errors
from openscout.http.responses import JsonResponse
from openscout.http.v1 import V1
from openscout.store.base import Store

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
    """The openscout ASGI app. With `owns_store`, the store is closed when the server stops."""
    v1 = V1(
        store,
        clock or (lambda: datetime.now(UTC)),
        public_url=settings.public_url,
        threads=settings.pool_size,
    )

    async def healthz(_request: Request) -> Response:
        try:
            await v1.run(store.ping)
        except StoreUnavailable:
            return JsonResponse({"status": "unavailable", "database": "unreachable"}, 503)
        return JsonResponse({"status": "ok", "database": "ok"})

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        if owns_store:
            store.close()

    app = Starlette(
        lifespan=lifespan,
        routes=[*v1.routes(), Route("/healthz", healthz, methods=["GET"])],
        exception_handlers={
            HTTPException: errors.http_exception,
            Exception: lambda _request, exc: errors.server_error(exc),
        },
    )
    return _with_headers(app, CORS_HEADERS)


def _with_headers(app: ASGIApp, headers: list[tuple[bytes, bytes]]) -> ASGIApp:
    """Add fixed headers to every HTTP response."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        await app(scope, receive, send_with_headers)

    return wrapped
