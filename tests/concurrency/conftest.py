"""Fixtures for the process tests: a fresh database per test, on each backend."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tests.conftest import BACKENDS, Account, fresh_database, migrated_store, new_account


@dataclass(frozen=True)
class Database:
    """A fresh, migrated database with one account, for servers started by the test."""

    backend: str
    url: str
    account: Account
    directory: Path

    @property
    def auth(self) -> tuple[str, str]:
        return (self.account.key, "X")

    def engine(self) -> Engine:
        """A direct connection for checks the API cannot make (counting rows)."""
        url = make_url(self.url)
        if url.get_backend_name() == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        return create_engine(url, poolclass=NullPool)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def fresh_url(backend: str, tmp_path: Path) -> Iterator[str]:
    with fresh_database(backend, tmp_path) as url:
        yield url


@pytest.fixture
def database(backend: str, fresh_url: str, tmp_path: Path) -> Database:
    store = migrated_store(fresh_url)
    try:
        account = new_account(store)
    finally:
        store.close()
    return Database(backend, fresh_url, account, tmp_path)
