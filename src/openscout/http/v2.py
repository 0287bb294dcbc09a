"""The v2 customer endpoints (spec helpscout-v2-customers.md §2-§6) and the webhooks' admin API
(§7): decode → service → encode,
nothing else (a large body is decoded off the event loop, as v1's: http/body.py). Reads answer
`application/hal+json`; writes answer 201 with `Resource-ID` and `Location` and no body, or
204; errors are vnd.error bodies (http/errors.py picks v2's shape by the path)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from openscout import service
from openscout.contract.v2 import decode, encode, query, wire
from openscout.contract.v2 import webhooks as hooks
from openscout.domain.customers import Collection, Customer
from openscout.domain.errors import BodyTooLarge
from openscout.domain.patch import CustomerEdits
from openscout.http.auth import account_of
from openscout.http.body import decoded, read_body
from openscout.http.errors import UnsupportedMediaType
from openscout.http.responses import JsonResponse, empty
from openscout.http.webhooks import WebhookEvents
from openscout.store.base import Store
from openscout.webhooks import service as webhooks

Endpoint = Callable[[Request], Awaitable[Response]]


T = TypeVar("T")


class V2:
    """The v2 endpoints over one store, as `V1` (http/v1.py) has v1's: each acts for the
    request's account (http/auth.py), refused before anything else is read without a live
    credential; every use case goes through `store.run`; errors are answered by the app's one
    table. `clock` gives an account's time (its own under the control API)."""

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
        routes = [
            Route(wire.CUSTOMERS_PATH, self.list_customers, methods=["GET"]),
            Route(wire.CUSTOMERS_PATH, self.create_customer, methods=["POST"]),
            Route(wire.CUSTOMER_PATH, self.get_customer, methods=["GET"]),
            Route(wire.CUSTOMER_PATH, self.overwrite_customer, methods=["PUT"]),
            Route(wire.CUSTOMER_PATH, self.update_customer, methods=["PATCH"]),
            Route(wire.CUSTOMER_PATH, self.delete_customer, methods=["DELETE"]),
            Route(wire.ADDRESS_PATH, self.get_address, methods=["GET"]),
            Route(wire.ADDRESS_PATH, self.create_address, methods=["POST"]),
            Route(wire.ADDRESS_PATH, self.overwrite_address, methods=["PUT"]),
            Route(wire.ADDRESS_PATH, self.delete_address, methods=["DELETE"]),
            # PATCH as documented, PUT as a client sends it (§8a.16).
            Route(wire.PROPERTIES_PATH, self.update_properties, methods=["PATCH", "PUT"]),
            Route(wire.CUSTOMER_PROPERTIES_PATH, self.list_properties, methods=["GET"]),
            Route(hooks.WEBHOOKS_PATH, self.list_webhooks, methods=["GET"]),
            Route(hooks.WEBHOOKS_PATH, self.create_webhook, methods=["POST"]),
            Route(hooks.WEBHOOK_PATH, self.get_webhook, methods=["GET"]),
            Route(hooks.WEBHOOK_PATH, self.replace_webhook, methods=["PUT"]),
            Route(hooks.WEBHOOK_PATH, self.delete_webhook, methods=["DELETE"]),
        ]
        for collection in Collection:
            routes += [
                Route(
                    wire.entries_path(collection), self.list_entries(collection), methods=["GET"]
                ),
                Route(
                    wire.entries_path(collection), self.create_entry(collection), methods=["POST"]
                ),
                Route(
                    wire.entry_path(collection), self.overwrite_entry(collection), methods=["PUT"]
                ),
                Route(
                    wire.entry_path(collection), self.delete_entry(collection), methods=["DELETE"]
                ),
            ]
        return routes

    # -- customers

    async def list_customers(self, request: Request) -> Response:
        account = account_of(request)
        listing = query.list_customers(request.query_params)
        search = listing.search
        if listing.mailbox_id is not None:
            found = await self.store.run(
                service.list_mailbox_customers, self.store, account, listing.mailbox_id, search.page
            )
        else:  # each item with its entries: a connector reads them from list pages (§8a.6)
            found = await self.store.run(service.list_customers_v2, self.store, account, search)
        page = encode.customers_page(
            found,
            search,
            self._base(request),
            wire.CUSTOMERS_PATH,
            request.query_params.multi_items(),
        )
        return _hal(page)

    async def get_customer(self, request: Request) -> Response:
        account = account_of(request)
        customer = await self._customer(request, account)
        return _hal(encode.customer(customer, self._base(request)))

    async def create_customer(self, request: Request) -> Response:
        account, body = await _written(request)
        patch = await decoded(decode.create_request, body)
        customer = await self.store.run(
            service.create_customer,
            self.store,
            account,
            patch,
            self._now(account),
            events=self.events.of(request),
        )
        assert customer.id is not None
        location = wire.customer_url(self._base(request), customer.id)
        return _created(customer.id, location)

    async def overwrite_customer(self, request: Request) -> Response:
        """PUT: every own field set, one left out cleared; entries untouched (§4, §8a.9)."""
        account, body = await _written(request)
        patch = await decoded(decode.overwrite_request, body)
        await self._write(request, account, service.overwrite_customer, patch)
        return empty(204)

    async def update_customer(self, request: Request) -> Response:
        """PATCH: operations by path, in order, all or none (§4)."""
        account, body = await _written(request)
        await self._edit(request, account, await decoded(decode.patch_request, body))
        return empty(204)

    async def delete_customer(self, request: Request) -> Response:
        """DELETE: gone for good, in v1 too; `?async=true` answers 202 (§4)."""
        account = account_of(request)
        await self.store.run(
            service.delete_customer,
            self.store,
            account,
            _customer_id(request),
            events=self.events.of(request),
        )
        return empty(202 if query.deletes_later(request.query_params) else 204)

    # -- entries (§4: emails, phones, chats, social-profiles, websites)

    def list_entries(self, collection: Collection) -> Endpoint:
        async def list_entries(request: Request) -> Response:
            account = account_of(request)
            customer = await self._customer(request, account)
            return _hal(encode.entries_list(customer, collection, self._base(request)))

        return list_entries

    def create_entry(self, collection: Collection) -> Endpoint:
        async def create_entry(request: Request) -> Response:
            """201 with the new entry's id in `Resource-ID`, the only place clients read it
            (§8a.4)."""
            account, body = await _written(request)
            edits = await decoded(lambda raw: decode.entry_request(collection, raw), body)
            edited = await self._edit(request, account, edits)
            (entry_id,) = edited.added  # the one entry this request added
            assert entry_id is not None
            base = self._base(request)
            location = wire.entry_url(base, _customer_id(request), collection, entry_id)
            return _created(entry_id, location)

        return create_entry

    def overwrite_entry(self, collection: Collection) -> Endpoint:
        async def overwrite_entry(request: Request) -> Response:
            account, body = await _written(request)
            entry_id: int = request.path_params["entry_id"]
            edits = await decoded(lambda raw: decode.entry_request(collection, raw, entry_id), body)
            await self._edit(request, account, edits)
            return empty(204)

        return overwrite_entry

    def delete_entry(self, collection: Collection) -> Endpoint:
        async def delete_entry(request: Request) -> Response:
            account = account_of(request)
            entry_id: int = request.path_params["entry_id"]
            await self._edit(request, account, decode.entry_removal(collection, entry_id))
            return empty(204)

        return delete_entry

    # -- the address (§4: one per customer, no id)

    async def get_address(self, request: Request) -> Response:
        account = account_of(request)
        customer = await self._customer(request, account)
        shown = encode.address_resource(customer, self._base(request))
        if shown is None:  # a customer without an address: nothing at this path
            raise HTTPException(404)
        return _hal(shown)

    async def create_address(self, request: Request) -> Response:
        account, body = await _written(request)
        await self._edit(request, account, await decoded(decode.address_request, body))
        location = wire.address_url(self._base(request), _customer_id(request))
        return empty(201, {"Location": location})

    async def overwrite_address(self, request: Request) -> Response:
        account, body = await _written(request)
        await self._edit(request, account, await decoded(decode.address_request, body))
        return empty(204)

    async def delete_address(self, request: Request) -> Response:
        account = account_of(request)
        await self._edit(request, account, decode.address_removal())
        return empty(204)

    # -- properties (§4 "Update Customer Properties")

    async def update_properties(self, request: Request) -> Response:
        account, body = await _written(request)
        edits = await decoded(decode.properties_request, body)
        await self._write(request, account, service.edit_properties, edits)
        return empty(204)

    async def list_properties(self, request: Request) -> Response:
        account = account_of(request)
        definitions = await self.store.run(service.list_properties, self.store, account)
        return _hal(encode.property_definitions(definitions, self._base(request)))

    # -- webhooks (§7 "Admin API", docs/webhooks.md)

    async def list_webhooks(self, request: Request) -> Response:
        account = account_of(request)
        number = query.list_page(request.query_params)
        listed = await self.store.run(webhooks.list_webhooks, self.store, account)
        found = [item.webhook for item in listed]
        base = self._base(request)
        return _hal(hooks.webhooks_page(found, number, base, request.query_params.multi_items()))

    async def get_webhook(self, request: Request) -> Response:
        account = account_of(request)
        found = await self.store.run(
            webhooks.get_webhook, self.store, account, _webhook_id(request)
        )
        return _hal(hooks.webhook(found, self._base(request)))

    async def create_webhook(self, request: Request) -> Response:
        account, body = await _written(request)
        wanted = await decoded(hooks.webhook_request, body)
        made = await self.store.run(
            webhooks.create_webhook, self.store, account, wanted, self._now(account)
        )
        assert made.id is not None
        return _created(made.id, hooks.webhook_url(self._base(request), made.id))

    async def replace_webhook(self, request: Request) -> Response:
        """PUT: the settings overwritten, and the webhook enabled again (§7)."""
        account, body = await _written(request)
        wanted = await decoded(hooks.webhook_request, body)
        await self.store.run(
            webhooks.replace_webhook, self.store, account, _webhook_id(request), wanted
        )
        return empty(204)

    async def delete_webhook(self, request: Request) -> Response:
        account = account_of(request)
        await self.store.run(webhooks.delete_webhook, self.store, account, _webhook_id(request))
        return empty(204)

    # -- helpers

    async def _customer(self, request: Request, account: int) -> Customer:
        return await self.store.run(
            service.get_customer, self.store, account, _customer_id(request)
        )

    async def _edit(self, request: Request, account: int, edits: CustomerEdits) -> service.Edited:
        """PATCH and every sub-resource write: the edits, in order, all or none."""
        return await self._write(request, account, service.edit_customer, edits)

    async def _write(
        self, request: Request, account: int, use_case: Callable[..., T], change: object
    ) -> T:
        """A write of the request's customer: `use_case(store, account, id, change, now,
        events=...)` at the account's time, recording the request's webhook events."""
        return await self.store.run(
            use_case,
            self.store,
            account,
            _customer_id(request),
            change,
            self._now(account),
            events=self.events.of(request),
        )

    def _base(self, request: Request) -> str:
        """Where links point: `public_url` when set, else the URL the request came to."""
        return self.public_url or str(request.base_url)

    def _now(self, account: int) -> datetime:
        return self.clock(account).replace(microsecond=0)


