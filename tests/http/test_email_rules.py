"""Email addresses that only look alike, through the real server on both backends: invisible
characters and a trailing dot are refused, and uniqueness compares addresses as
docs/decisions/email-uniqueness.md says (case aside; `ß` is not `ss`; a domain as DNS reads it).
"""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import (
    EMAIL_TAKEN,
    assert_empty,
    assert_error,
    assert_invalid,
    create,
    fetch,
    ids,
    raw,
)

NOT_AN_ADDRESS = "Value is not a valid email address"

LOOK_ALIKES = [
    "ann@x.com.",  # a trailing dot
    "ann@x\u200b.com",  # a zero-width space
    "ann\u00ad@x.com",  # a soft hyphen
    "ann\u200d@x.com",  # a zero-width joiner
    "\ufeffann@x.com",  # a byte order mark
]


@pytest.mark.parametrize("look_alike", LOOK_ALIKES, ids=repr)
def test_an_address_with_an_invisible_character_or_a_trailing_dot_is_refused(
    client: httpx.Client, look_alike: str
) -> None:
    customer = create(client, emails=[{"value": "ann@x.com"}])
    (entry,) = ids(fetch(client, customer)["emails"])
    before = raw(client, customer)
    for body in ({"value": look_alike}, {"id": entry, "value": look_alike}):
        response = client.put(f"/v1/customers/{customer}.json", json={"emails": [body]})
        assert_invalid(response, ("emails:value", look_alike, NOT_AN_ADDRESS))
    response = client.post(
        "/v1/customers.json",
        json={"firstName": "Bo", "lastName": "Ray", "emails": [{"value": look_alike}]},
    )
    assert_invalid(response, ("emails:value", look_alike, NOT_AN_ADDRESS))
    assert raw(client, customer) == before


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("straße@x.com", "strasse@x.com"),
        ("strasse@x.com", "STRAẞE@x.com"),
        ("\u212aelvin@x.com", "kelvin@x.com"),
        ("ann@straße.de", "ann@strasse.de"),
    ],
)
def test_addresses_that_case_folding_would_merge_are_different_customers(
    client: httpx.Client, first: str, second: str
) -> None:
    one = create(client, emails=[{"value": first}])
    other = create(client, firstName="Bo", emails=[{"value": second}])
    assert [fetch(client, c)["emails"][0]["value"] for c in (one, other)] == [first, second]
    found = client.get("/v1/customers.json", params={"email": second}).json()
    assert [item["id"] for item in found["items"]] == [other]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("émile@x.com", "ÉMILE@X.COM"),
        ("straße@x.com", "STRAẞE@x.com"),
        ("ann@straße.de", "ANN@xn--strae-oqa.de"),
        ("ann@ex.com", "ann@\uff25\uff38.com"),
    ],
)
def test_the_same_address_spelled_otherwise_is_a_conflict(
    client: httpx.Client, first: str, second: str
) -> None:
    owner = create(client, emails=[{"value": first}])
    body = {"firstName": "Bo", "lastName": "Ray", "emails": [{"value": second}]}
    response = client.post("/v1/customers.json", json=body)
    assert_error(response, 409, EMAIL_TAKEN["error"])
    bo = create(client, firstName="Bo")
    response = client.put(f"/v1/customers/{bo}.json", json={"emails": [{"value": second}]})
    assert_error(response, 409, EMAIL_TAKEN["error"])
    for params in ({"email": second}, {"email": first}):
        found = client.get("/v1/customers.json", params=params).json()
        assert [item["id"] for item in found["items"]] == [owner], params
    # Added to its own customer, the other spelling updates the entry (spec §10.3).
    assert_empty(
        client.put(f"/v1/customers/{owner}.json", json={"emails": [{"value": second}]}), 200
    )
    assert [e["value"] for e in fetch(client, owner)["emails"]] == [second]
