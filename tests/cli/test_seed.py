"""`openscout db seed`: made-up customers that the API then lists and finds like any other."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from openscout import keys
from openscout.store.engine import SqlStore
from openscout.store.tables import customers, entries
from tests.conftest import BACKENDS, fresh_database, running_server

PATIENCE = 120


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path) as url:
        yield url


def openscout(url: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("OPENSCOUT_")}
    return subprocess.run(
        [sys.executable, "-m", "openscout", *arguments, "--database-url", url],
        env=environ,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        check=False,
    )


def test_seed_adds_realistic_customers_that_list_and_search_find(database_url: str) -> None:
    done = openscout(database_url, "db", "seed", "--customers", "120", "--account", "demo")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Added 120 customers to account 'demo' in ")
    assert "seeded 120 of 120 customers" in done.stderr
    again = openscout(database_url, "db", "seed", "--customers", "30", "--account", "demo")
    assert again.returncode == 0, again.stderr
    store = SqlStore(database_url)
    try:
        with store.reading() as transaction:
            run = transaction.connection.execute
            assert run(select(func.count()).select_from(customers)).scalar_one() == 150
            emails = run(select(entries.c.value_key).where(entries.c.collection == "emails"))
            addresses = [row.value_key for row in emails]
        assert len(addresses) >= 150 and len(set(addresses)) == len(addresses)
        key = keys.generate_key()
        with store.writing() as transaction:
            transaction.create_key("demo", None, keys.hash_key(key), key[:4], datetime.now(UTC))
        with (
            running_server(store) as server,
            httpx.Client(base_url=server.url, auth=(key, "X"), timeout=10) as http,
        ):
            listed = http.get("/v1/customers.json").json()
            assert (listed["count"], listed["pages"], len(listed["items"])) == (150, 3, 50)
            newest = listed["items"][0]
            assert newest["firstName"] and newest["lastName"]
            created = [item["createdAt"] for item in listed["items"]]
            assert created == sorted(created, reverse=True)
            found = http.get(
                "/v1/search/customers.json", params={"query": f"id:{newest['id']}"}
            ).json()
            (email,) = found["items"][0]["emails"][:1]
            by_email = http.get("/v1/customers.json", params={"email": email}).json()
            assert [item["id"] for item in by_email["items"]] == [newest["id"]]
    finally:
        store.close()


@pytest.mark.parametrize("count", ["0", "-5"])
def test_seed_refuses_a_count_below_one(tmp_path: Path, count: str) -> None:
    done = openscout(f"sqlite:///{tmp_path / 'x.db'}", "db", "seed", "--customers", count)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "openscout: --customers must be at least 1 and --account not blank"
    )
