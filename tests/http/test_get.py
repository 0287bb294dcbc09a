"""GET /v1/customers/{id}.json through the real server (spec §9.3)."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import (
    JSON,
    NOT_FOUND,
    assert_error,
    assert_item,
    create,
    route_not_found,
)


def test_get_answers_200_with_the_item(client: httpx.Client) -> None:
    created = assert_item(
        client.post(
            "/v1/customers.json?reload=true",
            json={"firstName": "Ann", "lastName": "Lee", "emails": [{"value": "a@example.com"}]},
        ),
        201,
    )
    response = client.get(f"/v1/customers/{created['id']}.json")
    assert response.headers["content-type"] == JSON
    assert response.headers["content-length"] == str(len(response.content))
    assert "location" not in response.headers
    assert assert_item(response, 200) == created


def test_get_lists_entries_in_creation_order(client: httpx.Client) -> None:
    new_id = create(
        client,
        phones=[{"value": "555-0103"}, {"value": "555-0101"}, {"value": "555-0102"}],
    )
    client.put(f"/v1/customers/{new_id}.json", json={"phones": [{"value": "555-0100"}]})
    response = client.get(f"/v1/customers/{new_id}.json")
    phones = assert_item(response, 200)["phones"]
    assert [p["value"] for p in phones] == ["555-0103", "555-0101", "555-0102", "555-0100"]
    assert [p["id"] for p in phones] == sorted(p["id"] for p in phones)


@pytest.mark.parametrize("customer", [2_147_483_000, 0, 2**31 - 1, 2**31, 2**63, 2**70])
def test_an_id_with_no_customer_is_not_found(client: httpx.Client, customer: int) -> None:
    create(client)
    assert_error(client.get(f"/v1/customers/{customer}.json"), 404, NOT_FOUND)


def test_another_accounts_customer_is_not_found(
    client: httpx.Client, other_client: httpx.Client
) -> None:
    theirs = create(other_client)
    assert_error(client.get(f"/v1/customers/{theirs}.json"), 404, NOT_FOUND)
    assert other_client.get(f"/v1/customers/{theirs}.json").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/v1/customers/abc.json",
        "/v1/customers/-1.json",
        "/v1/customers/-0.json",
        "/v1/customers/1.5.json",
        "/v1/customers/1",
        "/v1/customers/1.xml",
        "/v1/customers/.json",
        "/v1/customer/1.json",
    ],
)
def test_a_path_that_is_no_customer_id_is_an_unknown_resource(
    client: httpx.Client, path: str
) -> None:
    assert_error(client.get(path), 404, route_not_found(path))
