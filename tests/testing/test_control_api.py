"""The control API under /_openscout/ over real HTTP: every endpoint, scoped to the caller's
account, and absent unless turned on (docs/testing.md)."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from openscout.control import state
from tests.conftest import Account, Server, new_account
from tests.helpers import (
    JSON,
    assert_cors,
    assert_error,
    assert_invalid,
    create,
    fetch,
    route_not_found,
    send_raw,
)

ENDPOINTS = [
    ("POST", "/_openscout/accounts"),
    ("POST", "/_openscout/reset"),
    ("POST", "/_openscout/fixtures"),
    ("GET", "/_openscout/snapshots"),
    ("POST", "/_openscout/snapshots"),
    ("GET", "/_openscout/snapshots/1"),
    ("DELETE", "/_openscout/snapshots/1"),
    ("POST", "/_openscout/snapshots/1/restore"),
    ("GET", "/_openscout/requests"),
    ("DELETE", "/_openscout/requests"),
    ("GET", "/_openscout/faults"),
    ("POST", "/_openscout/faults"),
    ("DELETE", "/_openscout/faults"),
    ("GET", "/_openscout/clock"),
    ("PUT", "/_openscout/clock"),
    ("POST", "/_openscout/clock/advance"),
]


def ok(response: httpx.Response, code: int = 200) -> Any:
    assert response.status_code == code, response.text
    assert response.headers["content-type"] == JSON
    return response.json()


def no_content(response: httpx.Response) -> None:
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert "content-type" not in response.headers


def journal(http: httpx.Client) -> list[dict[str, Any]]:
    body = ok(http.get("/_openscout/requests"))
    requests: list[dict[str, Any]] = body["requests"]
    return requests


def count(http: httpx.Client) -> int:
    listed: int = ok(http.get("/v1/customers.json"))["count"]
    return listed


# --- on, off, keys


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_the_control_api_is_not_served_unless_turned_on(
    client: httpx.Client, method: str, path: str
) -> None:
    response = client.request(method, path)
    assert_error(response, 404, route_not_found(path))


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_control_endpoint_needs_a_live_key(
    control_server: Server, method: str, path: str
) -> None:
    for auth in (None, ("0" * 40, "X")):
        response = httpx.request(method, control_server.url + path, auth=auth, timeout=10)
        assert_error(response, 401, "Invalid API Key")
        assert response.headers["www-authenticate"] == 'Basic realm="Help Scout API"'
        assert_cors(response)


def test_a_new_account_has_its_own_key_and_app_and_nothing_else(
    http: httpx.Client, control_server: Server
) -> None:
    create(http, emails=[{"value": "mine@example.com"}])
    body = ok(http.post("/_openscout/accounts"), 201)
    assert list(body) == ["account", "apiKey", "clientId", "clientSecret"]
    assert re.fullmatch(r"test-[0-9a-f]{16}", body["account"])
    assert re.fullmatch(r"[0-9a-f]{40}", body["apiKey"])
    assert re.fullmatch(r"[0-9a-f]{32}", body["clientId"])
    assert re.fullmatch(r"[0-9a-f]{32}", body["clientSecret"])
    token = http.post(
        "/v2/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": body["clientId"],
            "client_secret": body["clientSecret"],
        },
        auth=None,
    )
    assert token.status_code == 200, token.text
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert ok(http.get("/_openscout/requests", headers=bearer, auth=None))["requests"] == []
    fresh = httpx.Client(base_url=control_server.url, auth=(body["apiKey"], "X"), timeout=10)
    with fresh:
        assert count(fresh) == 0
        assert journal(fresh) == [{**journal(fresh)[0], "path": "/v1/customers.json"}]
        create(fresh, emails=[{"value": "mine@example.com"}])  # another account's email: free
    assert count(http) == 1


# --- the journal


def test_the_journal_records_each_request_of_the_account_and_never_its_key(
    http: httpx.Client, other: httpx.Client, me: Account, control_server: Server
) -> None:
    control_server.clock.freeze(datetime(2024, 5, 1, 9, 30, 15, tzinfo=UTC))
    body = {"firstName": "Ann", "lastName": "Lee"}
    created = http.post(
        "/v1/customers.json?reload=true",
        content=json.dumps(body),
        headers={"Content-Type": "application/json", "X-Trace": "t-1", "Cookie": "session=s"},
    )
    assert created.status_code == 201
    http.get("/v1/search/customers.json", params={"query": "lastName:Lee", "page": "2"})
    http.put("/v1/customers/1.json", content=b"not json")
    http.get("/_openscout/faults")  # control requests are not recorded
    httpx.get(control_server.url + "/v1/customers.json", auth=("f" * 40, "X"))  # no account
    recorded = journal(http)
    assert [(r["seq"], r["method"], r["path"], r["query"], r["status"]) for r in recorded] == [
        (1, "POST", "/v1/customers.json", "reload=true", 201),
        (2, "GET", "/v1/search/customers.json", "query=lastName%3ALee&page=2", 200),
        (3, "PUT", "/v1/customers/1.json", "", 400),
    ]
    first = recorded[0]
    assert list(first) == [
        "seq",
        "time",
        "method",
        "path",
        "query",
        "headers",
        "body",
        "bodyTruncated",
        "json",
        "status",
        "fault",
    ]
    assert first["time"] == "2024-05-01T09:30:15Z"
    assert first["body"] == json.dumps(body)
    assert (first["json"], first["bodyTruncated"], first["fault"]) == (body, False, None)
    assert first["headers"]["content-type"] == "application/json"
    assert first["headers"]["x-trace"] == "t-1"
    assert "authorization" not in first["headers"] and "cookie" not in first["headers"]
    assert (recorded[2]["body"], recorded[2]["json"]) == ("not json", None)
    assert me.key not in http.get("/_openscout/requests").text
    assert journal(other) == []


def test_the_journal_keeps_the_last_thousand_requests(http: httpx.Client) -> None:
    for _ in range(1003):
        http.get("/v1/customers/1.json")
    body = ok(http.get("/_openscout/requests"))
    assert body["dropped"] == 3
    assert [r["seq"] for r in body["requests"]] == list(range(4, 1004))


def test_clearing_the_journal_starts_it_afresh(http: httpx.Client, other: httpx.Client) -> None:
    http.get("/v1/customers.json")
    other.get("/v1/customers.json")
    no_content(http.delete("/_openscout/requests"))
    assert ok(http.get("/_openscout/requests")) == {"requests": [], "dropped": 0}
    http.get("/v1/customers/7.json")
    assert [(r["seq"], r["path"]) for r in journal(http)] == [(1, "/v1/customers/7.json")]
    assert len(journal(other)) == 1


# --- faults


def add_fault(http: httpx.Client, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = ok(http.post("/_openscout/faults", json=fields), 201)
    return body


def test_a_fault_answers_the_next_requests_in_v1_error_shape(http: httpx.Client) -> None:
    fault = add_fault(http, count=2, status=429)
    assert fault == {
        "id": fault["id"],
        "remaining": 2,
        "status": 429,
        "method": None,
        "path": None,
        "retryAfter": None,
        "delayMs": None,
        "processed": False,
    }
    for _ in range(2):
        response = http.post("/v1/customers.json", json={"firstName": "A", "lastName": "B"})
        assert response.status_code == 429
        assert response.json() == {
            "code": 429,
            "error": "API rate limit exceeded",
            "message": "API rate limit exceeded",
        }
        assert response.headers["retry-after"] == "1"
        assert response.headers["content-type"] == JSON
        assert_cors(response)
    assert count(http) == 0  # a faulted request is not carried out
    assert ok(http.get("/_openscout/faults")) == {"faults": []}
    create(http)
    assert [r["status"] for r in journal(http)] == [429, 429, 200, 201]
    assert journal(http)[0]["fault"] == {
        "id": fault["id"],
        "status": 429,
        "delayMs": None,
        "processed": False,
        "handledStatus": None,
    }


@pytest.mark.parametrize(
    ("status", "retry_after", "message", "header"),
    [
        (500, None, "An unexpected error occurred", None),
        (503, None, "The service is temporarily unavailable", None),
        (503, 7, "The service is temporarily unavailable", "7"),
        (429, 0, "API rate limit exceeded", "0"),
    ],
)
def test_faults_answer_500_503_and_429(
    http: httpx.Client, status: int, retry_after: int | None, message: str, header: str | None
) -> None:
    add_fault(http, status=status, retryAfter=retry_after)
    response = http.get("/v1/customers.json")
    body = assert_error(response, status, message)
    assert response.headers.get("retry-after") == header
    assert set(body) == ({"code", "error", "message"} if status == 429 else {"code", "error"})
    assert http.get("/v1/customers.json").status_code == 200


def test_a_fault_applies_only_to_the_requests_it_matches(
    http: httpx.Client, other: httpx.Client
) -> None:
    customer = create(http)
    add_fault(http, count=1, status=500, method="put", path="/v1/customers/*.json")
    assert http.get(f"/v1/customers/{customer}.json").status_code == 200
    assert other.put(f"/v1/customers/{customer}.json", json={}).status_code == 404
    assert http.put("/v1/customers.json", json={}).status_code == 404  # not the pattern
    assert ok(http.get("/_openscout/faults"))["faults"][0]["remaining"] == 1
    answer = http.put(f"/v1/customers/{customer}.json", json={"firstName": "Zed"})
    assert_error(answer, 500, "An unexpected error occurred")
    assert fetch(http, customer)["firstName"] == "Ann"
    assert http.put(f"/v1/customers/{customer}.json", json={"firstName": "Zed"}).status_code == 200


def test_faults_apply_in_the_order_they_were_queued(http: httpx.Client) -> None:
    add_fault(http, status=503, method="GET")
    add_fault(http, status=500)
    assert http.get("/v1/customers.json").status_code == 503
    assert http.get("/v1/customers.json").status_code == 500
    assert http.get("/v1/customers.json").status_code == 200


def test_a_processed_fault_carries_the_request_out_and_loses_its_answer(
    http: httpx.Client,
) -> None:
    add_fault(http, status=503, method="POST", processed=True)
    body = {"firstName": "Ann", "lastName": "Lee", "emails": [{"value": "ann@example.com"}]}
    assert_error(http.post("/v1/customers.json", json=body), 503)
    assert count(http) == 1
    assert_error(http.post("/v1/customers.json", json=body), 409)  # the retry finds it taken
    assert journal(http)[0]["fault"]["handledStatus"] == 201


def test_a_delay_alone_lets_the_request_through(http: httpx.Client) -> None:
    fault = add_fault(http, status=None, delayMs=30)
    assert (fault["status"], fault["delayMs"]) == (None, 30)
    create(http)
    (recorded,) = journal(http)
    assert recorded["status"] == 201
    assert recorded["fault"] == {
        "id": fault["id"],
        "status": None,
        "delayMs": 30,
        "processed": False,
        "handledStatus": None,
    }


def test_control_requests_are_never_faulted(http: httpx.Client) -> None:
    add_fault(http, count=5, status=500, path="*")
    assert ok(http.get("/_openscout/faults"))["faults"][0]["remaining"] == 5
    no_content(http.delete("/_openscout/faults"))
    assert ok(http.get("/_openscout/faults")) == {"faults": []}
    assert http.get("/v1/customers.json").status_code == 200


def test_faults_of_one_account_never_touch_another(http: httpx.Client, other: httpx.Client) -> None:
    add_fault(http, count=3, status=503)
    assert other.get("/v1/customers.json").status_code == 200
    assert ok(other.get("/_openscout/faults")) == {"faults": []}


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        ({"status": 404}, [("status", "404", "Value is not valid")]),
        ({"status": None}, [("status", None, "Value is required")]),
        ({"count": 0}, [("count", "0", "Value is not valid")]),
        ({"count": "2"}, [("count", "2", "Value is not valid")]),
        ({"path": "v1/customers.json"}, [("path", "v1/customers.json", "Value is not valid")]),
        ({"delayMs": 60_001}, [("delayMs", "60001", "Value is not valid")]),
        (
            {"retryAfter": -1, "processed": "yes"},
            [
                ("retryAfter", "-1", "Value is not valid"),
                ("processed", "yes", "Value is not valid"),
            ],
        ),
        (
            {"status": None, "delayMs": 5, "processed": True},
            [("processed", "true", "Value is not valid")],
        ),
    ],
)
def test_a_fault_that_cannot_be_read_is_refused_with_every_problem(
    http: httpx.Client, body: dict[str, Any], problems: list[tuple[str, str | None, str]]
) -> None:
    assert_invalid(http.post("/_openscout/faults", json=body), *problems)
    assert ok(http.get("/_openscout/faults")) == {"faults": []}


def test_a_control_body_that_is_not_a_json_object_is_malformed(http: httpx.Client) -> None:
    for body in (b"{", b"[1]"):
        response = http.post("/_openscout/faults", content=body)
        assert_error(response, 400, "The request was not formatted correctly")


# --- the clock


def test_an_account_clock_stands_still_and_moves_on_when_told(
    http: httpx.Client, other: httpx.Client
) -> None:
    moment = {"now": "2024-05-01T09:30:00Z", "frozen": True}
    assert ok(http.put("/_openscout/clock", json={"now": "2024-05-01T09:30:00Z"})) == moment
    assert ok(http.get("/_openscout/clock")) == moment
    customer = create(http)
    assert fetch(http, customer)["createdAt"] == "2024-05-01T09:30:00Z"
    later = ok(http.post("/_openscout/clock/advance", json={"seconds": 3600.5}))
    assert later == {"now": "2024-05-01T10:30:00Z", "frozen": True}
    http.put(f"/v1/customers/{customer}.json", json={"firstName": "Bo"})
    item = fetch(http, customer)
    assert (item["createdAt"], item["modifiedAt"]) == (
        "2024-05-01T09:30:00Z",
        "2024-05-01T10:30:00Z",
    )
    assert ok(other.get("/_openscout/clock"))["frozen"] is False
    assert fetch(other, create(other))["createdAt"] != "2024-05-01T09:30:00Z"


def test_a_running_clock_starts_from_the_moment_given(http: httpx.Client) -> None:
    body = ok(http.put("/_openscout/clock", json={"now": "2031-01-01T00:00:00Z", "frozen": False}))
    assert body["frozen"] is False and body["now"] >= "2031-01-01T00:00:00Z"
    assert fetch(http, create(http))["createdAt"].startswith("2031-01-01T00:")
    real = ok(http.put("/_openscout/clock", json={"now": None}))
    assert real["frozen"] is False and real["now"] < "2031"


@pytest.mark.parametrize(
    ("path", "body", "problems"),
    [
        ("/_openscout/clock", {"now": "yesterday"}, [("now", "yesterday", "Value is not valid")]),
        (
            "/_openscout/clock",
            {"now": 5, "frozen": 1},
            [("now", "5", "Value is not valid"), ("frozen", "1", "Value is not valid")],
        ),
        ("/_openscout/clock/advance", {}, [("seconds", None, "Value is required")]),
        ("/_openscout/clock/advance", {"seconds": "60"}, [("seconds", "60", "Value is not valid")]),
    ],
)
def test_a_clock_change_that_cannot_be_read_is_refused(
    http: httpx.Client, path: str, body: dict[str, Any], problems: list[Any]
) -> None:
    method = "PUT" if path.endswith("clock") else "POST"
    assert_invalid(http.request(method, path, json=body), *problems)


# --- reset


def test_reset_empties_the_account_and_nothing_else(
    http: httpx.Client, other: httpx.Client
) -> None:
    for n in range(3):
        create(http, emails=[{"value": f"r{n}@example.com"}])
    create(other)
    http.put("/_openscout/clock", json={"now": "2024-05-01T09:30:00Z"})
    add_fault(http, status=500, method="DELETE")
    snapshot = ok(http.post("/_openscout/snapshots"), 201)
    assert ok(http.post("/_openscout/reset")) == {"removed": 3}
    assert ok(http.get("/_openscout/faults")) == {"faults": []}
    assert ok(http.get("/_openscout/clock"))["frozen"] is False
    assert [r["path"] for r in journal(http)] == []
    assert ok(http.get("/_openscout/snapshots"))["snapshots"] == [snapshot]
    assert count(http) == 0 and count(other) == 1
    assert (
        ok(http.get("/v1/search/customers.json", params={"query": "r1@example.com"}))["count"] == 0
    )
    create(http, emails=[{"value": "r0@example.com"}])  # the address is free again
    assert ok(http.post("/_openscout/reset")) == {"removed": 1}


# --- fixtures


FULL_SHAPE = {
    "id": 99,
    "firstName": "Vera",
    "lastName": "Lind",
    "fullName": "Vera Lind",
    "photoUrl": "https://example.com/vera.png",
    "photoType": "gravatar",
    "gender": "female",
    "age": "30-40",
    "organization": "Lind & Co",
    "jobTitle": "CTO",
    "location": "Oslo, Norway",
    "createdAt": "2015-03-01T10:00:00Z",
    "modifiedAt": "2016-04-02T11:30:00Z",
    "background": "Met at a fair",
    "address": {
        "id": 7,
        "lines": ["Storgata 1", "3rd floor"],
        "city": "Oslo",
        "state": "Oslo",
        "postalCode": "0155",
        "country": "NO",
        "createdAt": "2015-03-01T10:00:00Z",
        "modifiedAt": "2015-03-01T10:00:00Z",
    },
    "socialProfiles": [{"id": 11, "value": "https://twitter.com/vera", "type": "twitter"}],
    "emails": [
        {"id": 12, "value": "vera@lind.example", "location": "work"},
        {"id": 13, "value": "vera@home.example", "location": "home"},
    ],
    "phones": [{"id": 14, "value": "+47 555 0100", "location": "mobile"}],
    "chats": [{"id": 15, "value": "vera.lind", "type": "skype"}],
    "websites": [{"id": 16, "value": "https://lind.example"}],
}


def without_ids(item: dict[str, Any]) -> dict[str, Any]:
    """A full-shape item with every id blanked: what must survive a trip through fixtures."""
    copy = json.loads(json.dumps(item))
    copy["id"] = None
    if copy["address"]:
        copy["address"]["id"] = None
    for name in ("socialProfiles", "emails", "phones", "chats", "websites"):
        for entry in copy[name] or ():
            entry["id"] = None
    return copy


def test_a_full_shape_fixture_comes_back_as_it_was_written(http: httpx.Client) -> None:
    loaded = ok(http.post("/_openscout/fixtures", json=[FULL_SHAPE]), 201)
    assert loaded["count"] == 1 and len(loaded["ids"]) == 1
    item = fetch(http, loaded["ids"][0])
    assert without_ids(item) == without_ids(FULL_SHAPE)
    assert item["id"] == loaded["ids"][0] != 99


def test_fixtures_in_create_shape_and_envelopes(http: httpx.Client) -> None:
    http.put("/_openscout/clock", json={"now": "2024-05-01T09:30:00Z"})
    created = {"firstName": "Ann", "lastName": "Lee", "emails": [{"value": "ann@example.com"}]}
    documents = [
        [created],
        {"customers": [{"customer": {"firstName": "Bo", "lastName": "Ek"}}]},
        {"items": [{"firstName": "Cy", "lastName": "Oh", "modifiedAt": "2020-01-01T00:00:00Z"}]},
        {"item": {"firstName": "Di", "lastName": "Ng"}},
    ]
    ids = [ok(http.post("/_openscout/fixtures", json=d), 201)["ids"][0] for d in documents]
    assert ids == sorted(ids)
    items = [fetch(http, customer) for customer in ids]
    assert [i["fullName"] for i in items] == ["Ann Lee", "Bo Ek", "Cy Oh", "Di Ng"]
    assert [(i["createdAt"], i["modifiedAt"]) for i in items] == [
        ("2024-05-01T09:30:00Z", "2024-05-01T09:30:00Z"),
        ("2024-05-01T09:30:00Z", "2024-05-01T09:30:00Z"),
        ("2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z"),
        ("2024-05-01T09:30:00Z", "2024-05-01T09:30:00Z"),
    ]
    assert items[0]["emails"][0]["location"] == "work"  # the create default
    found = ok(http.get("/v1/search/customers.json", params={"query": "email:ann@example.com"}))
    assert [i["id"] for i in found["items"]] == [ids[0]]
    assert ok(http.post("/_openscout/fixtures", json=[]), 201) == {"count": 0, "ids": []}


V2_SHAPE = {
    "id": 500,
    "firstName": "Vernon",
    "lastName": "Bear",
    "gender": "Male",
    "jobTitle": "CEO",
    "location": "Prague",
    "organization": "Acme, Inc",
    "photoType": "twitter",
    "photoUrl": "https://example.com/v.png",
    "age": "30-35",
    "background": "Met at a fair",
    "createdAt": "2012-07-23T12:34:12Z",
    "updatedAt": "2012-07-24T20:18:33Z",
    "conversationCount": 10,
    "draft": False,
    "_embedded": {
        "emails": [{"id": 1, "value": "bear@acme.com", "type": "home"}],
        "phones": [{"id": 2, "value": "123-123-123", "type": "mobile"}],
        "chats": [{"id": 5, "value": "54831172", "type": "skype"}],
        "social_profiles": [{"id": 4, "value": "@me", "type": "twitter"}],
        "websites": [{"id": 3, "value": "http://home.com"}],
        "address": {
            "city": "Prague",
            "state": "CZ",
            "postalCode": "11000",
            "country": "CZ",
            "lines": ["Main 1"],
        },
    },
    "_links": {"self": {"href": "https://api.helpscout.net/v2/customers/500"}},
}


def test_fixtures_in_v2_shape_read_back_through_v1(http: httpx.Client) -> None:
    """A customer as `GET /v2/customers/{id}` answers, a v2 list answer, and a bare list of
    v2 customers all load; v1 reads every field and entry under its own names."""
    documents = [
        [V2_SHAPE],
        {"_embedded": {"customers": [{"firstName": "Bo", "updatedAt": "2020-01-01T00:00:00Z"}]}},
        {"_embedded": {"customers": []}},
    ]
    loaded = [ok(http.post("/_openscout/fixtures", json=d), 201)["ids"] for d in documents]
    assert [len(ids) for ids in loaded] == [1, 1, 0]
    vernon = fetch(http, loaded[0][0])
    assert vernon["id"] != 500
    assert (vernon["firstName"], vernon["lastName"], vernon["gender"]) == ("Vernon", "Bear", "male")
    assert (vernon["createdAt"], vernon["modifiedAt"]) == (
        "2012-07-23T12:34:12Z",
        "2012-07-24T20:18:33Z",
    )
    assert (vernon["jobTitle"], vernon["organization"], vernon["age"]) == (
        "CEO",
        "Acme, Inc",
        "30-35",
    )
    assert (vernon["photoType"], vernon["location"]) == ("twitter", "Prague")
    assert [(e["value"], e["location"]) for e in vernon["emails"]] == [("bear@acme.com", "home")]
    assert [(e["value"], e["location"]) for e in vernon["phones"]] == [("123-123-123", "mobile")]
    assert [(e["value"], e["type"]) for e in vernon["chats"]] == [("54831172", "skype")]
    assert [(e["value"], e["type"]) for e in vernon["socialProfiles"]] == [("@me", "twitter")]
    assert [e["value"] for e in vernon["websites"]] == ["http://home.com"]
    assert vernon["address"]["lines"] == ["Main 1"] and vernon["address"]["city"] == "Prague"
    bo = fetch(http, loaded[1][0])
    assert (bo["firstName"], bo["lastName"], bo["modifiedAt"]) == (
        "Bo",
        None,
        "2020-01-01T00:00:00Z",
    )


def test_v2_fixtures_are_validated_like_v2_creates(http: httpx.Client) -> None:
    document = [
        {"firstName": "x" * 41, "updatedAt": "soon", "_embedded": {"emails": [{"value": "nope"}]}},
        {"lastName": "Fine", "updatedAt": "2020-01-01T00:00:00Z"},
    ]
    response = http.post("/_openscout/fixtures", json=document)
    body = assert_error(response, 400, "Input could not be validated")
    properties = {problem["property"] for problem in body["validationErrors"]}
    assert properties == {
        "customers[0]:firstName",
        "customers[0]:updatedAt",
        "customers[0]:emails:value",
    }
    assert count(http) == 0  # all or nothing


def test_fixtures_are_validated_like_creates_and_all_problems_reported(
    http: httpx.Client,
) -> None:
    document = [
        {"firstName": "Ok", "lastName": "Fine"},
        {"firstName": "", "emails": [{"value": "nope"}]},
        "Ann",
        {
            "firstName": "A",
            "lastName": "B",
            "gender": "robot",
            "createdAt": "2020-02-02T00:00:00Z",
            "modifiedAt": "2019-01-01T00:00:00Z",
            "address": {"city": "Oslo"},
        },
    ]
    assert_invalid(
        http.post("/_openscout/fixtures", json=document),
        ("customers[1]:firstName", None, "Value is required"),
        ("customers[1]:lastName", None, "Value is required"),
        ("customers[1]:emails:value", "nope", "Value is not a valid email address"),
        ("customers[2]", "Ann", "Value is not valid"),
        ("customers[3]:gender", "robot", "Value is not valid"),
        ("customers[3]:modifiedAt", "2019-01-01T00:00:00Z", "Value is not valid"),
        ("customers[3]:address:state", None, "Value is required"),
        ("customers[3]:address:postalCode", None, "Value is required"),
        ("customers[3]:address:country", None, "Value is required"),
    )
    assert count(http) == 0  # all or nothing


def test_a_fixture_email_that_is_taken_is_a_conflict(http: httpx.Client) -> None:
    create(http, emails=[{"value": "taken@example.com"}])
    for document, index in (
        ([{"firstName": "A", "lastName": "B", "emails": [{"value": "TAKEN@example.com"}]}], 0),
        (
            [
                {"firstName": "A", "lastName": "B", "emails": [{"value": "twin@example.com"}]},
                {"firstName": "C", "lastName": "D", "emails": [{"value": "twin@example.com"}]},
            ],
            1,
        ),
    ):
        response = http.post("/_openscout/fixtures", json=document)
        body = assert_error(response, 409, "A customer with this email address already exists")
        assert body["property"] == f"customers[{index}]:emails"
        assert body["value"] in ("TAKEN@example.com", "twin@example.com")
    assert count(http) == 1


def test_a_fixture_document_that_is_not_a_list_is_malformed(http: httpx.Client) -> None:
    for body in (b"[", b'{"firstName": "Ann"}', b"42"):
        response = http.post("/_openscout/fixtures", content=body)
        assert_error(response, 400, "The request was not formatted correctly")


# --- snapshots


def test_a_snapshot_restores_the_account_exactly(http: httpx.Client, other: httpx.Client) -> None:
    kept = ok(http.post("/_openscout/fixtures", json=[FULL_SHAPE]), 201)["ids"][0]
    second = create(http, emails=[{"value": "second@example.com"}])
    before = {c: http.get(f"/v1/customers/{c}.json").content for c in (kept, second)}
    listed_before = http.get("/v1/customers.json").content
    snapshot = ok(http.post("/_openscout/snapshots"), 201)
    assert snapshot == {"id": snapshot["id"], "takenAt": snapshot["takenAt"], "count": 2}

    http.put(f"/v1/customers/{kept}.json", json={"firstName": "Changed", "emails": [{"id": -1}]})
    http.put(f"/v1/customers/{second}.json", json={"emails": [{"value": "more@example.com"}]})
    added = create(http, emails=[{"value": "added@example.com"}])
    restored = ok(http.post(f"/_openscout/snapshots/{snapshot['id']}/restore"))
    assert restored == snapshot

    for customer, content in before.items():
        assert http.get(f"/v1/customers/{customer}.json").content == content
    assert http.get("/v1/customers.json").content == listed_before
    assert_error(http.get(f"/v1/customers/{added}.json"), 404)
    found = ok(http.get("/v1/search/customers.json", params={"query": "more@example.com"}))
    assert found["count"] == 0
    found = ok(http.get("/v1/search/customers.json", params={"query": "firstName:Vera"}))
    assert [i["id"] for i in found["items"]] == [kept]
    create(http, emails=[{"value": "added@example.com"}])  # free again
    assert_error(other.post(f"/_openscout/snapshots/{snapshot['id']}/restore"), 404)


def test_snapshots_are_listed_read_and_deleted(http: httpx.Client, other: httpx.Client) -> None:
    customer = ok(http.post("/_openscout/fixtures", json=[FULL_SHAPE]), 201)["ids"][0]
    first = ok(http.post("/_openscout/snapshots"), 201)
    second = ok(http.post("/_openscout/snapshots"), 201)
    assert ok(http.get("/_openscout/snapshots")) == {"snapshots": [first, second]}
    assert ok(other.get("/_openscout/snapshots")) == {"snapshots": []}
    whole = ok(http.get(f"/_openscout/snapshots/{first['id']}"))
    assert whole == {**first, "customers": [fetch(http, customer)]}
    no_content(http.delete(f"/_openscout/snapshots/{first['id']}"))
    for method, path in (
        ("GET", f"/_openscout/snapshots/{first['id']}"),
        ("DELETE", f"/_openscout/snapshots/{first['id']}"),
        ("POST", f"/_openscout/snapshots/{first['id']}/restore"),
        ("GET", f"/_openscout/snapshots/{second['id']}"),
    ):
        client = other if path.endswith(str(second["id"])) else http
        assert_error(
            client.request(method, path), 404, f"This account has no snapshot {path.split('/')[3]}"
        )
    # A snapshot's customers are fixtures for another account (new ids, the same values).
    moved = ok(other.post("/_openscout/fixtures", json=whole["customers"]), 201)["ids"]
    assert without_ids(fetch(other, moved[0])) == without_ids(whole["customers"][0])


# --- bounds (docs/testing.md): what one key can make the server hold or do


@pytest.mark.parametrize(
    "moment", ["9999-12-31T00:00:00Z", "9001-01-01T00:00:00Z", "1969-12-31T23:59:59Z"]
)
def test_a_clock_is_kept_within_the_years_1970_to_9000(http: httpx.Client, moment: str) -> None:
    for frozen in (True, False):
        response = http.put("/_openscout/clock", json={"now": moment, "frozen": frozen})
        assert_invalid(response, ("now", moment, "Value is not valid"))
    assert ok(http.get("/_openscout/clock"))["frozen"] is False
    create(http)


@pytest.mark.parametrize(
    ("moment", "seconds"),
    [
        ("9000-12-31T00:00:00Z", 86_400),
        ("1970-01-01T00:00:10Z", -11),
        ("9000-06-01T00:00:00Z", 3e8),
    ],
)
def test_a_clock_is_never_advanced_out_of_its_range(
    http: httpx.Client, moment: str, seconds: float
) -> None:
    for frozen in (True, False):
        ok(http.put("/_openscout/clock", json={"now": moment, "frozen": frozen}))
        response = http.post("/_openscout/clock/advance", json={"seconds": seconds})
        assert_invalid(response, ("seconds", str(seconds), "Value is not valid"))
        assert ok(http.get("/_openscout/clock"))["now"][:10] == moment[:10]
        # The account goes on working at the edge of its range.
        assert fetch(http, create(http))["createdAt"][:10] == moment[:10]


def test_the_last_moments_of_the_range_can_be_set_and_used(http: httpx.Client) -> None:
    last = {"now": "9000-12-31T23:59:59Z", "frozen": True}
    assert ok(http.put("/_openscout/clock", json=last)) == last
    assert fetch(http, create(http))["createdAt"] == last["now"]
    first = {"now": "1970-01-01T00:00:00Z", "frozen": True}
    assert ok(http.put("/_openscout/clock", json=first)) == first


def test_one_account_opens_at_most_a_thousand_accounts_with_those_they_open(
    http: httpx.Client, control_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert state.MAX_ACCOUNTS_OPENED == 1000  # the number docs/testing.md gives
    assert "1,000 accounts" in (Path(__file__).parents[2] / "docs/testing.md").read_text()
    monkeypatch.setattr(state, "MAX_ACCOUNTS_OPENED", 4)  # the same server, a bound quicker met
    opened = [ok(http.post("/_openscout/accounts"), 201) for _ in range(3)]
    child = httpx.Client(base_url=control_server.url, auth=(opened[0]["apiKey"], "X"), timeout=30)
    with child:
        ok(child.post("/_openscout/accounts"), 201)  # the fourth, counted against `http`
        for client in (http, child):
            response = client.post("/_openscout/accounts")
            message = "This account has opened 4 accounts already (with those they opened)"
            assert_error(response, 409, message)
        assert count(child) == 0  # an opened account works as before
    assert ok(other_account_opens(control_server), 201)["apiKey"]


def other_account_opens(control_server: Server) -> httpx.Response:
    """An account the bound has nothing against."""
    account = new_account(control_server.store)
    return httpx.post(
        control_server.url + "/_openscout/accounts", auth=(account.key, "X"), timeout=30
    )


def test_a_journaled_body_is_never_held_past_the_journal_bound(
    control_server: Server, me: Account, http: httpx.Client
) -> None:
    """A chunked body that never ends: the endpoint answers 413 once 100 kB have passed,
    without waiting for the rest (the journal held the whole body before it let the endpoint
    see any of it, so a body of any size stayed in memory)."""
    credentials = base64.b64encode(f"{me.key}:X".encode())
    head = (
        b"POST /v1/customers.json HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Basic " + credentials + b"\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"x" * 16_384
    parts = [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * 10  # 160 kB, and no last chunk
    response = send_raw(control_server.url, head, parts)
    assert_error(response, 413, "The request is too large")
    (entry,) = journal(http)
    assert (entry["status"], entry["bodyTruncated"], entry["json"]) == (413, True, None)
    assert entry["body"] == "x" * 100 * 1024
