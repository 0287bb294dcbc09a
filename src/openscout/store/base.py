"""The Store protocol: the only storage names the service layer knows."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import ParamSpec, Protocol, TypeVar

from openscout.domain.customers import Customer
from openscout.domain.search import Found, Search

P = ParamSpec("P")
T = TypeVar("T")


class StoreBusy(Exception):
    """A call made with `Store.call_inline` would have had to wait (for another process's write
    lock): its transaction was rolled back, and the call can be made again where waiting is
    allowed."""


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key as listed: never the key itself, which is shown once and stored hashed."""

    id: int
    account: str
    name: str | None
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Hit:
    """A request counted against one rate-limit period (spec §4): the fixed window it falls in
    (its start, in seconds since the epoch) and how much it counts (0 only reads the count)."""

    period: str
    start: int
    weight: int = 1


class Transaction(Protocol):
    """One database transaction: everything done through it commits or rolls back together."""

    def account_for_key(self, key_hash: str) -> int | None:
        """The account of a live (not revoked) key, by the key's hash."""

    def get_customer(
        self, account_id: int, customer_id: int, *, for_update: bool = False
    ) -> Customer | None:
        """The customer with everything it has, or None when the account has no such customer."""

    def add_customer(self, account_id: int, customer: Customer) -> Customer:
        """Insert a new customer; returns it with every id assigned."""

    def save_customer(self, account_id: int, before: Customer, after: Customer) -> Customer:
        """Write the difference between two states of one customer; returns `after` with ids."""

    def email_owners(
        self, account_id: int, email_keys: Iterable[str], *, besides: int | None
    ) -> dict[str, int]:
        """Which of these email keys belong to customers of the account other than `besides`."""

    def find_customers(
        self, account_id: int, search: Search, *, with_emails: bool = False
    ) -> Found:
        """The account's customers meeting `search.criteria`: how many in all, and the page
        asked for in its order. Customers carry their own fields (and emails `with_emails`)."""

    def add_customers(self, account_id: int, new: Sequence[Customer]) -> list[int]:
        """Insert many new customers at once; returns their ids in order. The caller vouches
        that their email addresses are free (a clash raises `EmailTaken` for the whole batch)."""

    def ensure_account(self, name: str, now: datetime) -> int:
        """The id of the account `name`, created when new."""

    def account_customers(self, account_id: int) -> list[Customer]:
        """Every customer of the account with everything it has, in id order."""

    def clear_customers(self, account_id: int) -> int:
        """Delete every customer of the account; returns how many there were."""

    def put_customers(self, account_id: int, saved: Sequence[Customer]) -> None:
        """Insert customers with the ids they carry (theirs, their entries' and address's), as
        a restore of the account's own earlier state does; nothing checks those ids are free."""

    def create_key(
        self, account: str, name: str | None, key_hash: str, prefix: str, now: datetime
    ) -> ApiKey:
        """Store a new key for `account`, creating the account when it is new."""

    def list_keys(self) -> list[ApiKey]: ...

    def revoke_key(self, key_id: int, now: datetime) -> bool:
        """Revoke a key; False when there is no live key with that id."""

    def count_live_keys(self) -> int: ...

    def count_hits(self, account_id: int, hits: Sequence[Hit]) -> dict[str, int]:
        """Add each hit to the account's counter for its period, which starts again from 0 in
        a later window, in one atomic step; the count of each period afterwards."""


class Store(Protocol):
    """Opens transactions. Writes are serialized per customer (or per database on SQLite)."""

    #: Whether `call_inline` may be used: calls answered without waiting on a network or a
    #: lock can run on the event loop itself (http/calls.py).
    inline: bool

    def call_inline(self, function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """`function(*args, **kwargs)` in this thread, its transactions refusing to wait: where
        a transaction would wait, it is rolled back and `StoreBusy` raised."""

    def reading(self) -> AbstractContextManager[Transaction]: ...

    def writing(self) -> AbstractContextManager[Transaction]: ...

    def ping(self) -> None:
        """Raise `StoreUnavailable` unless the database answers."""

    def close(self) -> None: ...
