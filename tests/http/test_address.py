"""The customer's address through create and update (spec §8.2, §10.5)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.conftest import Clock
from tests.helpers import assert_invalid, assert_item, create, fetch, raw, update

T0 = datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)
BOSTON = {
    "lines": ["1 Main St", "Suite 2"],
    "city": "Boston",
    "state": "MA",
    "postalCode": "02110",
    "country": "US",
}


def _address(client: httpx.Client, customer: int) -> dict[str, Any]:
    address: dict[str, Any] = fetch(client, customer)["address"]
    return address


def test_an_address_is_created_by_an_update(client: httpx.Client, clock: Clock) -> None:
    clock.freeze(T0)
    customer = create(client)
    clock.advance(60)
    item = update(client, customer, {"address": BOSTON})
    address = item["address"]
    assert address == {
        "id": address["id"],
        **BOSTON,
        "createdAt": "2021-03-04T05:07:07Z",
        "modifiedAt": "2021-03-04T05:07:07Z",
    }
    assert isinstance(address["id"], int) and address["id"] > 0
    assert item["modifiedAt"] == "2021-03-04T05:07:07Z"


@pytest.mark.parametrize("new_id", [0, False, None])
def test_an_address_id_of_zero_false_or_null_means_no_id(
    client: httpx.Client, new_id: object
) -> None:
    customer = create(client)
    address = update(client, customer, {"address": {**BOSTON, "id": new_id}})["address"]
    assert {k: address[k] for k in BOSTON} == BOSTON


def test_an_address_is_updated_by_its_id_keeping_what_is_not_sent(
    client: httpx.Client, clock: Clock
) -> None:
    clock.freeze(T0)
    customer = create(client, address=BOSTON)
    before = _address(client, customer)
    clock.advance(60)
    after = update(client, customer, {"address": {"id": before["id"], "city": "Cambridge"}})[
        "address"
    ]
    assert after == {**before, "city": "Cambridge", "modifiedAt": "2021-03-04T05:07:07Z"}
    # Null keeps a field, as on the customer itself (spec §10.2).
    nulls = {"id": before["id"], "lines": None, "state": None, "postalCode": None, "country": None}
    assert update(client, customer, {"address": nulls})["address"] == after


def test_a_blank_address_field_is_cleared_and_blank_lines_dropped(client: httpx.Client) -> None:
    customer = create(client, address=BOSTON)
    address_id = _address(client, customer)["id"]
    address = update(client, customer, {"address": {"id": address_id, "lines": ["", "  "]}})[
        "address"
    ]
    assert address["lines"] == []
    address = update(client, customer, {"address": {"id": address_id, "lines": ["Pier 4"]}})[
        "address"
    ]
    assert address["lines"] == ["Pier 4"]


def test_an_address_without_an_id_replaces_the_values_of_the_one_there(
    client: httpx.Client, clock: Clock
) -> None:
    clock.freeze(T0)
    customer = create(client, address=BOSTON)
    before = _address(client, customer)
    clock.advance(60)
    replacement = {"city": "Amsterdam", "state": "NH", "postalCode": "1011", "country": "NL"}
    after = update(client, customer, {"address": replacement})["address"]
    # The customer keeps one address, the same one, with only the values sent: lines are gone.
    assert after == {
        **before,
        **replacement,
        "lines": [],
        "modifiedAt": "2021-03-04T05:07:07Z",
    }


def test_a_negative_address_id_removes_the_address(client: httpx.Client, clock: Clock) -> None:
    clock.freeze(T0)
    customer = create(client, address=BOSTON)
    address_id = _address(client, customer)["id"]
    clock.advance(60)
    item = update(client, customer, {"address": {"id": -address_id, "city": "ignored"}})
    assert (item["address"], item["modifiedAt"]) == (None, "2021-03-04T05:07:07Z")
    again = update(client, customer, {"address": BOSTON})["address"]
    assert again["id"] != address_id


@pytest.mark.parametrize("given", ["absent", None])
def test_an_omitted_or_null_address_is_kept(client: httpx.Client, given: object) -> None:
    customer = create(client, address=BOSTON)
    before = raw(client, customer)
    body = {"firstName": "Ann"} if given == "absent" else {"address": None}
    update(client, customer, body)
    assert raw(client, customer) == before


def test_an_address_id_that_is_not_the_customers_is_refused(
    client: httpx.Client, other_client: httpx.Client
) -> None:
    customer = create(client, address=BOSTON)
    other = create(client, address={**BOSTON, "city": "Salem"})
    theirs = create(other_client, address=BOSTON)
    own_id = _address(client, customer)["id"]
    others = [_address(client, other)["id"], _address(other_client, theirs)["id"]]
    snapshots = (raw(client, customer), raw(client, other), raw(other_client, theirs))
    for address_id in [*others, own_id + 1_000_000]:
        for sent in (address_id, -address_id):
            response = client.put(
                f"/v1/customers/{customer}.json",
                json={"address": {**BOSTON, "id": sent, "city": "Mallory"}},
            )
            assert_invalid(
                response, ("address:id", str(sent), "The specified address is not valid")
            )
    assert (raw(client, customer), raw(client, other), raw(other_client, theirs)) == snapshots


def test_a_removal_of_an_address_the_customer_does_not_have_is_refused(
    client: httpx.Client,
) -> None:
    customer = create(client)
    response = client.put(f"/v1/customers/{customer}.json", json={"address": {"id": -5}})
    assert_invalid(response, ("address:id", "-5", "The specified address is not valid"))
    response = client.put(f"/v1/customers/{customer}.json", json={"address": {"id": 5}})
    assert_invalid(response, ("address:id", "5", "The specified address is not valid"))


@pytest.mark.parametrize("missing", ["city", "state", "postalCode", "country"])
def test_a_new_address_needs_city_state_postal_code_and_country(
    client: httpx.Client, missing: str
) -> None:
    customer = create(client)
    before = raw(client, customer)
    for given in ("absent", None, "", "  "):
        address: dict[str, Any] = dict(BOSTON)
        if given == "absent":
            del address[missing]
        else:
            address[missing] = given
        response = client.put(f"/v1/customers/{customer}.json", json={"address": address})
        assert_invalid(response, (f"address:{missing}", None, "Value is required"))
    assert raw(client, customer) == before


def test_every_missing_address_field_is_reported(client: httpx.Client) -> None:
    response = client.post(
        "/v1/customers.json",
        json={"firstName": "Ann", "lastName": "Lee", "address": {"lines": ["1 Main St"]}},
    )
    assert_invalid(
        response,
        ("address:city", None, "Value is required"),
        ("address:state", None, "Value is required"),
        ("address:postalCode", None, "Value is required"),
        ("address:country", None, "Value is required"),
    )


def test_an_update_by_id_must_leave_a_complete_address(client: httpx.Client) -> None:
    """Spec §10.5: the real service refused an update that left `state` out of the result."""
    customer = create(client, address=BOSTON)
    address_id = _address(client, customer)["id"]
    before = raw(client, customer)
    response = client.put(
        f"/v1/customers/{customer}.json",
        json={"address": {"id": address_id, "state": "", "city": "Cambridge"}},
    )
    assert_invalid(response, ("address:state", None, "Value is required"))
    assert raw(client, customer) == before


def test_the_misspelled_postcal_code_is_read_as_the_postal_code(client: httpx.Client) -> None:
    """The docs' update example spells it `postcalCode` (spec §10.5)."""
    customer = create(client)
    body = {k: v for k, v in BOSTON.items() if k != "postalCode"}
    address = update(client, customer, {"address": {**body, "postcalCode": "74206"}})["address"]
    assert address["postalCode"] == "74206"
    assert "postcalCode" not in address
    # The right spelling wins when both are sent.
    both = {**BOSTON, "postalCode": "02111", "postcalCode": "99999"}
    assert update(client, customer, {"address": both})["address"]["postalCode"] == "02111"


