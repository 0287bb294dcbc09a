"""Many servers, one customer: concurrent updates never lose or duplicate each other's changes,
and concurrent writes of one email address never give it to two customers."""

from __future__ import annotations

import random
from collections import Counter

from sqlalchemy import text

from tests.concurrency.conftest import Database
from tests.concurrency.processes import Call, Outcome, burst, serving

PATH = "/v1/customers.json"
#: Two `openscout serve` processes with two uvicorn workers each: four writers in all.
SERVERS, WORKERS = 2, 2
CONCURRENCY = 32
PHONES, CHATS, REMOVED_CHATS = 20, 25, 20
NEW_EMAILS, TWICE_ADDED_PHONES = 30, 5
SCALARS = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "organization": "Analytical Engines",
    "jobTitle": "Programmer",
    "background": "Wrote the first program",
}


def customer_path(customer_id: int) -> str:
    return f"/v1/customers/{customer_id}.json"


def statuses(outcomes: list[Outcome]) -> Counter[int | str | None]:
    return Counter(o.status if o.status is not None else o.error for o in outcomes)


def test_concurrent_updates_of_one_customer_all_land_exactly_once(database: Database) -> None:
    with serving(database.url, database.directory, SERVERS, workers=WORKERS) as servers:
        created = burst(
            [
                Call(
                    servers[0].url,
                    "POST",
                    PATH + "?reload=true",
                    {
                        "firstName": "Before",
                        "lastName": "Update",
                        "emails": [{"value": "first@example.com"}],
                        "phones": [{"value": f"+1 555 0{n:03d}"} for n in range(PHONES)],
                        "chats": [{"value": f"chat-{n}", "type": "skype"} for n in range(CHATS)],
                    },
                )
            ],
            database.auth,
            concurrency=1,
        )[0]
        assert created.status == 201, created.body
        before = created.json()["item"]
        customer = customer_path(before["id"])
        phones = before["phones"]
        chats = before["chats"]
        assert len(phones) == PHONES and len(chats) == CHATS

        # Every change in its own request: each adds a different email, updates a different
        # phone, removes a different chat or sets a different field; a few new phones are sent
        # twice, and must still exist once.
        bodies: list[dict[str, object]] = [
            {"emails": [{"value": f"added-{n}@example.com", "location": "home"}]}
            for n in range(NEW_EMAILS)
        ]
        bodies += [
            {"phones": [{"id": phone["id"], "value": f"+44 20 7946 {n:04d}"}]}
            for n, phone in enumerate(phones)
        ]
        bodies += [{"chats": [{"id": -chat["id"]}]} for chat in chats[:REMOVED_CHATS]]
        bodies += [{name: value} for name, value in SCALARS.items()]
        bodies += [
            {"phones": [{"value": f"+33 1 {n:04d}", "location": "mobile"}]}
            for n in range(TWICE_ADDED_PHONES)
            for _twice in range(2)
        ]
        random.Random(4).shuffle(bodies)
        calls = [
            Call(servers[n % len(servers)].url, "PUT", customer, body)
            for n, body in enumerate(bodies)
        ]
        outcomes = burst(calls, database.auth, concurrency=CONCURRENCY)
        assert statuses(outcomes) == {200: len(calls)}

        got = burst([Call(servers[1].url, "GET", customer)], database.auth, concurrency=1)[0]
        assert got.status == 200
        after = got.json()["item"]

    assert {name: after[name] for name in SCALARS} == SCALARS
    assert after["fullName"] == "Ada Lovelace"
    emails = [(e["value"], e["location"]) for e in after["emails"]]
    assert Counter(emails) == Counter(
        [("first@example.com", "work")]
        + [(f"added-{n}@example.com", "home") for n in range(NEW_EMAILS)]
    )
    assert after["emails"][0] == before["emails"][0]
    updated = {p["id"]: (p["value"], p["location"]) for p in after["phones"][:PHONES]}
    assert updated == {
        phone["id"]: (f"+44 20 7946 {n:04d}", phone["location"]) for n, phone in enumerate(phones)
    }
    added_phones = [(p["value"], p["location"]) for p in after["phones"][PHONES:]]
    assert Counter(added_phones) == Counter(
        (f"+33 1 {n:04d}", "mobile") for n in range(TWICE_ADDED_PHONES)
    )
    assert after["chats"] == chats[REMOVED_CHATS:]
    assert after["modifiedAt"] >= before["modifiedAt"]


