"""Assertions shared by the HTTP tests."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import func, select

from openscout import keys
from openscout.store.engine import SqlStore
from openscout.store.tables import customers

JSON = "application/json; charset=utf-8"


def assert_error(response: httpx.Response, code: int, message: str | None = None) -> dict[str, Any]:
    """Every error answers in v1's shape: the status, `{"code", "error"}` with a string error,
    the JSON media type (spec §7). Returns the body for further checks."""
    assert response.status_code == code, response.text
    assert response.headers["content-type"] == JSON
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert isinstance(body["error"], str) and body["error"]
    if message is not None:
        assert body["error"] == message
    return body


def assert_invalid(response: httpx.Response, *expected: tuple[str, str | None, str]) -> None:
    """A 400 listing exactly these (property, value, message) problems, in any order."""
    body = assert_error(response, 400, "Input could not be validated")
    found = [(e["property"], e["value"], e["message"]) for e in body["validationErrors"]]
    assert sorted(found, key=repr) == sorted(expected, key=repr), found


def customer_id(response: httpx.Response) -> int:
    """The id from a create's `Location`, read the way clients read it (spec §9.4)."""
    location = response.headers["location"]
    assert location.endswith(".json")
    return int(location.rsplit("/", 1)[1].removesuffix(".json"))


# --- the v1 shapes (spec §8) --------------------------------------------------------------

#: Full-shape keys in the order Help Scout sent them (spec §8.1).
FULL_KEYS = (
    "id",
    "firstName",
    "lastName",
    "fullName",
    "photoUrl",
    "photoType",
    "gender",
    "age",
    "organization",
    "jobTitle",
    "location",
    "createdAt",
    "modifiedAt",
    "background",
    "address",
    "socialProfiles",
    "emails",
    "phones",
    "chats",
    "websites",
)
#: The create request of spec §9.4 as the LasLabs client sent it: every key, nulls, reload in
#: the body, read-only and unknown keys among them.
LASLABS_CREATE: dict[str, Any] = {
    "firstName": "Test",
    "lastName": "User",
    "organization": "Test Company",
    "jobTitle": "CEO",
    "gender": "unknown",
    "fullName": "Test User",
    "createdAt": "2017-09-23T20:12:43Z",
    "type": "user",
    "customerPersonType": None,
    "id": None,
    "emails": None,
    "phones": None,
    "address": None,
    "socialProfiles": None,
    "chats": None,
    "websites": None,
    "background": None,
    "reload": True,
}

#: List items: the full shape up to `modifiedAt`; search items: `emails` (strings) after
#: `fullName` (spec §8.1).
LIST_KEYS = FULL_KEYS[: FULL_KEYS.index("modifiedAt") + 1]
SEARCH_KEYS = (*LIST_KEYS[:4], "emails", *LIST_KEYS[4:])
ADDRESS_KEYS = ("id", "lines", "city", "state", "postalCode", "country", "createdAt", "modifiedAt")
#: Each collection's label key (spec §8.2); websites have none.
LABEL_KEYS: dict[str, str | None] = {
    "emails": "location",
    "phones": "location",
    "chats": "type",
    "socialProfiles": "type",
    "websites": None,
}
#: "The specified <noun> is not valid" for an entry id of each collection (spec §10.3).
ENTRY_NOUNS = {
    "emails": "email",
    "phones": "phone",
    "chats": "chat",
    "socialProfiles": "social profile",
    "websites": "website",
}
#: A valid value for a new entry of each collection.
SAMPLE_VALUES = {
    "emails": "sample@example.com",
    "phones": "555-0100",
    "chats": "sample-chat",
    "socialProfiles": "https://example.com/sample",
    "websites": "https://sample.example.com",
}
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")

#: Sent on every response, errors included (spec §2).
CORS = {
    "access-control-allow-origin": "*",
    "access-control-allow-credentials": "true",
    "access-control-allow-methods": "GET, POST, PUT, DELETE",
    "access-control-allow-headers": "Origin, X-Requested-With, Content-Type, Accept, Authorization",
}
#: The two 404 texts (spec §7).
NOT_FOUND = "The requested resource was not found."
MALFORMED = {"code": 400, "error": "The request was not formatted correctly"}
EMAIL_TAKEN = {"code": 409, "error": "A customer with this email address already exists"}


def route_not_found(path: str) -> str:
    return f"The specified resource was not found: '{path}'"


