"""Field selectors through the real server (spec §5): `fields` on G, L1 and S trims each
returned object to the named keys, nested with `name:(…)`; envelopes stay; unknown names are
dropped; a selector that cannot be read is a 400 in v1's shape, after the key is checked."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import assert_error, assert_invalid, create, fetch

SEARCH = "/v1/search/customers.json"
LIST = "/v1/customers.json"


@pytest.fixture
def customer(client: httpx.Client) -> int:
    return create(
        client,
        firstName="Ann",
        lastName="Lee",
        organization="Acme",
        emails=[{"value": "ann@example.com"}, {"value": "ann@home.example", "location": "home"}],
        address={
            "lines": ["1 Main St"],
            "city": "Boston",
            "state": "MA",
            "postalCode": "02110",
            "country": "US",
        },
    )


def get(client: httpx.Client, path: str, **params: str) -> dict[str, object]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_get_trims_the_item_and_keeps_the_envelope(client: httpx.Client, customer: int) -> None:
    body = get(client, f"/v1/customers/{customer}.json", fields="lastName,firstName,nope")
    assert body == {"item": {"firstName": "Ann", "lastName": "Lee"}}


def test_get_trims_nested_objects_and_lists_of_objects(client: httpx.Client, customer: int) -> None:
    body = get(
        client,
        f"/v1/customers/{customer}.json",
        fields="id,emails:(value),address:(city,lines),phones:(value),chats:(value)",
    )
    assert body == {
        "item": {
            "id": customer,
            "address": {"lines": ["1 Main St"], "city": "Boston"},
            "emails": [{"value": "ann@example.com"}, {"value": "ann@home.example"}],
            "phones": [],
            "chats": None,
        }
    }


def test_list_trims_every_item_and_keeps_the_envelope(client: httpx.Client, customer: int) -> None:
    other = create(client, firstName="Bo", lastName="Ray")
    body = get(client, LIST, fields="id,fullName,emails")  # list items never carry emails
    assert body == {
        "page": 1,
        "pages": 1,
        "count": 2,
        "items": [{"id": other, "fullName": "Bo Ray"}, {"id": customer, "fullName": "Ann Lee"}],
    }
    assert get(client, LIST, fields="firstName", lastName="lee")["items"] == [{"firstName": "Ann"}]


def test_search_trims_every_item(client: httpx.Client, customer: int) -> None:
    body = get(client, SEARCH, query="ann", fields="emails,organization")
    assert body == {
        "page": 1,
        "pages": 1,
        "count": 1,
        "items": [{"emails": ["ann@example.com", "ann@home.example"], "organization": "Acme"}],
    }


def test_unknown_names_leave_empty_items(client: httpx.Client, customer: int) -> None:
    assert get(client, f"/v1/customers/{customer}.json", fields="nope") == {"item": {}}
    assert get(client, SEARCH, query="ann", fields="background")["items"] == [{}]


@pytest.mark.parametrize("blank", ["", "  "])
def test_a_blank_selector_selects_everything(
    client: httpx.Client, customer: int, blank: str
) -> None:
    assert get(client, f"/v1/customers/{customer}.json", fields=blank)["item"] == fetch(
        client, customer
    )


@pytest.mark.parametrize("path", ["/v1/customers/{}.json", LIST, SEARCH])
@pytest.mark.parametrize("selector", ["id,,name", "emails:(value", "emails:()", "id name"])
def test_a_selector_that_cannot_be_read_is_a_400(
    client: httpx.Client, customer: int, path: str, selector: str
) -> None:
    response = client.get(path.format(customer), params={"fields": selector})
    assert_invalid(response, ("fields", selector, "Value is not valid"))


def test_a_bad_selector_is_reported_with_a_bad_page(client: httpx.Client) -> None:
    response = client.get(SEARCH, params={"fields": "a:(", "page": "0"})
    assert_invalid(
        response, ("page", "0", "Value is not valid"), ("fields", "a:(", "Value is not valid")
    )


def test_the_key_is_checked_before_the_selector(anonymous: httpx.Client) -> None:
    for path in ("/v1/customers/1.json", LIST, SEARCH):
        response = anonymous.get(path, params={"fields": "a:("})
        assert_error(response, 401, "Invalid API Key")


def test_a_good_selector_on_a_missing_customer_is_404(client: httpx.Client) -> None:
    response = client.get("/v1/customers/999999999.json", params={"fields": "id"})
    assert_error(response, 404, "The requested resource was not found.")
