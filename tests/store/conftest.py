"""Store fixtures: databases made for the test, on every backend (a real SQLite file in tmp_path,
a PostgreSQL database of its own), reached through their URL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from openscout.store.engine import SqlStore
from tests.conftest import BACKENDS, fresh_database, migrated_store


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """`sqlite` or `postgresql`: each store test runs once per backend."""
    return str(request.param)


@pytest.fixture
def empty_database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """The URL of a database with nothing in it, dropped after the test."""
    with fresh_database(backend, tmp_path) as url:
        yield url


@pytest.fixture(scope="module")
def module_store(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqlStore]:
    """A migrated store on a database of this module's own; tests isolate by account."""
    with fresh_database(backend, tmp_path_factory.mktemp("store")) as url:
        store = migrated_store(url)
        try:
            yield store
        finally:
            store.close()
