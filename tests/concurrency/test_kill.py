"""kill -9 in the middle of a burst of updates: afterwards every customer is either wholly
updated or untouched, and every update the clients were told succeeded is there."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy.engine import make_url

from tests.concurrency.conftest import Database
from tests.concurrency.processes import Call, Outcome, ServeProcess, burst, serving

PATH = "/v1/customers.json"
CUSTOMERS = 150
CONCURRENCY = 24
#: The victim is killed once this many answers have come back, with more still in flight.
KILL_AFTER = 45


def customer_path(customer_id: int) -> str:
    return f"/v1/customers/{customer_id}.json"


def baseline(n: int) -> dict[str, Any]:
    return {
        "firstName": f"Base{n}",
        "lastName": "Line",
        "emails": [{"value": f"old-{n}@example.com"}],
        "phones": [{"value": f"+1 555 1{n:03d}", "location": "home"}],
        "chats": [{"value": f"old-chat-{n}", "type": "icq"}],
    }


def update(n: int, item: dict[str, Any]) -> dict[str, Any]:
    """One request touching every table: scalars, two new emails, a changed phone, a removed
    chat, three new websites and a new address."""
    return {
        "firstName": f"New{n}",
        "lastName": f"Changed{n}",
        "organization": f"Org {n}",
        "emails": [{"value": f"new-{n}-a@example.com"}, {"value": f"new-{n}-b@example.com"}],
        "phones": [{"id": item["phones"][0]["id"], "value": f"+1 555 9{n:03d}"}],
        "chats": [{"id": -item["chats"][0]["id"]}],
        "websites": [{"value": f"https://{n}.example.com/{page}"} for page in ("a", "b", "c")],
        "address": {
            "lines": [f"{n} Main Street"],
            "city": "Boston",
            "state": "MA",
            "postalCode": "02110",
            "country": "US",
        },
    }


def is_updated(n: int, before: dict[str, Any], item: dict[str, Any]) -> bool:
    address = item["address"] or {}
    return (
        (item["firstName"], item["lastName"], item["organization"])
        == (f"New{n}", f"Changed{n}", f"Org {n}")
        and [e["value"] for e in item["emails"]]
        == [f"old-{n}@example.com", f"new-{n}-a@example.com", f"new-{n}-b@example.com"]
        and [(p["id"], p["value"], p["location"]) for p in item["phones"]]
        == [(before["phones"][0]["id"], f"+1 555 9{n:03d}", "home")]
        and item["chats"] is None
        and [w["value"] for w in item["websites"] or []]
        == [f"https://{n}.example.com/{page}" for page in ("a", "b", "c")]
        and (
            address.get("lines"),
            address.get("city"),
            address.get("state"),
            address.get("postalCode"),
            address.get("country"),
        )
        == ([f"{n} Main Street"], "Boston", "MA", "02110", "US")
        and item["modifiedAt"] >= before["modifiedAt"]
    )


def test_kill_9_in_a_burst_leaves_every_customer_whole(database: Database) -> None:
    with serving(database.url, database.directory, 2, workers=2) as (victim, survivor):
        created = burst(
            [
                Call(survivor.url, "POST", PATH + "?reload=true", baseline(n))
                for n in range(CUSTOMERS)
            ],
            database.auth,
            concurrency=8,
        )
        assert {o.status for o in created} == {201}
        before = [o.json()["item"] for o in created]

        def kill_midway(answered: int) -> None:
            if answered == KILL_AFTER:
                victim.kill()

        # Two in three updates go to the victim, so many are in flight when it dies.
        calls = [
            Call(
                survivor.url if n % 3 == 2 else victim.url,
                "PUT",
                customer_path(item["id"]),
                update(n, item),
            )
            for n, item in enumerate(before)
        ]
        outcomes = burst(calls, database.auth, concurrency=CONCURRENCY, on_outcome=kill_midway)
        assert not victim.is_running()

        restarted = ServeProcess(database.url, victim.log, workers=2, port=victim.port)
        try:
            restarted.start().wait_ready()
            after = [
                o.json()["item"]
                for o in burst(
                    [Call(restarted.url, "GET", customer_path(item["id"])) for item in before],
                    database.auth,
                    concurrency=8,
                )
            ]
        finally:
            restarted.stop()

    check_whole(before, outcomes, after, survivor.url)
    if database.backend == "sqlite":
        check_sqlite_file(database.url)


def check_whole(
    before: list[dict[str, Any]],
    outcomes: list[Outcome],
    after: list[dict[str, Any]],
    survivor_url: str,
) -> None:
    told_ok = [n for n, o in enumerate(outcomes) if o.status == 200]
    # Every answer is a success; only requests to the victim go unanswered, and some do (the
    # burst outlives the victim).
    assert {o.status for o in outcomes if o.status is not None} == {200}
    assert all(o.status == 200 for o in outcomes if o.call.base_url == survivor_url)
    assert any(o.status is None for o in outcomes)
    assert len(told_ok) >= KILL_AFTER
    partial = [
        n
        for n, item in enumerate(after)
        if item != before[n] and not is_updated(n, before[n], item)
    ]
    assert partial == [], f"customers left half-updated: {partial}"
    lost = [n for n in told_ok if not is_updated(n, before[n], after[n])]
    assert lost == [], f"updates answered 200 but missing after the restart: {lost}"


def check_sqlite_file(url: str) -> None:
    path = make_url(url).database
    assert path
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        connection.close()