EMAILS = 20
RIVALS = 3


def test_concurrent_creates_with_one_email_make_one_customer(database: Database) -> None:
    with serving(database.url, database.directory, SERVERS, workers=WORKERS) as servers:
        calls = [
            Call(
                servers[rival % len(servers)].url,
                "POST",
                PATH,
                {
                    "firstName": f"Rival{rival}",
                    "lastName": "Racer",
                    # Case differs between rivals: addresses compare without case.
                    "emails": [
                        {
                            "value": f"race-{n}@example.com".upper()
                            if rival
                            else f"race-{n}@example.com"
                        }
                    ],
                },
            )
            for n in range(EMAILS)
            for rival in range(RIVALS)
        ]
        outcomes = burst(calls, database.auth, concurrency=EMAILS * RIVALS)

    assert statuses(outcomes) == {201: EMAILS, 409: EMAILS * (RIVALS - 1)}
    for n in range(EMAILS):
        rivals = outcomes[n * RIVALS : (n + 1) * RIVALS]
        assert sorted(o.status for o in rivals) == [201] + [409] * (RIVALS - 1)
        for lost in (o for o in rivals if o.status == 409):
            assert lost.json() == {
                "code": 409,
                "error": "A customer with this email address already exists",
            }
    engine = database.engine()
    try:
        with engine.connect() as connection:
            customers = connection.execute(text("SELECT count(*) FROM customers")).scalar_one()
            owners = connection.execute(
                text(
                    "SELECT value_key, count(*) FROM entries WHERE collection = 'emails' "
                    "GROUP BY value_key"
                )
            ).all()
    finally:
        engine.dispose()
    assert customers == EMAILS
    assert sorted(owners) == sorted((f"race-{n}@example.com", 1) for n in range(EMAILS))


def test_concurrent_updates_giving_one_email_to_two_customers_let_one_win(
    database: Database,
) -> None:
    pairs = 15
    with serving(database.url, database.directory, SERVERS, workers=WORKERS) as servers:
        created = burst(
            [
                Call(servers[0].url, "POST", PATH, {"firstName": f"C{n}", "lastName": "Pair"})
                for n in range(pairs * 2)
            ],
            database.auth,
            concurrency=8,
        )
        assert statuses(created) == {201: pairs * 2}
        ids = [int(o.headers["location"].rsplit("/", 1)[1].removesuffix(".json")) for o in created]
        calls = [
            Call(
                servers[n % len(servers)].url,
                "PUT",
                customer_path(ids[n]),
                {"emails": [{"value": f"shared-{n // 2}@example.com"}]},
            )
            for n in range(pairs * 2)
        ]
        outcomes = burst(calls, database.auth, concurrency=pairs * 2)
        assert statuses(outcomes) == {200: pairs, 409: pairs}
        for pair in range(pairs):
            first, second = outcomes[2 * pair], outcomes[2 * pair + 1]
            assert sorted([first.status, second.status]) == [200, 409]
            winner, loser = (ids[2 * pair], ids[2 * pair + 1])
            if first.status == 409:
                winner, loser = loser, winner
            items = burst(
                [Call(servers[1].url, "GET", customer_path(i)) for i in (winner, loser)],
                database.auth,
                concurrency=2,
            )
            assert [e["value"] for e in items[0].json()["item"]["emails"]] == [
                f"shared-{pair}@example.com"
            ]
            assert items[1].json()["item"]["emails"] == []
