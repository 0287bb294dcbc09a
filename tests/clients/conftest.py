"""Fixtures of the real-client tests: published v2 client libraries, used as their users use
them, against a real openscout server (the `server` fixture: SQLite and PostgreSQL).

A client is pointed at openscout by its base URL and nothing else. Where a client has no base
URL to set (tap-helpscout writes `https://api.helpscout.net` into its code), the host is sent
to openscout below the client, at the transport, as a hosts-file entry would
(`tests/clients/tap.py`). No client's code or behaviour is changed."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from openscout import apps, sandbox, service
from openscout.contract.v2.fixtures import read_fixtures
from openscout.domain.properties import new_definition
from tests.conftest import Account, Server, new_app


@dataclass(frozen=True)
class App:
    """An OAuth app of a fresh account, as a client's user holds it."""

    account: Account
    client_id: str
    client_secret: str


@pytest.fixture
def app(server: Server, account: Account) -> App:
    client_id, client_secret = new_app(server.store, account.name)
    return App(account, client_id, client_secret)


def refresh_token(server: Server, app: App) -> str:
    """A refresh token of the app, as `openscout apps authorize` prints it."""
    issued = apps.authorize_as_owner(server.store, app.client_id, server.clock())
    assert issued.refresh_token is not None
    return issued.refresh_token


def load(server: Server, account: Account, customers: Sequence[Mapping[str, Any]]) -> list[int]:
    """Add customers (v2 fixtures: a create body, `updatedAt` allowed) to the account at once,
    as the control API's fixtures do; their ids in order."""
    account_id = service.find_account(server.store, account.name)
    assert account_id is not None
    fixtures = read_fixtures(json.dumps({"_embedded": {"customers": list(customers)}}).encode())
    return sandbox.load(server.store, account_id, fixtures, server.clock())


def define_property(
    server: Server, account: Account, slug: str, kind: str, options: Sequence[str] = ()
) -> None:
    """A customer property of the account, as `openscout properties create` makes one."""
    account_id = service.find_account(server.store, account.name)
    assert account_id is not None
    definition = new_definition(slug, slug.title(), kind, options)
    service.define_property(server.store, account_id, definition)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
