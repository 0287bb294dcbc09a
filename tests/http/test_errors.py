"""Refused writes: validation, ownership of entry ids, duplicate emails, malformed and oversized
bodies, and authentication (spec §3, §6, §7, §8.5, §10.3, §10.4, §10.6)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import Account, Server, new_account
from tests.helpers import (
    EMAIL_TAKEN,
    ENTRY_NOUNS,
    LABEL_KEYS,
    MALFORMED,
    NOT_FOUND,
    SAMPLE_VALUES,
    assert_empty,
    assert_error,
    assert_invalid,
    create,
    customer_count,
    fetch,
    ids,
    raw,
    send_raw,
)

COLLECTIONS = tuple(LABEL_KEYS)
LIMIT = 100 * 1024
WWW_AUTHENTICATE = 'Basic realm="Help Scout API"'


# -- entry ids that are not the customer's (§10.3, §10.4)


@pytest.mark.parametrize("name", COLLECTIONS)
def test_an_entry_id_of_another_customer_is_refused_and_nothing_is_written(
    client: httpx.Client, other_client: httpx.Client, name: str
) -> None:
    mine = create(client, **{name: [{"value": SAMPLE_VALUES[name]}]})
    neighbour = create(client, firstName="Bob", **{name: [{"value": "n-" + SAMPLE_VALUES[name]}]})
    stranger = create(other_client, **{name: [{"value": "s-" + SAMPLE_VALUES[name]}]})
    (neighbours,) = ids(fetch(client, neighbour)[name])
    (strangers,) = ids(fetch(other_client, stranger)[name])
    snapshots = (raw(client, mine), raw(client, neighbour), raw(other_client, stranger))
    message = f"The specified {ENTRY_NOUNS[name]} is not valid"
    for entry_id in (neighbours, strangers):
        for sent in (entry_id, -entry_id):
            response = client.put(
                f"/v1/customers/{mine}.json",
                json={
                    "organization": "Changed",
                    name: [
                        {"value": "x-" + SAMPLE_VALUES[name]},
                        {"id": sent, "value": "y-" + SAMPLE_VALUES[name]},
                    ],
                },
            )
            assert_invalid(response, (f"{name}:id", str(sent), message))
    assert (raw(client, mine), raw(client, neighbour), raw(other_client, stranger)) == snapshots


@pytest.mark.parametrize("name", COLLECTIONS)
def test_an_entry_id_that_does_not_exist_is_refused(client: httpx.Client, name: str) -> None:
    customer = create(client, **{name: [{"value": SAMPLE_VALUES[name]}]})
    before = raw(client, customer)
    message = f"The specified {ENTRY_NOUNS[name]} is not valid"
    for sent in (1234567890, -1234, -(2**31 - 1)):
        response = client.put(f"/v1/customers/{customer}.json", json={name: [{"id": sent}]})
        assert_invalid(response, (f"{name}:id", str(sent), message))
    assert raw(client, customer) == before


def test_an_id_of_another_collection_is_refused(client: httpx.Client) -> None:
    customer = create(client, emails=[{"value": "ann@example.com"}], phones=[{"value": "555"}])
    (email,) = ids(fetch(client, customer)["emails"])
    response = client.put(f"/v1/customers/{customer}.json", json={"phones": [{"id": -email}]})
    assert_invalid(response, ("phones:id", str(-email), "The specified phone is not valid"))


def test_a_removed_entry_id_is_never_given_again(client: httpx.Client) -> None:
    """A client still holding a removed entry's id gets a 400, not another entry (spec §2)."""
    customer = create(client, emails=[{"value": "a@example.com"}, {"value": "b@example.com"}])
    _, last = ids(fetch(client, customer)["emails"])
    client.put(f"/v1/customers/{customer}.json", json={"emails": [{"id": -last}]})
    client.put(f"/v1/customers/{customer}.json", json={"emails": [{"value": "c@example.com"}]})
    added = ids(fetch(client, customer)["emails"])[1]
    assert added > last
    response = client.put(f"/v1/customers/{customer}.json", json={"emails": [{"id": -last}]})
    assert_invalid(response, ("emails:id", str(-last), "The specified email is not valid"))