def test_a_numeric_postal_code_is_stored_as_text(client: httpx.Client) -> None:
    response = client.post(
        "/v1/customers.json?reload=true",
        json={"firstName": "Ann", "lastName": "Lee", "address": {**BOSTON, "postalCode": 74206}},
    )
    assert assert_item(response, 201)["address"]["postalCode"] == "74206"


def test_lines_as_a_single_string_are_one_line(client: httpx.Client) -> None:
    customer = create(client)
    address = update(client, customer, {"address": {**BOSTON, "lines": "1 Main St"}})["address"]
    assert address["lines"] == ["1 Main St"]


def test_address_timestamps_and_unknown_keys_are_ignored(
    client: httpx.Client, clock: Clock
) -> None:
    clock.freeze(T0)
    customer = create(client)
    body = {
        **BOSTON,
        "createdAt": "2001-01-01T00:00:00Z",
        "modifiedAt": "2001-01-01T00:00:00Z",
        "zip": "12345",
    }
    address = update(client, customer, {"address": body})["address"]
    assert (address["createdAt"], address["modifiedAt"]) == ("2021-03-04T05:06:07Z",) * 2


def test_address_values_of_the_wrong_type_are_refused(client: httpx.Client) -> None:
    customer = create(client)
    response = client.put(
        f"/v1/customers/{customer}.json",
        json={"address": {**BOSTON, "lines": [1], "city": 5, "country": True}},
    )
    assert_invalid(
        response,
        ("address:lines", "1", "Value is not valid"),
        ("address:city", "5", "Value is not valid"),
        ("address:country", "true", "Value is not valid"),
    )
    for value, shown in (("Boston", "Boston"), (5, "5"), (["x"], '["x"]')):
        response = client.put(f"/v1/customers/{customer}.json", json={"address": value})
        assert_invalid(response, ("address", shown, "Value is not valid"))
    response = client.put(f"/v1/customers/{customer}.json", json={"address": {**BOSTON, "id": "7"}})
    assert_invalid(response, ("address:id", "7", "Value is not valid"))
