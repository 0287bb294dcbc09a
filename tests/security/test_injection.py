"""SQL injection, through every parameter, the search language, the body and the key: each is
taken as the text it is (stored and returned as sent, or refused in v1's shape) and changes
nothing else. Values reach the database only as bound parameters; these tests hold it to that.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from tests.conftest import Server
from tests.helpers import assert_error, create, fetch
from tests.security.conftest import Neighbour, fingerprint

PAYLOADS = [
    "' OR '1'='1",
    "' OR 1=1 --",
    '" OR ""="',
    "'; DROP TABLE customers; --",
    "1; DELETE FROM entries",
    "x' UNION SELECT key_hash FROM api_keys --",
    "') OR ('a'='a",
    "\\'; UPDATE api_keys SET revoked_at = NULL; --",
    "1 OR account_id <> 0",
    "%' OR '%'='",
    "$$; SELECT pg_sleep(0); $$",
    "*/ OR /*",
]

PARAMETERS = {
    "/v1/customers.json": ["firstName", "lastName", "email", "modifiedSince", "page"],
    "/v1/search/customers.json": ["query", "page", "pageSize", "sortField", "sortOrder"],
    "/v1/mailboxes/1/customers.json": ["page"],
}


def quote(text: str) -> str:
    """`text` as a quoted string of the search language."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def query_variants(payload: str) -> list[str]:
    """The payload as the search language can carry it: bare, quoted, behind each field."""
    quoted = quote(payload)
    return [
        payload,
        quoted,
        *(
            f"{field}:{quoted}"
            for field in ("firstName", "lastName", "fullName", "email", "emailDomain")
        ),
        f"organization:{quoted} OR jobTitle:{quoted}",
        f"({quoted} OR *)",
    ]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_query_parameters_and_search_queries_change_nothing_and_find_only_text(
    client: httpx.Client, neighbour: Neighbour, server: Server, payload: str
) -> None:
    mine = create(client, firstName="Plain")
    before = fingerprint(server.store)
    for path, names in PARAMETERS.items():
        for name in names:
            response = client.get(path, params={name: payload})
            assert response.status_code in (200, 400, 404), (path, name, response.text)
            if response.status_code == 200:
                assert [item["id"] for item in response.json()["items"]] in ([], [mine])
            else:
                assert_error(response, response.status_code)
    for query in query_variants(payload):
        response = client.get("/v1/search/customers.json", params={"query": query})
        assert response.status_code in (200, 400), (query, response.text)
        if response.status_code == 200:
            assert [item["id"] for item in response.json()["items"]] in ([], [mine]), query
    assert fingerprint(server.store) == before
    assert neighbour.unchanged()


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_in_a_body_are_stored_and_found_as_the_text_they_are(
    client: httpx.Client, neighbour: Neighbour, server: Server, payload: str
) -> None:
    name = payload[:40]
    body: dict[str, Any] = {
        "firstName": name,
        "lastName": "Lee",
        "organization": payload,
        "jobTitle": payload,
        "background": payload,
        "phones": [{"value": payload}],
        "chats": [{"value": payload}],
        "socialProfiles": [{"value": payload}],
        "websites": [{"value": payload}],
        "address": {
            "lines": [payload],
            "city": payload,
            "state": payload,
            "postalCode": payload,
            "country": payload,
        },
    }
    customer = create(client, **body)
    other = create(client, firstName="Other")
    item = fetch(client, customer)
    assert item["firstName"] == name
    assert item["organization"] == item["jobTitle"] == item["background"] == payload
    for collection in ("phones", "chats", "socialProfiles", "websites"):
        assert [entry["value"] for entry in item[collection]] == [payload]
    assert item["address"]["lines"] == [payload]
    assert item["address"]["city"] == item["address"]["country"] == payload

    # Found by its own text, exactly, and nothing else is.
    for query in (
        f"organization:{quote(payload)}",
        f"jobTitle:{quote(payload)}",
        f"firstName:{quote(name)}",
    ):
        response = client.get("/v1/search/customers.json", params={"query": query})
        assert response.status_code == 200, (query, response.text)
        assert [i["id"] for i in response.json()["items"]] == [customer], query
    listed = client.get("/v1/customers.json", params={"firstName": name}).json()
    assert [i["id"] for i in listed["items"]] == [customer]
    assert fetch(client, other)["firstName"] == "Other"
    assert neighbour.unchanged()


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_payload_as_the_key_is_unauthorized_and_changes_nothing(
    server: Server, neighbour: Neighbour, payload: str
) -> None:
    before = fingerprint(server.store)
    for user in (payload, f"{payload}:X", payload + "\x00"):
        header = "Basic " + base64.b64encode(f"{user}:X".encode()).decode()
        with httpx.Client(base_url=server.url, headers={"authorization": header}) as http:
            for method, path in (
                ("GET", "/v1/customers.json"),
                ("GET", f"/v1/customers/{neighbour.customer}.json"),
                ("POST", "/v1/customers.json"),
                ("PUT", f"/v1/customers/{neighbour.customer}.json"),
            ):
                response = http.request(method, path, json={"firstName": "M", "lastName": "X"})
                assert_error(response, 401, "Invalid API Key")
    assert fingerprint(server.store) == before