def test_entry_ids_of_the_wrong_type_are_refused(client: httpx.Client) -> None:
    customer = create(client, emails=[{"value": "ann@example.com"}])
    (email,) = ids(fetch(client, customer)["emails"])
    response = client.put(
        f"/v1/customers/{customer}.json",
        json={
            "emails": [{"id": str(email), "value": "x@example.com"}],
            "phones": [{"id": 1.5, "value": "555"}],
            "chats": [{"id": [1], "value": "x"}],
            "websites": [{"id": True, "value": "https://x.example"}],
        },
    )
    assert_invalid(
        response,
        ("emails:id", str(email), "Value is not valid"),
        ("phones:id", "1.5", "Value is not valid"),
        ("chats:id", "[1]", "Value is not valid"),
        ("websites:id", "true", "Value is not valid"),
    )


# -- every problem at once, nothing written (§7, §10.4)


def test_every_problem_of_a_request_is_reported_at_once_and_nothing_is_written(
    client: httpx.Client,
) -> None:
    customer = create(
        client,
        emails=[{"value": "ann@example.com"}],
        address={"city": "Boston", "state": "MA", "postalCode": "02110", "country": "US"},
    )
    before = raw(client, customer)
    response = client.put(
        f"/v1/customers/{customer}.json",
        json={
            "firstName": "A" * 41,
            "lastName": 7,
            "organization": "New Org",
            "emails": [
                {"value": "new@example.com"},
                {"value": "not-an-email"},
                {"value": "home@example.com", "location": "office"},
            ],
            "phones": [{"id": 2_000_000_000}],
            "websites": {"value": "https://x.example"},
            "address": {"city": "Cambridge"},
        },
    )
    assert_invalid(
        response,
        ("firstName", "A" * 41, "Value is too long"),
        ("lastName", "7", "Value is not valid"),
        ("emails:value", "not-an-email", "Value is not a valid email address"),
        ("emails:location", "office", "Value is not valid"),
        ("phones:id", "2000000000", "The specified phone is not valid"),
        ("websites", '{"value":"https://x.example"}', "Value is not valid"),
        ("address:state", None, "Value is required"),
        ("address:postalCode", None, "Value is required"),
        ("address:country", None, "Value is required"),
    )
    assert raw(client, customer) == before


def test_a_refused_create_writes_nothing(
    client: httpx.Client, server: Server, account: Account
) -> None:
    body = {"firstName": "Ann", "lastName": "Lee", "emails": [{"value": "ann@"}]}
    response = client.post("/v1/customers.json", json=body)
    assert_invalid(response, ("emails:value", "ann@", "Value is not a valid email address"))
    assert customer_count(server.store, account.key) == 0
    # The address it named is free: nothing of the refused create was kept.
    create(client, emails=[{"value": "ann@example.com"}])
    assert customer_count(server.store, account.key) == 1


# -- wrong types, lengths, email syntax (§8.5)


WRONG_TYPES = [(5, "5"), (1.5, "1.5"), (True, "true"), (["Ann"], '["Ann"]'), ({"a": 1}, '{"a":1}')]


@pytest.mark.parametrize(
    "field", ["firstName", "lastName", "organization", "jobTitle", "background"]
)
def test_a_field_of_the_wrong_type_is_refused(client: httpx.Client, field: str) -> None:
    customer = create(client)
    before = raw(client, customer)
    for value, shown in WRONG_TYPES:
        response = client.put(f"/v1/customers/{customer}.json", json={field: value})
        assert_invalid(response, (field, shown, "Value is not valid"))
    assert raw(client, customer) == before
    body = {"firstName": "Ann", "lastName": "Lee", field: 5}
    response = client.post("/v1/customers.json", json=body)
    assert_invalid(response, (field, "5", "Value is not valid"))


@pytest.mark.parametrize("name", COLLECTIONS)
def test_a_collection_of_the_wrong_type_is_refused(client: httpx.Client, name: str) -> None:
    customer = create(client)
    for value, shown in (
        ({"value": "x"}, '{"value":"x"}'),
        ("x@example.com", "x@example.com"),
        (3, "3"),
    ):
        response = client.put(f"/v1/customers/{customer}.json", json={name: value})
        assert_invalid(response, (name, shown, "Value is not valid"))
    response = client.put(f"/v1/customers/{customer}.json", json={name: ["x@example.com", 4]})
    assert_invalid(
        response, (name, "x@example.com", "Value is not valid"), (name, "4", "Value is not valid")
    )
    response = client.put(f"/v1/customers/{customer}.json", json={name: [{"value": 12}]})
    assert_invalid(response, (f"{name}:value", "12", "Value is not valid"))


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("firstName", 40),
        ("lastName", 40),
        ("organization", 60),
        ("jobTitle", 60),
        ("background", 200),
    ],
)
def test_text_longer_than_the_v2_limits_is_refused(
    client: httpx.Client, field: str, limit: int
) -> None:
    customer = create(client)
    longest = "é" * limit  # counted in characters, not bytes
    assert_empty(client.put(f"/v1/customers/{customer}.json", json={field: longest}), 200)
    assert fetch(client, customer)[field] == longest
    before = raw(client, customer)
    response = client.put(f"/v1/customers/{customer}.json", json={field: "x" * (limit + 1)})
    assert_invalid(response, (field, "x" * (limit + 1), "Value is too long"))
    assert raw(client, customer) == before
    response = client.post(
        "/v1/customers.json",
        json={"firstName": "Ann", "lastName": "Lee", field: "y" * (limit + 1)},
    )
    assert_invalid(response, (field, "y" * (limit + 1), "Value is too long"))


