"""A first walk through create, get and update."""

from __future__ import annotations

import httpx

from tests.helpers import JSON, assert_error, customer_id


def test_create_then_get_returns_the_full_shape(client: httpx.Client) -> None:
    created = client.post(
        "/v1/customers.json",
        json={"firstName": "Ann", "lastName": "Lee", "emails": [{"value": "ann@example.com"}]},
    )
    assert created.status_code == 201
    assert created.content == b""
    new_id = customer_id(created)
    got = client.get(f"/v1/customers/{new_id}.json")
    assert got.status_code == 200
    assert got.headers["content-type"] == JSON
    item = got.json()["item"]
    assert item["fullName"] == "Ann Lee"
    assert [e["value"] for e in item["emails"]] == ["ann@example.com"]


def test_unknown_customer_is_404(client: httpx.Client) -> None:
    assert_error(
        client.get("/v1/customers/2147483000.json"), 404, "The requested resource was not found."
    )
