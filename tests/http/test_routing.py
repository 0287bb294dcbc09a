"""Routes, methods and the headers of every response (spec §1, §2, §7, §9.7)."""

from __future__ import annotations

import httpx
import pytest

from openscout.config import Settings
from tests.conftest import Server, new_account, running_server
from tests.helpers import (
    CORS,
    JSON,
    assert_cors,
    assert_empty,
    assert_error,
    assert_item,
    create,
    customer_id,
    route_not_found,
)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/v1/customers/{id}.json"),
        ("POST", "/v1/customers/{id}.json"),
        ("PATCH", "/v1/customers/{id}.json"),
        ("PUT", "/v1/customers.json"),
        ("DELETE", "/v1/customers.json"),
        ("GET", "/v1/mailboxes.json"),
        ("POST", "/v1/mailboxes.json"),
        ("GET", "/nope"),
        ("GET", "/"),
        ("GET", "/v4/customers/{id}"),
        ("GET", "/v1/customers/{id}.json/"),
        ("GET", "/v1/customers/{id}"),
    ],
)
def test_an_unknown_route_or_method_is_404_naming_the_path(
    client: httpx.Client, method: str, path: str
) -> None:
    customer = create(client)
    before = client.get(f"/v1/customers/{customer}.json").content
    path = path.format(id=customer)
    response = client.request(method, path, json={"firstName": "Mallory"})
    assert_error(response, 404, route_not_found(path))
    assert response.json() == {"code": 404, "error": route_not_found(path)}
    assert "allow" not in response.headers
    assert_cors(response)
    assert client.get(f"/v1/customers/{customer}.json").content == before


def test_delete_does_not_exist_in_v1(client: httpx.Client) -> None:
    customer = create(client)
    path = f"/v1/customers/{customer}.json"
    assert_error(client.delete(path), 404, route_not_found(path))
    assert client.get(path).status_code == 200


def test_the_query_string_is_not_part_of_the_path_in_the_message(client: httpx.Client) -> None:
    response = client.get("/v1/mailboxes.json?page=2")
    assert_error(response, 404, route_not_found("/v1/mailboxes.json"))


def test_healthz_answers_200(anonymous: httpx.Client) -> None:
    response = anonymous.get("/healthz")
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON
    assert response.json() == {"status": "ok", "database": "ok", "webhooks": {"backlog": 0}}
    assert_cors(response)


def test_every_response_carries_the_cors_headers(
    client: httpx.Client, anonymous: httpx.Client
) -> None:
    created = client.post("/v1/customers.json", json={"firstName": "Ann", "lastName": "Lee"})
    location = created.headers["location"]
    customer = int(location.rsplit("/", 1)[1].removesuffix(".json"))
    path = f"/v1/customers/{customer}.json"
    create(client, emails=[{"value": "taken@example.com"}])
    responses = {
        201: created,
        200: client.get(path),
        2001: client.put(path, json={"jobTitle": "CTO"}),
        2011: client.put(f"{path}?reload=true", json={}),
        400: client.put(path, json={"firstName": 5}),
        4001: client.put(path, content=b"{"),
        401: anonymous.get(path),
        404: client.get("/v1/customers/2000000000.json"),
        4041: client.get("/nope"),
        409: client.put(path, json={"emails": [{"value": "taken@example.com"}]}),
        413: client.post("/v1/customers.json", content=b" " * 200_000),
    }
    for code, response in responses.items():
        assert response.status_code == int(str(code)[:3]), (code, response.text)
        assert_cors(response)
        # Each CORS header once, never duplicated.
        for name in CORS:
            assert len(response.headers.get_list(name)) == 1


def test_json_responses_say_so_and_empty_ones_carry_no_type(client: httpx.Client) -> None:
    created = client.post("/v1/customers.json", json={"firstName": "Ann", "lastName": "Lee"})
    assert created.content == b""
    assert "content-type" not in created.headers
    path = created.headers["location"]
    got = client.get(path)
    assert got.headers["content-type"] == JSON
    assert_item(got, 200)
    reloaded = client.put(f"{path}?reload=true", json={})
    assert reloaded.headers["content-type"] == JSON
    for response in (client.get("/nope"), client.put(path, content=b"[")):
        assert response.headers["content-type"] == JSON


def test_a_head_request_gets_the_headers_of_a_get(client: httpx.Client) -> None:
    customer = create(client)
    path = f"/v1/customers/{customer}.json"
    head = client.head(path)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == JSON
    assert head.headers["content-length"] == str(len(client.get(path).content))


def test_the_location_follows_the_public_url_when_one_is_set(server: Server) -> None:
    """Behind a TLS proxy the configured public URL, not the socket's, makes the `Location`."""

    account = new_account(server.store)
    with (
        running_server(server.store, Settings(public_url="https://help.example.com/")) as proxied,
        httpx.Client(base_url=proxied.url, auth=(account.key, "X"), timeout=10) as http,
    ):
        response = http.post("/v1/customers.json", json={"firstName": "Ann", "lastName": "Lee"})
        assert_empty(response, 201)
        customer = customer_id(response)
        assert response.headers["location"] == (
            f"https://help.example.com/v1/customers/{customer}.json"
        )
        assert http.get(f"/v1/customers/{customer}.json").status_code == 200
