"""The webhooks aggregate on a real database: subscriptions, the outbox, claims with leases (and
SKIP LOCKED on PostgreSQL), attempts and their outcomes, redelivery, pruning, the backlog."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from openscout import keys
from openscout.domain.webhooks import MAX_ATTEMPTS, Outcome, State, new_webhook
from openscout.store.base import Attempt, Claim, NewDelivery
from openscout.store.engine import SqlStore
from tests.conftest import fresh_database, migrated_store, new_account

NOW = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
T0 = 1_800_000_000_000  # milliseconds since the epoch
LEASE = 10_000


def account_id_of(store: SqlStore) -> int:
    account = new_account(store)
    with store.reading() as transaction:
        found = transaction.account_for_key(keys.hash_key(account.key))
    assert found is not None
    return found


def subscribe(store: SqlStore, account_id: int, **options: object) -> int:
    values: dict[str, object] = {
        "url": "https://example.com/hook",
        "secret": "s3cret",
        "events": ["customer.created", "customer.updated"],
    }
    values.update(options)
    webhook = new_webhook(
        str(values.pop("url")),
        str(values.pop("secret")),
        values.pop("events"),  # type: ignore[arg-type]
        **values,  # type: ignore[arg-type]
    )
    with store.writing() as transaction:
        made = transaction.add_webhook(account_id, webhook, NOW)
    assert made.id is not None
    return made.id


def enqueue(
    store: SqlStore, webhook_id: int, customer_id: int, body: bytes = b"{}", at: int = T0
) -> str:
    event_id = str(uuid.uuid4())
    with store.writing() as transaction:
        transaction.add_deliveries(
            [NewDelivery(event_id, webhook_id, "customer.updated", customer_id, body)], at
        )
    return event_id


def claim(store: SqlStore, owner: str = "a", at: int = T0, limit: int = 10) -> list[Claim]:
    with store.writing() as transaction:
        return transaction.claim_deliveries(owner, at, LEASE, limit).claims


def finish(
    store: SqlStore,
    claimed: Claim,
    outcome: Outcome,
    *,
    owner: str = "a",
    status: int | None = 200,
    at: int = T0 + 100,
    next_ms: int | None = None,
) -> None:
    attempt = Attempt(claimed, owner, at, status, 12, None if status else "refused")
    with store.writing() as transaction:
        transaction.finish_attempt(attempt, outcome, next_ms)


@pytest.fixture
def account_id(module_store: SqlStore) -> int:
    return account_id_of(module_store)


@pytest.fixture
def outbox(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqlStore]:
    """A database of the test's own: claims take every account's due deliveries."""
    with fresh_database(backend, tmp_path_factory.mktemp("outbox")) as url:
        store = migrated_store(url)
        try:
            yield store
        finally:
            store.close()


# -- subscriptions


def test_a_webhook_is_stored_enabled_and_read_back_whole(
    module_store: SqlStore, account_id: int
) -> None:
    webhook_id = subscribe(
        module_store, account_id, notification=True, label="crm", mailbox_ids=[3, 1]
    )
    with module_store.reading() as transaction:
        found = transaction.get_webhook(account_id, webhook_id)
        elsewhere = transaction.get_webhook(account_id + 10_000, webhook_id)
        anyone = transaction.get_webhook(None, webhook_id)
    assert found is not None and found == anyone
    assert (found.url, found.secret, found.events) == (
        "https://example.com/hook",
        "s3cret",
        ("customer.created", "customer.updated"),
    )
    assert (found.notification, found.label, found.mailbox_ids) == (True, "crm", (3, 1))
    assert (found.state, found.payload_version, found.created_at) == (State.ENABLED, "V2", NOW)
    assert elsewhere is None


def test_lists_are_per_account_or_everyones_with_the_account_name(module_store: SqlStore) -> None:
    first, second = account_id_of(module_store), account_id_of(module_store)
    a, b = subscribe(module_store, first), subscribe(module_store, second)
    with module_store.reading() as transaction:
        mine = transaction.list_webhooks(first)
        everyone = transaction.list_webhooks(None)
    assert [item.webhook.id for item in mine] == [a]
    ids = [item.webhook.id for item in everyone]
    assert a in ids and b in ids and ids == sorted(ids)
    assert len({item.account for item in everyone if item.webhook.id in (a, b)}) == 2


def test_only_the_accounts_enabled_webhooks_that_want_the_event_are_asked_for(
    module_store: SqlStore, account_id: int
) -> None:
    wants = subscribe(module_store, account_id, events=["customer.updated"])
    brief = subscribe(module_store, account_id, events=["customer.updated"], notification=True)
    subscribe(module_store, account_id, events=["customer.created", "convo.created"])
    subscribe(module_store, account_id_of(module_store), events=["customer.updated"])
    with module_store.reading() as transaction:
        found = transaction.webhooks_for(account_id, "customer.updated")
        none = transaction.webhooks_for(account_id, "customer.deleted")
    assert sorted((s.webhook_id, s.notification) for s in found) == [
        (wants, False),
        (brief, True),
    ]
    assert none == []


def test_replacing_a_webhook_changes_it_and_enables_it_again(outbox: SqlStore) -> None:
    account_id = account_id_of(outbox)
    webhook_id = subscribe(outbox, account_id)
    enqueue(outbox, webhook_id, 1)
    [claimed] = claim(outbox)
    finish(outbox, claimed, Outcome.GONE, status=410)
    changed = new_webhook("http://other.example/in", "new", ["customer.deleted"])
    with outbox.writing() as transaction:
        assert transaction.get_webhook(None, webhook_id).state is State.DISABLED  # type: ignore[union-attr]
        assert transaction.replace_webhook(account_id, webhook_id, changed)
        assert not transaction.replace_webhook(account_id + 1, webhook_id, changed)
        assert not transaction.replace_webhook(account_id, webhook_id + 1, changed)
    with outbox.reading() as transaction:
        found = transaction.get_webhook(account_id, webhook_id)
    assert found is not None
    assert (found.url, found.secret, found.events, found.state) == (
        "http://other.example/in",
        "new",
        ("customer.deleted",),
        State.ENABLED,
    )


def test_deleting_a_webhook_takes_its_deliveries_and_attempts_with_it(outbox: SqlStore) -> None:
    account_id = account_id_of(outbox)
    webhook_id = subscribe(outbox, account_id)
    enqueue(outbox, webhook_id, 1)
    [claimed] = claim(outbox)
    finish(outbox, claimed, Outcome.RETRY, status=500, next_ms=T0 + 50)
    with outbox.writing() as transaction:
        assert not transaction.delete_webhook(account_id + 1, webhook_id)
        assert transaction.delete_webhook(account_id, webhook_id)
        assert not transaction.delete_webhook(account_id, webhook_id)
    with outbox.reading() as transaction:
        connection = transaction.connection
        for table in ("webhook_deliveries", "webhook_attempts"):
            assert connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar() == 0


# -- claims


def test_a_claim_leases_due_deliveries_in_order_and_hides_them_until_the_lease_ends(
    outbox: SqlStore,
) -> None:
    webhook_id = subscribe(outbox, account_id_of(outbox))
    first = enqueue(outbox, webhook_id, 1, b'{"n":1}')
    second = enqueue(outbox, webhook_id, 2, b'{"n":2}', at=T0 + 1)
    enqueue(outbox, webhook_id, 3, at=T0 + 5_000)  # not due yet
    claimed = claim(outbox, "a", at=T0 + 10)
    assert [c.event_id for c in claimed] == [first, second]
    assert [c.body for c in claimed] == [b'{"n":1}', b'{"n":2}']
    assert {(c.url, c.secret, c.attempts) for c in claimed} == {
        ("https://example.com/hook", "s3cret", 0)
    }
    with outbox.writing() as transaction:
        later = transaction.claim_deliveries("b", T0 + 20, LEASE, 10)
    assert later.claims == []
    assert later.next_due_ms == T0 + 5_000
    # A deliverer that died: once its lease has run out, another takes its claims.
    taken = claim(outbox, "b", at=T0 + 10 + LEASE)
    assert [c.event_id for c in taken][:2] == [first, second]


def test_a_customers_later_event_waits_for_its_earlier_one_for_the_same_webhook(
    outbox: SqlStore,
) -> None:
    account_id = account_id_of(outbox)
    webhook_id, other_webhook = subscribe(outbox, account_id), subscribe(outbox, account_id)
    one = enqueue(outbox, webhook_id, 7)
    two = enqueue(outbox, webhook_id, 7)
    elsewhere = enqueue(outbox, other_webhook, 7)
    other_customer = enqueue(outbox, webhook_id, 8)
    claimed = claim(outbox)
    assert {c.event_id for c in claimed} == {one, elsewhere, other_customer}
    [first] = [c for c in claimed if c.event_id == one]
    finish(outbox, first, Outcome.RETRY, status=503, next_ms=T0 + 1_000)
    # The earlier one failed: the later one is not due before it, and not claimed while the
    # earlier one is pending.
    assert claim(outbox, at=T0 + 500) == []
    [again] = claim(outbox, at=T0 + 1_000)
    assert again.event_id == one and again.attempts == 1
    finish(outbox, again, Outcome.DELIVERED, at=T0 + 1_100)
    assert [c.event_id for c in claim(outbox, at=T0 + 1_200)] == [two]


def test_postgresql_claims_skip_rows_another_transaction_is_claiming(
    outbox: SqlStore, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has one writer at a time: its claims cannot overlap")
    webhook_id = subscribe(outbox, account_id_of(outbox))
    for customer in range(6):
        enqueue(outbox, webhook_id, customer)
    first_claimed = threading.Event()
    release = threading.Event()
    seen: dict[str, list[str]] = {}

    def hold() -> None:
        with outbox.writing() as transaction:
            found = transaction.claim_deliveries("a", T0, LEASE, 3).claims
            seen["a"] = [c.event_id for c in found]
            first_claimed.set()
            release.wait(60)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert first_claimed.wait(10)
        # Not waiting for the other transaction: its rows are skipped, the rest claimed.
        seen["b"] = [c.event_id for c in claim(outbox, "b", limit=10)]
    finally:
        release.set()
        holder.join(10)
    assert len(seen["a"]) == 3 and len(seen["b"]) == 3
    assert not set(seen["a"]) & set(seen["b"])


def test_disabled_webhooks_deliveries_are_not_claimed(outbox: SqlStore) -> None:
    account_id = account_id_of(outbox)
    gone, kept = subscribe(outbox, account_id), subscribe(outbox, account_id)
    enqueue(outbox, gone, 1)
    later = enqueue(outbox, gone, 2)
    [first] = claim(outbox, limit=1)
    assert first.webhook_id == gone
    finish(outbox, first, Outcome.GONE, status=410)
    kept_event = enqueue(outbox, kept, 1)
    assert [c.event_id for c in claim(outbox, at=T0 + 200)] == [kept_event]
    with outbox.reading() as transaction:
        assert transaction.get_webhook(None, gone).state is State.DISABLED  # type: ignore[union-attr]
        assert transaction.get_webhook(None, kept).state is State.ENABLED  # type: ignore[union-attr]
        [log] = [
            r for r in transaction.webhook_deliveries(None, gone, 10) or [] if r.event_id == later
        ]
    assert log.state == "failed" and log.attempts == 0


# -- outcomes


def test_attempts_are_logged_and_a_delivered_event_is_finished(outbox: SqlStore) -> None:
    account_id = account_id_of(outbox)
    webhook_id = subscribe(outbox, account_id)
    event_id = enqueue(outbox, webhook_id, 5)
    [claimed] = claim(outbox)
    finish(outbox, claimed, Outcome.RETRY, status=None, at=T0 + 10, next_ms=T0 + 60)
    with outbox.reading() as transaction:
        assert transaction.webhook_backlog(100) == 1
    [claimed] = claim(outbox, at=T0 + 60)
    finish(outbox, claimed, Outcome.DELIVERED, status=204, at=T0 + 70)
    with outbox.reading() as transaction:
        [record] = transaction.webhook_deliveries(account_id, webhook_id, 10) or []
        assert transaction.webhook_deliveries(account_id + 1, webhook_id, 10) is None
        assert transaction.webhook_backlog(100) == 0
    assert (record.event_id, record.state, record.attempts, record.last_status) == (
        event_id,
        "delivered",
        2,
        204,
    )
    assert record.delivered_at is not None and record.next_attempt_at is None
    assert [(t.status, t.error, t.duration_ms) for t in record.tries] == [
        (None, "refused", 12),
        (204, None, 12),
    ]


def test_the_last_failed_attempt_gives_up(outbox: SqlStore) -> None:
    webhook_id = subscribe(outbox, account_id_of(outbox))
    enqueue(outbox, webhook_id, 5)
    at = T0
    for number in range(1, MAX_ATTEMPTS + 1):
        [claimed] = claim(outbox, at=at)
        assert claimed.attempts == number - 1
        outcome = Outcome.RETRY if number < MAX_ATTEMPTS else Outcome.GAVE_UP
        finish(outbox, claimed, outcome, status=500, at=at, next_ms=at + 10)
        at += 10
    assert claim(outbox, at=at + 10_000) == []
    with outbox.reading() as transaction:
        [record] = transaction.webhook_deliveries(None, webhook_id, 10) or []
    assert (record.state, record.attempts, len(record.tries)) == ("failed", MAX_ATTEMPTS, 10)


def test_a_failure_reported_after_the_lease_passed_on_leaves_the_row_to_its_new_holder(
    outbox: SqlStore,
) -> None:
    webhook_id = subscribe(outbox, account_id_of(outbox))
    enqueue(outbox, webhook_id, 5)
    [slow] = claim(outbox, "a")
    [taken] = claim(outbox, "b", at=T0 + LEASE)
    finish(outbox, slow, Outcome.RETRY, owner="a", status=500, next_ms=T0 + LEASE * 5)
    assert claim(outbox, "c", at=T0 + LEASE + 1) == []  # still b's
    finish(outbox, taken, Outcome.DELIVERED, owner="b", at=T0 + LEASE + 2)
    with outbox.reading() as transaction:
        [record] = transaction.webhook_deliveries(None, webhook_id, 10) or []
    assert record.state == "delivered"
    assert len(record.tries) == 2


# -- redelivery, pruning


def test_redelivery_makes_a_finished_event_due_again_from_its_first_attempt(
    outbox: SqlStore,
) -> None:
    account_id = account_id_of(outbox)
    webhook_id = subscribe(outbox, account_id)
    event_id = enqueue(outbox, webhook_id, 5)
    [claimed] = claim(outbox)
    finish(outbox, claimed, Outcome.DELIVERED)
    with outbox.writing() as transaction:
        assert not transaction.redeliver(account_id + 1, event_id, T0 + 200)
        assert not transaction.redeliver(account_id, str(uuid.uuid4()), T0 + 200)
        assert transaction.redeliver(account_id, event_id, T0 + 200)
    [again] = claim(outbox, at=T0 + 200)
    assert (again.event_id, again.attempts) == (event_id, 0)


def test_pruning_deletes_only_deliveries_finished_before_the_cutoff(outbox: SqlStore) -> None:
    webhook_id = subscribe(outbox, account_id_of(outbox))
    old, recent = enqueue(outbox, webhook_id, 1), enqueue(outbox, webhook_id, 2)
    pending = enqueue(outbox, webhook_id, 3, at=T0 + 50_000)
    claimed = {c.event_id: c for c in claim(outbox)}
    finish(outbox, claimed[old], Outcome.DELIVERED, at=T0 + 10)
    finish(outbox, claimed[recent], Outcome.DELIVERED, at=T0 + 1_000)
    with outbox.writing() as transaction:
        assert transaction.prune_deliveries(T0 + 500, 100) == 1
        assert transaction.prune_deliveries(T0 + 500, 100) == 0
    with outbox.reading() as transaction:
        left = [r.event_id for r in transaction.webhook_deliveries(None, webhook_id, 10) or []]
        attempts = transaction.connection.exec_driver_sql(
            "SELECT count(*) FROM webhook_attempts"
        ).scalar()
    assert left == [recent, pending]
    assert attempts == 1


def test_deliveries_recorded_while_a_410_disabled_their_webhook_are_dropped_later(
    outbox: SqlStore,
) -> None:
    account_id = account_id_of(outbox)
    webhook_id, other = subscribe(outbox, account_id), subscribe(outbox, account_id)
    enqueue(outbox, webhook_id, 1)
    [claimed] = claim(outbox)
    finish(outbox, claimed, Outcome.GONE, status=410)
    # A write that read the webhook enabled commits after the 410 was recorded.
    late = enqueue(outbox, webhook_id, 2)
    kept = enqueue(outbox, other, 2)
    with outbox.writing() as transaction:
        assert transaction.drop_disabled_deliveries(T0 + 500) == 1
        assert transaction.drop_disabled_deliveries(T0 + 600) == 0
    with outbox.reading() as transaction:
        states = {
            r.event_id: r.state
            for hook in (webhook_id, other)
            for r in transaction.webhook_deliveries(None, hook, 10) or []
        }
    assert (states[late], states[kept]) == ("failed", "pending")


def test_the_backlog_is_counted_up_to_a_bound(outbox: SqlStore) -> None:
    webhook_id = subscribe(outbox, account_id_of(outbox))
    for customer in range(5):
        enqueue(outbox, webhook_id, customer)
    with outbox.reading() as transaction:
        assert transaction.webhook_backlog(100) == 5
        assert transaction.webhook_backlog(3) == 3