def stamp(moment: datetime) -> str:
    """A moment as v1 writes it: UTC, whole seconds, trailing Z (spec §2)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- assertions -----------------------------------------------------------------------------


def assert_cors(response: httpx.Response) -> None:
    for name, value in CORS.items():
        assert response.headers.get(name) == value, (name, response.headers)


def assert_empty(response: httpx.Response, code: int) -> None:
    """A write answered without a body: `Content-Length: 0`, nothing to parse (spec §9.4, §9.5)."""
    assert response.status_code == code, response.text
    assert response.content == b""
    assert response.headers["content-length"] == "0"
    assert "content-type" not in response.headers


def assert_item(response: httpx.Response, code: int) -> dict[str, Any]:
    """A `{"item": ...}` answer in the full shape; returns the item."""
    assert response.status_code == code, response.text
    assert response.headers["content-type"] == JSON
    body = response.json()
    assert list(body) == ["item"]
    item: dict[str, Any] = body["item"]
    assert_full_shape(item)
    return item


def assert_full_shape(item: dict[str, Any]) -> None:
    """Every key of the full shape, in order, with v1's types and null rules (spec §8.1, §8.2)."""
    assert tuple(item) == FULL_KEYS
    assert isinstance(item["id"], int) and 0 < item["id"] < 2**31
    assert TIMESTAMP.fullmatch(item["createdAt"]), item["createdAt"]
    assert TIMESTAMP.fullmatch(item["modifiedAt"]), item["modifiedAt"]
    assert item["gender"] in ("male", "female", "unknown")
    for name in ("emails", "phones"):
        assert isinstance(item[name], list)
    for name in ("socialProfiles", "chats", "websites"):
        assert item[name] is None or (isinstance(item[name], list) and item[name])
    for name, label in LABEL_KEYS.items():
        for entry in item[name] or ():
            assert tuple(entry) == (("id", "value", label) if label else ("id", "value"))
            assert isinstance(entry["id"], int) and entry["id"] > 0
    address = item["address"]
    if address is not None:
        assert tuple(address) == ADDRESS_KEYS
        assert isinstance(address["lines"], list)
        assert TIMESTAMP.fullmatch(address["createdAt"])


# --- requests -------------------------------------------------------------------------------


def create(client: httpx.Client, **fields: Any) -> int:
    """Create a customer (a first and last name unless given) and return its id."""
    body = {"firstName": "Ann", "lastName": "Lee", **fields}
    response = client.post("/v1/customers.json", json=body)
    assert_empty(response, 201)
    return customer_id(response)


def fetch(client: httpx.Client, customer: int) -> dict[str, Any]:
    """The customer's full item, as GET returns it."""
    return assert_item(client.get(f"/v1/customers/{customer}.json"), 200)


def raw(client: httpx.Client, customer: int) -> bytes:
    """The exact bytes of the customer's GET answer: to prove that nothing was written."""
    response = client.get(f"/v1/customers/{customer}.json")
    assert response.status_code == 200, response.text
    return response.content


def update(client: httpx.Client, customer: int, body: Any) -> dict[str, Any]:
    """A PUT that must succeed; returns the customer's item afterwards."""
    assert_empty(client.put(f"/v1/customers/{customer}.json", json=body), 200)
    return fetch(client, customer)


def ids(entries: list[dict[str, Any]] | None) -> list[int]:
    return [entry["id"] for entry in entries or ()]


def customer_count(store: SqlStore, api_key: str) -> int:
    """How many customers the key's account has, read from the database itself."""
    with store.reading() as transaction:
        account = transaction.account_for_key(keys.hash_key(api_key))
        assert account is not None
        query = select(func.count()).select_from(customers).where(customers.c.account_id == account)
        return int(transaction.connection.execute(query).scalar_one())


def send_raw(base_url: str, head: bytes, body_parts: Iterable[bytes] = ()) -> httpx.Response:
    """Send bytes exactly as given (no client encodes or checks them) and read the answer:
    its status line, headers and `Content-Length` body. The socket waits at most 30 s."""
    host, port = httpx.URL(base_url).host, httpx.URL(base_url).port
    assert port is not None
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(head)
        try:
            for part in body_parts:
                sock.sendall(part)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered before the whole body was sent, and closed: read on
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            assert chunk, f"the connection closed before an answer: {received!r}"
            received += chunk
        raw_head, _, body = received.partition(b"\r\n\r\n")
        status_line, *header_lines = raw_head.decode("latin-1").split("\r\n")
        headers = [tuple(line.split(": ", 1)) for line in header_lines]
        length = int(next((v for k, v in headers if k.lower() == "content-length"), "0"))
        while len(body) < length:
            chunk = sock.recv(65536)
            assert chunk, "the connection closed inside the answer's body"
            body += chunk
    return httpx.Response(int(status_line.split(" ")[1]), headers=headers, content=body[:length])
