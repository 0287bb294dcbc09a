"""What a webhook delivery looks like on the wire (spec helpscout-v2-customers.md §7): its
headers, and the bodies that are not a customer object (a deleted customer's, a notification's;
docs/decisions/webhook-bodies.md). The customer object is `encode.customer`'s.
"""

from __future__ import annotations

from typing import Any, Final

from openscout.contract.v2 import wire

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
