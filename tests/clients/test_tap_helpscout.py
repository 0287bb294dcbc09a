"""tap-helpscout (PyPI; the Singer connector), unedited, syncing its `customers` stream from
openscout.

What the tap does, read from its code: it knows only the refresh-token grant, sent as a form,
at the start of every run, and writes the rotated refresh token back into its config file
(`client.py`; spec §8a.2); it pages `GET /v2/customers?sortField=modifiedAt&sortOrder=asc&
modifiedSince=<bookmark>&page=N`, the query joined by hand, unencoded, counting pages with
`page.number` and `page.totalPages` (`streams/abstract.py`; §8a.5, §8a.11-12, §8a.15); it reads
a customer's entries and address only from the list items' `_embedded` (`transform.py`;
§8a.6); its bookmark is the greatest `updatedAt` it saw, and it keeps records equal to it.

Its code names `https://api.helpscout.net` and takes no base URL, so its requests are sent to
openscout at the transport; each run is a process of its own, as its `main()` runs it: a
client made from the config file, then `sync` with the catalog's `customers` stream selected and
the state of the run before (tests/clients/tap.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.clients.conftest import App, load, refresh_token, stamp
from tests.conftest import Clock, Server, bearer_token

START = datetime(2023, 3, 1, 8, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


def write_config(path: Path, server: Server, app: App, start_date: datetime) -> Path:
    config = {
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "refresh_token": refresh_token(server, app),
        "user_agent": "openscout tests",
        "start_date": stamp(start_date),
    }
    path.write_text(json.dumps(config))
    return path


def run_tap(server: Server, config_path: Path, state: dict[str, Any]) -> list[dict[str, Any]]:
    """One run of the tap's sync of `customers` (tests/clients/tap.py); the Singer messages it
    wrote."""
    ran = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.clients.tap",
            server.url,
            str(config_path),
            json.dumps(state),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr
    return [json.loads(line) for line in ran.stdout.splitlines()]


def records(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == "customers"]


def last_state(messages: list[dict[str, Any]]) -> dict[str, Any]:
    state: dict[str, Any] = [m for m in messages if m["type"] == "STATE"][-1]["value"]
    return state


def minutes(n: int) -> str:
    return stamp(START + timedelta(minutes=n))


@pytest.fixture
def config_path(tmp_path: Path, server: Server, app: App) -> Path:
    return write_config(tmp_path / "config.json", server, app, START - timedelta(days=1))


def test_syncs_every_customer_across_pages_with_its_entries(
    server: Server, app: App, clock: Clock, config_path: Path
) -> None:
    clock.freeze(START + timedelta(hours=2))
    old = load(
        server,
        app.account,
        [
            {
                "firstName": "Old",
                "updatedAt": stamp(START - timedelta(days=30)),
                "createdAt": stamp(START - timedelta(days=30)),
            }
        ],
    )
    made = load(
        server,
        app.account,
        [
            {
                "firstName": f"Sam{n}",
                "lastName": "Sync",
                "createdAt": minutes(0),
                "updatedAt": minutes(n // 2),  # pairs that tie: the order breaks ties by id
                "emails": [{"type": "work", "value": f"sam{n}@sync.example"}],
                "phones": [{"type": "home", "value": f"555-{n:04}"}],
                "socialProfiles": [{"type": "twitter", "value": f"@sam{n}"}],
                "address": {
                    "city": "Lyon",
                    "state": "ARA",
                    "postalCode": "69001",
                    "country": "FR",
                    "lines": [f"{n} rue Sync"],
                },
            }
            for n in range(61)
        ],
    )
    first_refresh = json.loads(config_path.read_text())["refresh_token"]

    messages = run_tap(server, config_path, {})

    synced = records(messages)
    assert [r["id"] for r in synced] == made  # two pages, in order, none twice, none older
    assert old[0] not in [r["id"] for r in synced]
    sam = synced[7]
    assert (sam["first_name"], sam["last_name"], sam["updated_at"]) == (
        "Sam7",
        "Sync",
        f"{minutes(3)[:-1]}.000000Z",
    )
    assert [(e["type"], e["value"]) for e in sam["emails"]] == [("work", "sam7@sync.example")]
    assert [p["value"] for p in sam["phones"]] == ["555-0007"]
    assert [s["value"] for s in sam["social_profiles"]] == ["@sam7"]
    assert sam["address"] == {
        "city": "Lyon",
        "state": "ARA",
        "postal_code": "69001",
        "country": "FR",
        "lines": ["7 rue Sync"],
    }
    assert last_state(messages) == {
        "currently_syncing": None,
        "bookmarks": {"customers": minutes(30)},
    }

    # The tap kept the rotated refresh token; the one it used no longer works (§8a.2).
    config = json.loads(config_path.read_text())
    assert config["refresh_token"] != first_refresh
    refused = httpx.post(
        f"{server.url}/v2/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "refresh_token": first_refresh,
        },
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"


def test_a_later_run_reads_from_its_bookmark_with_the_rotated_token(
    server: Server, app: App, clock: Clock, config_path: Path
) -> None:
    clock.freeze(START + timedelta(hours=1))
    ann, bo, cy = load(
        server,
        app.account,
        [
            {"firstName": name, "createdAt": minutes(0), "updatedAt": minutes(at)}
            for name, at in (("Ann", 0), ("Bo", 1), ("Cy", 2))
        ],
    )
    first = run_tap(server, config_path, {})
    assert [r["id"] for r in records(first)] == [ann, bo, cy]
    state = last_state(first)
    assert state["bookmarks"] == {"customers": minutes(2)}

    changed = httpx.patch(
        f"{server.url}/v2/customers/{ann}",
        json=[{"op": "replace", "path": "/firstName", "value": "Anne"}],
        headers={"Authorization": f"Bearer {bearer_token(server.store, app.account.name)}"},
    )
    assert changed.status_code == 204

    second = run_tap(server, config_path, state)  # the refresh token the first run left
    again = records(second)
    # modifiedSince is inclusive (§8a.11): Cy, at the bookmark, comes again; then Ann's change.
    assert [(r["id"], r["first_name"]) for r in again] == [(cy, "Cy"), (ann, "Anne")]
    assert last_state(second)["bookmarks"] == {"customers": minutes(60)}


def test_an_account_without_customers_syncs_nothing(server: Server, config_path: Path) -> None:
    messages = run_tap(server, config_path, {})  # totalPages 0, page.number 1: one request
    assert records(messages) == []
    assert last_state(messages) == {
        "currently_syncing": None,
        "bookmarks": {"customers": stamp(START - timedelta(days=1))},
    }
