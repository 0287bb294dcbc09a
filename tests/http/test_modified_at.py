"""`modifiedAt` moves on every real change and only then; `createdAt` never moves (spec §8.4,
§9.5). The server's clock is frozen and moved by hand: no test waits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.conftest import Clock
from tests.helpers import assert_empty, assert_item, create, fetch, ids, raw

T0 = datetime(2016, 6, 1, 12, 0, 0, tzinfo=UTC)
CREATED = "2016-06-01T12:00:00Z"
LATER = "2016-06-01T12:01:00Z"

ADDRESS = {
    "lines": ["1 Main St"],
    "city": "Boston",
    "state": "MA",
    "postalCode": "02110",
    "country": "US",
}
RICH: dict[str, Any] = {
    "firstName": "Ann",
    "lastName": "Lee",
    "organization": "Acme",
    "jobTitle": "CEO",
    "background": "Met at the fair.",
    "emails": [{"value": "ann@example.com", "location": "home"}],
    "phones": [{"value": "555-0100"}],
    "chats": [{"value": "ann", "type": "skype"}],
    "socialProfiles": [{"value": "https://twitter.com/ann", "type": "twitter"}],
    "websites": [{"value": "https://ann.example.com"}],
    "address": ADDRESS,
}

Body = Callable[[dict[str, Any]], dict[str, Any]]


def _entry(name: str, key: str) -> Body:
    return lambda item: {name: [{"id": item[name][0]["id"], key: item[name][0][key]}]}


NO_CHANGES: dict[str, Body] = {
    "empty body": lambda item: {},
    "the same scalars": lambda item: {k: RICH[k] for k in ("firstName", "organization")},
    "nulls everywhere": lambda item: dict.fromkeys(item, None),
    "empty collections": lambda item: {
        "emails": [],
        "phones": [],
        "chats": [],
        "socialProfiles": [],
        "websites": [],
    },
    "ignored keys": lambda item: {"gender": "male", "age": "40", "fullName": "X", "type": "user"},
    "an entry sent again by value": lambda item: {"emails": [{"value": "ann@example.com"}]},
    "an entry sent again with its label": lambda item: {
        "chats": [{"value": "ann", "type": "SKYPE"}]
    },
    "an entry by id with its value": _entry("phones", "value"),
    "an entry by id with its label": _entry("emails", "location"),
    "an entry by id alone": lambda item: {"websites": [{"id": item["websites"][0]["id"]}]},
    "the address by id with its values": lambda item: {"address": item["address"]},
    "the address by id alone": lambda item: {"address": {"id": item["address"]["id"]}},
    "the same address without id": lambda item: {"address": ADDRESS},
    "the whole item as read": lambda item: item,
}


@pytest.mark.parametrize("request_", NO_CHANGES)
def test_a_put_that_changes_nothing_leaves_the_customer_as_it_was(
    client: httpx.Client, clock: Clock, request_: str
) -> None:
    body = NO_CHANGES[request_]
    clock.freeze(T0)
    customer = create(client, **RICH)
    item = fetch(client, customer)
    before = raw(client, customer)
    clock.advance(60)
    assert_empty(client.put(f"/v1/customers/{customer}.json", json=body(item)), 200)
    assert raw(client, customer) == before
    reloaded = client.put(f"/v1/customers/{customer}.json?reload=true", json=body(item))
    assert assert_item(reloaded, 201)["modifiedAt"] == CREATED


CHANGES: dict[str, Body] = {
    "a scalar": lambda item: {"jobTitle": "CTO"},
    "a cleared scalar": lambda item: {"background": ""},
    "a new entry": lambda item: {"phones": [{"value": "555-0101"}]},
    "an entry's value": lambda item: {"phones": [{"id": item["phones"][0]["id"], "value": "1"}]},
    "an entry's label": lambda item: {
        "emails": [{"id": item["emails"][0]["id"], "location": "work"}]
    },
    "an entry's label, by value": lambda item: {"chats": [{"value": "ann", "type": "aim"}]},
    "a removed entry": lambda item: {"websites": [{"id": -item["websites"][0]["id"]}]},
    "an address field": lambda item: {"address": {"id": item["address"]["id"], "city": "Salem"}},
    "the address replaced": lambda item: {"address": {**ADDRESS, "lines": []}},
    "the address removed": lambda item: {"address": {"id": -item["address"]["id"]}},
}


@pytest.mark.parametrize("change", CHANGES)
def test_any_change_moves_modified_at_and_never_created_at(
    client: httpx.Client, clock: Clock, change: str
) -> None:
    body = CHANGES[change]
    clock.freeze(T0)
    customer = create(client, **RICH)
    item = fetch(client, customer)
    assert (item["createdAt"], item["modifiedAt"]) == (CREATED, CREATED)
    clock.advance(60)
    reloaded = client.put(f"/v1/customers/{customer}.json?reload=true", json=body(item))
    changed = assert_item(reloaded, 201)
    assert (changed["createdAt"], changed["modifiedAt"]) == (CREATED, LATER)
    assert changed == fetch(client, customer)
    # The same request again is a no-op (a removal would name a gone id: a 400).
    clock.advance(60)
    if "removed" not in change:
        assert_empty(client.put(f"/v1/customers/{customer}.json", json=body(item)), 200)
        assert fetch(client, customer)["modifiedAt"] == LATER


def test_the_address_keeps_its_own_timestamps(client: httpx.Client, clock: Clock) -> None:
    clock.freeze(T0)
    customer = create(client, **RICH)
    clock.advance(60)
    item = fetch(client, customer)
    address_id = item["address"]["id"]
    # A change elsewhere leaves the address's timestamps alone.
    item = assert_item(
        client.put(f"/v1/customers/{customer}.json?reload=true", json={"jobTitle": "CTO"}), 201
    )
    assert (item["address"]["createdAt"], item["address"]["modifiedAt"]) == (CREATED, CREATED)
    clock.advance(60)
    item = assert_item(
        client.put(
            f"/v1/customers/{customer}.json?reload=true",
            json={"address": {"id": address_id, "state": "NH"}},
        ),
        201,
    )
    moved = "2016-06-01T12:02:00Z"
    assert (item["address"]["createdAt"], item["address"]["modifiedAt"]) == (CREATED, moved)
    assert (item["createdAt"], item["modifiedAt"]) == (CREATED, moved)


def test_a_refused_update_moves_nothing(client: httpx.Client, clock: Clock) -> None:
    clock.freeze(T0)
    customer = create(client, **RICH)
    before = raw(client, customer)
    clock.advance(60)
    response = client.put(
        f"/v1/customers/{customer}.json",
        json={
            "jobTitle": "CTO",
            "phones": [{"id": ids(fetch(client, customer)["phones"])[0] + 10**6}],
        },
    )
    assert response.status_code == 400
    assert raw(client, customer) == before
