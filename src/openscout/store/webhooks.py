"""Webhooks and the outbox of their deliveries (docs/webhooks.md).

A delivery is claimed with a lease: `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, so that
deliverers in several processes never claim the same row, and the claim written in the same
transaction; on SQLite the write lock orders claims (and one process per file delivers,
webhooks/delivery.py). A deliverer that dies leaves its leases to run out; then the rows are
claimed again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, exists, func, insert, or_, select, true, update

from openscout.domain.webhooks import Outcome, State, Webhook
from openscout.store.base import (
    Attempt,
    AttemptRecord,
    Claim,
    Claimed,
    DeliveryRecord,
    ListedWebhook,
    NewDelivery,
    Subscriber,
)
from openscout.store.dialect import OnConnection
from openscout.store.prepared import Prepared
from openscout.store.rows import moment, seconds
from openscout.store.tables import accounts, webhook_attempts, webhook_deliveries, webhooks

_deliveries = webhook_deliveries
_attempts = webhook_attempts


class WebhookRows(OnConnection):
    # -- subscriptions

    def add_webhook(self, account_id: int, webhook: Webhook, now: datetime) -> Webhook:
        webhook_id = self.connection.execute(
            insert(webhooks)
            .values(
                account_id=account_id,
                created_at=seconds(now),
                state=State.ENABLED.value,
                **_webhook_values(webhook),
            )
            .returning(webhooks.c.id)
        ).scalar_one()
        return replace(
            webhook, id=int(webhook_id), state=State.ENABLED, created_at=now.replace(microsecond=0)
        )

    def get_webhook(self, account_id: int | None, webhook_id: int) -> Webhook | None:
        row = self.connection.execute(
            select(webhooks).where(webhooks.c.id == webhook_id, _of_account(account_id))
        ).first()
        return None if row is None else _webhook(row)

    def list_webhooks(self, account_id: int | None) -> list[ListedWebhook]:
        rows = self.connection.execute(
            select(webhooks, accounts.c.name.label("account"))
            .join(accounts, accounts.c.id == webhooks.c.account_id)
            .where(_of_account(account_id))
            .order_by(webhooks.c.id)
        )
        return [ListedWebhook(row.account, _webhook(row)) for row in rows]

    def replace_webhook(self, account_id: int | None, webhook_id: int, webhook: Webhook) -> bool:
        result = self.connection.execute(
            update(webhooks)
            .where(webhooks.c.id == webhook_id, _of_account(account_id))
            .values(state=State.ENABLED.value, **_webhook_values(webhook))
        )
        return bool(result.rowcount)

    def delete_webhook(self, account_id: int | None, webhook_id: int) -> bool:
        result = self.connection.execute(
            delete(webhooks).where(webhooks.c.id == webhook_id, _of_account(account_id))
        )
        return bool(result.rowcount)

    # -- recording events (the write path: every customer write asks)

    def webhooks_for(self, account_id: int, event: str) -> list[Subscriber]:
        return [
            Subscriber(int(row.id), bool(row.notification))
            for row in _SUBSCRIBERS.all(self.connection, account_id=account_id)
            if event in json.loads(row.events)
        ]

    def add_deliveries(self, deliveries: Sequence[NewDelivery], now_ms: int) -> None:
        _ADD_DELIVERY.execute_many(
            self.connection,
            [
                {
                    "event_id": delivery.event_id,
                    "webhook_id": delivery.webhook_id,
                    "event": delivery.event,
                    "customer_id": delivery.customer_id,
                    "body": delivery.body,
                    "created_ms": now_ms,
                    "next_attempt_ms": now_ms,
                }
                for delivery in deliveries
            ],
        )

    # -- delivering

    def claim_deliveries(self, owner: str, now_ms: int, lease_ms: int, limit: int) -> Claimed:
        # One UPDATE leases the rows its subquery picks (locked and skipped by others on
        # PostgreSQL); `due` is an alias, so that the subquery stands apart from the UPDATE.
        due, earlier = _deliveries.alias("due"), _deliveries.alias("earlier")
        picked = (
            select(due.c.id)
            .join(webhooks, webhooks.c.id == due.c.webhook_id)
            .where(
                due.c.next_attempt_ms <= now_ms,
                or_(due.c.lease_until_ms.is_(None), due.c.lease_until_ms <= now_ms),
                webhooks.c.state == State.ENABLED.value,
                # In order for one customer and one webhook: not while an earlier one waits.
                ~exists().where(
                    earlier.c.webhook_id == due.c.webhook_id,
                    earlier.c.customer_id == due.c.customer_id,
                    earlier.c.next_attempt_ms.is_not(None),
                    earlier.c.id < due.c.id,
                ),
            )
            .order_by(due.c.next_attempt_ms, due.c.id)
            .limit(limit)
            .with_for_update(of=due, skip_locked=True)
        )
        rows = self.connection.execute(
            update(_deliveries)
            .where(_deliveries.c.id.in_(picked))
            .values(lease_owner=owner, lease_until_ms=now_ms + lease_ms)
            .returning(
                _deliveries.c.id,
                _deliveries.c.event_id,
                _deliveries.c.event,
                _deliveries.c.customer_id,
                _deliveries.c.body,
                _deliveries.c.attempts,
                _deliveries.c.webhook_id,
                _deliveries.c.next_attempt_ms,
            )
        ).all()
        if not rows:
            next_due = self.connection.execute(
                select(func.min(_deliveries.c.next_attempt_ms)).where(
                    _deliveries.c.next_attempt_ms > now_ms
                )
            ).scalar()
            return Claimed([], None if next_due is None else int(next_due))
        targets = {
            int(row.id): (row.url, row.secret)
            for row in self.connection.execute(
                select(webhooks.c.id, webhooks.c.url, webhooks.c.secret).where(
                    webhooks.c.id.in_({row.webhook_id for row in rows})
                )
            )
        }
        claims = [
            Claim(
                delivery_id=int(row.id),
                event_id=row.event_id,
                event=row.event,
                customer_id=int(row.customer_id),
                body=bytes(row.body),
                attempts=int(row.attempts),
                webhook_id=int(row.webhook_id),
                url=targets[row.webhook_id][0],
                secret=targets[row.webhook_id][1],
            )
            for row in sorted(rows, key=lambda row: (row.next_attempt_ms, row.id))
        ]
        return Claimed(claims, None)

    def finish_attempt(
        self, attempt: Attempt, outcome: Outcome, next_attempt_ms: int | None
    ) -> None:
        claim = attempt.claim
        self.connection.execute(
            insert(_attempts).values(
                delivery_id=claim.delivery_id,
                at_ms=attempt.at_ms,
                status=attempt.status,
                duration_ms=attempt.duration_ms,
                error=attempt.error,
            )
        )
        this = and_(_deliveries.c.id == claim.delivery_id, _deliveries.c.finished_ms.is_(None))
        # A lease that ran out may have passed the row to another deliverer: a failure then
        # leaves the row to it; a success is a success whoever holds the row.
        held = and_(this, _deliveries.c.lease_owner == attempt.owner)
        tried = {
            "attempts": _deliveries.c.attempts + 1,
            "last_status": attempt.status,
            "lease_owner": None,
            "lease_until_ms": None,
        }
        if outcome is Outcome.DELIVERED:
            self.connection.execute(
                update(_deliveries)
                .where(this)
                .values(
                    **tried,
                    next_attempt_ms=None,
                    delivered_ms=attempt.at_ms,
                    finished_ms=attempt.at_ms,
                )
            )
        elif outcome is Outcome.RETRY:
            assert next_attempt_ms is not None
            changed = self.connection.execute(
                update(_deliveries).where(held).values(**tried, next_attempt_ms=next_attempt_ms)
            ).rowcount
            if changed:
                # The customer's later events for this webhook wait for this one anyway: due
                # no sooner, they stay out of the claims' way meanwhile.
                self.connection.execute(
                    update(_deliveries)
                    .where(
                        _deliveries.c.webhook_id == claim.webhook_id,
                        _deliveries.c.customer_id == claim.customer_id,
                        _deliveries.c.id > claim.delivery_id,
                        _deliveries.c.next_attempt_ms < next_attempt_ms,
                    )
                    .values(next_attempt_ms=next_attempt_ms)
                )
        else:
            self.connection.execute(
                update(_deliveries)
                .where(held)
                .values(**tried, next_attempt_ms=None, finished_ms=attempt.at_ms)
            )
            if outcome is Outcome.GONE:
                self.connection.execute(
                    update(webhooks)
                    .where(webhooks.c.id == claim.webhook_id)
                    .values(state=State.DISABLED.value)
                )
                self.connection.execute(
                    update(_deliveries)
                    .where(
                        _deliveries.c.webhook_id == claim.webhook_id,
                        _deliveries.c.next_attempt_ms.is_not(None),
                    )
                    .values(
                        next_attempt_ms=None,
                        lease_owner=None,
                        lease_until_ms=None,
                        finished_ms=attempt.at_ms,
                    )
                )

    def redeliver(self, account_id: int | None, event_id: str, now_ms: int) -> bool:
        row = self.connection.execute(
            select(_deliveries.c.id, _deliveries.c.finished_ms)
            .join(webhooks, webhooks.c.id == _deliveries.c.webhook_id)
            .where(_deliveries.c.event_id == event_id, _of_account(account_id))
        ).first()
        if row is None:
            return False
        again: dict[str, Any] = {"next_attempt_ms": now_ms}
        if row.finished_ms is not None:
            again.update(attempts=0, finished_ms=None, delivered_ms=None)
        self.connection.execute(
            update(_deliveries).where(_deliveries.c.id == row.id).values(**again)
        )
        return True

    def prune_deliveries(self, before_ms: int, limit: int) -> int:
        old = (
            select(_deliveries.c.id)
            .where(_deliveries.c.finished_ms < before_ms)
            .order_by(_deliveries.c.finished_ms)
            .limit(limit)
        )
        ids = [int(row.id) for row in self.connection.execute(old)]
        if not ids:
            return 0
        # Attempts first: SQLite cascades only with foreign keys on, and says so nowhere.
        self.connection.execute(delete(_attempts).where(_attempts.c.delivery_id.in_(ids)))
        self.connection.execute(delete(_deliveries).where(_deliveries.c.id.in_(ids)))
        return len(ids)

    def drop_disabled_deliveries(self, now_ms: int) -> int:
        disabled = select(webhooks.c.id).where(webhooks.c.state == State.DISABLED.value)
        return int(
            self.connection.execute(
                update(_deliveries)
                .where(
                    _deliveries.c.next_attempt_ms.is_not(None),
                    _deliveries.c.webhook_id.in_(disabled),
                )
                .values(
                    next_attempt_ms=None,
                    lease_owner=None,
                    lease_until_ms=None,
                    finished_ms=now_ms,
                )
            ).rowcount
        )

    def webhook_backlog(self, limit: int) -> int:
        pending = (
            select(_deliveries.c.id)
            .join(webhooks, webhooks.c.id == _deliveries.c.webhook_id)
            .where(
                _deliveries.c.next_attempt_ms.is_not(None),
                webhooks.c.state == State.ENABLED.value,
            )
            .limit(limit)
            .subquery()
        )
        return int(self.connection.execute(select(func.count()).select_from(pending)).scalar_one())

    def webhook_deliveries(
        self, account_id: int | None, webhook_id: int, limit: int
    ) -> list[DeliveryRecord] | None:
        if self.get_webhook(account_id, webhook_id) is None:
            return None
        rows = list(
            reversed(
                self.connection.execute(
                    select(_deliveries)
                    .where(_deliveries.c.webhook_id == webhook_id)
                    .order_by(_deliveries.c.id.desc())
                    .limit(limit)
                ).all()
            )
        )
        tries: dict[int, list[AttemptRecord]] = {}
        if rows:
            for attempt in self.connection.execute(
                select(_attempts)
                .where(_attempts.c.delivery_id.in_([row.id for row in rows]))
                .order_by(_attempts.c.id)
            ):
                tries.setdefault(attempt.delivery_id, []).append(
                    AttemptRecord(
                        at=_moment_ms(attempt.at_ms),
                        status=attempt.status,
                        duration_ms=int(attempt.duration_ms),
                        error=attempt.error,
                    )
                )
        return [
            DeliveryRecord(
                event_id=row.event_id,
                event=row.event,
                customer_id=int(row.customer_id),
                created_at=_moment_ms(row.created_ms),
                state=_state(row),
                attempts=int(row.attempts),
                last_status=row.last_status,
                next_attempt_at=_optional_moment_ms(row.next_attempt_ms),
                delivered_at=_optional_moment_ms(row.delivered_ms),
                tries=tuple(tries.get(row.id, ())),
            )
            for row in rows
        ]


def _of_account(account_id: int | None) -> Any:
    return webhooks.c.account_id == account_id if account_id is not None else true()


def _webhook_values(webhook: Webhook) -> dict[str, Any]:
    return {
        "url": webhook.url,
        "secret": webhook.secret,
        "events": json.dumps(list(webhook.events)),
        "notification": webhook.notification,
        "label": webhook.label,
        "payload_version": webhook.payload_version,
        "mailbox_ids": json.dumps(list(webhook.mailbox_ids)),
    }


def _webhook(row: Any) -> Webhook:
    return Webhook(
        id=int(row.id),
        url=row.url,
        secret=row.secret,
        events=tuple(json.loads(row.events)),
        notification=bool(row.notification),
        label=row.label,
        payload_version=row.payload_version,
        mailbox_ids=tuple(json.loads(row.mailbox_ids)),
        state=State(row.state),
        created_at=moment(row.created_at),
    )


def _state(row: Any) -> str:
    if row.delivered_ms is not None:
        return "delivered"
    return "pending" if row.next_attempt_ms is not None else "failed"


def _moment_ms(milliseconds: int) -> datetime:
    return datetime.fromtimestamp(milliseconds / 1000, UTC)


def _optional_moment_ms(milliseconds: int | None) -> datetime | None:
    return None if milliseconds is None else _moment_ms(milliseconds)


# -- the write path's statements (store/prepared.py) -------------------------------------------

_SUBSCRIBERS = Prepared(
    select(webhooks.c.id, webhooks.c.events, webhooks.c.notification).where(
        webhooks.c.account_id == bindparam("account_id"),
        webhooks.c.state == State.ENABLED.value,
    )
)
_ADD_DELIVERY = Prepared(
    insert(_deliveries).values(
        {
            name: bindparam(name)
            for name in (
                "event_id",
                "webhook_id",
                "event",
                "customer_id",
                "body",
                "created_ms",
                "next_attempt_ms",
            )
        }
        | {"attempts": 0}
    )
)
