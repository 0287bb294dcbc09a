"""`GET /v2/customers`: HAL pages, absolute links that carry the filters, `page.number` as asked,
filters, `modifiedSince` inclusive, a total order (spec helpscout-v2-customers.md §2, §4,
§8a.5-7, §8a.11-12, §8a.15; docs/decisions/v2-list-parameters.md, v2-page-links.md,
v2-empty-page.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from tests.conftest import Account, Clock, Server, new_account
from tests.helpers import send_raw, stamp
from tests.http.v2.conftest import authorization, v2_auth
from tests.http.v2.shapes import (
    HAL,
    assert_no_content,
    assert_problems,
    assert_vnd_error,
    create,
    fetch,
    ids,
    listed,
)

START = datetime(2022, 2, 1, 9, 30, 0, tzinfo=UTC)


def query_of(href: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(href).query, keep_blank_values=True)


# -- the page


def test_an_empty_page_still_embeds_customers(v2: httpx.Client) -> None:
    base = f"{v2.base_url}/v2/customers"
    assert listed(v2) == {
        "_embedded": {"customers": []},
        "_links": {
            "self": {"href": f"{base}?page=1"},
            "page": {"href": f"{base}{{?page}}", "templated": True},
        },
        "page": {"size": 50, "totalElements": 0, "totalPages": 0, "number": 1},
    }


def test_a_page_holds_whole_customers_newest_first_with_absolute_links(
    v2: httpx.Client, clock: Clock
) -> None:
    clock.freeze(START)
    made = []
    for name in ("Ann", "Bo", "Cy"):
        made.append(create(v2, firstName=name))
        clock.advance(1)
    body = listed(v2)
    assert ids(body) == made[::-1]
    assert [c["firstName"] for c in body["_embedded"]["customers"]] == ["Cy", "Bo", "Ann"]
    assert body["_embedded"]["customers"][0] == fetch(v2, made[-1])
    base = f"{v2.base_url}/v2/customers"
    assert body["_links"] == {
        "self": {"href": f"{base}?page=1"},
        "first": {"href": f"{base}?page=1"},
        "last": {"href": f"{base}?page=1"},
        "page": {"href": f"{base}{{?page}}", "templated": True},
    }
    assert body["page"] == {"size": 50, "totalElements": 3, "totalPages": 1, "number": 1}


def test_paging_follows_next_with_the_filters_until_the_last_page(
    v2: httpx.Client, clock: Clock
) -> None:
    clock.freeze(START)
    many = [create(v2, firstName=f"N{n}", lastName="Many") for n in range(53)]
    create(v2, firstName="Other", lastName="Few")
    params = {"lastName": "many", "sortField": "firstName", "sortOrder": "asc"}
    first = listed(v2, params)
    assert first["page"] == {"size": 50, "totalElements": 53, "totalPages": 2, "number": 1}
    assert "previous" not in first["_links"]
    next_href = first["_links"]["next"]["href"]
    assert next_href.startswith(f"{v2.base_url}/v2/customers?")
    assert query_of(next_href) == [*params.items(), ("page", "2")]
    assert query_of(first["_links"]["last"]["href"]) == [*params.items(), ("page", "2")]
    second_response = v2.get(next_href)  # absolute, as clients follow it
    assert second_response.headers["content-type"] == HAL
    second = second_response.json()
    assert second["page"] == {"size": 50, "totalElements": 53, "totalPages": 2, "number": 2}
    assert "next" not in second["_links"]
    assert query_of(second["_links"]["previous"]["href"]) == [*params.items(), ("page", "1")]
    seen = ids(first) + ids(second)
    assert sorted(seen) == sorted(many) and len(seen) == 53
    names = [c["firstName"] for c in first["_embedded"]["customers"]]
    assert names == sorted(names)


def test_a_page_past_the_last_is_empty_says_its_number_and_leads_back(
    v2: httpx.Client,
) -> None:
    create(v2, firstName="Ann")
    body = listed(v2, {"page": "7"})
    assert body["_embedded"] == {"customers": []}
    assert body["page"] == {"size": 50, "totalElements": 1, "totalPages": 1, "number": 7}
    assert query_of(body["_links"]["previous"]["href"]) == [("page", "1")]
    assert "next" not in body["_links"]


# -- filters


def test_first_and_last_name_match_the_whole_name_ignoring_case(v2: httpx.Client) -> None:
    ann = create(v2, firstName="Ann", lastName="Lee")
    create(v2, firstName="Anna", lastName="Lee")
    create(v2, firstName="Ann", lastName="Leeds")
    assert ids(listed(v2, {"firstName": "ANN", "lastName": "lee"})) == [ann]
    assert ids(listed(v2, {"firstName": "An"})) == []


def test_modified_since_is_inclusive(v2: httpx.Client, clock: Clock) -> None:
    """A connector re-reads the record equal to its bookmark (§8a.11)."""
    clock.freeze(START)
    older = create(v2, firstName="Old")
    clock.advance(1)
    newer = create(v2, firstName="New")
    assert ids(listed(v2, {"modifiedSince": stamp(START + timedelta(seconds=1))})) == [newer]
    assert ids(listed(v2, {"modifiedSince": stamp(START)})) == [newer, older]
    assert ids(listed(v2, {"modifiedSince": stamp(START + timedelta(seconds=2))})) == []


def test_modified_since_sees_overwrites(v2: httpx.Client, clock: Clock) -> None:
    clock.freeze(START)
    customer = create(v2, firstName="Ann")
    create(v2, firstName="Bo")
    clock.advance(60)
    assert_no_content(v2.put(f"/v2/customers/{customer}", json={"firstName": "Anna"}))
    assert ids(listed(v2, {"modifiedSince": stamp(START + timedelta(seconds=60))})) == [customer]


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_sorting_is_total_ties_broken_by_id(v2: httpx.Client, clock: Clock, order: str) -> None:
    """A connector pages `sortField=modifiedAt&sortOrder=asc` (§8a.12): customers changed in
    the same second keep one order, page after page."""
    clock.freeze(START)
    made = [create(v2, firstName=name) for name in ("b", "a", "b", "a")]
    by_time = listed(v2, {"sortField": "modifiedAt", "sortOrder": order})
    assert ids(by_time) == (sorted(made) if order == "asc" else sorted(made, reverse=True))
    by_name = ids(listed(v2, {"sortField": "firstName", "sortOrder": order}))
    a_s, b_s = sorted(made[1::2]), sorted(made[0::2])
    assert by_name == (a_s + b_s if order == "asc" else b_s[::-1] + a_s[::-1])


def test_the_query_language_reads_names(v2: httpx.Client) -> None:
    ann = create(v2, firstName="John", lastName="Appleseed")
    johnny = create(v2, firstName="Johnny")
    create(v2, firstName="Mary")
    found = listed(v2, {"query": '(firstName:"John" OR firstName:"Johnny")'})
    assert sorted(ids(found)) == sorted([ann, johnny])
    assert ids(listed(v2, {"query": '(firstName:"John" AND lastName:"Appleseed")'})) == [ann]


def test_email_in_the_query_matches_addresses_containing_it(v2: httpx.Client) -> None:
    bear = create(v2, emails=[{"type": "work", "value": "bear@acme.com"}])
    create(v2, emails=[{"type": "work", "value": "cub@example.com"}])
    assert ids(listed(v2, {"query": "(email:acme)"})) == [bear]
    assert ids(listed(v2, {"query": '(email:"BEAR@acme.com")'})) == [bear]


def test_list_items_embed_their_entries_and_address(v2: httpx.Client) -> None:
    """A connector reads a customer's entries from list pages only (§8a.6)."""
    customer = create(
        v2,
        firstName="Ann",
        emails=[{"type": "home", "value": "ann@example.com"}],
        websites=[{"value": "https://ann.example"}],
        address={"city": "Prague", "state": "P", "postalCode": "11000", "country": "CZ"},
    )
    (item,) = listed(v2)["_embedded"]["customers"]
    assert item["_embedded"] == fetch(v2, customer)["_embedded"]


