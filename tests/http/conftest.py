"""Fixtures of the HTTP tests that deliver webhooks (tests/http/test_webhooks.py and
tests/http/v2/test_webhooks_api.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from openscout.config import Settings
from tests.conftest import BACKENDS, Server, fresh_database, migrated_store, running_server

#: A short backoff and timeout: retries come within a test's patience.
WEBHOOK_SETTINGS = Settings(access_log=False, webhook_backoff=0.05, webhook_timeout=2)


@pytest.fixture(scope="module", params=BACKENDS)
def hooks_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A server of the module's own database: no other server's deliverer takes its events."""
    directory: Path = tmp_path_factory.mktemp("webhooks")
    with fresh_database(request.param, directory) as url:
        store = migrated_store(url)
        try:
            with running_server(store, WEBHOOK_SETTINGS) as running:
                yield running
        finally:
            store.close()
