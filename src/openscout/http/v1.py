"""The v1 customer endpoints: decode → service → encode, nothing else."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from openscout import service
from openscout.contract.v1 import decode, encode, query, wire
from openscout.domain.customers import Customer
from openscout.domain.errors import DomainError, Invalid, Malformed, UnreadableQuery
from openscout.domain.search import Found, Search
from openscout.http.auth import api_key
from openscout.http.errors import BodyTooLarge, error_response
from openscout.http.responses import JsonResponse, empty
from openscout.store.base import Store

T = TypeVar("T")
Endpoint = Callable[[Request], Awaitable[Response]]


class V1:
    """The v1 endpoints over one store (which decides where each call runs: `Store.run`)."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime],
        *,
        public_url: str | None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.public_url = public_url

    def routes(self) -> list[Route]:
        return [
            Route(wire.CUSTOMERS_PATH, self._v1(self.create_customer), methods=["POST"]),
            Route(wire.CUSTOMER_PATH, self._v1(self.get_customer), methods=["GET"]),
            Route(wire.CUSTOMER_PATH, self._v1(self.update_customer), methods=["PUT"]),
            Route(wire.CUSTOMERS_PATH, self._v1(self.list_customers), methods=["GET"]),
            Route(
                wire.MAILBOX_CUSTOMERS_PATH,
                self._v1(self.list_mailbox_customers),
                methods=["GET"],
            ),
            Route(wire.SEARCH_CUSTOMERS_PATH, self._v1(self.search_customers), methods=["GET"]),
        ]

    async def create_customer(self, request: Request) -> Response:
        key = api_key(request)
        write = await self._decode(request, key, decode.create_request)
        customer = await self.store.run(
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
        customer = await self.store.run(
            service.get_customer, self.store, api_key(request), customer_id
        )
        return JsonResponse(wire.item(encode.full(customer)))

    async def update_customer(self, request: Request) -> Response:
        customer_id: int = request.path_params["customer_id"]
        key = api_key(request)
        write = await self._decode(request, key, decode.update_request)
        customer = await self.store.run(
            service.update_customer, self.store, key, customer_id, write.patch, self._now()
        )
        if write.reload:  # 201 with the customer, as recorded (spec §9.5)
            return JsonResponse(wire.item(encode.full(customer)), 201)
        return empty(200)

    async def list_customers(self, request: Request) -> Response:
        key = api_key(request)
        search = await self._read_query(key, query.list_search, request)
        found = await self.store.run(service.list_customers, self.store, key, search)
        return _collection(search, found, encode.list_item)

    async def list_mailbox_customers(self, request: Request) -> Response:
        mailbox_id: int = request.path_params["mailbox_id"]
        key = api_key(request)
        try:
            page = query.mailbox_page(request.query_params)
        except Invalid:
            # The key, then the mailbox, are checked before the page (as a customer's existence
            # is before a body's values: docs/decisions/errors.md).
            await self.store.run(service.list_mailbox_customers, self.store, key, mailbox_id, 1)
            raise
        found = await self.store.run(
            service.list_mailbox_customers, self.store, key, mailbox_id, page
        )
        return _collection(Search(page=page, page_size=wire.PAGE_SIZE), found, encode.list_item)

    async def search_customers(self, request: Request) -> Response:
        key = api_key(request)
        search = await self._read_query(key, query.search, request)
        found = await self.store.run(service.search_customers, self.store, key, search)
        return _collection(search, found, encode.search_item)

    # -- plumbing

    async def _read_query(
        self, key: str | None, reader: Callable[[Mapping[str, str]], T], request: Request
    ) -> T:
        """Read the query string; its problems are reported only to a caller with a valid key."""
        try:
            return reader(request.query_params)
        except (Invalid, UnreadableQuery):
            await self.store.run(service.authenticate, self.store, key)
            raise

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
            await self.store.run(service.authenticate, self.store, key)
            raise

    @staticmethod
    def _v1(endpoint: Endpoint) -> Endpoint:
        async def handle(request: Request) -> Response:
            try:
                return await endpoint(request)
            except DomainError as error:
                return error_response(error)

        handle.__name__ = endpoint.__name__
        return handle


def _collection(
    search: Search, found: Found, shape: Callable[[Customer], dict[str, Any]]
) -> Response:
    """The collection envelope (§5): `page` echoes the page asked for, even past the end."""
    items = [shape(customer) for customer in found.customers]
    return JsonResponse(
        wire.collection(search.page, found.pages(search.page_size), found.count, items)
    )


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
