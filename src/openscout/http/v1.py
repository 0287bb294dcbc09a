"""The v1 customer endpoints: decode → service → encode, nothing else."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from openscout import service
from openscout.contract.v1 import decode, encode, query, wire
from openscout.contract.v1.fields import Selector
from openscout.domain.customers import Customer
from openscout.domain.errors import BodyTooLarge, Invalid
from openscout.domain.search import Found, Search
from openscout.http.auth import account_of
from openscout.http.body import decoded, read_body
from openscout.http.responses import JsonResponse, empty
from openscout.http.webhooks import WebhookEvents
from openscout.store.base import Store


class V1:
    """The v1 endpoints over one store. Each acts for the request's account (http/auth.py): one
    without a live key is refused before anything else is read. Every use case goes through
    `store.run`, which decides where it runs. Errors are answered by the app's one table
    (http/errors.py). `clock` gives an account's time (its own under the control API); writes
    record their webhook events with `events` (http/webhooks.py)."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[int], datetime],
        *,
        public_url: str | None,
        events: WebhookEvents,
    ) -> None:
        self.store = store
        self.clock = clock
        self.public_url = public_url
        self.events = events

    def routes(self) -> list[Route]:
        return [
            Route(wire.CUSTOMERS_PATH, self.create_customer, methods=["POST"]),
            Route(wire.CUSTOMER_PATH, self.get_customer, methods=["GET"]),
            Route(wire.CUSTOMER_PATH, self.update_customer, methods=["PUT"]),
            Route(wire.CUSTOMERS_PATH, self.list_customers, methods=["GET"]),
            Route(wire.MAILBOX_CUSTOMERS_PATH, self.list_mailbox_customers, methods=["GET"]),
            Route(wire.SEARCH_CUSTOMERS_PATH, self.search_customers, methods=["GET"]),
        ]

    async def create_customer(self, request: Request) -> Response:
        account, write = await _written(request, decode.create_request)
        customer = await self.store.run(
            service.create_customer,
            self.store,
            account,
            write.patch,
            self._now(account),
            events=self.events.of(request),
        )
        assert customer.id is not None
        base = self.public_url or str(request.base_url)
        headers = {"Location": wire.customer_location(base, customer.id)}
        if write.reload:
            return JsonResponse(wire.item(encode.full(customer)), 201, headers)
        return empty(201, headers)

    async def get_customer(self, request: Request) -> Response:
        account = account_of(request)
        customer_id: int = request.path_params["customer_id"]
        selector = query.fields(request.query_params)
        customer = await self.store.run(service.get_customer, self.store, account, customer_id)
        return JsonResponse(wire.item(encode.full(customer), selector))

    async def update_customer(self, request: Request) -> Response:
        account, write = await _written(request, decode.update_request)
        customer_id: int = request.path_params["customer_id"]
        customer = await self.store.run(
            service.update_customer,
            self.store,
            account,
            customer_id,
            write.patch,
            self._now(account),
            events=self.events.of(request),
        )
        if write.reload:  # 201 with the customer, as recorded (spec §9.5)
            return JsonResponse(wire.item(encode.full(customer)), 201)
        return empty(200)

    async def list_customers(self, request: Request) -> Response:
        account = account_of(request)
        search = query.list_search(request.query_params)
        found = await self.store.run(service.list_customers, self.store, account, search)
        return _collection(search, found, encode.list_item, query.fields(request.query_params))

    async def list_mailbox_customers(self, request: Request) -> Response:
        account = account_of(request)
        mailbox_id: int = request.path_params["mailbox_id"]
        try:
            page = query.mailbox_page(request.query_params)
        except Invalid:
            # The mailbox is checked before the page (as a customer's existence is before a
            # body's values: docs/decisions/errors.md).
            await self.store.run(service.list_mailbox_customers, self.store, account, mailbox_id, 1)
            raise
        found = await self.store.run(
            service.list_mailbox_customers, self.store, account, mailbox_id, page
        )
        return _collection(
            Search(page=page, page_size=wire.PAGE_SIZE),
            found,
            encode.list_item,
            query.fields(request.query_params),
        )

    async def search_customers(self, request: Request) -> Response:
        account = account_of(request)
        search = query.search(request.query_params)
        found = await self.store.run(service.search_customers, self.store, account, search)
        return _collection(search, found, encode.search_item, query.fields(request.query_params))

    def _now(self, account: int) -> datetime:
        return self.clock(account).replace(microsecond=0)


async def _written(
    request: Request, decoder: Callable[[bytes, str | None], decode.WriteRequest]
) -> tuple[int, decode.WriteRequest]:
    """The request's account and its body, read (up to v1's 100 kB, spec §2) and decoded.

    The body is read before the credentials are judged, so that a refused write leaves its
    connection ready for the next request instead of closing it over a body nobody read; a 401
    still comes before a 413 or a 400. Problems with the body's values are reported by the
    service, after the customer is found (docs/decisions/errors.md)."""
    try:
        body = await read_body(request, wire.MAX_BODY_BYTES)
    except BodyTooLarge:
        account_of(request)
        raise
    account = account_of(request)
    return account, await decoded(decoder, body, request.query_params.get("reload"))


def _collection(
    search: Search,
    found: Found,
    shape: Callable[[Customer], dict[str, Any]],
    selector: Selector | None,
) -> Response:
    """The collection envelope (§5): `page` echoes the page asked for, even past the end."""
    items = [shape(customer) for customer in found.customers]
    return JsonResponse(
        wire.collection(search.page, found.pages(search.page_size), found.count, items, selector)
    )
