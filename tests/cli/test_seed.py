"""`openscout db seed`: made-up customers that the API then lists and finds like any other."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from openscout import cli, service
from openscout.cli import main
from openscout.store.engine import SqlStore
from openscout.store.tables import customers, entries
from tests.conftest import BACKENDS, fresh_database, running_server


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path) as url:
        yield url


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def openscout(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Done]:
    """`openscout ARGUMENTS --database-url URL`, in this process."""
    for name in [name for name in os.environ if name.startswith("OPENSCOUT_")]:
        monkeypatch.delenv(name)

    def run(url: str, *arguments: str) -> Done:
        capsys.readouterr()
        try:
            code = main([*arguments, "--database-url", url])
        except SystemExit as exited:
            code = exited.code if isinstance(exited.code, int) else 1
        out, err = capsys.readouterr()
        return Done(code, out, err)

    return run


def test_seed_adds_realistic_customers_that_list_and_search_find(
    database_url: str, openscout: Callable[..., Done]
) -> None:
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
        key = service.create_key(store, "demo", None, datetime.now(UTC))
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
def test_seed_refuses_a_count_below_one(
    tmp_path: Path, count: str, openscout: Callable[..., Done]
) -> None:
    """Naming only what is wrong, before anything is made."""
    url = f"sqlite:///{tmp_path / 'x.db'}"
    done = openscout(url, "db", "seed", "--customers", count)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "openscout: --customers must be at least 1\n"
    done = openscout(url, "db", "seed", "--customers", count, "--account", " ")
    assert done.stderr == (
        "openscout: --customers must be at least 1; --account must not be blank\n"
    )
    done = openscout(url, "db", "seed", "--customers", "3", "--account", " ")
    assert done.stderr == "openscout: --account must not be blank\n"
    assert not (tmp_path / "x.db").exists()


def test_seeding_reports_each_tenth_when_not_on_a_terminal(
    tmp_path: Path, openscout: Callable[..., Done]
) -> None:
    done = openscout(f"sqlite:///{tmp_path / 'x.db'}", "db", "seed", "--customers", "1000")
    assert done.returncode == 0, done.stderr
    seeded = [
        int(line.split()[1].replace(",", ""))
        for line in done.stderr.splitlines()
        if line.startswith("seeded ")
    ]
    assert seeded[-1] == 1000
    # At least one line in every tenth of the way.
    assert {count * 10 // 1000 for count in seeded} >= set(range(1, 11)), seeded


def test_seeding_shows_a_progress_bar_on_a_terminal(
    tmp_path: Path, openscout: Callable[..., Done], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "_on_terminal", lambda: True)
    done = openscout(f"sqlite:///{tmp_path / 'x.db'}", "db", "seed", "--customers", "300")
    assert done.returncode == 0, done.stderr
    assert "seeded " not in done.stderr
    assert "300/300" in done.stderr and "100%" in done.stderr
