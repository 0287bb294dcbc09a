"""What a webhook delivery looks like on the wire (spec helpscout-v2-customers.md §7): its
headers, and the bodies that are not a customer object (a deleted customer's, a notification's;
docs/decisions/webhook-bodies.md). The customer object is `encode.customer`'s. And the admin API
(`/v2/webhooks`): how a webhook is written to it and how it shows one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from openscout.contract.v1.decode import parse_json
from openscout.contract.v2 import wire
from openscout.domain.errors import Invalid, Malformed, Problem, Reason
from openscout.domain.webhooks import Webhook, new_webhook

#: The event's name (§7).
EVENT_HEADER: Final = "X-HelpScout-Event"
#: Base64 of the HMAC-SHA1 of the raw body, keyed with the webhook's secret (§7).
SIGNATURE_HEADER: Final = "X-HelpScout-Signature"
#: openscout's own: the same on every attempt of one event for one webhook, so that a receiver
#: can drop the duplicates that at-least-once delivery brings (docs/webhooks.md).
EVENT_ID_HEADER: Final = "X-OpenScout-Event-Id"
#: Every body is JSON (§7).
CONTENT_TYPE: Final = "application/json"


def deleted(customer_id: int) -> dict[str, Any]:
    """`customer.deleted`: `{"id": N}` (§7)."""
    return {"id": customer_id}


def notification(base_url: str, customer_id: int) -> dict[str, Any]:
    """Any event of a notification webhook: the customer's URI, as a HAL link, with its id
    (docs/decisions/webhook-bodies.md)."""
    return {
        "id": customer_id,
        "_links": {"self": wire.link(wire.customer_url(base_url, customer_id))},
    }


# --- the admin API (§7 "Admin API", docs/webhooks.md) -----------------------------------------

WEBHOOKS_PATH: Final = "/v2/webhooks"
WEBHOOK_PATH: Final = "/v2/webhooks/{webhook_id:id}"
#: `_embedded` name of `GET /v2/webhooks`.
EMBEDDED_WEBHOOKS: Final = "webhooks"
#: Wire names of the fields `new_webhook` reports problems by.
_WIRE_NAMES: Final[Mapping[str, str]] = {
    "payload_version": "payloadVersion",
    "mailbox_ids": "mailboxIds",
}


def webhook_url(base_url: str, webhook_id: int) -> str:
    return f"{base_url.rstrip('/')}{WEBHOOKS_PATH}/{webhook_id}"


def webhook_request(body: bytes) -> Webhook:
    """The body of `POST /v2/webhooks` and `PUT /v2/webhooks/{id}`: a JSON object."""
    document = parse_json(body)
    if not isinstance(document, dict):
        raise Malformed("the body is not a JSON object")
    return read_webhook(document)


def read_webhook(body: Mapping[str, Any]) -> Webhook:
    """A webhook as Help Scout's "Create Webhook" takes it (`url`, `secret`, `events`,
    `notification`, `label`, `payloadVersion`, `mailboxIds`), checked as it checks it
    (`new_webhook`): `Invalid` lists every problem at once, by wire name."""
    problems: list[Problem] = []
    refused: set[str] = set()

    def problem(name: str, value: object) -> None:
        problems.append(Problem((name,), value, Reason.INVALID))
        refused.add(name)

    strings: dict[str, str | None] = {}
    for name in ("url", "secret", "label", "payloadVersion"):
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            problem(name, value)
            value = None
        strings[name] = value
    events = body.get("events")
    if events is not None and (
        not isinstance(events, list) or not all(isinstance(event, str) for event in events)
    ):
        problem("events", events)
        events = []
    mailboxes = body.get("mailboxIds")
    if mailboxes is None:
        mailboxes = []
    elif not isinstance(mailboxes, list) or not all(_is_id(item) for item in mailboxes):
        problem("mailboxIds", mailboxes)
        mailboxes = []
    notification = body.get("notification")
    if notification is None:
        notification = False
    elif not isinstance(notification, bool):
        problem("notification", notification)
        notification = False
    try:
        made = new_webhook(
            strings["url"],
            strings["secret"],
            events,
            notification=notification,
            label=strings["label"],
            payload_version=strings["payloadVersion"],
            mailbox_ids=mailboxes,
        )
    except Invalid as error:
        for found in error.problems:
            name = _WIRE_NAMES.get(found.path[0], found.path[0])
            if name not in refused:
                problems.append(Problem((name, *found.path[1:]), found.value, found.reason))
    if problems:
        raise Invalid(problems)
    return made


def _is_id(value: object) -> bool:
    """A mailbox id: a whole number from 1 to `wire.MAX_ID`."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= wire.MAX_ID


def fields(webhook: Webhook) -> dict[str, Any]:
    """A webhook's settings as the wire shows them (§7): never its secret."""
    return {
        "id": webhook.id,
        "url": webhook.url,
        "state": webhook.state.value,
        "events": list(webhook.events),
        "notification": webhook.notification,
        "payloadVersion": webhook.payload_version,
        "label": webhook.label,
        "mailboxIds": list(webhook.mailbox_ids),
    }


def webhook(value: Webhook, base_url: str) -> dict[str, Any]:
    """`GET /v2/webhooks/{id}`: the settings and `_links.self`."""
    assert value.id is not None, "only stored webhooks are shown"
    return {**fields(value), "_links": {"self": wire.link(webhook_url(base_url, value.id))}}


def webhooks_page(
    found: Sequence[Webhook], number: int, base_url: str, params: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    """Page `number` (1-based) of `GET /v2/webhooks`, `wire.PAGE_SIZE` a page, shaped as the
    customers' list (§2, §8a.5-7): `_embedded.webhooks` is `[]` on an empty page."""
    size = wire.PAGE_SIZE
    pages = -(-len(found) // size)
    shown = found[(number - 1) * size : number * size]
    return wire.page(
        EMBEDDED_WEBHOOKS,
        [webhook(item, base_url) for item in shown],
        wire.page_links(base_url, WEBHOOKS_PATH, params, number, pages),
        number=number,
        size=size,
        total=len(found),
    )
