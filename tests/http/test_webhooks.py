"""Webhooks through a real server, on both backends: v1 writes record their events in their own
transaction, and the server's deliverer POSTs them, signed, to a real receiver on loopback,
retrying what fails and disabling a webhook on 410 (docs/webhooks.md)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import msgspec
import pytest

from openscout import __version__, keys, service
from openscout.contract.v1 import decode
from openscout.contract.v2 import encode
from openscout.domain.errors import EmailTaken
from openscout.domain.webhooks import CUSTOMER_UPDATED, State, new_webhook, signature
from openscout.store.engine import SqlStore
from openscout.testing.receiver import WebhookReceiver
from openscout.webhooks import service as webhooks
from openscout.webhooks.events import Events
from tests.conftest import (
    Server,
    new_account,
)

#: Retries come after 0.05 s (then 0.1, 0.2, ...), not minutes.
PATIENCE = 20.0
NOW = datetime(2026, 12, 2, tzinfo=UTC)


def eventually(check: Callable[[], bool], what: str, timeout: float = PATIENCE) -> None:
    """Wait until `check()` holds (the deliverer works beside the test)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.02)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


@dataclass
class Hooked:
    """An account with a webhook to the receiver, and an HTTP client of it."""

    server: Server
    account_id: int
    http: httpx.Client
    receiver: WebhookReceiver
    webhook_id: int
    secret: str

    @property
    def store(self) -> SqlStore:
        return self.server.store

    def subscribe(self, events: list[str], *, notification: bool = False) -> tuple[int, str]:
        url, secret = self.receiver.endpoint()
        wanted = new_webhook(url, secret, events, notification=notification)
        made = webhooks.create_webhook(self.store, self.account_id, wanted, NOW)
        assert made.id is not None
        return made.id, secret

    def create(self, **fields: object) -> int:
        body = {"firstName": "Ann", "lastName": "Lee", **fields}
        response = self.http.post("/v1/customers.json", json=body)
        assert response.status_code == 201, response.text
        return int(response.headers["location"].rsplit("/", 1)[1].removesuffix(".json"))

    def outbox(self, webhook_id: int | None = None) -> list[str]:
        """The events in the outbox for a webhook (the account's first by default)."""
        records = webhooks.webhook_deliveries(
            self.store, self.account_id, webhook_id or self.webhook_id, 1000
        )
        return [record.event for record in records]

    def v2_body(self, customer_id: int) -> bytes:
        """The customer as `GET /v2/customers/{id}` answers it, byte for byte."""
        customer = service.get_customer(self.store, self.account_id, customer_id)
        return msgspec.json.encode(encode.customer(customer, self.server.url + "/"))


@pytest.fixture
def hooked(hooks_server: Server, receiver: WebhookReceiver) -> Iterator[Hooked]:
    account = new_account(hooks_server.store)
    account_id = service.account_for_key(hooks_server.store, keys.hash_key(account.key))
    assert account_id is not None
    with httpx.Client(base_url=hooks_server.url, auth=(account.key, "X"), timeout=10) as http:
        made = Hooked(hooks_server, account_id, http, receiver, 0, "")
        made.webhook_id, made.secret = made.subscribe(
            ["customer.created", "customer.updated", "customer.deleted"]
        )
        yield made


def test_a_v1_create_sends_customer_created_with_the_v2_object_signed(hooked: Hooked) -> None:
    customer_id = hooked.create(
        emails=[{"value": "ann@example.com"}],
        phones=[{"value": "+1 555 0100", "location": "mobile"}],
        address={
            "lines": ["1 Main St"],
            "city": "Boston",
            "state": "MA",
            "postalCode": "02110",
            "country": "US",
        },
    )
    [delivery] = hooked.receiver.wait(1)
    assert delivery.event == "customer.created"
    assert delivery.body == hooked.v2_body(customer_id)
    assert delivery.json["id"] == customer_id
    assert delivery.json["_embedded"]["emails"][0]["value"] == "ann@example.com"
    assert (
        delivery.json["_links"]["self"]["href"] == f"{hooked.server.url}/v2/customers/{customer_id}"
    )
    assert delivery.headers["content-type"] == "application/json"
    assert delivery.headers["x-helpscout-event"] == "customer.created"
    assert delivery.headers["x-helpscout-signature"] == signature(hooked.secret, delivery.body)
    assert delivery.headers["user-agent"] == f"openscout/{__version__}"
    assert uuid.UUID(delivery.event_id or "")
    assert delivery.signature_valid


