"""Fixtures for the security tests: another account with a customer that has everything, and a
fingerprint of the whole database to prove that a request changed nothing."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from openscout.store.engine import SqlStore
from openscout.store.tables import metadata
from tests.helpers import create, fetch

#: The neighbour's customer: a value in every field that search, lists and entries reach.
NEIGHBOUR = {
    "firstName": "Nadia",
    "lastName": "Quorn",
    "organization": "Quorn Holdings",
    "jobTitle": "Treasurer",
    "background": "Knows where the money is",
    "emails": [{"value": "nadia@quorn.example"}],
    "phones": [{"value": "+44 20 7946 0000"}],
    "chats": [{"value": "nadia.quorn", "type": "skype"}],
    "socialProfiles": [{"value": "https://example.com/nadia", "type": "twitter"}],
    "websites": [{"value": "https://quorn.example"}],
    "address": {
        "lines": ["1 Vault Lane"],
        "city": "London",
        "state": "LDN",
        "postalCode": "EC2",
        "country": "GB",
    },
}


@dataclass(frozen=True)
class Neighbour:
    """Another account's customer, as its own account sees it."""

    client: httpx.Client
    customer: int
    item: dict[str, Any]

    def entry_ids(self) -> dict[str, list[int]]:
        return {
            name: [entry["id"] for entry in self.item[name] or ()]
            for name in ("emails", "phones", "chats", "socialProfiles", "websites")
        }

    def unchanged(self) -> bool:
        return fetch(self.client, self.customer) == self.item


@pytest.fixture
def neighbour(other_client: httpx.Client) -> Neighbour:
    customer = create(other_client, **NEIGHBOUR)
    return Neighbour(other_client, customer, fetch(other_client, customer))


def fingerprint(store: SqlStore, *, leave_out: tuple[str, ...] = ("rate_limits",)) -> str:
    """A digest of every row of every table: equal fingerprints, unchanged data."""
    digest = hashlib.sha256()
    with store.reading() as transaction:
        for table in metadata.sorted_tables:
            if table.name in leave_out:
                continue
            rows = transaction.connection.execute(select(table)).all()
            digest.update(table.name.encode())
            for row in sorted(repr(tuple(row)) for row in rows):
                digest.update(row.encode())
    return digest.hexdigest()
