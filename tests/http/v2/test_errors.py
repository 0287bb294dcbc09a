"""v2's refusals, each a vnd.error body with the request's id as `logRef` (spec
helpscout-v2-customers.md §1, §5, §8a.3, §8a.10; docs/decisions/v2-errors.md,
docs/decisions/v2-status-codes.md); v1's stay as they were."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Account, Server, new_account
from tests.helpers import assert_cors, assert_error, route_not_found, send_raw
from tests.http.v2.conftest import authorization, v2_auth
from tests.http.v2.shapes import (
    HAL,
    VND_ERROR,
    assert_created,
    assert_no_content,
    assert_vnd_error,
    create,
    fetch,
)

LIMIT = 100 * 1024
BEARER = 'Bearer realm="Help Scout API"'
UNAUTHORIZED = "Invalid or expired access token"
NOT_FOUND = "Resource not found"
MALFORMED = "Error parsing request body into JSON"


# -- 401 (§1, §8a.3)

#: One request of each kind the server serves (method, path, body).
SERVED = [
    ("GET", "/v2/customers", None),
    ("POST", "/v2/customers", {"firstName": "Ann"}),
    ("GET", "/v2/customers/1", None),
    ("PUT", "/v2/customers/1", {"firstName": "Ann"}),
    ("PATCH", "/v2/customers/1", []),
    ("DELETE", "/v2/customers/1", None),
    ("GET", "/v2/customers/1/emails", None),
    ("POST", "/v2/customers/1/phones", {"value": "555"}),
    ("PUT", "/v2/customers/1/chats/1", {"value": "x"}),
    ("DELETE", "/v2/customers/1/websites/1", None),
    ("GET", "/v2/customers/1/address", None),
    ("PATCH", "/v2/customers/1/properties", []),
    ("GET", "/v2/customer-properties", None),
]


@pytest.mark.parametrize(("method", "path", "body"), SERVED)
@pytest.mark.parametrize(
    "authorization", [None, "Basic bm9ib2R5Olg=", "Bearer not-a-token", "Basic !!!"]
)
def test_without_a_live_credential_every_route_answers_401_with_a_bearer_challenge(
    anonymous: httpx.Client, method: str, path: str, body: object, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = anonymous.request(method, path, json=body, headers=headers)
    assert_vnd_error(response, 401, UNAUTHORIZED)
    assert response.headers["www-authenticate"] == BEARER
    assert_cors(response)


def test_401_comes_before_415_413_and_400(server: Server, anonymous: httpx.Client) -> None:
    refused = [
        anonymous.post("/v2/customers", content=b"{", headers={"Content-Type": "text/plain"}),
        anonymous.post("/v2/customers", content=b"x" * (LIMIT + 1)),
        anonymous.post("/v2/customers", content=b"{not json"),
        anonymous.put("/v2/customers/1", json={"gender": "robot"}),
    ]
    for response in refused:
        assert_vnd_error(response, 401, UNAUTHORIZED)


# -- 404 (docs/decisions/v2-status-codes.md)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v2/nothing"),
        ("GET", "/v2/customers/"),
        ("GET", "/v2/customers/abc"),
        ("GET", "/v2/customers/-1"),
        ("GET", "/v2/customers/1.json"),
        ("GET", "/v2/customers/1/notes"),
        ("GET", "/v3/customers"),
        ("GET", "/v2/customer-properties/1"),
        # A method the path does not serve: 404 too, never 405.
        ("PUT", "/v2/customers"),
        ("PATCH", "/v2/customers"),
        ("DELETE", "/v2/customers"),
        ("POST", "/v2/customers/1"),
        ("PATCH", "/v2/customers/1/emails/1"),
        ("GET", "/v2/customers/1/emails/1"),
        ("PATCH", "/v2/customers/1/address"),
        ("GET", "/v2/customers/1/properties"),
        ("POST", "/v2/customer-properties"),
    ],
)
def test_paths_and_methods_not_served_are_404_in_v2s_shape(
    v2: httpx.Client, method: str, path: str
) -> None:
    response = v2.request(method, path)
    assert_vnd_error(response, 404, NOT_FOUND)
    assert "allow" not in response.headers
    assert_cors(response)


@pytest.mark.parametrize("customer_id", ["0", "2147483648", "99999999999999999999", "0" * 5000])
def test_ids_that_cannot_exist_are_404_on_reads_and_writes(
    v2: httpx.Client, customer_id: str
) -> None:
    assert_vnd_error(v2.get(f"/v2/customers/{customer_id}"), 404, NOT_FOUND)
    assert_vnd_error(v2.put(f"/v2/customers/{customer_id}", json={}), 404, NOT_FOUND)
    assert_vnd_error(v2.get(f"/v2/customers/{customer_id}/emails"), 404, NOT_FOUND)


def test_a_customer_of_another_account_is_not_found(
    server: Server, v2: httpx.Client, account: Account
) -> None:
    mine = create(v2, firstName="Ann")
    other = new_account(server.store)
    with httpx.Client(
        base_url=server.url, auth=v2_auth(server.store, other), timeout=10
    ) as stranger:
        assert_vnd_error(stranger.get(f"/v2/customers/{mine}"), 404, NOT_FOUND)
        assert_vnd_error(stranger.put(f"/v2/customers/{mine}", json={}), 404, NOT_FOUND)
    assert fetch(v2, mine)["firstName"] == "Ann"


# -- 400, 413, 415: the body


@pytest.mark.parametrize("body", [b"{", b"", b"[]", b'"text"', b"null", b"\xff\xfe", b"{}{}"])
def test_a_body_that_is_not_a_json_object_is_400_malformed(v2: httpx.Client, body: bytes) -> None:
    customer = create(v2, firstName="Ann")
    for response in (
        v2.post("/v2/customers", content=body, headers={"Content-Type": "application/json"}),
        v2.put(f"/v2/customers/{customer}", content=body),
    ):
        assert_vnd_error(response, 400, MALFORMED)
    assert fetch(v2, customer)["firstName"] == "Ann"


def test_a_malformed_body_is_refused_before_the_customer_is_looked_up(v2: httpx.Client) -> None:
    assert_vnd_error(v2.put("/v2/customers/2000000000", content=b"{"), 400, MALFORMED)


def test_a_body_over_100_kb_is_413_and_closes_the_connection(v2: httpx.Client) -> None:
    response = v2.post(
        "/v2/customers", content=b" " * (LIMIT + 1), headers={"Content-Type": "application/json"}
    )
    assert_vnd_error(response, 413, "The request is too large")
    assert response.headers["connection"] == "close"
    # 100 kB exactly is read.
    padded = b'{"firstName": "Ann"}'.ljust(LIMIT, b" ")
    assert_created(v2.post("/v2/customers", content=padded))


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "json"],
)
def test_a_body_of_another_media_type_is_415(v2: httpx.Client, content_type: str) -> None:
    customer = create(v2, firstName="Ann")
    for response in (
        v2.post("/v2/customers", content=b"{}", headers={"Content-Type": content_type}),
        v2.put(f"/v2/customers/{customer}", content=b"{}", headers={"Content-Type": content_type}),
    ):
        assert_vnd_error(response, 415)
    assert fetch(v2, customer)["firstName"] == "Ann"


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=UTF-8",
        "Application/JSON;charset=utf-8",
        "application/json-patch+json",
        None,
    ],
)
def test_json_bodies_are_read_whatever_the_spelling_or_with_no_content_type(
    v2: httpx.Client, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    customer = assert_created(
        v2.post("/v2/customers", content=b'{"firstName": "Ann"}', headers=headers)
    )
    put = v2.put(f"/v2/customers/{customer}", content=b'{"firstName": "Bo"}', headers=headers)
    assert_no_content(put)
    assert fetch(v2, customer)["firstName"] == "Bo"


def test_reads_take_any_content_type_and_a_stray_charset_header(v2: httpx.Client) -> None:
    """Clients send `Content-Type: application/json` on GET, and one a `charset` header
    (§8a.10): neither is refused."""
    customer = create(v2, firstName="Ann")
    for headers in (
        {"Content-Type": "application/json"},
        {"Content-Type": "application/json", "charset": "UTF-8"},
        {"Content-Type": "text/plain"},
    ):
        for path in (
            f"/v2/customers/{customer}",
            "/v2/customers",
            f"/v2/customers/{customer}/emails",
        ):
            response = v2.get(path, headers=headers)
            assert response.status_code == 200, (path, headers, response.text)
            assert response.headers["content-type"] == HAL


# -- 409


def test_an_email_of_another_customer_is_409_naming_it(v2: httpx.Client) -> None:
    create(v2, emails=[{"type": "work", "value": "ann@example.com"}])
    response = v2.post("/v2/customers", json={"emails": [{"value": "ANN@example.com"}]})
    body = assert_vnd_error(response, 409, "A customer with this email address already exists")
    assert body["_embedded"]["errors"] == [
        {
            "path": "emails",
            "message": "A customer with this email address already exists",
            "rejectedValue": "ANN@example.com",
            "source": "JSON",
        }
    ]


# -- logRef


def test_each_error_has_its_own_log_ref(v2: httpx.Client) -> None:
    refs = {assert_vnd_error(v2.get("/v2/customers/0"), 404)["logRef"] for _ in range(5)}
    assert len(refs) == 5


# -- raw bytes


def test_a_get_with_a_content_type_and_no_body_sent_as_raw_bytes_is_answered(
    server: Server, account: Account, v2: httpx.Client
) -> None:
    customer = create(v2, firstName="Ann")
    head = (
        f"GET /v2/customers/{customer} HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: {authorization(v2)}\r\n"
        "Content-Type: application/json\r\ncharset: UTF-8\r\nConnection: close\r\n\r\n"
    ).encode()
    response = send_raw(server.url, head)
    assert response.status_code == 200
    assert response.json()["firstName"] == "Ann"


# -- the other APIs keep theirs


def test_v1_errors_keep_v1s_shape(client: httpx.Client) -> None:
    assert_error(client.get("/v1/nothing.json"), 404, route_not_found("/v1/nothing.json"))
    response = client.post("/v1/customers.json", content=b"{")
    assert_error(response, 400, "The request was not formatted correctly")
    with httpx.Client(base_url=str(client.base_url)) as anonymous:
        response = anonymous.get("/v1/customers.json")
        assert_error(response, 401, "Invalid API Key")
        assert response.headers["www-authenticate"] == 'Basic realm="Help Scout API"'


def test_oauths_paths_are_not_answered_in_vnd_error(v2: httpx.Client) -> None:
    """`/v2/oauth2/` answers in OAuth's own JSON (RFC 6749 §5.2), not in the customers API's."""
    response = v2.get("/v2/oauth2/nothing")
    assert response.status_code == 404
    assert response.headers["content-type"] != VND_ERROR