def test_entry_values_and_address_fields_are_limited_to_255_characters(
    client: httpx.Client,
) -> None:
    customer = create(client)
    long = "w" * 256
    response = client.put(
        f"/v1/customers/{customer}.json",
        json={
            "phones": [{"value": long}],
            "address": {
                "lines": [long],
                "city": long,
                "state": "MA",
                "postalCode": "1",
                "country": "US",
            },
        },
    )
    assert_invalid(
        response,
        ("phones:value", long, "Value is too long"),
        ("address:lines", long, "Value is too long"),
        ("address:city", long, "Value is too long"),
    )
    assert_empty(
        client.put(f"/v1/customers/{customer}.json", json={"phones": [{"value": "w" * 255}]}),
        200,
    )


@pytest.mark.parametrize(
    "email", ["ann", "ann@", "@example.com", "ann@example", "ann lee@example.com", "a@b@c.com"]
)
def test_an_email_that_is_not_an_address_is_refused(client: httpx.Client, email: str) -> None:
    customer = create(client, emails=[{"value": "ann@example.com"}])
    (entry,) = ids(fetch(client, customer)["emails"])
    for body in ({"value": email}, {"id": entry, "value": email}):
        response = client.put(f"/v1/customers/{customer}.json", json={"emails": [body]})
        assert_invalid(response, ("emails:value", email, "Value is not a valid email address"))


# -- duplicate emails (§10.6)


@pytest.mark.parametrize("spelled", ["ann@example.com", "ANN@Example.COM"])
def test_a_create_with_another_customers_email_is_a_conflict(
    client: httpx.Client, server: Server, account: Account, spelled: str
) -> None:
    owner = create(client, emails=[{"value": "ann@example.com"}])
    before = raw(client, owner)
    body = {"firstName": "Bob", "lastName": "Ray", "emails": [{"value": spelled}], "reload": True}
    response = client.post("/v1/customers.json", json=body)
    assert_error(response, 409, EMAIL_TAKEN["error"])
    assert response.json() == EMAIL_TAKEN
    assert "location" not in response.headers
    assert raw(client, owner) == before
    assert customer_count(server.store, account.key) == 1


def test_an_update_with_another_customers_email_is_a_conflict(client: httpx.Client) -> None:
    owner = create(client, emails=[{"value": "ann@example.com"}])
    customer = create(client, firstName="Bob", emails=[{"value": "bob@example.com"}])
    (bobs,) = ids(fetch(client, customer)["emails"])
    snapshots = (raw(client, owner), raw(client, customer))
    for emails in (
        [{"value": "Ann@Example.com"}],
        [{"id": bobs, "value": "ann@example.com"}],
        [{"id": -bobs}, {"value": "ann@example.com"}],
    ):
        response = client.put(
            f"/v1/customers/{customer}.json?reload=true",
            json={"jobTitle": "CTO", "emails": emails},
        )
        assert_error(response, 409, EMAIL_TAKEN["error"])
        assert response.json() == EMAIL_TAKEN
    assert (raw(client, owner), raw(client, customer)) == snapshots


def test_the_same_email_in_another_account_is_fine(
    client: httpx.Client, other_client: httpx.Client
) -> None:
    create(other_client, emails=[{"value": "ann@example.com"}])
    create(client, emails=[{"value": "ann@example.com"}])
    bob = create(client, firstName="Bob")
    create(other_client, firstName="Bob", emails=[{"value": "bob@example.com"}])
    assert_empty(
        client.put(f"/v1/customers/{bob}.json", json={"emails": [{"value": "bob@example.com"}]}),
        200,
    )


