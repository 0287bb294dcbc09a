"""L1 and L2: listing customers, filtered and paged (spec §5, §8.1, §9.1, §9.2;
docs/list-and-search.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.conftest import Clock
from tests.helpers import (
    JSON,
    LIST_KEYS,
    NOT_FOUND,
    assert_error,
    assert_invalid,
    create,
    route_not_found,
    stamp,
    update,
)

LIST = "/v1/customers.json"
START = datetime(2017, 3, 1, 12, 0, 0, tzinfo=UTC)


def listed(client: httpx.Client, **params: Any) -> dict[str, Any]:
    """A 200 collection answer; returns the body."""
    response = client.get(LIST, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == JSON
    body: dict[str, Any] = response.json()
    assert list(body) == ["page", "pages", "count", "items"]
    for item in body["items"]:
        assert tuple(item) == LIST_KEYS
    return body


def listed_ids(client: httpx.Client, **params: Any) -> list[int]:
    return [item["id"] for item in listed(client, **params)["items"]]


def make_many(client: httpx.Client, clock: Clock, count: int) -> list[int]:
    """`count` customers created one second apart; returns their ids, oldest first."""
    clock.freeze(START)
    made = []
    for number in range(count):
        made.append(create(client, firstName=f"N{number}", lastName="Many"))
        clock.advance(1)
    return made


# --- shape and order --------------------------------------------------------------------------


def test_items_have_the_list_shape_in_order(client: httpx.Client, clock: Clock) -> None:
    clock.freeze(START)
    customer = create(
        client,
        firstName="Vera",
        lastName="Lind",
        organization="Acme",
        jobTitle="CEO",
        background="Met at a fair",
        emails=[{"value": "vera@example.com"}],
    )
    body = listed(client)
    assert body == {
        "page": 1,
        "pages": 1,
        "count": 1,
        "items": [
            {
                "id": customer,
                "firstName": "Vera",
                "lastName": "Lind",
                "fullName": "Vera Lind",
                "photoUrl": None,
                "photoType": None,
                "gender": "unknown",
                "age": None,
                "organization": "Acme",
                "jobTitle": "CEO",
                "location": None,
                "createdAt": "2017-03-01T12:00:00Z",
                "modifiedAt": "2017-03-01T12:00:00Z",
            }
        ],
    }


def test_an_account_without_customers_lists_nothing(client: httpx.Client) -> None:
    assert listed(client) == {"page": 1, "pages": 0, "count": 0, "items": []}


def test_newest_first_and_ties_by_id_descending(client: httpx.Client, clock: Clock) -> None:
    clock.freeze(START)
    first, second = create(client), create(client)  # the same second
    clock.advance(60)
    third = create(client)
    clock.freeze(datetime(2016, 1, 1, tzinfo=UTC))
    oldest = create(client)
    assert listed_ids(client) == [third, second, first, oldest]


def test_an_update_does_not_change_the_order(client: httpx.Client, clock: Clock) -> None:
    older, newer = make_many(client, clock, 2)
    update(client, older, {"firstName": "Changed"})
    assert listed_ids(client) == [newer, older]


def test_only_the_accounts_own_customers_are_listed(
    client: httpx.Client, other_client: httpx.Client
) -> None:
    mine = create(client, emails=[{"value": "mine@example.com"}])
    create(other_client, emails=[{"value": "theirs@example.com"}])
    assert listed_ids(client) == [mine]
    assert listed(client, email="theirs@example.com")["count"] == 0


# --- filters ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["Ann", "ann", "ANN", " Ann "])
def test_first_name_matches_the_whole_name_ignoring_case(client: httpx.Client, value: str) -> None:
    ann = create(client, firstName="Ann", lastName="Lee")
    create(client, firstName="Anne", lastName="Lee")
    create(client, firstName="Ann Marie", lastName="Lee")
    create(client, firstName="Bob", lastName="Ann")
    assert listed_ids(client, firstName=value) == [ann]


@pytest.mark.parametrize("value", ["Lee", "lee", "LEE"])
def test_last_name_matches_the_whole_name_ignoring_case(client: httpx.Client, value: str) -> None:
    lee = create(client, firstName="Ann", lastName="Lee")
    create(client, firstName="Ann", lastName="Leeds")
    create(client, firstName="Lee", lastName="Ann")
    assert listed_ids(client, lastName=value) == [lee]


def test_a_name_filter_finds_a_name_written_in_any_case(client: httpx.Client) -> None:
    shouting = create(client, firstName="ÉMILE", lastName="ZOLA")
    assert listed_ids(client, firstName="émile", lastName="zola") == [shouting]


@pytest.mark.parametrize("value", ["vera@example.com", "VERA@Example.COM", " vera@example.com "])
def test_email_matches_any_of_the_addresses_ignoring_case(client: httpx.Client, value: str) -> None:
    vera = create(client, emails=[{"value": "first@example.com"}, {"value": "Vera@Example.com"}])
    create(client, emails=[{"value": "vera@example.co"}])
    create(client, emails=[{"value": "avera@example.com"}])
    assert listed_ids(client, email=value) == [vera]


def test_email_does_not_match_part_of_an_address(client: httpx.Client) -> None:
    create(client, emails=[{"value": "vera@example.com"}])
    for value in ("vera", "example.com", "vera@example"):
        assert listed(client, email=value)["count"] == 0


def test_email_follows_updates(client: httpx.Client) -> None:
    vera = create(client, emails=[{"value": "old@example.com"}])
    email_id = client.get(f"/v1/customers/{vera}.json").json()["item"]["emails"][0]["id"]
    update(client, vera, {"emails": [{"id": email_id, "value": "new@example.com"}]})
    assert listed_ids(client, email="new@example.com") == [vera]
    assert listed_ids(client, email="old@example.com") == []


def test_modified_since_is_inclusive_to_the_second(client: httpx.Client, clock: Clock) -> None:
    clock.freeze(START)
    early = create(client)
    clock.advance(10)
    on_time = create(client)
    clock.advance(1)
    late = create(client)
    at = stamp(START.replace(second=10))
    assert listed_ids(client, modifiedSince=at) == [late, on_time]
    assert listed_ids(client, modifiedSince=stamp(START)) == [late, on_time, early]
    assert listed_ids(client, modifiedSince="2017-03-01T12:00:11Z") == [late]
    assert listed_ids(client, modifiedSince="2017-03-01T12:00:12Z") == []


def test_modified_since_sees_updates(client: httpx.Client, clock: Clock) -> None:
    clock.freeze(START)
    customer = create(client)
    create(client)
    clock.advance(3600)
    update(client, customer, {"jobTitle": "CTO"})
    assert listed_ids(client, modifiedSince="2017-03-01T12:30:00Z") == [customer]


def test_modified_since_takes_offsets_and_dates(client: httpx.Client, clock: Clock) -> None:
    clock.freeze(START)
    customer = create(client)
    assert listed_ids(client, modifiedSince="2017-03-01T13:00:00+01:00") == [customer]
    assert listed_ids(client, modifiedSince="2017-03-01") == [customer]
    assert listed_ids(client, modifiedSince="2017-03-02") == []


# --- combinations: every filter given must match ------------------------------------------------


@pytest.fixture
def people(client: httpx.Client, clock: Clock) -> dict[str, int]:
    clock.freeze(START)
    made = {
        "ann_lee_old": create(
            client, firstName="Ann", lastName="Lee", emails=[{"value": "ann@old.example"}]
        ),
    }
    clock.advance(86400)
    made["ann_lee_new"] = create(
        client, firstName="Ann", lastName="Lee", emails=[{"value": "ann@new.example"}]
    )
    made["ann_stone"] = create(
        client, firstName="Ann", lastName="Stone", emails=[{"value": "stone@new.example"}]
    )
    made["bob_lee"] = create(
        client, firstName="Bob", lastName="Lee", emails=[{"value": "bob@new.example"}]
    )
    return made


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"firstName": "ann"}, ["ann_stone", "ann_lee_new", "ann_lee_old"]),
        ({"firstName": "ann", "lastName": "lee"}, ["ann_lee_new", "ann_lee_old"]),
        ({"lastName": "lee", "email": "bob@new.example"}, ["bob_lee"]),
        ({"firstName": "ann", "email": "bob@new.example"}, []),
        ({"lastName": "lee", "modifiedSince": "2017-03-02T00:00:00Z"}, ["bob_lee", "ann_lee_new"]),
        ({"email": "ann@old.example", "modifiedSince": "2017-03-02T00:00:00Z"}, []),
        ({"email": "ann@new.example", "modifiedSince": "2017-03-01T12:00:00Z"}, ["ann_lee_new"]),
        (
            {
                "firstName": "Ann",
                "lastName": "Lee",
                "email": "ann@new.example",
                "modifiedSince": "2017-03-02T12:00:00Z",
            },
            ["ann_lee_new"],
        ),
        (
            {
                "firstName": "Ann",
                "lastName": "Lee",
                "email": "ann@new.example",
                "modifiedSince": "2017-03-02T12:00:01Z",
            },
            [],
        ),
    ],
)
def test_filters_combine_with_and(
    client: httpx.Client, people: dict[str, int], params: dict[str, str], expected: list[str]
) -> None:
    body = listed(client, **params)
    assert [item["id"] for item in body["items"]] == [people[name] for name in expected]
    assert body["count"] == len(expected)


def test_blank_and_unknown_parameters_are_ignored(
    client: httpx.Client, people: dict[str, int]
) -> None:
    everyone = listed_ids(client)
    assert len(everyone) == 4
    assert listed_ids(client, firstName="", email=" ", page="", query="bob", sort="x") == everyone


# --- paging -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "pages"),
    [(0, 0), (1, 1), (50, 1), (51, 2), (120, 3)],
)
def test_paging_boundaries(client: httpx.Client, clock: Clock, total: int, pages: int) -> None:
    made = make_many(client, clock, total)
    newest_first = made[::-1]
    seen: list[int] = []
    for page in range(1, pages + 2):  # one page past the end
        body = listed(client, page=page)
        assert (body["page"], body["pages"], body["count"]) == (page, pages, total)
        expected = newest_first[(page - 1) * 50 : page * 50]
        assert [item["id"] for item in body["items"]] == expected
        seen += expected
    assert seen == newest_first


def test_paging_a_filtered_list_counts_the_matches(client: httpx.Client, clock: Clock) -> None:
    clock.freeze(START)
    matching = []
    for number in range(60):
        if number % 3 == 0:
            create(client, firstName="Other", lastName="Person")
        matching.append(create(client, firstName="Kim", lastName=f"K{number}"))
        clock.advance(1)
    first, second = listed(client, firstName="kim"), listed(client, firstName="kim", page=2)
    assert (first["count"], first["pages"], second["count"], second["pages"]) == (60, 2, 60, 2)
    assert [item["id"] for item in first["items"] + second["items"]] == matching[::-1]


@pytest.mark.parametrize("page", [3, 4, 1000, 2147483647])
def test_a_page_past_the_end_is_empty_and_echoes_the_page(
    client: httpx.Client, clock: Clock, page: int
) -> None:
    make_many(client, clock, 51)
    assert listed(client, page=page) == {"page": page, "pages": 2, "count": 51, "items": []}
    assert listed(client, page=page, lastName="many") == {
        "page": page,
        "pages": 2,
        "count": 51,
        "items": [],
    }


def test_the_count_follows_creates(client: httpx.Client) -> None:
    for expected in range(1, 4):
        create(client)
        assert listed(client)["count"] == expected


# --- bad parameters ---------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "2147483648", "0x10"])
def test_a_page_that_is_not_a_positive_integer_is_400(client: httpx.Client, page: str) -> None:
    create(client)
    assert_invalid(client.get(LIST, params={"page": page}), ("page", page, "Value is not valid"))


@pytest.mark.parametrize("since", ["yesterday", "2017-02-30T00:00:00Z", "1488369600"])
def test_an_unreadable_modified_since_is_400(client: httpx.Client, since: str) -> None:
    assert_invalid(
        client.get(LIST, params={"modifiedSince": since}),
        ("modifiedSince", since, "Value is not valid"),
    )


def test_every_bad_parameter_is_listed(client: httpx.Client) -> None:
    response = client.get(LIST, params={"page": "-3", "modifiedSince": "later", "email": "x"})
    assert response.json() == {
        "code": 400,
        "error": "Input could not be validated",
        "validationErrors": [
            {"property": "page", "value": "-3", "message": "Value is not valid"},
            {"property": "modifiedSince", "value": "later", "message": "Value is not valid"},
        ],
    }


def test_the_key_is_checked_before_the_parameters(anonymous: httpx.Client, server: Any) -> None:
    assert_error(anonymous.get(LIST, params={"page": "0"}), 401, "Invalid API Key")
    with httpx.Client(base_url=server.url, auth=("not-a-key", "X")) as stranger:
        assert_error(stranger.get(LIST), 401, "Invalid API Key")


# --- L2: by mailbox ---------------------------------------------------------------------------


def test_a_mailbox_list_is_404_because_openscout_has_no_mailboxes(client: httpx.Client) -> None:
    create(client)
    for params in ({}, {"page": "2"}, {"page": "0"}, {"email": "a@b.com"}):
        response = client.get("/v1/mailboxes/123/customers.json", params=params)
        assert response.json() == {"code": 404, "error": NOT_FOUND}
        assert_error(response, 404, NOT_FOUND)


def test_a_mailbox_list_checks_the_key_first(anonymous: httpx.Client) -> None:
    assert_error(anonymous.get("/v1/mailboxes/123/customers.json"), 401, "Invalid API Key")


def test_a_mailbox_id_that_is_not_a_number_is_an_unknown_route(client: httpx.Client) -> None:
    path = "/v1/mailboxes/abc/customers.json"
    assert_error(client.get(path), 404, route_not_found(path))
