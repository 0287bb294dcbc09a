"""A key of one account never reads, lists, searches or changes another account's customers:
not by id, not through entry or address ids (positive or negative), not through list filters,
not through any field of the search language (spec §3: a key sees what its account sees)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Server
from tests.helpers import (
    NOT_FOUND,
    assert_error,
    assert_invalid,
    create,
    fetch,
    raw,
    route_not_found,
)
from tests.security.conftest import Neighbour, fingerprint

SEARCH = "/v1/search/customers.json"


def found(client: httpx.Client, **params: Any) -> list[int]:
    response = client.get(SEARCH, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["items"])
    return [item["id"] for item in body["items"]]


def listed(client: httpx.Client, **params: Any) -> list[int]:
    response = client.get("/v1/customers.json", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["items"])
    return [item["id"] for item in body["items"]]


def test_the_neighbours_customer_cannot_be_read_or_written_by_its_id(
    client: httpx.Client, neighbour: Neighbour, server: Server
) -> None:
    before = fingerprint(server.store)
    path = f"/v1/customers/{neighbour.customer}.json"
    assert_error(client.get(path), 404, NOT_FOUND)
    assert client.head(path).status_code == 404
    for body in (
        {"firstName": "Mallory"},
        {"emails": [{"value": "mallory@example.com"}]},
        {"emails": [{"id": -neighbour.entry_ids()["emails"][0]}]},
        {"address": {"id": -neighbour.item["address"]["id"]}},
        {},
    ):
        for reload in ("", "?reload=true"):
            assert_error(client.put(path + reload, json=body), 404, NOT_FOUND)
    assert fingerprint(server.store) == before
    assert neighbour.unchanged()


def test_paths_that_are_not_plain_ids_reach_no_customer(
    client: httpx.Client, neighbour: Neighbour
) -> None:
    customer = neighbour.customer
    for path in (
        f"/v1/customers/-{customer}.json",
        f"/v1/customers/{customer}.0.json",
        f"/v1/customers/{customer}%20OR%201=1.json",
        f"/v1/customers/{customer};.json",
        f"/v1/customers/..%2F{customer}.json",
    ):
        response = client.get(path)
        assert_error(response, 404)
        assert response.json()["error"].startswith(route_not_found("")[:-2]), path
    # Leading zeros are the same number, and still another account's customer.
    assert_error(client.get(f"/v1/customers/000{customer}.json"), 404, NOT_FOUND)
    assert neighbour.unchanged()


@pytest.mark.parametrize("sign", [1, -1], ids=["update", "remove"])
def test_the_neighbours_entry_and_address_ids_change_nothing_anywhere(
    client: httpx.Client, neighbour: Neighbour, server: Server, sign: int
) -> None:
    mine = create(client, emails=[{"value": "me@mine.example"}])
    before = (fingerprint(server.store), raw(client, mine))
    messages = {
        "emails": "email",
        "phones": "phone",
        "chats": "chat",
        "socialProfiles": "social profile",
        "websites": "website",
    }
    body: dict[str, Any] = {
        name: [{"id": sign * ids[0], "value": "x@x.example"}]
        for name, ids in neighbour.entry_ids().items()
    }
    body["address"] = {"id": sign * neighbour.item["address"]["id"], "city": "Elsewhere"}
    response = client.put(f"/v1/customers/{mine}.json", json=body)
    assert_invalid(
        response,
        *(
            (f"{name}:id", str(sign * ids[0]), f"The specified {messages[name]} is not valid")
            for name, ids in neighbour.entry_ids().items()
        ),
        (
            "address:id",
            str(sign * neighbour.item["address"]["id"]),
            "The specified address is not valid",
        ),
    )
    assert (fingerprint(server.store), raw(client, mine)) == before
    assert neighbour.unchanged()


def test_lists_never_show_the_neighbours_customers(
    client: httpx.Client, neighbour: Neighbour
) -> None:
    mine = create(client, firstName="Mine")
    item = neighbour.item
    assert listed(client) == [mine]
    for params in (
        {"firstName": item["firstName"]},
        {"lastName": item["lastName"]},
        {"email": item["emails"][0]["value"]},
        {"email": item["emails"][0]["value"].upper()},
        {"modifiedSince": "2000-01-01T00:00:00Z"},
        {"page": "1"},
    ):
        ids = listed(client, **params)
        assert neighbour.customer not in ids, params
        assert set(ids) <= {mine}, params
    assert_error(client.get("/v1/mailboxes/1/customers.json"), 404, NOT_FOUND)


def test_no_search_ever_finds_the_neighbours_customers(
    client: httpx.Client, neighbour: Neighbour
) -> None:
    mine = create(client, firstName="Mine", emails=[{"value": "mine@mine.example"}])
    item = neighbour.item
    email = item["emails"][0]["value"]
    them = neighbour.customer
    queries = [
        "*",
        "",
        "nadia",
        "Quorn",
        '"Nadia Quorn"',
        email,
        f'"{email}"',
        f"firstName:{item['firstName']}",
        f'lastName:"{item["lastName"]}"',
        'fullName:"Nadia Quorn"',
        f"email:{email}",
        "email:nadia",
        "emailDomain:quorn.example",
        'organization:"Quorn Holdings"',
        "organization:quorn",
        "jobTitle:treasurer",
        f"id:{them}",
        f"id:[{them} TO {them}]",
        "id:[* TO *]",
        "id:[-2147483648 TO 2147483647]",
        "createdAt:[* TO *]",
        "modifiedAt:[2000-01-01T00:00:00Z TO *]",
        'modifiedSince:"2000-01-01T00:00:00Z"',
        f"NOT id:{mine}",
        "NOT nobody",
        "* OR nadia",
        f"(id:{them} OR id:{mine})",
        "nadia OR mine",
    ]
    for query in queries:
        for sort in ("score", "firstName", "lastName", "modifiedAt", "createdAt"):
            ids = found(client, query=query, sortField=sort, pageSize="50")
            assert them not in ids, (query, sort)
            assert set(ids) <= {mine}, (query, sort)
    assert found(client, query=f"(id:{them} OR id:{mine})") == [mine]
    assert found(neighbour.client, query=f"id:{them}") == [them]  # it is there to be found


def test_a_create_with_the_neighbours_data_makes_a_customer_of_ones_own(
    client: httpx.Client, neighbour: Neighbour
) -> None:
    """The same email address in two accounts is two customers (spec §10.6 is per account)."""
    their_email = neighbour.item["emails"][0]
    body = {"firstName": "Copy", "lastName": "Cat", "emails": [their_email]}  # with its id
    response = client.post("/v1/customers.json?reload=true", json=body)
    assert response.status_code == 201
    copied = response.json()["item"]
    assert copied["id"] != neighbour.customer
    assert copied["emails"][0]["id"] != their_email["id"]
    assert fetch(client, copied["id"])["emails"][0]["value"] == their_email["value"]
    assert neighbour.unchanged()