def test_an_email_moves_to_another_customer_once_its_owner_lets_it_go(
    client: httpx.Client,
) -> None:
    owner = create(client, emails=[{"value": "ann@example.com"}])
    (entry,) = ids(fetch(client, owner)["emails"])
    assert_empty(client.put(f"/v1/customers/{owner}.json", json={"emails": [{"id": -entry}]}), 200)
    create(client, firstName="Bob", emails=[{"value": "ANN@example.com"}])


def test_validation_is_reported_before_a_conflict(client: httpx.Client) -> None:
    create(client, emails=[{"value": "ann@example.com"}])
    response = client.post(
        "/v1/customers.json", json={"firstName": "", "emails": [{"value": "ann@example.com"}]}
    )
    assert_invalid(
        response,
        ("firstName", None, "Value is required"),
        ("lastName", None, "Value is required"),
    )


# -- bodies that are not a JSON object (§7)

NOT_AN_OBJECT = [
    b"",
    b"   ",
    b"{",
    b'{"firstName": "Ann",}',
    b"[]",
    b'[{"firstName": "Ann"}]',
    b'"Ann"',
    b"42",
    b"null",
    b"true",
    b'{"firstName": "\xff\xfe", "lastName": "Lee"}',
    b"\xef\xbb\xbf\xff",
    b"firstName=Ann&lastName=Lee",
    b'{"firstName": "Ann"} {"lastName": "Lee"}',
    b"[" * 10_000 + b"]" * 10_000,
]


@pytest.mark.parametrize("body", NOT_AN_OBJECT, ids=lambda body: repr(body[:24]))
def test_a_body_that_is_not_a_json_object_is_malformed(client: httpx.Client, body: bytes) -> None:
    response = client.post("/v1/customers.json", content=body)
    assert_error(response, 400, MALFORMED["error"])
    assert response.json() == MALFORMED
    customer = create(client)
    before = raw(client, customer)
    response = client.put(f"/v1/customers/{customer}.json?reload=true", content=body)
    assert response.json() == MALFORMED
    assert raw(client, customer) == before


# -- the 100 kB limit (§2, §6)


def _padded(size: int) -> bytes:
    """A valid create body of exactly `size` bytes (JSON allows any amount of whitespace)."""
    body = b'{"firstName": "Ann", "lastName": "Lee"}'
    return body[:-1] + b" " * (size - len(body)) + body[-1:]


def _chunks(body: bytes, size: int = 4096) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_a_body_of_exactly_100_kb_is_accepted(client: httpx.Client) -> None:
    assert_empty(client.post("/v1/customers.json", content=_padded(LIMIT)), 201)
    assert_empty(client.post("/v1/customers.json", content=_chunks(_padded(LIMIT))), 201)


@pytest.mark.parametrize("size", [LIMIT + 1, 3 * LIMIT])
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_body_over_100_kb_is_too_large(
    client: httpx.Client, server: Server, account: Account, size: int, framing: str
) -> None:
    body = _padded(size)
    customer = create(client)
    before = raw(client, customer)
    for method, path in (("POST", "/v1/customers.json"), ("PUT", f"/v1/customers/{customer}.json")):
        content = body if framing == "content-length" else _chunks(body)
        request = client.build_request(method, path, content=content)
        if framing == "chunked":
            assert request.headers["transfer-encoding"] == "chunked"
            assert "content-length" not in request.headers
        else:
            assert request.headers["content-length"] == str(size)
        response = client.send(request)
        assert_error(response, 413, "The request is too large")
    assert raw(client, customer) == before
    assert customer_count(server.store, account.key) == 1


# -- authentication (§3)


def _basic(credentials: bytes) -> str:
    return "Basic " + base64.b64encode(credentials).decode()


