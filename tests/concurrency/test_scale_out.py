"""Scale-out: several processes on one database share everything through it. Processes started
at once on an empty database migrate it once; each process keeps to its pool size."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from openscout.store import schema
from tests.concurrency.conftest import Database
from tests.concurrency.processes import Call, burst, serving
from tests.conftest import migrated_store, new_account

PATH = "/v1/customers.json"


def customer_path(customer_id: int) -> str:
    return f"/v1/customers/{customer_id}.json"


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_customer_made_through_one_process_is_read_and_updated_through_the_others(
    database: Database,
) -> None:
    with serving(database.url, database.directory, 3) as servers:
        one, two, three = (
            httpx.Client(base_url=s.url, auth=database.auth, timeout=30) for s in servers
        )
        with one, two, three:
            created = one.post(
                PATH,
                json={"firstName": "Shared", "lastName": "State", "emails": [{"value": "s@x.io"}]},
            )
            assert created.status_code == 201
            path = customer_path(int(created.headers["location"].rsplit("/", 1)[1][:-5]))
            from_one = one.get(path).json()["item"]
            assert two.get(path).json()["item"] == from_one
            assert three.get(path).json()["item"] == from_one

            assert two.put(path, json={"organization": "Two Inc"}).status_code == 200
            assert three.get(path).json()["item"]["organization"] == "Two Inc"
            assert three.put(path, json={"phones": [{"value": "+1 555 0100"}]}).status_code == 200
            item = one.get(path).json()["item"]
            assert item["organization"] == "Two Inc"
            assert [p["value"] for p in item["phones"]] == ["+1 555 0100"]
            assert two.get(path).json()["item"] == item

            # An email taken through one process is taken for the others too.
            taken = three.post(
                PATH, json={"firstName": "Copy", "lastName": "Cat", "emails": [{"value": "S@X.IO"}]}
            )
            assert taken.status_code == 409


@pytest.mark.parametrize("backend", ["postgresql"])
def test_each_process_keeps_to_its_pool_size(database: Database) -> None:
    processes, pool_size = 3, 2
    watching = "openscout-tests-watching"
    engine = create_engine(
        database.engine().url, poolclass=NullPool, connect_args={"application_name": watching}
    )
    database_name = engine.url.database
    peak = 0
    done = threading.Event()

    def connections() -> int:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = :name AND application_name <> :watching"
                    ),
                    {"name": database_name, "watching": watching},
                ).scalar_one()
            )

    def watch() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, connections())
            done.wait(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    try:
        with serving(database.url, database.directory, processes, pool_size=pool_size) as servers:
            watcher.start()
            calls = [
                Call(
                    servers[n % processes].url,
                    "POST",
                    PATH,
                    {"firstName": f"P{n}", "lastName": "Pool"},
                )
                for n in range(120)
            ]
            outcomes = burst(calls, database.auth, concurrency=40)
            assert {o.status for o in outcomes} == {201}
            at_rest = connections()
    finally:
        done.set()
        watcher.join(timeout=10)
        engine.dispose()
    assert 1 <= at_rest <= processes * pool_size
    assert 1 <= peak <= processes * pool_size


def test_processes_started_together_on_an_empty_database_migrate_it_once(
    backend: str, fresh_url: str, tmp_path: Path
) -> None:
    with serving(fresh_url, tmp_path, 3) as servers:
        store = migrated_store(fresh_url)
        try:
            assert schema.current_revision(store) == schema.head_revision()
            assert schema.drift(store) == []
            engine: Engine = store.engine
            with engine.connect() as connection:
                versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
            assert versions == [(schema.head_revision(),)]
            account = new_account(store)
        finally:
            store.close()
        created = burst(
            [Call(s.url, "POST", PATH, {"firstName": "Up", "lastName": "Start"}) for s in servers],
            (account.key, "X"),
            concurrency=3,
        )
        assert [o.status for o in created] == [201, 201, 201]


def run_cli(
    *arguments: str, environment: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENSCOUT_")}
    return subprocess.run(
        [sys.executable, "-m", "openscout", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        env={**clean, **(environment or {})},
        check=False,
    )


def test_db_upgrade_migrates_either_backend_once(backend: str, fresh_url: str) -> None:
    head = schema.head_revision()
    # The URL from the environment the first time, from the option the second.
    first = run_cli("db", "upgrade", environment={"OPENSCOUT_DATABASE_URL": fresh_url})
    assert first.returncode == 0, first.stderr
    assert first.stdout == f"Migrated the database from schema none to {head}.\n"
    second = run_cli("db", "upgrade", "--database-url", fresh_url)
    assert second.returncode == 0, second.stderr
    assert second.stdout == f"The database is up to date (schema {head}).\n"
    check = run_cli("db", "check", "--database-url", fresh_url)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout == f"The database schema matches the code (schema {head}).\n"
