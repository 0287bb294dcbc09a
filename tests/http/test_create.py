"""POST /v1/customers.json through the real server (spec §9.4, §10, §11)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.conftest import Account, Clock, Server
from tests.helpers import (
    FULL_KEYS,
    JSON,
    LASLABS_CREATE,
    assert_empty,
    assert_invalid,
    assert_item,
    create,
    customer_count,
    customer_id,
    fetch,
    ids,
    raw,
)

#: The moment of the recorded LasLabs create (spec §9.4).
RECORDED = datetime(2017, 12, 13, 22, 49, 9, tzinfo=UTC)
NAMES = {"firstName": "Ann", "lastName": "Lee"}


def test_a_create_answers_201_with_an_empty_body_and_the_location(
    client: httpx.Client, server: Server
) -> None:
    response = client.post("/v1/customers.json", json=NAMES)
    assert_empty(response, 201)
    new_id = customer_id(response)
    assert response.headers["location"] == f"{server.url}/v1/customers/{new_id}.json"
    assert fetch(client, new_id)["fullName"] == "Ann Lee"


@pytest.mark.parametrize("query", ["reload=true", "reload=TRUE", "reload=True", "reload=1"])
def test_reload_in_the_query_returns_the_item(
    client: httpx.Client, server: Server, query: str
) -> None:
    response = client.post(f"/v1/customers.json?{query}", json=NAMES)
    item = assert_item(response, 201)
    assert response.headers["location"] == f"{server.url}/v1/customers/{item['id']}.json"
    assert item == fetch(client, item["id"])


@pytest.mark.parametrize("flag", [True, "true", "TRUE", 1, "1"])
def test_reload_in_the_body_returns_the_item(client: httpx.Client, flag: object) -> None:
    response = client.post("/v1/customers.json", json={**NAMES, "reload": flag})
    item = assert_item(response, 201)
    assert customer_id(response) == item["id"]
    assert item == fetch(client, item["id"])


def test_the_customer_wrapper_is_unwrapped_and_its_reload_honoured(client: httpx.Client) -> None:
    response = client.post(
        "/v1/customers.json",
        json={"customer": {**NAMES, "organization": "Acme"}, "reload": True},
    )
    item = assert_item(response, 201)
    assert (item["fullName"], item["organization"]) == ("Ann Lee", "Acme")
    assert customer_id(response) == item["id"]


@pytest.mark.parametrize(
    ("query", "flag"),
    [("reload=false", None), ("reload=0", None), ("", False), ("", "false"), ("", 0), ("", "0")],
)
def test_a_false_reload_returns_no_body(client: httpx.Client, query: str, flag: object) -> None:
    response = client.post(f"/v1/customers.json?{query}", json={**NAMES, "reload": flag})
    assert_empty(response, 201)
    customer_id(response)


def test_a_minimal_customer_has_every_key_with_v1_empty_values(
    client: httpx.Client, clock: Clock
) -> None:
    clock.freeze(datetime(2020, 2, 29, 23, 59, 58, 999_999, tzinfo=UTC))
    item = assert_item(client.post("/v1/customers.json?reload=true", json=NAMES), 201)
    assert list(item) == list(FULL_KEYS)
    assert item == {
        "id": item["id"],
        "firstName": "Ann",
        "lastName": "Lee",
        "fullName": "Ann Lee",
        "photoUrl": None,
        "photoType": None,
        "gender": "unknown",
        "age": None,
        "organization": None,
        "jobTitle": None,
        "location": None,
        # Whole seconds: the fraction is dropped, never rounded up.
        "createdAt": "2020-02-29T23:59:58Z",
        "modifiedAt": "2020-02-29T23:59:58Z",
        "background": None,
        "address": None,
        "socialProfiles": None,
        "emails": [],
        "phones": [],
        "chats": None,
        "websites": None,
    }


def test_timestamps_are_utc_whole_seconds_with_a_z(client: httpx.Client) -> None:
    item = assert_item(client.post("/v1/customers.json?reload=true", json=NAMES), 201)
    created = datetime.strptime(item["createdAt"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - created).total_seconds()) < 3600
    assert item["modifiedAt"] == item["createdAt"]


def test_a_rich_customer_is_created_with_every_collection_and_the_address(
    client: httpx.Client, clock: Clock
) -> None:
    clock.freeze(datetime(2018, 1, 2, 3, 4, 5, tzinfo=UTC))
    body = {
        **NAMES,
        "organization": "Acme",
        "jobTitle": "CEO",
        "background": "Met at the fair.",
        "emails": [
            {"value": "ann@example.com"},
            {"value": "ann@home.example.com", "location": "HOME"},
        ],
        "phones": [{"value": "555-0100"}, {"value": "555-0101", "location": "Mobile"}],
        "chats": [{"value": "ann.lee"}, {"value": "ann@jabber.example.com", "type": "xmmp"}],
        "socialProfiles": [
            {"value": "https://twitter.com/ann"},
            {"value": "https://linkedin.com/in/ann", "type": "LinkedIn"},
        ],
        "websites": [{"value": "https://ann.example.com"}],
        "address": {
            "lines": ["1 Main St", "Suite 2"],
            "city": "Boston",
            "state": "MA",
            "postalCode": "02110",
            "country": "US",
        },
    }
    item = assert_item(client.post("/v1/customers.json?reload=true", json=body), 201)
    assert (item["organization"], item["jobTitle"], item["background"]) == (
        "Acme",
        "CEO",
        "Met at the fair.",
    )
    # Defaults for missing labels (spec §8.3); labels in any case come out lowercase.
    assert [(e["value"], e["location"]) for e in item["emails"]] == [
        ("ann@example.com", "work"),
        ("ann@home.example.com", "home"),
    ]
    assert [(e["value"], e["location"]) for e in item["phones"]] == [
        ("555-0100", "work"),
        ("555-0101", "mobile"),
    ]
    assert [(e["value"], e["type"]) for e in item["chats"]] == [
        ("ann.lee", "other"),
        ("ann@jabber.example.com", "xmpp"),
    ]
    assert [(e["value"], e["type"]) for e in item["socialProfiles"]] == [
        ("https://twitter.com/ann", "other"),
        ("https://linkedin.com/in/ann", "linkedin"),
    ]
    assert [e["value"] for e in item["websites"]] == ["https://ann.example.com"]
    address = item["address"]
    assert address == {
        "id": address["id"],
        "lines": ["1 Main St", "Suite 2"],
        "city": "Boston",
        "state": "MA",
        "postalCode": "02110",
        "country": "US",
        "createdAt": "2018-01-02T03:04:05Z",
        "modifiedAt": "2018-01-02T03:04:05Z",
    }
    # Entries come in creation order: ascending ids.
    for name in ("emails", "phones", "chats", "socialProfiles"):
        assert ids(item[name]) == sorted(ids(item[name]))
    assert item == fetch(client, item["id"])


def test_read_only_v1_ignored_and_unknown_keys_are_ignored(
    client: httpx.Client, clock: Clock
) -> None:
    clock.freeze(RECORDED)
    body: dict[str, Any] = {
        **NAMES,
        # read-only (spec §8.4)
        "id": 12345,
        "fullName": "Somebody Else",
        "createdAt": "2001-01-01T00:00:00Z",
        "modifiedAt": "2001-01-01T00:00:00Z",
        # not written by v1 (spec §10.1)
        "gender": "male",
        "photoUrl": "https://example.com/ann.png",
        "photoType": "gravatar",
        "age": "35",
        "location": "Boston, MA",
        # unknown
        "type": "user",
        "customerPersonType": "person",
        "email": "ann@example.com",
        "phone": "555-0100",
        "mystery": {"nested": [1, 2, 3]},
    }
    item = assert_item(client.post("/v1/customers.json?reload=1", json=body), 201)
    assert item["id"] != 12345
    assert item["fullName"] == "Ann Lee"
    assert (item["createdAt"], item["modifiedAt"]) == ("2017-12-13T22:49:09Z",) * 2
    assert (item["gender"], item["photoUrl"], item["photoType"]) == ("unknown", None, None)
    assert (item["age"], item["location"]) == (None, None)
    assert (item["emails"], item["phones"]) == ([], [])


def test_the_recorded_laslabs_create_gets_the_recorded_answer(
    client: httpx.Client, server: Server, account: Account, clock: Clock
) -> None:
    """The request and the answer of spec §9.4, the customer id aside."""
    clock.freeze(RECORDED)
    response = client.post(
        "/v1/customers.json",
        json=LASLABS_CREATE,
        auth=(account.key, "NoPassBecauseKey!"),
    )
    assert response.status_code == 201
    assert response.headers["content-type"] == JSON
    new_id = customer_id(response)
    assert response.headers["location"] == f"{server.url}/v1/customers/{new_id}.json"
    assert response.json() == {
        "item": {
            "id": new_id,
            "firstName": "Test",
            "lastName": "User",
            "fullName": "Test User",
            "photoUrl": None,
            "photoType": None,
            "gender": "unknown",
            "age": None,
            "organization": "Test Company",
            "jobTitle": "CEO",
            "location": None,
            "createdAt": "2017-12-13T22:49:09Z",
            "modifiedAt": "2017-12-13T22:49:09Z",
            "background": None,
            "address": None,
            "socialProfiles": None,
            "emails": [],
            "phones": [],
            "chats": None,
            "websites": None,
        }
    }


@pytest.mark.parametrize("name", ["firstName", "lastName"])
@pytest.mark.parametrize("given", ["absent", None, "", "   "])
def test_first_and_last_name_are_required_on_create(
    client: httpx.Client, server: Server, account: Account, name: str, given: object
) -> None:
    body: dict[str, Any] = dict(NAMES)
    if given == "absent":
        del body[name]
    else:
        body[name] = given
    assert_invalid(client.post("/v1/customers.json", json=body), (name, None, "Value is required"))
    assert customer_count(server.store, account.key) == 0


def test_both_names_missing_are_reported_together(client: httpx.Client) -> None:
    assert_invalid(
        client.post("/v1/customers.json", json={"organization": "Acme"}),
        ("firstName", None, "Value is required"),
        ("lastName", None, "Value is required"),
    )


def test_entry_ids_are_ignored_on_create_and_negative_ones_skipped(client: httpx.Client) -> None:
    other = create(client, emails=[{"value": "other@example.com"}])
    taken = fetch(client, other)["emails"][0]["id"]
    body = {
        **NAMES,
        "emails": [
            {"id": taken, "value": "ann@example.com"},
            {"id": -taken, "value": "skipped@example.com"},
            {"id": "not-a-number", "value": "ann@work.example.com"},
        ],
        "phones": [{"id": -1, "value": "555-0199"}, {"id": 0, "value": "555-0100"}],
        "websites": [{"id": -2, "value": "https://skipped.example.com"}],
    }
    item = assert_item(client.post("/v1/customers.json?reload=true", json=body), 201)
    assert [e["value"] for e in item["emails"]] == ["ann@example.com", "ann@work.example.com"]
    assert taken not in ids(item["emails"])
    assert [e["value"] for e in item["phones"]] == ["555-0100"]
    assert item["websites"] is None
    # The other customer's entry was not touched.
    assert [e["value"] for e in fetch(client, other)["emails"]] == ["other@example.com"]


def test_the_same_email_twice_in_one_create_is_one_entry(client: httpx.Client) -> None:
    body = {
        **NAMES,
        "emails": [{"value": "ann@example.com"}, {"value": "ANN@example.com", "location": "home"}],
    }
    item = assert_item(client.post("/v1/customers.json?reload=true", json=body), 201)
    assert [(e["value"], e["location"]) for e in item["emails"]] == [("ANN@example.com", "home")]


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/json;charset=UTF-8"])
def test_the_body_is_json_whatever_the_content_type(
    client: httpx.Client, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = client.post(
        "/v1/customers.json", content=b'{"firstName":"Ann","lastName":"Lee"}', headers=headers
    )
    assert_empty(response, 201)


def test_text_is_kept_exactly_and_sent_as_utf8(client: httpx.Client) -> None:
    body = {"firstName": "Zoë", "lastName": "Ōtsuka", "background": '漢字 ✓ "quoted"\nnext'}
    response = client.post("/v1/customers.json?reload=true", json=body)
    item = assert_item(response, 201)
    assert (item["fullName"], item["background"]) == ("Zoë Ōtsuka", body["background"])
    assert "Zoë Ōtsuka".encode() in response.content
    assert raw(client, item["id"]) == response.content
