"""v2's edits: PATCH by path, DELETE, the entry and address sub-resources and the customer's
properties (spec helpscout-v2-customers.md §4, §8a.4, §8a.8, §8a.10, §8a.16;
docs/decisions/v2-patch-documents.md, v2-patch-order.md, v2-entry-overwrite.md,
v2-address.md, v2-properties.md)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import fetch as fetch_v1
from tests.helpers import route_not_found
from tests.http.v2.shapes import (
    HAL,
    NOTHING,
    assert_created,
    assert_no_content,
    assert_problems,
    assert_vnd_error,
    create,
    fetch,
)

NOT_FOUND = "Resource not found"
#: Each sub-resource collection: its path segment, its `_embedded` name, a valid entry.
COLLECTIONS = [
    ("emails", "emails", {"type": "home", "value": "ann@example.com"}),
    ("phones", "phones", {"type": "mobile", "value": "555-0100"}),
    ("chats", "chats", {"type": "skype", "value": "ann.lee"}),
    ("social-profiles", "social_profiles", {"type": "twitter", "value": "https://x.com/ann"}),
    ("websites", "websites", {"value": "https://ann.example"}),
]
ADDRESS = {
    "city": "Dallas",
    "state": "TX",
    "postalCode": "74206",
    "country": "US",
    "lines": ["123 West Main St"],
}


def embedded(v2: httpx.Client, customer: int, name: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = fetch(v2, customer)["_embedded"][name]
    return entries


# -- entry lists and the address


@pytest.mark.parametrize(("segment", "name", "entry"), COLLECTIONS)
def test_an_entry_list_has_the_entries_and_a_self_link_only(
    v2: httpx.Client, segment: str, name: str, entry: dict[str, str]
) -> None:
    body_key = "socialProfiles" if name == "social_profiles" else name
    customer = create(v2, **{body_key: [entry]})
    url = f"{v2.base_url}/v2/customers/{customer}/{segment}"
    response = v2.get(f"/v2/customers/{customer}/{segment}")
    assert response.status_code == 200
    assert response.headers["content-type"] == HAL
    assert response.json() == {
        "_embedded": {name: embedded(v2, customer, name)},
        "_links": {"self": {"href": url}},
    }
    assert len(response.json()["_embedded"][name]) == 1
    empty = create(v2)
    assert v2.get(f"/v2/customers/{empty}/{segment}").json()["_embedded"] == {name: []}


def test_the_address_reads_with_a_self_link_and_is_404_when_there_is_none(
    v2: httpx.Client,
) -> None:
    customer = create(v2, address=ADDRESS)
    response = v2.get(f"/v2/customers/{customer}/address")
    assert response.status_code == 200
    assert response.headers["content-type"] == HAL
    url = f"{v2.base_url}/v2/customers/{customer}/address"
    assert response.json() == {**ADDRESS, "_links": {"self": {"href": url}}}
    assert_vnd_error(v2.get(f"/v2/customers/{create(v2)}/address"), 404, NOT_FOUND)


# -- PATCH (§4 "Update Customer")


@pytest.mark.parametrize("media_type", ["application/json", "application/json-patch+json"])
def test_patch_applies_its_operations_in_order(v2: httpx.Client, media_type: str) -> None:
    customer = create(v2, firstName="Ann", emails=[{"type": "work", "value": "a@example.com"}])
    (email,) = embedded(v2, customer, "emails")
    operations = [
        {"op": "replace", "path": "/firstName", "value": "Anna"},
        {"op": "remove", "path": "/jobTitle"},
        {"op": "add", "path": "/phones", "value": {"type": "home", "value": "555"}},
        {"op": "replace", "path": f"/emails/{email['id']}/value", "value": "b@example.com"},
        {"op": "add", "path": "/address/city", "value": "Prague"},
        {"op": "add", "path": "/address/state", "value": "P"},
        {"op": "add", "path": "/address/postalCode", "value": "11000"},
        {"op": "add", "path": "/address/country", "value": "CZ"},
    ]
    response = v2.patch(
        f"/v2/customers/{customer}",
        content=httpx.Request("POST", "/", json=operations).content,
        headers={"Content-Type": media_type},
    )
    assert_no_content(response)
    body = fetch(v2, customer)
    assert body["firstName"] == "Anna"
    assert body["_embedded"]["emails"] == [
        {"id": email["id"], "value": "b@example.com", "type": "work"}
    ]
    assert [(p["value"], p["type"]) for p in body["_embedded"]["phones"]] == [("555", "home")]
    assert body["_embedded"]["address"]["city"] == "Prague"


def test_a_single_operation_object_is_a_one_operation_patch(v2: httpx.Client) -> None:
    customer = create(v2, firstName="Ann")
    patch = {"op": "replace", "path": "/lastName", "value": "Lee"}
    assert_no_content(v2.patch(f"/v2/customers/{customer}", json=patch))
    assert fetch(v2, customer)["lastName"] == "Lee"


def test_a_bad_patch_reports_every_problem_and_changes_nothing(v2: httpx.Client) -> None:
    customer = create(v2, firstName="Ann", emails=[{"type": "work", "value": "a@example.com"}])
    before = fetch(v2, customer)
    response = v2.patch(
        f"/v2/customers/{customer}",
        json=[
            {"op": "replace", "path": "/firstName", "value": "Anna"},
            {"op": "move", "path": "/lastName", "value": "Lee"},
            {"op": "remove", "path": "/emails"},
            {"op": "replace", "path": "/gender", "value": "robot"},
        ],
    )
    assert_problems(
        response,
        ("[1].op", "Expected one of these: add, remove, replace", "move"),
        ("[2].path", "is not a path this operation can change", "/emails"),
        ("gender", "Expected one of these: female, male, unknown", "robot"),
    )
    assert fetch(v2, customer) == before


def test_a_patch_that_is_not_an_array_of_operations_is_malformed(v2: httpx.Client) -> None:
    customer = create(v2, firstName="Ann")
    for body in (b'"replace"', b"{", b"5"):
        response = v2.patch(f"/v2/customers/{customer}", content=body)
        assert_vnd_error(response, 400, "Error parsing request body into JSON")
    assert_vnd_error(
        v2.patch(f"/v2/customers/{customer}", content=b"[]", headers={"Content-Type": "text/csv"}),
        415,
    )


def test_patch_of_a_customer_that_does_not_exist_is_404(v2: httpx.Client) -> None:
    patch = [{"op": "replace", "path": "/firstName", "value": "Ann"}]
    for customer in ("2000000000", "2147483648"):
        assert_vnd_error(v2.patch(f"/v2/customers/{customer}", json=patch), 404, NOT_FOUND)


# -- DELETE (§4, §8)


def test_a_deleted_customer_is_gone_in_v2_and_in_v1(v2: httpx.Client, client: httpx.Client) -> None:
    customer = create(v2, firstName="Ann", emails=[{"type": "work", "value": "ann@example.com"}])
    kept = create(v2, firstName="Bo")
    assert_no_content(v2.delete(f"/v2/customers/{customer}"))
    assert_vnd_error(v2.get(f"/v2/customers/{customer}"), 404, NOT_FOUND)
    assert client.get(f"/v1/customers/{customer}.json").status_code == 404
    assert_vnd_error(v2.delete(f"/v2/customers/{customer}"), 404, NOT_FOUND)
    assert [c["id"] for c in v2.get("/v2/customers").json()["_embedded"]["customers"]] == [kept]
    # Its address is free again.
    create(v2, emails=[{"type": "work", "value": "ann@example.com"}])


def test_an_asynchronous_delete_is_accepted_with_202(v2: httpx.Client) -> None:
    customer = create(v2, firstName="Ann")
    response = v2.delete(f"/v2/customers/{customer}", params={"async": "true"})
    assert response.status_code == 202
    assert response.content == b""
    assert_vnd_error(v2.get(f"/v2/customers/{customer}"), 404, NOT_FOUND)


def test_a_delete_with_a_json_content_type_and_no_body_is_not_refused(v2: httpx.Client) -> None:
    """Clients send `Content-Type: application/json` on DELETE (§8a.10)."""
    customer = create(v2, firstName="Ann")
    headers = {"Content-Type": "application/json", "charset": "UTF-8"}
    assert_no_content(v2.delete(f"/v2/customers/{customer}", headers=headers))


@pytest.mark.parametrize("customer", ["0", "2000000000", "2147483648", "99999999999999999999"])
def test_a_delete_of_a_customer_that_does_not_exist_is_404(v2: httpx.Client, customer: str) -> None:
    assert_vnd_error(v2.delete(f"/v2/customers/{customer}"), 404, NOT_FOUND)


def test_v1_still_has_no_delete(client: httpx.Client, v2: httpx.Client) -> None:
    customer = create(v2, firstName="Ann")
    path = f"/v1/customers/{customer}.json"
    assert client.delete(path).json() == {"code": 404, "error": route_not_found(path)}
    assert fetch_v1(client, customer)["firstName"] == "Ann"


# -- entries (§4, §8a.4)


@pytest.mark.parametrize(("segment", "name", "entry"), COLLECTIONS)
def test_an_entry_is_created_with_its_id_in_resource_id_then_overwritten_then_deleted(
    v2: httpx.Client, segment: str, name: str, entry: dict[str, str]
) -> None:
    customer = create(v2, firstName="Ann")
    path = f"/v2/customers/{customer}/{segment}"
    response = v2.post(path, json=entry)
    entry_id = assert_created(response)
    assert response.headers["location"] == f"{v2.base_url}{path}/{entry_id}"
    assert embedded(v2, customer, name) == [{"id": entry_id, **entry}]
    # A second create: a new id, given in the header as well.
    other = {**entry, "value": "x" + entry["value"]}
    second = assert_created(v2.post(path, json=other))
    assert second != entry_id
    assert [e["id"] for e in embedded(v2, customer, name)] == [entry_id, second]
    # PUT overwrites the whole entry: a type left out becomes the default.
    assert_no_content(v2.put(f"{path}/{entry_id}", json={"value": "y" + entry["value"]}))
    rewritten = embedded(v2, customer, name)[0]
    assert rewritten["id"] == entry_id and rewritten["value"] == "y" + entry["value"]
    if name != "websites":
        assert rewritten["type"] == ("work" if name in ("emails", "phones") else "other")
    assert_no_content(v2.delete(f"{path}/{entry_id}"))
    assert [e["id"] for e in embedded(v2, customer, name)] == [second]


def test_creating_an_entry_the_customer_has_gives_that_entrys_id(v2: httpx.Client) -> None:
    customer = create(v2, emails=[{"type": "home", "value": "ann@example.com"}])
    (email,) = embedded(v2, customer, "emails")
    response = v2.post(f"/v2/customers/{customer}/emails", json={"value": "ANN@example.com"})
    assert assert_created(response) == email["id"]
    # The same address, now spelled as sent; its type kept (v2-entry-overwrite.md).
    assert embedded(v2, customer, "emails") == [{**email, "value": "ANN@example.com"}]


def test_an_entry_id_the_customer_does_not_have_is_refused(v2: httpx.Client) -> None:
    customer = create(v2, emails=[{"type": "home", "value": "ann@example.com"}])
    other = create(v2, emails=[{"type": "home", "value": "bo@example.com"}])
    (theirs,) = embedded(v2, other, "emails")
    for entry_id in (theirs["id"], 2000000000, 2**31, 10**12):
        for response in (
            v2.put(f"/v2/customers/{customer}/emails/{entry_id}", json={"value": "x@example.com"}),
            v2.delete(f"/v2/customers/{customer}/emails/{entry_id}"),
        ):
            assert_problems(response, ("emails.id", "The specified email was not found", entry_id))
    assert embedded(v2, other, "emails") == [theirs]


def test_a_bad_entry_is_refused_with_every_problem(v2: httpx.Client) -> None:
    customer = create(v2, firstName="Ann")
    response = v2.post(
        f"/v2/customers/{customer}/emails", json={"type": "desk", "value": "not an address"}
    )
    assert_problems(
        response,
        ("emails.value", "not a well-formed email address", "not an address"),
        ("emails.type", "Expected one of these: home, other, work", "desk"),
    )
    assert embedded(v2, customer, "emails") == []


def test_an_email_of_another_customer_cannot_be_added(v2: httpx.Client) -> None:
    create(v2, emails=[{"type": "home", "value": "ann@example.com"}])
    customer = create(v2, firstName="Bo")
    response = v2.post(f"/v2/customers/{customer}/emails", json={"value": "ann@example.com"})
    assert_vnd_error(response, 409, "A customer with this email address already exists")


def test_the_sub_resources_of_a_customer_that_does_not_exist_are_404(v2: httpx.Client) -> None:
    for path in ("/v2/customers/2147483648/websites", "/v2/customers/0/address"):
        assert_vnd_error(v2.get(path), 404, NOT_FOUND)


def test_writes_to_the_sub_resources_of_a_customer_that_does_not_exist_are_404(
    v2: httpx.Client,
) -> None:
    for response in (
        v2.post("/v2/customers/2147483648/emails", json={"value": "a@b.co"}),
        v2.put("/v2/customers/2000000000/phones/1", json={"value": "555"}),
        v2.delete("/v2/customers/2000000000/chats/1"),
        v2.post("/v2/customers/2000000000/address", json=ADDRESS),
        v2.delete("/v2/customers/2000000000/address"),
    ):
        assert_vnd_error(response, 404, NOT_FOUND)


# -- the address (§4, docs/decisions/v2-address.md)


def test_the_address_is_created_overwritten_and_deleted(v2: httpx.Client) -> None:
    customer = create(v2, firstName="Ann")
    path = f"/v2/customers/{customer}/address"
    response = v2.post(path, json=ADDRESS)
    assert response.status_code == 201 and response.content == b""
    assert response.headers["location"] == f"{v2.base_url}{path}"
    assert fetch(v2, customer)["_embedded"]["address"] == ADDRESS
    moved = {**ADDRESS, "city": "Austin", "lines": []}
    assert_no_content(v2.put(path, json=moved))
    assert fetch(v2, customer)["_embedded"]["address"] == moved
    assert_no_content(v2.delete(path))
    assert "address" not in fetch(v2, customer)["_embedded"]
    assert_vnd_error(v2.get(path), 404, NOT_FOUND)
    assert_problems(v2.delete(path), ("address", "The specified address was not found", NOTHING))


def test_an_incomplete_address_is_refused(v2: httpx.Client) -> None:
    customer = create(v2, address=ADDRESS)
    response = v2.put(f"/v2/customers/{customer}/address", json={"city": "Austin"})
    assert_problems(
        response,
        ("address.state", "may not be null", NOTHING),
        ("address.postalCode", "may not be null", NOTHING),
        ("address.country", "may not be null", NOTHING),
    )
    assert fetch(v2, customer)["_embedded"]["address"] == ADDRESS


# -- properties (§4 "Update Customer Properties", §8a.16)


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_properties_of_an_unknown_slug_are_refused(v2: httpx.Client, method: str) -> None:
    customer = create(v2, firstName="Ann")
    response = v2.request(
        method,
        f"/v2/customers/{customer}/properties",
        json=[{"op": "replace", "path": "/no-such-property", "value": "x"}],
    )
    assert_problems(
        response,
        (
            "properties.no-such-property",
            "The specified property was not found",
            "no-such-property",
        ),
    )


def test_properties_of_a_customer_that_does_not_exist_are_404(v2: httpx.Client) -> None:
    response = v2.patch(
        "/v2/customers/2000000000/properties", json=[{"op": "remove", "path": "/car"}]
    )
    assert_vnd_error(response, 404, NOT_FOUND)


def test_the_property_definitions_are_a_hal_list(v2: httpx.Client) -> None:
    response = v2.get("/v2/customer-properties")
    assert response.status_code == 200
    assert response.headers["content-type"] == HAL
    body = response.json()
    assert tuple(body) == ("_embedded", "_links")
    assert body["_links"] == {"self": {"href": f"{v2.base_url}/v2/customer-properties"}}
    for definition in body["_embedded"]["customer-properties"]:
        assert {"type", "slug", "name"} <= set(definition)
