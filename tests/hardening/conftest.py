"""Fixtures for the abuse tests: servers with Help Scout's rate limits on, and Redis."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from openscout.config import Settings
from openscout.store.engine import SqlStore
from tests.conftest import Server, in_ci, running_server

REDIS_URL_VARIABLE = "OPENSCOUT_TEST_REDIS_URL"
#: Where Redis answers on every machine of the project.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_url() -> str:
    """The Redis to test against; skips the test when there is none (fails when CI=true)."""
    import redis

    url = os.environ.get(REDIS_URL_VARIABLE) or DEFAULT_REDIS_URL
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        problem = f"Redis at {url} cannot be reached ({error})"
        if in_ci():
            pytest.fail(f"{problem}; CI=true requires the Redis tests to run", pytrace=False)
        pytest.skip(f"Redis tests skipped: {problem}. Set {REDIS_URL_VARIABLE} to run them.")
    finally:
        client.close()
    return url


#: Help Scout's limits (spec §4), as `serve --helpscout-limits` has them.
HELP_SCOUT = Settings(rate_limit=200, burst_limit=12, access_log=False)


@pytest.fixture(scope="module")
def limited(store: SqlStore) -> Iterator[Server]:
    """A server of the session's store with Help Scout's rate limits on, counted in the
    database. Tests freeze its clock; each uses accounts of its own."""
    with running_server(store, HELP_SCOUT, rate_limited=True) as server:
        yield server


@pytest.fixture
def limited_clock(limited: Server) -> Iterator[None]:
    yield
    limited.clock.reset()
