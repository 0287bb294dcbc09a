"""Use cases of webhooks, one transaction each (docs/webhooks.md): an account's subscriptions
(create, read, list, replace, delete: the command line, the control API and Help Scout's
`/v2/webhooks`), and the deliverer's work on the outbox (claim, finish an attempt, redeliver,
prune, count the backlog).

`account: int | None` reads as in store/base.py's `Webhooks`: an account's own (its API), or
None for every account's (the owner's command line).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from openscout.domain.errors import EventNotFound, WebhookNotFound
from openscout.domain.webhooks import MAX_WEBHOOK_ID, Outcome, Webhook, outcome, retry_delay
from openscout.store.base import (
    Attempt,
    Claimed,
    DeliveryRecord,
    ListedWebhook,
    Store,
    unbounded,
)

#: How many deliveries `webhook_deliveries` shows unless asked for another number.
DELIVERY_LOG_LENGTH = 50


def create_webhook(store: Store, account: int, webhook: Webhook, now: datetime) -> Webhook:
    """Subscribe the account to `webhook` (checked by `domain.webhooks.new_webhook`), enabled;
    returns it with its id."""
    with store.writing() as transaction:
        return transaction.add_webhook(account, webhook, now)


def get_webhook(store: Store, account: int | None, webhook_id: int) -> Webhook:
    _check_id(webhook_id)
    with store.reading() as transaction:
        found = transaction.get_webhook(account, webhook_id)
    if found is None:
        raise WebhookNotFound(webhook_id)
    return found


def list_webhooks(store: Store, account: int | None) -> list[ListedWebhook]:
    with store.reading() as transaction:
        return transaction.list_webhooks(account)


def replace_webhook(store: Store, account: int | None, webhook_id: int, webhook: Webhook) -> None:
    """Overwrite a webhook's settings with `webhook`'s and enable it again (Help Scout's `PUT
    /v2/webhooks/{id}` re-enables a webhook its receiver had disabled with a 410)."""
    _check_id(webhook_id)
    with store.writing() as transaction:
        if not transaction.replace_webhook(account, webhook_id, webhook):
            raise WebhookNotFound(webhook_id)


@unbounded  # its deliveries go with it
def delete_webhook(store: Store, account: int | None, webhook_id: int) -> None:
    _check_id(webhook_id)
    with store.writing() as transaction:
        if not transaction.delete_webhook(account, webhook_id):
            raise WebhookNotFound(webhook_id)


@unbounded
def webhook_deliveries(
    store: Store, account: int | None, webhook_id: int, limit: int = DELIVERY_LOG_LENGTH
) -> list[DeliveryRecord]:
    """The webhook's last `limit` deliveries, oldest first, with their attempts."""
    _check_id(webhook_id)
    with store.reading() as transaction:
        found = transaction.webhook_deliveries(account, webhook_id, limit)
    if found is None:
        raise WebhookNotFound(webhook_id)
    return found


def _check_id(webhook_id: int) -> None:
    """An id no webhook can have (0, or past 32 bits) is not found, without asking the store
    (PostgreSQL would refuse to compare it with an integer column)."""
    if not 0 < webhook_id <= MAX_WEBHOOK_ID:
        raise WebhookNotFound(webhook_id)


def redeliver(store: Store, account: int | None, event_id: str, now_ms: int) -> None:
    """Deliver an event again, now: one that was delivered or given up gets every attempt
    anew; a pending one is tried at once."""
    with store.writing() as transaction:
        if not transaction.redeliver(account, event_id, now_ms):
            raise EventNotFound(event_id)


# -- the deliverer's (webhooks/delivery.py)


def claim_deliveries(store: Store, owner: str, now_ms: int, lease_ms: int, limit: int) -> Claimed:
    with store.writing() as transaction:
        return transaction.claim_deliveries(owner, now_ms, lease_ms, limit)


def finish_attempts(
    store: Store, attempts: Sequence[Attempt], backoff: float, draws: Sequence[float]
) -> list[Outcome]:
    """Log attempts (those that ended together: one transaction for them all) and act on each
    one's outcome (`domain.webhooks.outcome`): a failure is tried again after
    `retry_delay(..., backoff, draw)` seconds, until the last attempt."""
    planned = []
    for attempt, draw in zip(attempts, draws, strict=True):
        made = attempt.claim.attempts + 1
        result = outcome(attempt.status, made)
        next_attempt_ms = None
        if result is Outcome.RETRY:
            next_attempt_ms = attempt.at_ms + round(retry_delay(made, backoff, draw) * 1000)
        planned.append((attempt, result, next_attempt_ms))
    with store.writing() as transaction:
        for attempt, result, next_attempt_ms in planned:
            transaction.finish_attempt(attempt, result, next_attempt_ms)
    return [result for _, result, _ in planned]


#: Deliveries deleted per transaction when pruning: a SQLite writer holds every other one.
PRUNE_BATCH = 1000


@unbounded
def prune_deliveries(store: Store, before_ms: int, now_ms: int) -> int:
    """Delete up to `PRUNE_BATCH` deliveries finished before `before_ms`; how many. Pending
    deliveries of disabled webhooks are finished first (a write can record one for a webhook
    that a 410 is disabling at that very moment: this drops it soon after)."""
    with store.writing() as transaction:
        transaction.drop_disabled_deliveries(now_ms)
        return transaction.prune_deliveries(before_ms, PRUNE_BATCH)


#: The backlog is counted up to this many: /healthz answers at once, however far behind.
BACKLOG_COUNTED = 100_000


@unbounded
def webhook_backlog(store: Store) -> int:
    """How many deliveries of enabled webhooks wait to be made (at most `BACKLOG_COUNTED`)."""
    with store.reading() as transaction:
        return transaction.webhook_backlog(BACKLOG_COUNTED)
