"""The v1 customer endpoints: decode → service → encode, nothing else."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import ParamSpec, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from openscout import service
from openscout.contract.v1 import decode, encode, wire
from openscout.domain.errors import DomainError, Malformed
from openscout.http.auth import api_key
from openscout.http.errors import BodyTooLarge, error_response
from openscout.http.responses import JsonResponse, empty
from openscout.store.base import Store

P = ParamSpec("P")
T = TypeVar("T")
Endpoint = Callable[[Request], Awaitable[Response]]


class V1:
    """The v1 endpoints over one store. Store calls run in worker threads."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime],
        *,
        public_url: str | None,
        threads: int,
    ) -> None:
        self.store = store
        self.clock = clock
        self.public_url = public_url
        self.limiter = CapacityLimiter(threads)

    def routes(self) -> list[Route]:
        return [
            Route(wire.CUSTOMERS_PATH, self._v1(self.create_customer), methods=["POST"]),
            Route(wire.CUSTOMER_PATH, self._v1(self.get_customer), methods=["GET"]),
            Route(wire.CUSTOMER_PATH, self._v1(self.update_customer), methods=["PUT"]),
        ]

    async def create_customer(self, request: Request) -> Response:
        key = api_key(request)
        write = await self._decode(request, key, decode.create_request)
        customer = await self.run(
            service.create_customer, self.store, key, write.patch, self._now()
        )
        assert customer.id is not None
        base = self.public_url or str(request.base_url)
        headers = {"Location": wire.customer_location(base, customer.id)}
        if write.reload:
            return JsonResponse(wire.item(encode.full(customer)), 201, headers)
        return empty(201, headers)

    async def get_customer(self, request: Request) -> Response:
        customer_id: int = request.path_params["customer_id"]
        customer = await self.run(service.get_customer, self.store, api_key(request), customer_id)
        return JsonResponse(wire.item(encode.full(customer)))

    async def update_customer(self, request: Request) -> Response:
        customer_id: int = request.path_params["customer_id"]
        key = api_key(request)
        write = await self._decode(request, key, decode.update_request)
        customer = await self.run(
            service.update_customer, self.store, key, customer_id, write.patch, self._now()
        )
        if write.reload:  # 201 with the customer, as recorded (spec §9.5)
            return JsonResponse(wire.item(encode.full(customer)), 201)
        return empty(200)

    # -- plumbing

    def _now(self) -> datetime:
        return self.clock().replace(microsecond=0)

    async def _decode(
        self,
        request: Request,
        key: str | None,
        decoder: Callable[[bytes, str | None], decode.WriteRequest],
    ) -> decode.WriteRequest:
        """Decode the body; a body that cannot be read at all is reported only to a caller with
        a valid key (problems with its values are reported by the service, after the key)."""
        try:
            body = await read_body(request)
            return decoder(body, request.query_params.get("reload"))
        except (Malformed, BodyTooLarge):
            await self.run(service.authenticate, self.store, key)
            raise

    async def run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await anyio.to_thread.run_sync(
            lambda: function(*args, **kwargs), limiter=self.limiter
        )

    @staticmethod
    def _v1(endpoint: Endpoint) -> Endpoint:
        async def handle(request: Request) -> Response:
            try:
                return await endpoint(request)
            except DomainError as error:
                return error_response(error)

        handle.__name__ = endpoint.__name__
        return handle


async def read_body(request: Request) -> bytes:
    """The request body, refused with `BodyTooLarge` past 100 kB before any parsing (spec §2)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > wire.MAX_BODY_BYTES:
        raise BodyTooLarge()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > wire.MAX_BODY_BYTES:
            raise BodyTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)
