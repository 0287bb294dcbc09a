"""Webhook events, recorded in the transaction of the change that causes them (spec
helpscout-v2-customers.md §7): a change that commits has its events in the outbox, one that
rolls back has none. The service's writes call `Events.record` inside their transaction.

The bodies are the API's own objects, which only the web layer knows how to write: it hands
the writes an `Events` whose `Payloads` render them (http/webhooks.py), so the service never
imports the contract (docs/architecture.md). `NO_EVENTS` records nothing (bulk loads, tests).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from openscout.domain.customers import Customer
from openscout.domain.webhooks import CUSTOMER_DELETED, FIRED_EVENTS
from openscout.store.base import NewDelivery, Transaction


class Payloads(Protocol):
    """The body of each event, as JSON bytes exactly as they will be signed and sent."""

    def customer(self, customer: Customer) -> bytes:
        """`customer.created` and `customer.updated`: the customer as `GET
        /v2/customers/{id}` answers it."""

    def deleted(self, customer_id: int) -> bytes:
        """`customer.deleted`: the id of the customer that was deleted."""

    def notification(self, customer_id: int) -> bytes:
        """Any event, for a notification webhook: the customer's URI alone."""


def _nothing() -> None:
    pass


@dataclass(frozen=True, slots=True)
class Events:
    """What a write needs to record webhook events: `payloads` renders the bodies (None:
    nothing is recorded); `wake` is called once a transaction that recorded some has committed
    (this process's deliverer: from any thread); `clock` gives seconds since the epoch."""

    payloads: Payloads | None
    wake: Callable[[], None] = _nothing
    clock: Callable[[], float] = time.time

    def record(
        self, transaction: Transaction, account_id: int, event: str, customer: Customer | int
    ) -> int:
        """Put `event` of a customer (the customer as written, or the id of a deleted one) in
        the outbox for every enabled webhook of the account that wants it; how many. Nearly
        free for an account without webhooks: one indexed query that finds none. The body is
        rendered once per kind, from the customer as this transaction now reads it."""
        assert event in FIRED_EVENTS, event
        if self.payloads is None:
            return 0
        subscribers = transaction.webhooks_for(account_id, event)
        if not subscribers:
            return 0
        customer_id = customer if isinstance(customer, int) else customer.id
        assert customer_id is not None, "only stored customers have events"
        full: bytes | None = None
        brief: bytes | None = None
        deliveries = []
        for subscriber in subscribers:
            if subscriber.notification:
                brief = brief or self.payloads.notification(customer_id)
                body = brief
            else:
                full = full or self._body(transaction, account_id, event, customer_id)
                body = full
            deliveries.append(
                NewDelivery(str(uuid.uuid4()), subscriber.webhook_id, event, customer_id, body)
            )
        transaction.add_deliveries(deliveries, int(self.clock() * 1000))
        transaction.after_commit(self.wake)
        return len(deliveries)

    def _body(
        self, transaction: Transaction, account_id: int, event: str, customer_id: int
    ) -> bytes:
        assert self.payloads is not None
        if event == CUSTOMER_DELETED:
            return self.payloads.deleted(customer_id)
        # Read back as a GET would read it, in this transaction: exactly what GET answers.
        stored = transaction.get_customer(account_id, customer_id)
        assert stored is not None, "a customer written in this transaction is there"
        return self.payloads.customer(stored)


#: Records nothing: for writes that fire no events (and tests of other things).
NO_EVENTS = Events(None)