def test_a_v1_update_sends_customer_updated_with_the_customer_as_it_now_is(
    hooked: Hooked,
) -> None:
    customer_id = hooked.create(emails=[{"value": "ann@example.com"}])
    response = hooked.http.put(
        f"/v1/customers/{customer_id}.json",
        json={"firstName": "Bea", "emails": [{"value": "bea@example.com"}]},
    )
    assert response.status_code == 200
    created, updated = hooked.receiver.wait(2)
    assert (created.event, updated.event) == ("customer.created", "customer.updated")
    assert updated.body == hooked.v2_body(customer_id)
    assert updated.json["firstName"] == "Bea"
    assert [e["value"] for e in updated.json["_embedded"]["emails"]] == [
        "ann@example.com",
        "bea@example.com",
    ]
    assert created.json["firstName"] == "Ann"
    assert created.event_id != updated.event_id


def test_an_update_that_changes_nothing_sends_nothing(hooked: Hooked) -> None:
    customer_id = hooked.create()
    path = f"/v1/customers/{customer_id}.json"
    assert hooked.http.put(path, json={"firstName": "Ann", "lastName": "Lee"}).status_code == 200
    assert hooked.outbox() == ["customer.created"]
    assert hooked.http.put(path, json={"lastName": "Ng"}).status_code == 200
    # One customer's events arrive in order: a no-op's event would come before this one.
    events = [d.event for d in hooked.receiver.wait(2)]
    assert events == ["customer.created", "customer.updated"]
    assert hooked.receiver.deliveries()[-1].json["lastName"] == "Ng"
    assert hooked.outbox() == ["customer.created", "customer.updated"]


def test_a_write_refused_records_no_event(hooked: Hooked) -> None:
    first = hooked.create(emails=[{"value": "taken@example.com"}])
    taken = hooked.http.post(
        "/v1/customers.json",
        json={"firstName": "Bo", "lastName": "Ek", "emails": [{"value": "taken@example.com"}]},
    )
    assert taken.status_code == 409
    invalid = hooked.http.put(f"/v1/customers/{first}.json", json={"firstName": "x" * 41})
    assert invalid.status_code == 400
    assert hooked.outbox() == ["customer.created"]


def test_an_event_recorded_in_a_transaction_that_rolls_back_is_gone_with_it(
    hooked: Hooked,
) -> None:
    customer_id = hooked.create()
    hooked.receiver.wait(1)

    class FailingAfterRecording:
        """Renders the body, then the write fails (as a lost race for an email would)."""

        def customer(self, customer: object) -> bytes:
            raise EmailTaken("late@example.com")

        deleted = notification = customer  # type: ignore[assignment]

    patch = decode.update_request(b'{"firstName": "Cy"}', None).patch
    with pytest.raises(EmailTaken):
        service.update_customer(
            hooked.store,
            hooked.account_id,
            customer_id,
            patch,
            datetime.now(UTC),
            events=Events(FailingAfterRecording()),  # type: ignore[arg-type]
        )
    assert service.get_customer(hooked.store, hooked.account_id, customer_id).first_name == "Ann"
    assert hooked.outbox() == ["customer.created"]


def test_each_webhook_gets_the_events_it_wants_in_its_own_shape(hooked: Hooked) -> None:
    updates, _ = hooked.subscribe([CUSTOMER_UPDATED])
    brief, brief_secret = hooked.subscribe(["customer.created"], notification=True)
    customer_id = hooked.create()
    hooked.http.put(f"/v1/customers/{customer_id}.json", json={"firstName": "Di"})
    arrived = hooked.receiver.wait(4)
    by_endpoint: dict[str, list[str]] = {}
    for delivery in arrived:
        by_endpoint.setdefault(delivery.endpoint, []).append(delivery.event or "")
    assert sorted(by_endpoint.values()) == [
        ["customer.created"],
        ["customer.created", "customer.updated"],
        ["customer.updated"],
    ]
    [note] = [d for d in arrived if d.event == "customer.created" and len(d.body) < 200]
    url = f"{hooked.server.url}/v2/customers/{customer_id}"
    assert note.json == {"id": customer_id, "_links": {"self": {"href": url}}}
    assert note.headers["x-helpscout-signature"] == signature(brief_secret, note.body)
    assert hooked.outbox(updates) == ["customer.updated"]
    assert hooked.outbox(brief) == ["customer.created"]


