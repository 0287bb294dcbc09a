"""Use cases, one transaction each: authenticate the key, then create, get or update a customer."""

from __future__ import annotations

from datetime import datetime

from openscout import keys
from openscout.domain.changes import CustomerPatch, apply_patch, new_customer
from openscout.domain.customers import Collection, Customer
from openscout.domain.errors import CustomerNotFound, EmailTaken, MailboxNotFound, Unauthorized
from openscout.domain.search import Found, Search
from openscout.store.base import Customers, Keys, Store, unbounded

#: Ids above this cannot exist (ids are 32-bit, spec §2); larger ones are simply not found.
MAX_ID = 2**31 - 1


def authenticate(store: Store, api_key: str | None) -> int:
    """The account of a live key, or `Unauthorized`."""
    with store.reading() as transaction:
        return _account(transaction, api_key)


def create_customer(
    store: Store, api_key: str | None, patch: CustomerPatch, now: datetime
) -> Customer:
    with store.writing() as transaction:
        account = _account(transaction, api_key)
        customer = new_customer(patch, now)
        _check_emails_free(transaction, account, customer, besides=None)
        return transaction.add_customer(account, customer)


def get_customer(store: Store, api_key: str | None, customer_id: int) -> Customer:
    with store.reading() as transaction:
        account = _account(transaction, api_key)
        customer = _fetch(transaction, account, customer_id)
        return customer


def update_customer(
    store: Store, api_key: str | None, customer_id: int, patch: CustomerPatch, now: datetime
) -> Customer:
    """Apply a patch under a lock on the customer: concurrent updates never lose each other."""
    with store.writing() as transaction:
        account = _account(transaction, api_key)
        current = _fetch(transaction, account, customer_id, for_update=True)
        updated = apply_patch(current, patch, now)
        if updated is current:
            return current
        _check_emails_free(transaction, account, updated, besides=current)
        return transaction.save_customer(account, current, updated)


@unbounded
def list_customers(store: Store, api_key: str | None, search: Search) -> Found:
    """A page of the account's customers meeting `search` (list shape: no entries loaded)."""
    with store.reading() as transaction:
        account = _account(transaction, api_key)
        return transaction.find_customers(account, search)


@unbounded
def search_customers(store: Store, api_key: str | None, search: Search) -> Found:
    """A page of the account's customers meeting `search`, with their email addresses."""
    with store.reading() as transaction:
        account = _account(transaction, api_key)
        return transaction.find_customers(account, search, with_emails=True)


def list_mailbox_customers(store: Store, api_key: str | None, mailbox_id: int, page: int) -> Found:
    """The customers with conversations in a mailbox. openscout keeps no mailboxes yet, so
    every mailbox is unknown to every account (docs/list-and-search.md)."""
    with store.reading() as transaction:
        _account(transaction, api_key)
        raise MailboxNotFound(mailbox_id)


def _account(transaction: Keys, api_key: str | None) -> int:
    if not api_key:
        raise Unauthorized()
    account = transaction.account_for_key(keys.hash_key(api_key))
    if account is None:
        raise Unauthorized()
    return account


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