def test_only_the_accounts_own_customers_are_listed(server: Server, v2: httpx.Client) -> None:
    mine = create(v2, firstName="Ann")
    with httpx.Client(
        base_url=server.url, auth=v2_auth(server.store, new_account(server.store)), timeout=10
    ) as other:
        create(other, firstName="Ann")
    assert ids(listed(v2)) == [mine]


# -- refusals


def test_bad_parameters_are_all_reported_at_once(v2: httpx.Client) -> None:
    response = v2.get(
        "/v2/customers",
        params={
            "page": "0",
            "sortField": "age",
            "sortOrder": "up",
            "modifiedSince": "yesterday",
            "mailbox": "x",
        },
    )
    assert_problems(
        response,
        ("page", "is not valid", "0"),
        ("sortField", "is not valid", "age"),
        ("sortOrder", "is not valid", "up"),
        ("modifiedSince", "is malformed", "yesterday"),
        ("mailbox", "is not valid", "x"),
        source="PARAMETER",
    )


def test_a_query_that_cannot_be_read_is_a_400_naming_the_query(v2: httpx.Client) -> None:
    body = assert_vnd_error(v2.get("/v2/customers", params={"query": "(((("}), 400, "Bad request")
    (error,) = body["_embedded"]["errors"]
    assert error["path"] == "query" and error["source"] == "PARAMETER"
    assert error["message"].startswith("The search query could not be read at position")


def test_a_mailbox_that_does_not_exist_is_404(v2: httpx.Client) -> None:
    assert_vnd_error(v2.get("/v2/customers", params={"mailbox": "85"}), 404, "Resource not found")


def test_unknown_and_blank_parameters_are_ignored(v2: httpx.Client) -> None:
    customer = create(v2, firstName="Ann")
    body = listed(v2, {"firstName": " ", "colour": "blue", "page": ""})
    assert ids(body) == [customer]
    assert query_of(body["_links"]["self"]["href"]) == [
        ("firstName", " "),
        ("colour", "blue"),
        ("page", "1"),
    ]


def test_raw_quotes_and_brackets_in_the_query_string_are_read(
    server: Server, account: Account, v2: httpx.Client
) -> None:
    """Clients join parameters by hand (§8a.15): the bytes arrive unencoded."""
    ann = create(v2, firstName='A"n[n]', lastName="Lee")
    create(v2, firstName="Bo", lastName="Lee")
    sent_authorization = authorization(v2)

    def get(target: str) -> httpx.Response:
        head = (
            f"GET {target} HTTP/1.1\r\nHost: x\r\nAuthorization: {sent_authorization}\r\n"
            "Connection: close\r\n\r\n"
        )
        return send_raw(server.url, head.encode())

    response = get('/v2/customers?query=(firstName:"Bo"%20OR%20lastName:"Lee")&sortOrder=asc')
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == HAL
    assert response.json()["page"]["totalElements"] == 2
    response = get('/v2/customers?firstName=A"n[n]&lastName=Lee')
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert ids(body) == [ann]
    # The links carry the filters percent-encoded, so that they can be followed as they are.
    assert query_of(body["_links"]["self"]["href"]) == [
        ("firstName", 'A"n[n]'),
        ("lastName", "Lee"),
        ("page", "1"),
    ]
    assert '"' not in body["_links"]["self"]["href"]
