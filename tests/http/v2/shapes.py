"""What v2 answers look like, and the requests the v2 tests make again and again (spec
helpscout-v2-customers.md §2, §3, §5)."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.helpers import TIMESTAMP

HAL = "application/hal+json"
VND_ERROR = "application/vnd.error+json"
ABOUT = {"about": {"href": "http://developer.helpscout.net/mailbox-api/overview/errors"}}
#: The keys of a customer, in the order of Help Scout's "Get Customer" (§3).
CUSTOMER_KEYS = (
    "id",
    "firstName",
    "lastName",
    "gender",
    "jobTitle",
    "location",
    "organization",
    "organizationId",
    "photoType",
    "photoUrl",
    "age",
    "conversationCount",
    "createdAt",
    "updatedAt",
    "background",
    "draft",
    "_embedded",
    "_links",
)
#: `_embedded` of a customer; `address` follows when it has one.
EMBEDDED_KEYS = ("emails", "phones", "chats", "social_profiles", "websites", "properties")
LINK_KEYS = ("address", "chats", "emails", "phones", "social-profiles", "websites", "self")
PAGE_KEYS = ("size", "totalElements", "totalPages", "number")
#: Left out of an expected problem: the error has no `rejectedValue`.
NOTHING = object()


# --- errors (§5) ----------------------------------------------------------------------------


def assert_vnd_error(
    response: httpx.Response, status: int, message: str | None = None
) -> dict[str, Any]:
    """A v2 error: the status, a vnd.error body whose `logRef` is the request's id, a message,
    the link to the errors page. Returns the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == VND_ERROR
    body: dict[str, Any] = response.json()
    assert set(body) <= {"logRef", "message", "_embedded", "_links"}, body
    assert re.fullmatch(r"[0-9a-f]{32}", body["logRef"]), body
    assert body["logRef"] == response.headers["correlation-id"]
    assert isinstance(body["message"], str) and body["message"]
    assert body["_links"] == ABOUT
    if message is not None:
        assert body["message"] == message
    return body


def assert_problems(
    response: httpx.Response, *expected: tuple[str, str, Any], source: str = "JSON"
) -> None:
    """A 400 listing exactly these (path, message, rejectedValue or NOTHING), in any order."""
    body = assert_vnd_error(response, 400, "Bad request")
    found = []
    for error in body["_embedded"]["errors"]:
        assert error["source"] == source, error
        assert set(error) <= {"path", "message", "rejectedValue", "source"}, error
        found.append((error["path"], error["message"], error.get("rejectedValue", NOTHING)))
    assert sorted(found, key=repr) == sorted(expected, key=repr), found


# --- customers (§3) -------------------------------------------------------------------------


def assert_customer(body: dict[str, Any], base_url: str) -> None:
    """A customer as v2 shows it: every key in order, v2's types, links absolute under
    `base_url`."""
    assert tuple(body) == CUSTOMER_KEYS, tuple(body)
    assert isinstance(body["id"], int) and 0 < body["id"] < 2**31
    assert TIMESTAMP.fullmatch(body["createdAt"]) and TIMESTAMP.fullmatch(body["updatedAt"])
    assert body["gender"] in ("male", "female", "unknown")
    assert isinstance(body["conversationCount"], int) and isinstance(body["draft"], bool)
    embedded = body["_embedded"]
    assert tuple(embedded)[: len(EMBEDDED_KEYS)] == EMBEDDED_KEYS
    assert set(embedded) - set(EMBEDDED_KEYS) <= {"address"}
    for name in EMBEDDED_KEYS[:5]:
        for entry in embedded[name]:
            keys = ("id", "value") if name == "websites" else ("id", "value", "type")
            assert tuple(entry) == keys, entry
            assert isinstance(entry["id"], int) and entry["id"] > 0
    if "address" in embedded:
        assert tuple(embedded["address"]) == ("city", "state", "postalCode", "country", "lines")
    url = f"{base_url.rstrip('/')}/v2/customers/{body['id']}"
    assert body["_links"] == {
        rel: {"href": url if rel == "self" else f"{url}/{rel}"} for rel in LINK_KEYS
    }


def assert_created(response: httpx.Response) -> int:
    """201 with no body, the id in `Resource-ID` (read as clients do, §8a.4); returns it."""
    assert response.status_code == 201, response.text
    assert response.content == b""
    assert "content-type" not in response.headers
    return int(response.headers["resource-id"])


def assert_no_content(response: httpx.Response) -> None:
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert "content-type" not in response.headers


def create(v2: httpx.Client, **fields: Any) -> int:
    """Create a customer through v2 and return its id."""
    return assert_created(v2.post("/v2/customers", json=fields))


def fetch(v2: httpx.Client, customer: int) -> dict[str, Any]:
    """The customer as `GET /v2/customers/{id}` shows it."""
    response = v2.get(f"/v2/customers/{customer}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == HAL
    body: dict[str, Any] = response.json()
    assert_customer(body, str(v2.base_url))
    return body


def listed(v2: httpx.Client, params: Any = None) -> dict[str, Any]:
    """A 200 page of `GET /v2/customers`; returns the body."""
    response = v2.get("/v2/customers", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == HAL
    body: dict[str, Any] = response.json()
    assert tuple(body) == ("_embedded", "_links", "page"), body
    assert tuple(body["page"]) == PAGE_KEYS
    for customer in body["_embedded"]["customers"]:
        assert_customer(customer, str(v2.base_url))
    return body


def ids(body: dict[str, Any]) -> list[int]:
    return [customer["id"] for customer in body["_embedded"]["customers"]]
