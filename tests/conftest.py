"""Fixtures shared by every test layer: stores on real databases, real servers on sockets."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn

from openscout import keys
from openscout.config import Settings
from openscout.http.app import create_app
from openscout.store import schema
from openscout.store.sql import SqlStore


class Clock:
    """The server's clock in tests: real time or frozen, and moved on at will."""

    def __init__(self) -> None:
        self.offset = timedelta()
        self.frozen: datetime | None = None

    def __call__(self) -> datetime:
        return (self.frozen or datetime.now(UTC)) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)

    def freeze(self, moment: datetime) -> None:
        self.frozen, self.offset = moment, timedelta()

    def reset(self) -> None:
        self.frozen, self.offset = None, timedelta()


@dataclass
class Server:
    """A real openscout server on a loopback socket, with its store and clock."""

    url: str
    store: SqlStore
    clock: Clock


@dataclass
class Account:
    """A fresh account and a key of it."""

    name: str
    key: str


_accounts = itertools.count(1)


def new_account(store: SqlStore, name: str | None = None) -> Account:
    name = name or f"account-{next(_accounts)}-{time.monotonic_ns()}"
    key = keys.generate_key()
    with store.writing() as transaction:
        transaction.create_key(
            name, "test", keys.hash_key(key), key[: keys.PREFIX_LENGTH], datetime.now(UTC)
        )
    return Account(name, key)


def migrated_store(url: str) -> SqlStore:
    store = SqlStore(url)
    schema.upgrade(store)
    return store


@contextmanager
def running_server(store: SqlStore, settings: Settings | None = None) -> Iterator[Server]:
    """Serve `store` with uvicorn on a free loopback port in a background thread."""
    clock = Clock()
    app = create_app(settings or Settings(), store, clock=clock)
    sock = socket.create_server(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.005)
    try:
        yield Server(f"http://127.0.0.1:{sock.getsockname()[1]}", store, clock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("db") / "openscout.db"
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def store(database_url: str) -> Iterator[SqlStore]:
    store = migrated_store(database_url)
    yield store
    store.close()


@pytest.fixture(scope="session")
def server(store: SqlStore) -> Iterator[Server]:
    with running_server(store) as running:
        yield running


@pytest.fixture
def clock(server: Server) -> Iterator[Clock]:
    """The shared server's clock, back to real time after the test."""
    yield server.clock
    server.clock.reset()


@pytest.fixture
def account(server: Server) -> Account:
    """A fresh account of the shared server: tests never see each other's customers."""
    return new_account(server.store)


@pytest.fixture
def client(server: Server, account: Account) -> Iterator[httpx.Client]:
    """An HTTP client of the shared server, authenticated as a fresh account."""
    with httpx.Client(base_url=server.url, auth=(account.key, "X"), timeout=10) as http:
        yield http


@pytest.fixture
def anonymous(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        yield http
