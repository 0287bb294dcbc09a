"""The Store protocol: the only storage names the service layer knows."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from openscout.domain.customers import Customer


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key as listed: never the key itself, which is shown once and stored hashed."""

    id: int
    account: str
    name: str | None
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


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

    def create_key(
        self, account: str, name: str | None, key_hash: str, prefix: str, now: datetime
    ) -> ApiKey:
        """Store a new key for `account`, creating the account when it is new."""

    def list_keys(self) -> list[ApiKey]: ...

    def revoke_key(self, key_id: int, now: datetime) -> bool:
        """Revoke a key; False when there is no live key with that id."""

    def count_live_keys(self) -> int: ...


class Store(Protocol):
    """Opens transactions. Writes are serialized per customer (or per database on SQLite)."""

    def reading(self) -> AbstractContextManager[Transaction]: ...

    def writing(self) -> AbstractContextManager[Transaction]: ...

    def ping(self) -> None:
        """Raise `StoreUnavailable` unless the database answers."""

    def close(self) -> None: ...
