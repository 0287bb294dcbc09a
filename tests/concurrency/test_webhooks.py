"""Webhooks from real `openscout serve` processes: kill -9 with deliveries pending loses none of
the events of acknowledged changes, and two servers on one database deliver every event once,
each customer's in order (docs/webhooks.md)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from openscout import keys, service
from openscout.domain.webhooks import new_webhook
from openscout.store.engine import SqlStore
from openscout.testing.receiver import WebhookDelivery, WebhookReceiver
from openscout.webhooks import service as webhooks
from tests.concurrency.conftest import Database
from tests.concurrency.processes import Call, ServeProcess, burst, serving

PATH = "/v1/customers.json"
#: Fast retries, and leases of 4 s (twice the timeout and 2 s): a killed server's claims are
#: taken again soon.
OPTIONS = ("--webhook-backoff", "0.05", "--webhook-timeout", "1")
PATIENCE = 90.0
#: Retries further apart, so that attempts before the kill leave most of the ten for after.
SLOWER = ("--webhook-backoff", "0.2", "--webhook-timeout", "1")


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


def subscribe(database: Database, receiver: WebhookReceiver) -> int:
    url, secret = receiver.endpoint()
    store = SqlStore(database.url)
    try:
        account = service.account_for_key(store, keys.hash_key(database.account.key))
        assert account is not None
        events = ["customer.created", "customer.updated"]
        made = webhooks.create_webhook(
            store, account, new_webhook(url, secret, events), datetime.now(UTC)
        )
    finally:
        store.close()
    assert made.id is not None
    return made.id


def outbox_size(database: Database) -> int:
    engine = database.engine()
    try:
        with engine.connect() as connection:
            return int(
                connection.exec_driver_sql("SELECT count(*) FROM webhook_deliveries").scalar_one()
            )
    finally:
        engine.dispose()


def wait_for(receiver: WebhookReceiver, wanted: set[tuple[str, int]]) -> list[WebhookDelivery]:
    """Every acknowledged delivery, once each (event, customer) of `wanted` has arrived."""
    deadline = time.monotonic() + PATIENCE
    while True:
        arrived = receiver.deliveries()
        missing = wanted - {(d.event or "", d.json["id"]) for d in arrived}
        if not missing:
            return arrived
        assert time.monotonic() < deadline, f"never delivered: {sorted(missing)[:10]}"
        time.sleep(0.05)


def customer(n: int) -> dict[str, object]:
    return {"firstName": f"Hook{n}", "lastName": "Test", "emails": [{"value": f"h{n}@example.com"}]}


def test_kill_9_with_deliveries_pending_loses_no_event_of_an_acknowledged_change(
    database: Database, receiver: WebhookReceiver
) -> None:
    subscribe(database, receiver)
    # Nothing is delivered before the kill, and attempts are under way when it comes.
    receiver.fail_next(10_000, 503, delay=0.3)
    victim = ServeProcess(
        database.url,
        database.directory / "victim.log",
        workers=2 if database.backend == "postgresql" else 1,
        options=SLOWER,
    )
    try:
        victim.start().wait_ready()
        killed_after = 40

        def kill_midway(answered: int) -> None:
            if answered == killed_after:
                victim.kill()

        outcomes = burst(
            [Call(victim.url, "POST", PATH, customer(n)) for n in range(100)],
            database.auth,
            concurrency=8,
            on_outcome=kill_midway,
        )
    finally:
        victim.kill()
    acknowledged = {
        int(o.headers["location"].rsplit("/", 1)[1].removesuffix(".json"))
        for o in outcomes
        if o.status == 201 and o.headers is not None
    }
    assert len(acknowledged) >= killed_after
    assert any(o.status is None for o in outcomes), "the kill came after the burst"
    assert receiver.deliveries() == []
    pending = outbox_size(database)
    assert pending >= len(acknowledged)

    receiver.clear_failures()
    restarted = ServeProcess(database.url, database.directory / "restarted.log", options=SLOWER)
    try:
        restarted.start().wait_ready()
        wait_for(receiver, {("customer.created", n) for n in acknowledged})
        with httpx.Client(base_url=restarted.url, auth=database.auth, timeout=10) as http:
            deadline = time.monotonic() + PATIENCE
            while http.get("/healthz").json()["webhooks"]["backlog"]:
                assert time.monotonic() < deadline, "the backlog never emptied"
                time.sleep(0.05)
            arrived = receiver.deliveries()
            # Every event recorded was delivered: those of acknowledged creates, and of creates
            # that committed though their answer was lost in the kill; each is a customer.
            assert len({d.event_id for d in arrived}) == pending
            for delivery in arrived:
                found = http.get(f"/v1/customers/{delivery.json['id']}.json")
                assert found.status_code == 200
                assert found.json()["item"]["firstName"] == delivery.json["firstName"]
    finally:
        restarted.stop()


def test_two_servers_deliver_every_event_once_and_each_customers_in_order(
    database: Database, receiver: WebhookReceiver
) -> None:
    subscribe(database, receiver)
    workers = 2 if database.backend == "postgresql" else 1
    with serving(database.url, database.directory, 2, workers=workers, options=OPTIONS) as (
        one,
        two,
    ):
        created = burst(
            [
                Call((one, two)[n % 2].url, "POST", PATH + "?reload=true", customer(n))
                for n in range(80)
            ],
            database.auth,
            concurrency=8,
        )
        assert {o.status for o in created} == {201}
        ids = [o.json()["item"]["id"] for o in created]
        updated = burst(
            [
                Call((two, one)[n % 2].url, "PUT", f"/v1/customers/{i}.json", {"lastName": "New"})
                for n, i in enumerate(ids)
            ],
            database.auth,
            concurrency=8,
        )
        assert {o.status for o in updated} == {200}
        wanted = {(event, i) for i in ids for event in ("customer.created", "customer.updated")}
        arrived = wait_for(receiver, wanted)
        with httpx.Client(timeout=10) as http:
            for server in (one, two):
                deadline = time.monotonic() + PATIENCE
                while http.get(f"{server.url}/healthz").json()["webhooks"]["backlog"]:
                    assert time.monotonic() < deadline
                    time.sleep(0.05)
        arrived = receiver.received()
    assert len(arrived) == len(wanted) == outbox_size(database)
    assert len({d.event_id for d in arrived}) == len(wanted), "an event was sent twice"
    assert all(d.is_acknowledged and d.signature_valid for d in arrived)
    for i in ids:
        order = [d.event for d in arrived if d.json["id"] == i]
        assert order == ["customer.created", "customer.updated"], (i, order)
    updates = [d for d in arrived if d.event == "customer.updated"]
    assert {d.json["lastName"] for d in updates} == {"New"}
