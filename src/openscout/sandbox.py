"""Use cases of the control API (docs/testing.md), one transaction each: open a new account,
reset, load, export and restore one account's customers. The caller has authenticated.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, NamedTuple

from openscout import apps, service
from openscout.contract.v1.fixtures import Fixture, item_path
from openscout.domain.changes import new_customer
from openscout.domain.customers import Collection, Customer
from openscout.domain.errors import FixtureEmailTaken, Invalid, Problem
from openscout.store.base import Store, unbounded

__all__ = ["FixtureEmailTaken", "export", "load", "open_account", "reset", "restore"]


class Opened(NamedTuple):
    """A new account's name and credentials, shown only here: a v1 API key, and the client id
    and secret of an OAuth app of its own (v2)."""

    name: str
    api_key: str
    client_id: str
    client_secret: str


def open_account(store: Store, now: datetime, prefix: str = "test") -> Opened:
    """A new account with a key and an OAuth app of its own."""
    name = f"{prefix}-{secrets.token_hex(8)}"
    key = service.create_key(store, name, "control API", now)
    app = apps.create_app(store, name, "control API", None, now)
    return Opened(name, key, app.client_id, app.client_secret)


@unbounded
def reset(store: Store, account: int) -> int:
    """Remove every customer of the account; returns how many there were."""
    with store.writing() as transaction:
        return transaction.clear_customers(account)


@unbounded
def load(store: Store, account: int, fixtures: Sequence[Fixture], now: datetime) -> list[int]:
    """Add the fixtures' customers to the account, all or none; returns their ids in order.

    Each is validated as a create request is (every problem of every customer is reported at
    once, as `Invalid`), and its email addresses must be free, as on create (spec §10.6)."""
    now = now.replace(microsecond=0)
    made: list[Customer] = []
    problems: list[Problem] = []
    for index, fixture in enumerate(fixtures):
        created = fixture.created_at or min(now, fixture.modified_at or now)
        try:
            customer = new_customer(fixture.patch, created)
        except Invalid as error:
            problems.extend(replace(p, path=item_path(index, p.path)) for p in error.problems)
            continue
        values: dict[str, Any] = {"modified_at": fixture.modified_at or created}
        values.update(fixture.profile)
        made.append(replace(customer, **values))
    if problems:
        raise Invalid(problems)
    with store.writing() as transaction:
        owners = transaction.email_owners(
            account,
            {Collection.EMAILS.key(e.value) for customer in made for e in customer.emails},
            besides=None,
        )
        seen: set[str] = set(owners)
        for index, customer in enumerate(made):
            for email in customer.emails:
                if Collection.EMAILS.key(email.value) in seen:
                    raise FixtureEmailTaken(index, email.value)
            seen.update(Collection.EMAILS.key(email.value) for email in customer.emails)
        return transaction.add_customers(account, made) if made else []


@unbounded
def export(store: Store, account: int) -> list[Customer]:
    """Every customer of the account as it is now, with every id: what a snapshot keeps."""
    with store.reading() as transaction:
        return transaction.account_customers(account)


@unbounded
def restore(store: Store, account: int, saved: Sequence[Customer]) -> None:
    """Make the account's customers exactly `saved` (an earlier `export` of the same account):
    the same ids, values and timestamps; customers added since are gone."""
    with store.writing() as transaction:
        transaction.clear_customers(account)
        transaction.put_customers(account, saved)
