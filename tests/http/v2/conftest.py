"""Fixtures of the v2 HTTP tests: a client of the shared server that speaks for a fresh
account with its v2 credential."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import Account, Server


def v2_auth(account: Account) -> httpx.Auth:
    """How a v2 client proves who it is: the one place to change when v2 credentials change.
    Today the account's v1 key as HTTP Basic auth, which the server takes on v2 paths too;
    with OAuth, a Bearer token of the account (spec helpscout-v2-customers.md §1)."""
    return httpx.BasicAuth(account.key, "X")


@pytest.fixture
def v2(server: Server, account: Account) -> Iterator[httpx.Client]:
    """An HTTP client of the shared server for the `account` fixture's account (the one the v1
    `client` speaks for, when a test asks for both)."""
    with httpx.Client(base_url=server.url, auth=v2_auth(account), timeout=10) as http:
        yield http
