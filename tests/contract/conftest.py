"""A server of its own for the contract tests, on each backend: a fresh database with one account
and a few customers, so that the document's example ids name real customers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from openscout.config import Settings
from tests.conftest import (
    BACKENDS,
    Account,
    Server,
    bearer_token,
    fresh_database,
    migrated_store,
    new_account,
    running_server,
)

#: Customers 1 to 3 of the contract account: every shape has something in it.
CUSTOMERS = [
    {
        "firstName": "Vera",
        "lastName": "Lind",
        "organization": "Lind & Co",
        "background": "Met at the fair",
        "emails": [
            {"value": "vera@example.com"},
            {"value": "v.lind@example.org", "location": "home"},
        ],
        "phones": [{"value": "+1 555 0100", "location": "mobile"}],
        "chats": [{"value": "vera.lind", "type": "skype"}],
        "socialProfiles": [{"value": "https://example.com/vera", "type": "twitter"}],
        "websites": [{"value": "https://lind.example"}],
        "address": {
            "lines": ["1 Main St"],
            "city": "Boston",
            "state": "MA",
            "postalCode": "02110",
            "country": "US",
        },
    },
    {"firstName": "Zoë", "lastName": "Ng", "emails": [{"value": "zoe@example.com"}]},
    {"firstName": "Ann", "lastName": "Lee"},
]


@dataclass(frozen=True)
class Contract:
    server: Server
    account: Account
    #: A v2 access token of the account.
    token: str

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.server.url, auth=(self.account.key, "X"), timeout=30)

    def v2_client(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.Client(base_url=self.server.url, headers=headers, timeout=30)


@pytest.fixture(scope="module", params=BACKENDS)
def contract(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Contract]:
    """A fresh database per backend (PostgreSQL answered some hostile input differently)."""
    with fresh_database(request.param, tmp_path_factory.mktemp("contract")) as url:
        store = migrated_store(url)
        try:
            account = new_account(store, "contract")
            # Rate limits on, too high to reach: every answer carries the headers they add.
            settings = Settings(rate_limit=10**9, burst_limit=10**9, access_log=False)
            with running_server(store, settings, rate_limited=True) as server:
                ready = Contract(server, account, bearer_token(store, account.name))
                with ready.client() as http:
                    for customer in CUSTOMERS:
                        assert http.post("/v1/customers.json", json=customer).status_code == 201
                yield ready
        finally:
            store.close()


def pytest_report_header(config: pytest.Config) -> str:
    """The schemathesis run's size and seed, to repeat a failing run exactly."""
    from tests.contract.test_schemathesis import EXAMPLES, SEED

    return f"schemathesis: {EXAMPLES} examples per operation, seed {SEED}"
