"""One v2 customer: create (201, `Resource-ID`, no body), get (hal+json, `_embedded`, `_links`)
and overwrite (PUT: every own field, entries untouched), and the same customer through v1 (spec
helpscout-v2-customers.md §2-§4, §8, §8a.4, §8a.9; docs/decisions/v2-written-fields.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from openscout.config import Settings
from tests.conftest import Account, Clock, Server, running_server
from tests.helpers import assert_empty, stamp
from tests.helpers import fetch as fetch_v1
from tests.http.v2.conftest import v2_auth
from tests.http.v2.shapes import (
    NOTHING,
    assert_created,
    assert_no_content,
    assert_problems,
    assert_vnd_error,
    create,
    fetch,
)

START = datetime(2021, 5, 4, 12, 0, 3, tzinfo=UTC)

#: A create with every field and entry v2 writes (§3, §4).
RICH = {
    "firstName": "Vernon",
    "lastName": "Bear",
    "gender": "Male",
    "jobTitle": "CEO and Co-Founder",
    "location": "Greater Dallas/FT Worth Area",
    "organization": "Acme, Inc",
    "photoType": "twitter",
    "photoUrl": "https://api.helpscout.net/img/some-avatar.jpg",
    "age": "30-35",
    "background": "I've worked with Vernon before and he's really great.",
    "emails": [{"type": "work", "value": "bear@acme.com"}],
    "phones": [{"type": "home", "value": "123-123-123"}],
    "chats": [{"type": "aim", "value": "jsprout"}],
    "socialProfiles": [{"type": "twitter", "value": "https://twitter.com/vbear"}],
    "websites": [{"value": "http://www.acme.com"}],
    "address": {
        "city": "Dallas",
        "state": "TX",
        "postalCode": "74206",
        "country": "US",
        "lines": ["123 West Main St", "Suite 123"],
    },
}


def entry_ids(body: dict[str, Any], name: str) -> list[int]:
    return [entry["id"] for entry in body["_embedded"][name]]


# -- create and get


def test_a_created_customer_reads_back_whole(v2: httpx.Client, clock: Clock) -> None:
    clock.freeze(START)
    response = v2.post("/v2/customers", json=RICH)
    customer = assert_created(response)
    base = str(v2.base_url)
    assert response.headers["location"] == f"{base}/v2/customers/{customer}"
    body = fetch(v2, customer)
    url = f"{base}/v2/customers/{customer}"
    emails, phones, chats, socials, websites = (
        entry_ids(body, name)
        for name in ("emails", "phones", "chats", "social_profiles", "websites")
    )
    assert body == {
        "id": customer,
        "firstName": "Vernon",
        "lastName": "Bear",
        "gender": "male",
        "jobTitle": "CEO and Co-Founder",
        "location": "Greater Dallas/FT Worth Area",
        "organization": "Acme, Inc",
        "organizationId": None,
        "photoType": "twitter",
        "photoUrl": "https://api.helpscout.net/img/some-avatar.jpg",
        "age": "30-35",
        "conversationCount": 0,
        "createdAt": "2021-05-04T12:00:03Z",
        "updatedAt": "2021-05-04T12:00:03Z",
        "background": "I've worked with Vernon before and he's really great.",
        "draft": False,
        "_embedded": {
            "emails": [{"id": emails[0], "value": "bear@acme.com", "type": "work"}],
            "phones": [{"id": phones[0], "value": "123-123-123", "type": "home"}],
            "chats": [{"id": chats[0], "value": "jsprout", "type": "aim"}],
            "social_profiles": [
                {"id": socials[0], "value": "https://twitter.com/vbear", "type": "twitter"}
            ],
            "websites": [{"id": websites[0], "value": "http://www.acme.com"}],
            "properties": [],
            "address": {
                "city": "Dallas",
                "state": "TX",
                "postalCode": "74206",
                "country": "US",
                "lines": ["123 West Main St", "Suite 123"],
            },
        },
        "_links": {
            "address": {"href": f"{url}/address"},
            "chats": {"href": f"{url}/chats"},
            "emails": {"href": f"{url}/emails"},
            "phones": {"href": f"{url}/phones"},
            "social-profiles": {"href": f"{url}/social-profiles"},
            "websites": {"href": f"{url}/websites"},
            "self": {"href": url},
        },
    }


def test_an_empty_create_makes_a_customer_with_nothing(v2: httpx.Client) -> None:
    """Every field is optional in v2 (§3), names too."""
    body = fetch(v2, create(v2))
    assert body["firstName"] is None and body["lastName"] is None
    assert body["gender"] == "unknown"
    assert "address" not in body["_embedded"]
    assert all(body["_embedded"][name] == [] for name in ("emails", "phones", "websites"))


def test_create_takes_a_single_phone_and_ignores_read_only_keys(v2: httpx.Client) -> None:
    customer = create(
        v2,
        firstName="Ann",
        phone="555-0100",
        id=7,
        createdAt="2001-01-01T00:00:00Z",
        conversationCount=99,
        draft=True,
        organizationId=35,
        _links={"self": {"href": "x"}},
    )
    body = fetch(v2, customer)
    assert [(p["value"], p["type"]) for p in body["_embedded"]["phones"]] == [("555-0100", "work")]
    assert body["id"] == customer != 7
    assert (body["conversationCount"], body["draft"], body["organizationId"]) == (0, False, None)


def test_the_id_header_is_read_whatever_its_case(v2: httpx.Client) -> None:
    """One client reads `Resource-Id` (§8a.4): header names are case-insensitive, the value
    is the same."""
    response = v2.post("/v2/customers", json={"firstName": "Ann"})
    assert response.headers["Resource-Id"] == response.headers["RESOURCE-ID"]
    raw_names = [name for name, _ in response.headers.raw]
    assert b"resource-id" in [name.lower() for name in raw_names]
    assert fetch(v2, int(response.headers["Resource-Id"]))["firstName"] == "Ann"


def test_a_bad_create_reports_every_problem_at_once_and_writes_nothing(
    v2: httpx.Client,
) -> None:
    response = v2.post(
        "/v2/customers",
        json={
            "firstName": "x" * 41,
            "lastName": 12,
            "gender": "robot",
            "photoType": "polaroid",
            "jobTitle": "y" * 61,
            "emails": [
                {"type": "work", "value": "not an address"},
                {"type": "desk", "value": "a@b.co"},
            ],
            "phones": [{"value": None}],
            "address": {"city": "Prague"},
        },
    )
    assert_problems(
        response,
        ("firstName", "size must be between 1 and 40", "x" * 41),
        ("lastName", "is not valid", 12),
        ("gender", "Expected one of these: female, male, unknown", "robot"),
        (
            "photoType",
            "Expected one of these: facebook, googleplus, googleprofile, gravatar, instagram, "
            "linkedin, twitter, unknown",
            "polaroid",
        ),
        ("jobTitle", "size must be between 1 and 60", "y" * 61),
        ("emails.value", "not a well-formed email address", "not an address"),
        ("emails.type", "Expected one of these: home, other, work", "desk"),
        ("phones.value", "may not be null", NOTHING),
        ("address.state", "may not be null", NOTHING),
        ("address.postalCode", "may not be null", NOTHING),
        ("address.country", "may not be null", NOTHING),
    )
    listed = v2.get("/v2/customers").json()
    assert listed["page"]["totalElements"] == 0


# -- public_url


def test_links_and_location_use_the_public_url_when_one_is_set(
    server: Server, account: Account
) -> None:
    settings = Settings(public_url="https://helpdesk.example.com/api", access_log=False)
    with (
        running_server(server.store, settings) as public,
        httpx.Client(base_url=public.url, auth=v2_auth(server.store, account), timeout=10) as http,
    ):
        response = http.post("/v2/customers", json={"firstName": "Ann"})
        customer = assert_created(response)
        url = f"https://helpdesk.example.com/api/v2/customers/{customer}"
        assert response.headers["location"] == url
        body = http.get(f"/v2/customers/{customer}").json()
        assert body["_links"]["self"] == {"href": url}
        assert body["_links"]["emails"] == {"href": f"{url}/emails"}
        page = http.get("/v2/customers").json()
        assert page["_links"]["self"]["href"].startswith(
            "https://helpdesk.example.com/api/v2/customers?"
        )


# -- PUT: overwrite (§4, §8a.9)


def test_put_sets_every_own_field_and_clears_those_left_out(v2: httpx.Client, clock: Clock) -> None:
    clock.freeze(START)
    customer = create(v2, **RICH)
    before = fetch(v2, customer)
    clock.advance(60)
    assert_no_content(v2.put(f"/v2/customers/{customer}", json={"lastName": "Cub", "age": "1"}))
    after = fetch(v2, customer)
    assert {key: after[key] for key in ("firstName", "lastName", "gender", "age")} == {
        "firstName": None,
        "lastName": "Cub",
        "gender": "unknown",
        "age": "1",
    }
    for name in ("jobTitle", "location", "organization", "photoType", "photoUrl", "background"):
        assert after[name] is None, name
    assert after["_embedded"] == before["_embedded"]  # entries and address untouched
    assert after["createdAt"] == before["createdAt"]
    assert after["updatedAt"] == stamp(START.replace(minute=1))


def test_put_ignores_what_it_does_not_overwrite_even_when_it_would_be_refused(
    v2: httpx.Client,
) -> None:
    """The PHP SDK PUTs the whole customer it holds: ids, entries, address, `email`, `phone`,
    read-only fields (§8a.9)."""
    customer = create(v2, **RICH)
    held = fetch(v2, customer)
    sent = {
        **{key: value for key, value in held.items() if not key.startswith("_")},
        "firstName": "Vern",
        "email": "not an address",
        "phone": ["not", "a", "string"],
        "emails": [{"id": -5, "value": "???"}],
        "address": {"city": 5},
        "websites": "junk",
        "updatedAt": "yesterday",
        "draft": "maybe",
    }
    assert_no_content(v2.put(f"/v2/customers/{customer}", json=sent))
    after = fetch(v2, customer)
    assert after["firstName"] == "Vern"
    assert after["_embedded"] == held["_embedded"]
    assert {k: v for k, v in after.items() if k not in ("firstName", "updatedAt")} == {
        k: v for k, v in held.items() if k not in ("firstName", "updatedAt")
    }


def test_putting_a_customer_back_as_read_changes_nothing(v2: httpx.Client, clock: Clock) -> None:
    clock.freeze(START)
    customer = create(v2, **RICH)
    held = fetch(v2, customer)
    clock.advance(60)
    assert_no_content(v2.put(f"/v2/customers/{customer}", json=held))
    assert fetch(v2, customer) == held  # updatedAt too: nothing changed


def test_a_bad_put_reports_every_problem_and_changes_nothing(v2: httpx.Client) -> None:
    customer = create(v2, **RICH)
    before = fetch(v2, customer)
    response = v2.put(
        f"/v2/customers/{customer}",
        json={"firstName": ["Ann"], "gender": "robot", "background": "b" * 201},
    )
    assert_problems(
        response,
        ("firstName", "is not valid", ["Ann"]),
        ("gender", "Expected one of these: female, male, unknown", "robot"),
        ("background", "size must be between 1 and 200", "b" * 201),
    )
    assert fetch(v2, customer) == before


def test_put_of_a_customer_that_does_not_exist_is_404_whatever_its_body(
    v2: httpx.Client,
) -> None:
    assert_vnd_error(v2.put("/v2/customers/2000000000", json={"gender": "robot"}), 404)


# -- one customer, both versions (§8)


def test_a_customer_written_through_v2_reads_the_same_through_v1(
    v2: httpx.Client, client: httpx.Client, clock: Clock
) -> None:
    clock.freeze(START)
    customer = create(v2, **{**RICH, "photoType": "instagram"})
    body = fetch(v2, customer)
    item = fetch_v1(client, customer)
    assert (item["firstName"], item["lastName"], item["fullName"]) == (
        "Vernon",
        "Bear",
        "Vernon Bear",
    )
    assert item["photoType"] == "unknown"  # v1 has no instagram (v1 spec §8.3)
    assert item["gender"] == "male"
    assert item["modifiedAt"] == body["updatedAt"]
    assert [(e["id"], e["value"], e["location"]) for e in item["emails"]] == [
        (e["id"], e["value"], e["type"]) for e in body["_embedded"]["emails"]
    ]
    assert [(e["id"], e["value"], e["type"]) for e in item["socialProfiles"]] == [
        (e["id"], e["value"], e["type"]) for e in body["_embedded"]["social_profiles"]
    ]
    assert item["address"]["city"] == "Dallas"


def test_a_customer_written_through_v1_reads_the_same_through_v2(
    v2: httpx.Client, client: httpx.Client
) -> None:
    created = client.post(
        "/v1/customers.json",
        json={
            "firstName": "Ann",
            "lastName": "Lee",
            "emails": [{"value": "ann@example.com", "location": "home"}],
            "chats": [{"value": "ann.lee", "type": "skype"}],
        },
    )
    assert_empty(created, 201)
    customer = int(created.headers["location"].rsplit("/", 1)[1].removesuffix(".json"))
    item = fetch_v1(client, customer)
    body = fetch(v2, customer)
    assert (body["firstName"], body["lastName"]) == ("Ann", "Lee")
    assert body["updatedAt"] == item["modifiedAt"] and body["createdAt"] == item["createdAt"]
    assert body["_embedded"]["emails"] == [
        {"id": item["emails"][0]["id"], "value": "ann@example.com", "type": "home"}
    ]
    assert body["_embedded"]["chats"] == [
        {"id": item["chats"][0]["id"], "value": "ann.lee", "type": "skype"}
    ]
    # And a v2 overwrite shows in v1, entries kept.
    assert_no_content(v2.put(f"/v2/customers/{customer}", json={"firstName": "Anna"}))
    item = fetch_v1(client, customer)
    assert (item["firstName"], item["lastName"]) == ("Anna", None)
    assert [e["value"] for e in item["emails"]] == ["ann@example.com"]


@pytest.mark.parametrize("name", ["firstName", "jobTitle"])
def test_a_blank_string_clears_a_field_on_put(v2: httpx.Client, name: str) -> None:
    customer = create(v2, **{name: "Something"})
    assert_no_content(v2.put(f"/v2/customers/{customer}", json={name: "   "}))
    assert fetch(v2, customer)[name] is None


def test_an_age_of_255_characters_is_kept_and_a_longer_one_refused_on_every_backend(
    v2: httpx.Client,
) -> None:
    customer = create(v2, age="x" * 255)
    response = v2.put(f"/v2/customers/{customer}", json={"age": "y" * 256})
    assert_problems(response, ("age", "size must be between 1 and 255", "y" * 256))
    assert fetch(v2, customer)["age"] == "x" * 255


def test_a_large_create_is_read_whole(v2: httpx.Client) -> None:
    """Over 16 kB, a body is decoded in a worker thread (http/body.py): the same answer."""
    phones = [{"type": "work", "value": f"555-{n:05}"} for n in range(600)]
    customer = create(v2, firstName="Ann", phones=phones)
    listed = [p["value"] for p in fetch(v2, customer)["_embedded"]["phones"]]
    assert listed == [p["value"] for p in phones]
