"""`AccountWebhooks`: one account's webhooks on an openscout server, delivered to a
`WebhookReceiver` in this process (`helpscout.webhooks`; docs/testing.md).

    hook = helpscout.webhooks.subscribe(["customer.created"])
    httpx.post(helpscout.url("/v1/customers.json"), auth=helpscout.auth, json={...})
    [delivery] = helpscout.deliveries(count=1)
    assert delivery.event == "customer.created"
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from openscout.testing.receiver import PATIENCE, WebhookDelivery, WebhookReceiver

if TYPE_CHECKING:
    from openscout.testing.client import HelpScoutAccount

#: The events openscout fires, which `subscribe` subscribes to unless told otherwise.
CUSTOMER_EVENTS = ("customer.created", "customer.updated", "customer.deleted")


@dataclass(frozen=True, slots=True)
class Subscription:
    """A webhook made by `subscribe`: its id on the server, where it delivers, its secret."""

    id: int
    url: str
    secret: str
    events: tuple[str, ...]
    notification: bool


class AccountWebhooks:
    """The account's webhooks (through the control API) and the receiver they deliver to,
    started on first use and stopped by `close()` (the `helpscout` fixture closes it)."""

    def __init__(self, account: HelpScoutAccount) -> None:
        self.account = account
        self.receiver = WebhookReceiver()
        self._made: list[int] = []

    def subscribe(
        self,
        events: Iterable[str] = CUSTOMER_EVENTS,
        *,
        notification: bool = False,
        label: str | None = None,
        url: str | None = None,
        secret: str | None = None,
    ) -> Subscription:
        """Subscribe the account to `events`, delivered to a new endpoint of the receiver (or
        to `url`, with `secret`). The server checks it as Help Scout would: unknown event
        names, a secret over 40 characters or a URL that is not http(s) raise `ControlError`."""
        if url is None:
            url, secret = self.receiver.endpoint(secret)
        secret = secret or ""
        body = {
            "url": url,
            "secret": secret,
            "events": list(events),
            "notification": notification,
            "label": label,
        }
        made = self.account._call("POST", "/webhooks", json.dumps(body).encode())
        self._made.append(made["id"])
        return Subscription(
            made["id"], made["url"], secret, tuple(made["events"]), made["notification"]
        )

    def all(self) -> list[dict[str, Any]]:
        """The account's webhooks as the server keeps them (`state` says whether enabled)."""
        listed: list[dict[str, Any]] = self.account._call("GET", "/webhooks")["webhooks"]
        return listed

    def get(self, webhook: Subscription | int) -> dict[str, Any]:
        webhook_id = _id(webhook)
        found = [item for item in self.all() if item["id"] == webhook_id]
        if not found:
            raise LookupError(f"no webhook {webhook_id}")
        return found[0]

    def delete(self, webhook: Subscription | int) -> None:
        self.account._call("DELETE", f"/webhooks/{_id(webhook)}")

    def log(self, webhook: Subscription | int) -> list[dict[str, Any]]:
        """The server's delivery log of the webhook: its last 50 events, oldest first, each
        with `state`, `attempts`, `lastStatus`, `nextAttemptAt` and its `tries`."""
        found: list[dict[str, Any]] = self.account._call(
            "GET", f"/webhooks/{_id(webhook)}/deliveries"
        )["deliveries"]
        return found

    def redeliver(self, event_id: str) -> None:
        """Deliver an event again (from the log, or a delivery's `event_id`)."""
        self.account._call("POST", f"/deliveries/{event_id}/redeliver")

    # -- the receiver's side

    def deliveries(
        self, event: str | None = None, *, count: int = 0, timeout: float = PATIENCE
    ) -> list[WebhookDelivery]:
        """What the receiver acknowledged (of `event`); with `count`, once that many have
        arrived (`TimeoutError` after `timeout` seconds)."""
        if count:
            return self.receiver.wait(count, event=event, timeout=timeout)
        return self.receiver.deliveries(event)

    def fail_next(self, n: int = 1, status: int | None = 500, *, delay: float = 0.0) -> None:
        """The receiver answers the next `n` deliveries `status` (None: no answer at all)."""
        self.receiver.fail_next(n, status, delay=delay)

    def delay_next(self, n: int = 1, *, seconds: float) -> None:
        self.receiver.delay_next(n, seconds=seconds)

    def close(self) -> None:
        """Delete the webhooks `subscribe` made (nothing goes on trying to reach a receiver
        that is gone) and stop the receiver."""
        from openscout.testing.client import ControlError

        for webhook_id in self._made:
            with suppress(ControlError, OSError):  # deleted already, or the server is gone
                self.delete(webhook_id)
        self._made.clear()
        self.receiver.stop()


def _id(webhook: Subscription | int) -> int:
    return webhook.id if isinstance(webhook, Subscription) else webhook