def test_a_delivery_is_retried_through_three_500s_with_the_same_bytes_and_id(
    hooked: Hooked,
) -> None:
    hooked.receiver.fail_next(3, 500)
    hooked.create()
    [delivery] = hooked.receiver.wait(1)
    tries = hooked.receiver.received()
    assert [t.status for t in tries] == [500, 500, 500, 200]
    assert {t.body for t in tries} == {delivery.body}
    assert {t.event_id for t in tries} == {delivery.event_id}
    assert {t.headers["x-helpscout-signature"] for t in tries} == {
        signature(hooked.secret, delivery.body)
    }

    def logged() -> bool:
        [record] = webhooks.webhook_deliveries(hooked.store, hooked.account_id, hooked.webhook_id)
        return record.state == "delivered"

    eventually(logged, "the delivery logged as delivered")
    [record] = webhooks.webhook_deliveries(hooked.store, hooked.account_id, hooked.webhook_id)
    assert [t.status for t in record.tries] == [500, 500, 500, 200]
    assert record.attempts == 4 and record.event_id == delivery.event_id


def test_a_receiver_down_for_a_while_gets_everything_once_it_is_back(hooked: Hooked) -> None:
    hooked.receiver.stop()
    ids = [hooked.create(emails=[{"value": f"down-{n}@example.com"}]) for n in range(5)]

    def all_failed_twice() -> bool:
        records = webhooks.webhook_deliveries(hooked.store, hooked.account_id, hooked.webhook_id)
        return len(records) == 5 and all(r.attempts >= 2 for r in records)

    eventually(all_failed_twice, "every delivery failing twice while the receiver is down")
    backlog = httpx.get(f"{hooked.server.url}/healthz").json()["webhooks"]["backlog"]
    assert backlog >= 5
    hooked.receiver.start()
    arrived = hooked.receiver.wait(5, timeout=30)
    assert sorted(d.json["id"] for d in arrived) == ids
    assert len({d.event_id for d in arrived}) == 5
    for record in webhooks.webhook_deliveries(hooked.store, hooked.account_id, hooked.webhook_id):
        assert record.tries[0].status is None and record.tries[0].error


def test_a_410_disables_the_webhook_at_once(hooked: Hooked) -> None:
    hooked.receiver.fail_next(1, 410, delay=0.3)  # the update is recorded meanwhile
    first = hooked.create()
    hooked.http.put(f"/v1/customers/{first}.json", json={"firstName": "Ed"})

    def disabled() -> bool:
        found = webhooks.get_webhook(hooked.store, hooked.account_id, hooked.webhook_id)
        return found.state is State.DISABLED

    eventually(disabled, "the webhook disabled")
    assert [t.status for t in hooked.receiver.received()] == [410]
    records = webhooks.webhook_deliveries(hooked.store, hooked.account_id, hooked.webhook_id)
    # The update waited behind the created event, and is dropped with it.
    assert [(r.event, r.state) for r in records] == [
        ("customer.created", "failed"),
        ("customer.updated", "failed"),
    ]
    hooked.create(firstName="Flo")  # a disabled webhook wants nothing more
    assert len(hooked.outbox()) == 2
    # Overwriting it (as Help Scout's PUT /v2/webhooks/{id} does) enables it again.
    again = new_webhook(f"{hooked.receiver.url}/webhooks/1", hooked.secret, ["customer.created"])
    webhooks.replace_webhook(hooked.store, hooked.account_id, hooked.webhook_id, again)
    hooked.create(firstName="Gus")
    assert hooked.receiver.wait(1)[0].json["firstName"] == "Gus"


def test_redelivery_sends_a_delivered_event_again_with_its_id(hooked: Hooked) -> None:
    hooked.create()
    [first] = hooked.receiver.wait(1)
    assert first.event_id is not None

    def delivered() -> bool:
        [record] = webhooks.webhook_deliveries(hooked.store, hooked.account_id, hooked.webhook_id)
        return record.state == "delivered"

    eventually(delivered, "the first delivery logged")
    webhooks.redeliver(hooked.store, hooked.account_id, first.event_id, int(time.time() * 1000))
    hooked.receiver.wait(2)  # only the server's own writes wake it: this waits for its poll
    again = hooked.receiver.deliveries()[1]
    assert (again.event_id, again.body) == (first.event_id, first.body)


def test_health_reports_the_backlog(hooked: Hooked) -> None:
    health = httpx.get(f"{hooked.server.url}/healthz")
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert isinstance(body["webhooks"]["backlog"], int)
