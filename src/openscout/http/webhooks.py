"""The webhook events of the web layer's writes: bodies rendered as the v2 API writes its
objects (contract/v2), with the links of the URL the request came to (or `--public-url`), as
the `Location` headers are (webhooks/events.py has the rest)."""

from __future__ import annotations

from collections.abc import Callable

import msgspec
from starlette.requests import Request

from openscout.contract.v2 import encode
from openscout.contract.v2 import webhooks as wire
from openscout.domain.customers import Customer
from openscout.webhooks.events import Events

#: The encoder of the API's own JSON answers (http/responses.py): the same bytes a GET sends.
_encoder = msgspec.json.Encoder()


class V2Payloads:
    """The bodies of the events (`webhooks.events.Payloads`) with links under `base_url`."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def customer(self, customer: Customer) -> bytes:
        return _encoder.encode(encode.customer(customer, self.base_url))

    def deleted(self, customer_id: int) -> bytes:
        return _encoder.encode(wire.deleted(customer_id))

    def notification(self, customer_id: int) -> bytes:
        return _encoder.encode(wire.notification(self.base_url, customer_id))


class WebhookEvents:
    """The `Events` a request's writes record with (docs/webhooks.md): `wake` is this
    process's deliverer's."""

    def __init__(self, public_url: str | None, wake: Callable[[], None]) -> None:
        self.public_url = public_url
        self.wake = wake

    def of(self, request: Request) -> Events:
        base = self.public_url or str(request.base_url)
        return Events(V2Payloads(base), self.wake)
