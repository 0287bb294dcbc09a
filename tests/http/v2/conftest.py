"""Fixtures of the v2 HTTP tests: a client of the shared server that speaks for a fresh
account with its v2 credential, an OAuth access token (v2 spec §1)."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from datetime import datetime

import httpx
import pytest

from openscout.store.engine import SqlStore
from tests.conftest import Account, Server, bearer_token


class Bearer(httpx.Auth):
    """`Authorization: Bearer <token>` on every request."""

    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


def v2_auth(store: SqlStore, account: Account, *, now: datetime | None = None) -> Bearer:
    """How a v2 client proves who it is: a live access token of the account (client
    credentials of a new app), issued at `now` (the server's clock; real time by default)."""
    return Bearer(bearer_token(store, account.name, now=now))


def authorization(http: httpx.Client) -> str:
    """The `Authorization` header a v2 client sends, for requests written as raw bytes."""
    auth = http.auth
    assert isinstance(auth, Bearer)
    return f"Bearer {auth.token}"


@pytest.fixture
def v2(server: Server, account: Account) -> Iterator[httpx.Client]:
    """An HTTP client of the shared server for the `account` fixture's account (the one the v1
    `client` speaks for, when a test asks for both)."""
    with httpx.Client(base_url=server.url, auth=v2_auth(server.store, account), timeout=10) as http:
        yield http
