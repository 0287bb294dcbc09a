"""Fixtures of the tests of `openscout.testing`: pytester (to run example projects that use the
plugin as an outside project would), and a server with the control API on."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from openscout.config import Settings
from openscout.store.engine import SqlStore
from tests.conftest import Account, Server, new_account, running_server

pytest_plugins = ["pytester"]


@pytest.fixture(scope="session")
def control_server(store: SqlStore) -> Iterator[Server]:
    """A server of the session's store (one per backend) with the control API on."""
    settings = Settings(control_api=True, rate_limit=0, access_log=False)
    with running_server(store, settings) as running:
        yield running


@pytest.fixture
def me(control_server: Server) -> Account:
    return new_account(control_server.store)


@pytest.fixture
def http(control_server: Server, me: Account) -> Iterator[httpx.Client]:
    """A client of the control server, authenticated as a fresh account."""
    with httpx.Client(base_url=control_server.url, auth=(me.key, "X"), timeout=30) as client:
        yield client


@pytest.fixture
def other(control_server: Server) -> Iterator[httpx.Client]:
    """A client of the control server for a second fresh account."""
    account = new_account(control_server.store)
    with httpx.Client(base_url=control_server.url, auth=(account.key, "X"), timeout=30) as client:
        yield client
