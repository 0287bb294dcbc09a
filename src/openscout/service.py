"""Use cases, one transaction each: find the account of a key; create, get, update, list and
search an account's customers, and v2's overwrite, edit, delete and custom properties (the
caller has authenticated, http/auth.py: these take the account's id); and the owner's: create,
list and revoke keys, define properties, count and seed customers (the command line, the
sandbox and the tests make keys and seed through these)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from openscout import keys
from openscout.domain.changes import AddEntry, CustomerPatch, apply_patch, new_customer
from openscout.domain.customers import Collection, Customer
from openscout.domain.errors import (
    CustomerNotFound,
    EmailTaken,
    Invalid,
    MailboxNotFound,
    Problem,
    PropertyExists,
    Reason,
)
from openscout.domain.patch import CustomerEdits, EditEntry, apply_edits
from openscout.domain.properties import (
    PropertyDefinition,
    PropertyEdits,
    apply_property_edits,
    definition_problems,
)
from openscout.domain.search import Found, Search
from openscout.domain.webhooks import CUSTOMER_CREATED, CUSTOMER_DELETED, CUSTOMER_UPDATED
from openscout.store.base import ApiKey, Bulk, Customers, Store, unbounded, unbounded_when
from openscout.webhooks.events import Events

#: Ids above this cannot exist (ids are 32-bit, spec §2); larger ones are simply not found.
MAX_ID = 2**31 - 1
#: A create or update with more entries than this is not run on the event loop (store.run):
#: 5,000 entries (a 95 kB body) took up to 120 ms there, holding every other request.
LARGE_WRITE_ENTRIES = 500


def is_large(patch: CustomerPatch) -> bool:
    """Whether a write carries more entries than a bounded call should."""
    return sum(len(changes) for changes in patch.entries.values()) > LARGE_WRITE_ENTRIES


def is_long(edits: CustomerEdits | PropertyEdits) -> bool:
    """Whether an edit request carries more operations than a bounded call should."""
    return len(edits.edits) > LARGE_WRITE_ENTRIES


def account_for_key(store: Store, key_hash: str) -> int | None:
    """The account of a live key, by the key's hash (keys.hash_key); None when it is unknown
    or revoked."""
    with store.reading() as transaction:
        return transaction.account_for_key(key_hash)


@unbounded_when(lambda _store, _account, patch, _now, **_: is_large(patch))
def create_customer(
    store: Store, account: int, patch: CustomerPatch, now: datetime, *, events: Events
) -> Customer:
    with store.writing() as transaction:
        customer = new_customer(patch, now)
        _check_emails_free(transaction, account, customer, besides=None)
        created = transaction.add_customer(account, customer)
        events.record(transaction, account, CUSTOMER_CREATED, created)
        return created


def get_customer(store: Store, account: int, customer_id: int) -> Customer:
    with store.reading() as transaction:
        customer = _fetch(transaction, account, customer_id)
        return customer


@unbounded_when(lambda _store, _account, _customer_id, patch, _now, **_: is_large(patch))
def update_customer(
    store: Store,
    account: int,
    customer_id: int,
    patch: CustomerPatch,
    now: datetime,
    *,
    events: Events,
) -> Customer:
    """Apply a patch under a lock on the customer: concurrent updates never lose each other.
    A patch that changes nothing records no event."""
    with store.writing() as transaction:
        current = _fetch(transaction, account, customer_id, for_update=True)
        updated = apply_patch(current, patch, now)
        if updated is current:
            return current
        _check_emails_free(transaction, account, updated, besides=current)
        saved = transaction.save_customer(account, current, updated)
        events.record(transaction, account, CUSTOMER_UPDATED, saved)
        return saved


@unbounded_when(lambda _store, _account, _customer_id, patch, _now, **_: is_large(patch))
def overwrite_customer(
    store: Store,
    account: int,
    customer_id: int,
    patch: CustomerPatch,
    now: datetime,
    *,
    events: Events,
) -> Customer:
    """v2's PUT (spec v2 §4 "Overwrite Customer"): `patch` is `contract.v2.decode.
    overwrite_request`'s, which sets every own field (one left out becomes null, a gender
    `unknown`: domain.patch.overwrite) and names no entry, address or property, so those stay;
    so do v2's read-only fields. Otherwise an update (`update_customer`)."""
    return update_customer(store, account, customer_id, patch, now, events=events)


@dataclass(frozen=True, slots=True)
class Edited:
    """What an edit did: the customer as saved, and for each entry the edits added (each
    `AddEntry`, in order) the id of the entry that holds its value now: a new entry's, or that
    of the entry that already had the value (docs/decisions/v2-entry-overwrite.md); None when
    a later edit of the same request left no entry with that value. A sub-resource create
    (`POST /v2/customers/{id}/emails`) has one, its `Resource-ID`."""

    customer: Customer
    added: tuple[int | None, ...] = ()


@unbounded_when(lambda _store, _account, _customer_id, edits, _now, **_: is_long(edits))
def edit_customer(
    store: Store,
    account: int,
    customer_id: int,
    edits: CustomerEdits,
    now: datetime,
    *,
    events: Events,
) -> Edited:
    """v2's PATCH and every entry or address sub-resource write: the edits in order, all or
    none (domain.patch.apply_edits), under a lock on the customer; new email addresses must
    be free. Edits that change nothing write nothing (`updatedAt` stays) and record no event."""
    with store.writing() as transaction:
        current = _fetch(transaction, account, customer_id, for_update=True)
        updated = apply_edits(current, edits, now)
        if updated is not current:
            _check_emails_free(transaction, account, updated, besides=current)
            updated = transaction.save_customer(account, current, updated)
            events.record(transaction, account, CUSTOMER_UPDATED, updated)
        return Edited(updated, _added_ids(updated, edits))


def _added_ids(customer: Customer, edits: CustomerEdits) -> tuple[int | None, ...]:
    """Exact, not a guess: a collection holds at most one entry per value key (the domain
    refuses a request that would leave two), and an added value updates the entry with its
    key if there is one."""
    found: list[int | None] = []
    for edit in edits.edits:
        if isinstance(edit, EditEntry) and isinstance(edit.change, AddEntry):
            collection, key = edit.collection, edit.collection.key(edit.change.value)
            found.append(
                next(
                    (e.id for e in customer.entries(collection) if collection.key(e.value) == key),
                    None,
                )
            )
    return tuple(found)


@unbounded
def delete_customer(store: Store, account: int, customer_id: int, *, events: Events) -> None:
    """v2's DELETE (a permanent delete): the customer and everything it has are gone, for
    v1 too; its email addresses are free for another customer. `CustomerNotFound` when the
    account has no such customer. Unbounded: what goes with the customer (thousands of
    entries, say) is not known before, and deletes are rare enough that a thread costs
    nothing that matters."""
    with store.writing() as transaction:
        if not (0 < customer_id <= MAX_ID and transaction.delete_customer(account, customer_id)):
            raise CustomerNotFound(customer_id)
        events.record(transaction, account, CUSTOMER_DELETED, customer_id)


@unbounded_when(lambda _store, _account, _customer_id, edits, _now, **_: is_long(edits))
def edit_properties(
    store: Store,
    account: int,
    customer_id: int,
    edits: PropertyEdits,
    now: datetime,
    *,
    events: Events,
) -> Customer:
    """v2's `PATCH /v2/customers/{id}/properties` (and PUT): the edits in order against the
    account's definitions, all or none (domain.properties.apply_property_edits). The values
    come back in the order the account defined the properties, as the store reads them; a
    real change moves `modified_at` (docs/decisions/modified-at.md)."""
    with store.writing() as transaction:
        current = _fetch(transaction, account, customer_id, for_update=True)
        definitions = {d.slug: d for d in transaction.property_definitions(account)}
        updated = apply_property_edits(current, edits, definitions, now)
        order = {slug: at for at, slug in enumerate(definitions)}
        values = tuple(sorted(updated.properties, key=lambda value: order[value.slug]))
        if values == current.properties:
            return current  # edits that undo each other change nothing
        saved = transaction.save_customer(account, current, replace(updated, properties=values))
        events.record(transaction, account, CUSTOMER_UPDATED, saved)
        return saved


def define_property(store: Store, account: int, definition: PropertyDefinition) -> None:
    """Add a custom property to the account's (domain.properties.new_definition makes one from
    what a user typed). `Invalid` when the definition is not one (`definition_problems`),
    `PropertyExists` (an `Invalid` too) when the account has a property with its slug."""
    problems = definition_problems(definition)
    if problems:
        raise Invalid(problems)
    with store.writing() as transaction:
        if not transaction.define_property(account, definition):
            raise PropertyExists(definition.slug)


def list_properties(store: Store, account: int) -> list[PropertyDefinition]:
    """The account's custom properties, in the order they were defined."""
    with store.reading() as transaction:
        return transaction.property_definitions(account)


@unbounded
def list_customers_v2(store: Store, account: int, search: Search) -> Found:
    """A page of the account's customers meeting `search`, each with everything it has
    (entries, address, property values): v2's list items embed them (spec v2 §8a.6)."""
    with store.reading() as transaction:
        return transaction.find_customers(account, search, with_entries=True)


@unbounded
def list_customers(store: Store, account: int, search: Search) -> Found:
    """A page of the account's customers meeting `search` (list shape: no entries loaded)."""
    with store.reading() as transaction:
        return transaction.find_customers(account, search)


@unbounded
def search_customers(store: Store, account: int, search: Search) -> Found:
    """A page of the account's customers meeting `search`, with their email addresses."""
    with store.reading() as transaction:
        return transaction.find_customers(account, search, with_emails=True)


def list_mailbox_customers(store: Store, account: int, mailbox_id: int, page: int) -> Found:
    """The customers with conversations in a mailbox. openscout keeps no mailboxes yet, so
    every mailbox is unknown to every account (docs/list-and-search.md)."""
    raise MailboxNotFound(mailbox_id)


def _fetch(
    transaction: Customers, account: int, customer_id: int, *, for_update: bool = False
) -> Customer:
    customer = None
    if 0 < customer_id <= MAX_ID:
        customer = transaction.get_customer(account, customer_id, for_update=for_update)
    if customer is None:
        raise CustomerNotFound(customer_id)
    return customer


def _check_emails_free(
    transaction: Customers, account: int, customer: Customer, besides: Customer | None
) -> None:
    """An email address identifies at most one customer of an account (spec §10.6)."""
    known = {Collection.EMAILS.key(e.value) for e in besides.emails} if besides else set()
    fresh = {Collection.EMAILS.key(e.value): e.value for e in customer.emails}
    wanted = {key: value for key, value in fresh.items() if key not in known}
    if not wanted:
        return
    owners = transaction.email_owners(
        account, wanted, besides=besides.id if besides is not None else None
    )
    for key in wanted:
        if key in owners:
            raise EmailTaken(wanted[key])


# -- the owner's use cases: keys and accounts

#: The longest account and key name, in characters.
MAX_NAME_LENGTH = 200


def create_key(store: Store, account: str, name: str | None, now: datetime) -> str:
    """A new live key of `account` (created when new), named `name`: the key itself, which is
    shown only this once (only its hash is kept). `Invalid` for a blank or overlong account
    name or an overlong key name."""
    problems = [
        Problem((field,), value, reason)
        for field, value in (("account", account), ("name", name))
        if value is not None
        for reason in _name_problems(value, blank_allowed=field == "name")
    ]
    if problems:
        raise Invalid(problems)
    key = keys.generate_key()
    with store.writing() as transaction:
        transaction.create_key(account, name, keys.hash_key(key), key[: keys.PREFIX_LENGTH], now)
    return key


def _name_problems(value: str, *, blank_allowed: bool) -> list[Reason]:
    if not value.strip() and not blank_allowed:
        return [Reason.REQUIRED]
    if len(value) > MAX_NAME_LENGTH:
        return [Reason.TOO_LONG]
    return []


def list_keys(store: Store) -> list[ApiKey]:
    """Every key, live and revoked, oldest first (never the keys themselves)."""
    with store.reading() as transaction:
        return transaction.list_keys()


def revoke_key(store: Store, key_id: int, now: datetime) -> bool:
    """Revoke a key at once; False when there is no live key with that id."""
    with store.writing() as transaction:
        return transaction.revoke_key(key_id, now)


def count_live_keys(store: Store) -> int:
    with store.reading() as transaction:
        return transaction.count_live_keys()


def ensure_account(store: Store, name: str, now: datetime) -> int:
    """The id of the account `name`, created when new."""
    with store.writing() as transaction:
        return transaction.ensure_account(name, now)


def find_account(store: Store, name: str) -> int | None:
    """The id of the account `name`; None when there is none."""
    with store.reading() as transaction:
        return transaction.find_account(name)


def count_customers(store: Store, account: int) -> int:
    with store.reading() as transaction:
        return transaction.find_customers(account, Search(page_size=1)).count


# -- seeding


class Loader(Protocol):
    """A store that loads many customers at once (`db seed`)."""

    #: Whether a long load should commit as it goes (SQLite: its write-ahead log stays small).
    is_sqlite: bool

    def loading(self, report: Callable[[str], None] = ...) -> AbstractContextManager[Bulk]: ...

    def optimize(self) -> None: ...


#: Customers per INSERT batch (and per progress report), and per SQLite transaction: big enough
#: to be fast, small enough that SQLite's write-ahead log stays a manageable size.
SEED_BATCH = 5_000
SEED_TRANSACTION = 50_000


def seed_customers(
    store: Loader,
    account: int,
    made: Iterable[Customer],
    total: int,
    *,
    progress: Callable[[int], None] = lambda done: None,
    report: Callable[[str], None] = lambda line: None,
) -> None:
    """Add `total` customers of `made` to the account, whose email addresses the caller vouches
    are free; `progress` is told how many are in after each batch. PostgreSQL loads them in one
    transaction (`loading`: keys and indexes made once at the end, told to `report`); SQLite
    commits every SEED_TRANSACTION customers (`SeedClash` says how many were in when an address
    was taken)."""
    customers = iter(made)
    per_transaction = SEED_TRANSACTION if store.is_sqlite else total
    # Small loads report in twentieths at least.
    per_batch = max(1, min(SEED_BATCH, total // 20))
    done = committed = 0
    try:
        while done < total:
            with store.loading(report=report) as transaction:
                end = min(done + per_transaction, total)
                while done < end:
                    batch = list(itertools.islice(customers, min(per_batch, end - done)))
                    transaction.add_customers(account, batch)
                    done += len(batch)
                    progress(done)
            committed = done
    except EmailTaken as error:
        raise SeedClash(error.email, committed) from error
    store.optimize()


class SeedClash(EmailTaken):
    """A seeded customer's email address is taken in the account already: nothing of that
    transaction was written, `committed` customers had been added before it."""

    def __init__(self, email: str, committed: int) -> None:
        super().__init__(email)
        self.committed = committed