def _webhook_id(request: Request) -> int:
    webhook_id: int = request.path_params["webhook_id"]
    return webhook_id


def _customer_id(request: Request) -> int:
    customer_id: int = request.path_params["customer_id"]
    return customer_id


async def _written(request: Request) -> tuple[int, bytes]:
    """The request's account and its body: read up to the limit, from a client with a live
    credential, sent as JSON (§8a.8).

    As v1's writes (http/v1.py), the body is read before the credential is judged, so that a
    refused write leaves its connection ready for the next request; a 401 still comes first,
    then a 415, then a 413, then what decoding finds."""
    try:
        body = await read_body(request, wire.MAX_BODY_BYTES)
    except BodyTooLarge:
        account_of(request)
        _check_media_type(request)
        raise
    account = account_of(request)
    _check_media_type(request)
    return account, body


def _check_media_type(request: Request) -> None:
    """A body is JSON: `application/json` or `application/json-patch+json`, any parameters
    (`charset`); one sent without a `Content-Type` is read as JSON too."""
    sent = request.headers.get("content-type", "")
    media_type = sent.partition(";")[0].strip().lower()
    if media_type and media_type not in wire.BODY_MEDIA_TYPES:
        raise UnsupportedMediaType()


def _hal(body: dict[str, Any]) -> Response:
    return JsonResponse(body, media_type=wire.HAL_JSON)


def _created(resource_id: int, location: str) -> Response:
    """201, no body: the new resource's id in `Resource-ID` and its URL in `Location` (§2)."""
    return empty(201, {wire.RESOURCE_ID: str(resource_id), "Location": location})