def _requests(customer: int) -> list[tuple[str, str, Any]]:
    return [
        ("GET", f"/v1/customers/{customer}.json", None),
        ("GET", "/v1/customers/2000000000.json", None),
        ("POST", "/v1/customers.json", {"firstName": "Ann", "lastName": "Lee"}),
        ("PUT", f"/v1/customers/{customer}.json", {"firstName": "Mallory"}),
        ("PUT", "/v1/customers/2000000000.json", {"firstName": "Mallory"}),
    ]


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        _basic(b"0123456789abcdef0123456789abcdef01234567:X"),
        _basic(b":X"),
        "Basic",
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"\xff\xfe:X").decode(),
        "Bearer {key}",
        "{key}",
        "Digest username={key}",
    ],
)
def test_a_request_without_a_valid_key_is_unauthorized(
    client: httpx.Client, server: Server, account: Account, authorization: str | None
) -> None:
    customer = create(client)
    before = raw(client, customer)
    headers = (
        {} if authorization is None else {"authorization": authorization.format(key=account.key)}
    )
    with httpx.Client(base_url=server.url, headers=headers, timeout=10) as anonymous:
        for method, path, body in _requests(customer):
            response = anonymous.request(method, path, json=body)
            assert_error(response, 401, "Invalid API Key")
            assert response.json() == {"code": 401, "error": "Invalid API Key"}
            assert response.headers["www-authenticate"] == WWW_AUTHENTICATE
    assert raw(client, customer) == before
    assert customer_count(server.store, account.key) == 1


@pytest.mark.parametrize(
    "credentials",
    [b"Basic \xc3\xa9", b"Basic \xe9\xff", b"\xc3\xa9 abc", b"Basic YWJj\xc3\xa9"],
    ids=["utf-8", "latin-1", "scheme", "tail"],
)
def test_an_authorization_header_that_is_not_ascii_is_unauthorized(
    server: Server, client: httpx.Client, credentials: bytes
) -> None:
    """Sent as raw bytes over a socket (an HTTP client would refuse to send them)."""
    customer = create(client)
    for method, path in (("GET", f"/v1/customers/{customer}.json"), ("POST", "/v1/customers.json")):
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
            + b"Authorization: "
            + credentials
            + b"\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
        )
        response = send_raw(server.url, head)
        assert_error(response, 401, "Invalid API Key")
        assert response.headers["www-authenticate"] == WWW_AUTHENTICATE


def test_a_revoked_key_is_unauthorized(
    server: Server, client: httpx.Client, account: Account
) -> None:
    with server.store.writing() as transaction:
        for key in transaction.list_keys():
            if key.account == account.name:
                assert transaction.revoke_key(key.id, key.created_at)
    response = client.get("/v1/customers/1.json")
    assert_error(response, 401, "Invalid API Key")


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"[]",
        b'{"firstName": 5}',
        b'{"emails": [{"id": -1}]}',
        _padded(LIMIT + 1),
    ],
    ids=["malformed", "array", "invalid", "unknown-entry", "too-large"],
)
def test_an_unauthorized_request_is_told_so_before_anything_about_its_body(
    server: Server, client: httpx.Client, body: bytes
) -> None:
    customer = create(client)
    bad = _basic(b"not-a-key:X")
    with httpx.Client(base_url=server.url, headers={"authorization": bad}, timeout=10) as http:
        for method, path in (
            ("POST", "/v1/customers.json"),
            ("PUT", f"/v1/customers/{customer}.json"),
            ("PUT", "/v1/customers/2000000000.json"),
        ):
            for content in (body, _chunks(body)):
                response = http.request(method, path, content=content)
                assert_error(response, 401, "Invalid API Key")
                assert response.headers["www-authenticate"] == WWW_AUTHENTICATE


@pytest.mark.parametrize(
    "credentials",
    [
        "{key}:X",
        "{key}:x",
        "{key}:anything",
        "{key}:NoPassBecauseKey!",
        "{key}:",
        "{key}",
        "{key}:a:b",
    ],
)
def test_the_password_is_ignored(server: Server, account: Account, credentials: str) -> None:
    header = _basic(credentials.format(key=account.key).encode())
    with httpx.Client(base_url=server.url, headers={"authorization": header}, timeout=10) as http:
        response = http.post("/v1/customers.json", json={"firstName": "Ann", "lastName": "Lee"})
        assert_empty(response, 201)
        assert http.get(response.headers["location"]).status_code == 200


def test_a_key_sees_only_its_own_account(server: Server) -> None:
    first, second = new_account(server.store), new_account(server.store)
    with (
        httpx.Client(base_url=server.url, auth=(first.key, "X"), timeout=10) as one,
        httpx.Client(base_url=server.url, auth=(second.key, "X"), timeout=10) as two,
    ):
        customer = create(one)
        assert_error(two.get(f"/v1/customers/{customer}.json"), 404, NOT_FOUND)
        assert_error(
            two.put(f"/v1/customers/{customer}.json", json={"firstName": "X"}), 404, NOT_FOUND
        )
        assert fetch(one, customer)["firstName"] == "Ann"
