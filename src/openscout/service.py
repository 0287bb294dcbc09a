"""Use cases, one transaction each: find the account of a key; create, get, update, list and
search an account's customers. The caller has authenticated (http/auth.py): use cases take the
account's id."""

from __future__ import annotations

from datetime import datetime

from openscout.domain.changes import CustomerPatch, apply_patch, new_customer
from openscout.domain.customers import Collection, Customer
from openscout.domain.errors import CustomerNotFound, EmailTaken, MailboxNotFound
from openscout.domain.search import Found, Search
from openscout.store.base import Customers, Store, unbounded

#: Ids above this cannot exist (ids are 32-bit, spec §2); larger ones are simply not found.
MAX_ID = 2**31 - 1


def account_for_key(store: Store, key_hash: str) -> int | None:
    """The account of a live key, by the key's hash (keys.hash_key); None when it is unknown
    or revoked."""
    with store.reading() as transaction:
        return transaction.account_for_key(key_hash)


def create_customer(store: Store, account: int, patch: CustomerPatch, now: datetime) -> Customer:
    with store.writing() as transaction:
        customer = new_customer(patch, now)
        _check_emails_free(transaction, account, customer, besides=None)
        return transaction.add_customer(account, customer)


def get_customer(store: Store, account: int, customer_id: int) -> Customer:
    with store.reading() as transaction:
        customer = _fetch(transaction, account, customer_id)
        return customer


def update_customer(
    store: Store, account: int, customer_id: int, patch: CustomerPatch, now: datetime
) -> Customer:
    """Apply a patch under a lock on the customer: concurrent updates never lose each other."""
    with store.writing() as transaction:
        current = _fetch(transaction, account, customer_id, for_update=True)
        updated = apply_patch(current, patch, now)
        if updated is current:
            return current
        _check_emails_free(transaction, account, updated, besides=current)
        return transaction.save_customer(account, current, updated)


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
