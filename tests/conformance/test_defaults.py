"""The conformance run against the defaults a user gets (issue 13): `openscout serve` with no
option but a database URL and a port, as `make serve` runs it, and a plain HTTP client (httpx,
which never retries) sending 60 request/answer cases. Each case checks the status and the parts
of the answer that matter; no answer may be a 429 or a 5xx, nor carry rate-limit headers.

Every case is independent of the others (a case that changes a customer makes its own), so
they pass in any order and split across pytest-xdist workers (each then starts its server)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from openscout import keys, service
from openscout.contract.v1 import wire
from openscout.store.engine import SqlStore
from tests.concurrency.processes import ServeProcess
from tests.conftest import new_account
from tests.helpers import (
    EMAIL_TAKEN,
    JSON,
    LASLABS_CREATE,
    LIST_KEYS,
    MALFORMED,
    NOT_FOUND,
    SEARCH_KEYS,
    assert_cors,
    assert_empty,
    assert_error,
    assert_invalid,
    assert_item,
    create,
    customer_id,
    fetch,
    ids,
    raw,
    route_not_found,
    update,
)
from tests.http.test_errors import LIMIT, _chunks, _padded

#: The first-start line of `serve` (a JSON line, its output not being a terminal) with the key.
KEY_MESSAGE = "No API key existed"
LIST = "/v1/customers.json"
SEARCH = "/v1/search/customers.json"
ANN_EMAIL = "ann@conformance.example"


@dataclass
class Run:
    """Clients of the server under test, and the customers every case may read."""

    http: httpx.Client  # with the key the server printed on its first start
    anonymous: httpx.Client
    other: httpx.Client  # a key of another account
    revoked_key: str
    ann: int  # emails ANN_EMAIL, one phone; no case changes her
    theirs: int  # a customer of the other account
    answers: list[httpx.Response]  # every answer of the run, in order


def checked(answers: list[httpx.Response]) -> Callable[[httpx.Response], None]:
    """A response hook that keeps every answer and checks what holds for all of them."""

    def check(response: httpx.Response) -> None:
        answers.append(response)
        assert response.status_code != 429, response.request
        assert response.status_code < 500, response.request
        limits = [name for name in response.headers if name.lower().startswith("x-ratelimit")]
        assert limits == [], (response.request, limits)

    return check


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    directory = tmp_path_factory.mktemp("conformance")
    url = f"sqlite:///{directory / 'openscout.db'}"
    server = ServeProcess(url, directory / "serve.log", plain=True)
    try:
        server.start().wait_ready()
        printed = [
            json.loads(line)["key"]
            for line in server.log.read_text().splitlines()
            if KEY_MESSAGE in line
        ]
        assert len(printed) == 1, server.output()
        store = SqlStore(url)
        try:
            other = new_account(store)
            revoked = new_account(store, other.name)
            (listed,) = [k for k in service.list_keys(store) if k.prefix == revoked.key[:4]]
            assert service.revoke_key(store, listed.id, datetime.now(UTC))
        finally:
            store.close()
        answers: list[httpx.Response] = []
        hooks = {"response": [checked(answers)]}

        def client(auth: tuple[str, str] | None) -> httpx.Client:
            return httpx.Client(base_url=server.url, auth=auth, timeout=30, event_hooks=hooks)

        with (
            client((printed[0], "X")) as http,
            client(None) as anonymous,
            client((other.key, "X")) as other_http,
        ):
            ann = create(http, emails=[{"value": ANN_EMAIL}], phones=[{"value": "555-0100"}])
            theirs = create(other_http, firstName="Their")
            yield Run(http, anonymous, other_http, revoked.key, ann, theirs, answers)
    finally:
        server.stop()


CASES: dict[str, Callable[[Run], None]] = {}


def case(function: Callable[[Run], None]) -> Callable[[Run], None]:
    CASES[function.__name__] = function
    return function


# -- creates (spec §9.4)


@case
def create_answers_201_without_a_body_and_a_location(run: Run) -> None:
    response = run.http.post(LIST, json={"firstName": "Ann", "lastName": "Lee"})
    assert_empty(response, 201)
    assert response.headers["location"] == (
        f"{run.http.base_url}".rstrip("/") + f"/v1/customers/{customer_id(response)}.json"
    )


@case
def create_with_reload_in_the_query_answers_the_item(run: Run) -> None:
    response = run.http.post(f"{LIST}?reload=true", json={"firstName": "Bo", "lastName": "Ek"})
    item = assert_item(response, 201)
    assert (item["id"], item["fullName"]) == (customer_id(response), "Bo Ek")


@case
def create_with_reload_in_the_body_as_a_client_library_sends_it(run: Run) -> None:
    item = assert_item(run.http.post(LIST, json=LASLABS_CREATE), 201)
    assert (item["firstName"], item["organization"], item["jobTitle"]) == (
        "Test",
        "Test Company",
        "CEO",
    )
    assert item["emails"] == [] and item["address"] is None


@case
def create_with_a_false_reload_answers_without_a_body(run: Run) -> None:
    response = run.http.post(f"{LIST}?reload=false", json={"firstName": "A", "lastName": "B"})
    assert_empty(response, 201)


@case
def create_in_the_customer_wrapper(run: Run) -> None:
    body = {"customer": {"firstName": "Cy", "lastName": "Do", "jobTitle": "Chef"}, "reload": True}
    assert assert_item(run.http.post(LIST, json=body), 201)["jobTitle"] == "Chef"


@case
def create_with_every_collection_and_an_address(run: Run) -> None:
    body = {
        "firstName": "Di",
        "lastName": "Fo",
        "emails": [{"value": "di@conformance.example"}],
        "phones": [{"value": "555-0101", "location": "mobile"}],
        "chats": [{"value": "di-chat", "type": "skype"}],
        "socialProfiles": [{"value": "https://example.com/di"}],
        "websites": [{"value": "https://di.example.com"}],
        "address": {
            "lines": ["1 Main St"],
            "city": "Town",
            "state": "TS",
            "postalCode": "12345",
            "country": "US",
        },
    }
    item = assert_item(run.http.post(f"{LIST}?reload=true", json=body), 201)
    assert [(e["value"], e["location"]) for e in item["emails"]] == [
        ("di@conformance.example", "work")
    ]
    assert [(e["value"], e["location"]) for e in item["phones"]] == [("555-0101", "mobile")]
    assert [(e["value"], e["type"]) for e in item["chats"]] == [("di-chat", "skype")]
    assert [e["value"] for e in item["websites"]] == ["https://di.example.com"]
    assert item["address"]["lines"] == ["1 Main St"] and item["address"]["city"] == "Town"


@case
def create_keeps_text_byte_for_byte(run: Run) -> None:
    names = {"firstName": "Zoë 🦊", "lastName": "e\u0301lan"}
    assert fetch(run.http, create(run.http, **names))["fullName"] == "Zoë 🦊 e\u0301lan"


# -- gets (spec §9.3)


@case
def get_answers_the_full_shape(run: Run) -> None:
    item = fetch(run.http, run.ann)
    assert item["id"] == run.ann
    assert [e["value"] for e in item["emails"]] == [ANN_EMAIL]
    assert [e["value"] for e in item["phones"]] == ["555-0100"]


@case
def get_of_an_unknown_id_is_404(run: Run) -> None:
    assert_error(run.http.get("/v1/customers/2000000000.json"), 404, NOT_FOUND)


@case
def get_of_an_id_of_thousands_of_digits_is_404(run: Run) -> None:
    assert_error(run.http.get(f"/v1/customers/{'9' * 5000}.json"), 404, NOT_FOUND)


@case
def get_of_another_accounts_customer_is_404(run: Run) -> None:
    assert_error(run.http.get(f"/v1/customers/{run.theirs}.json"), 404, NOT_FOUND)
    assert fetch(run.other, run.theirs)["firstName"] == "Their"


@case
def get_of_a_path_that_is_no_id_is_an_unknown_route(run: Run) -> None:
    path = "/v1/customers/abc.json"
    assert_error(run.http.get(path), 404, route_not_found(path))


# -- updates (spec §9.5, §10): entries with an id, without one, with a negative one


@case
def update_answers_200_without_a_body(run: Run) -> None:
    customer = create(run.http)
    assert update(run.http, customer, {"organization": "Acme"})["organization"] == "Acme"


@case
def update_with_reload_answers_the_item(run: Run) -> None:
    customer = create(run.http)
    response = run.http.put(
        f"/v1/customers/{customer}.json", json={"customer": {"jobTitle": "CTO"}, "reload": True}
    )
    assert assert_item(response, 201)["jobTitle"] == "CTO"


@case
def update_adds_an_entry_without_an_id_and_keeps_the_others(run: Run) -> None:
    customer = create(run.http, emails=[{"value": "one@conformance.example"}])
    item = update(run.http, customer, {"emails": [{"value": "two@conformance.example"}]})
    assert [e["value"] for e in item["emails"]] == [
        "one@conformance.example",
        "two@conformance.example",
    ]


@case
def update_adds_entries_with_id_0_null_or_false(run: Run) -> None:
    customer = create(run.http)
    phones = [{"id": 0, "value": "1"}, {"id": None, "value": "2"}, {"id": False, "value": "3"}]
    item = update(run.http, customer, {"phones": phones})
    assert [e["value"] for e in item["phones"]] == ["1", "2", "3"]
    assert len(set(ids(item["phones"]))) == 3


@case
def update_changes_the_entry_with_its_id(run: Run) -> None:
    customer = create(run.http, phones=[{"value": "555-0001"}, {"value": "555-0002"}])
    first, second = ids(fetch(run.http, customer)["phones"])
    item = update(run.http, customer, {"phones": [{"id": second, "value": "555-0003"}]})
    assert [(e["id"], e["value"]) for e in item["phones"]] == [
        (first, "555-0001"),
        (second, "555-0003"),
    ]


@case
def update_removes_the_entry_of_a_negative_id(run: Run) -> None:
    customer = create(
        run.http, websites=[{"value": "https://a.example"}, {"value": "https://b.example"}]
    )
    first, second = ids(fetch(run.http, customer)["websites"])
    item = update(run.http, customer, {"websites": [{"id": -first}]})
    assert ids(item["websites"]) == [second]


@case
def update_with_an_unknown_entry_id_is_400_and_writes_nothing(run: Run) -> None:
    customer = create(run.http, emails=[{"value": "keep@conformance.example"}])
    before = raw(run.http, customer)
    response = run.http.put(
        f"/v1/customers/{customer}.json",
        json={"organization": "No", "emails": [{"id": 1234567890, "value": "x@example.com"}]},
    )
    assert_invalid(response, ("emails:id", "1234567890", "The specified email is not valid"))
    assert raw(run.http, customer) == before


@case
def update_with_an_unknown_negative_id_is_400(run: Run) -> None:
    customer = create(run.http)
    response = run.http.put(f"/v1/customers/{customer}.json", json={"chats": [{"id": -1234}]})
    assert_invalid(response, ("chats:id", "-1234", "The specified chat is not valid"))


@case
def update_with_an_entry_id_of_another_customer_is_400(run: Run) -> None:
    (ann_phone,) = ids(fetch(run.http, run.ann)["phones"])
    customer = create(run.http)
    response = run.http.put(f"/v1/customers/{customer}.json", json={"phones": [{"id": -ann_phone}]})
    assert_invalid(response, ("phones:id", str(-ann_phone), "The specified phone is not valid"))
    assert ids(fetch(run.http, run.ann)["phones"]) == [ann_phone]


@case
def update_of_an_unknown_customer_is_404(run: Run) -> None:
    response = run.http.put("/v1/customers/2000000000.json", json={"firstName": "X"})
    assert_error(response, 404, NOT_FOUND)


@case
def update_of_another_accounts_customer_is_404(run: Run) -> None:
    response = run.http.put(f"/v1/customers/{run.theirs}.json", json={"firstName": "Mine"})
    assert_error(response, 404, NOT_FOUND)
    assert fetch(run.other, run.theirs)["firstName"] == "Their"


@case
def update_with_blank_names_is_400(run: Run) -> None:
    customer = create(run.http)
    response = run.http.put(
        f"/v1/customers/{customer}.json", json={"firstName": " ", "lastName": ""}
    )
    assert_invalid(
        response, ("firstName", None, "Value is required"), ("lastName", None, "Value is required")
    )


@case
def update_that_is_not_json_is_400(run: Run) -> None:
    customer = create(run.http)
    response = run.http.put(f"/v1/customers/{customer}.json", content=b"{")
    assert_error(response, 400, MALFORMED["error"])
    assert response.json() == MALFORMED


# -- lists (spec §9.1)


@case
def list_answers_the_envelope_newest_first(run: Run) -> None:
    newest = create(run.http)
    response = run.http.get(LIST)
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON
    body = response.json()
    assert list(body) == ["page", "pages", "count", "items"]
    assert body["page"] == 1 and body["count"] >= 2
    assert all(tuple(item) == LIST_KEYS for item in body["items"])
    assert body["items"][0]["id"] >= newest


@case
def list_filtered_by_email(run: Run) -> None:
    body = run.http.get(LIST, params={"email": ANN_EMAIL.upper()}).json()
    assert [item["id"] for item in body["items"]] == [run.ann]
    assert body["count"] == 1


@case
def list_filtered_by_names_ignoring_case(run: Run) -> None:
    customer = create(run.http, firstName="Quentin", lastName="Quirke")
    body = run.http.get(LIST, params={"firstName": "quentin", "lastName": "QUIRKE"}).json()
    assert [item["id"] for item in body["items"]] == [customer]


@case
def list_page_past_the_end_is_empty(run: Run) -> None:
    body = run.http.get(LIST, params={"page": "5000"}).json()
    assert (body["page"], body["items"]) == (5000, [])


@case
def list_page_0_is_400(run: Run) -> None:
    assert_invalid(run.http.get(LIST, params={"page": "0"}), ("page", "0", "Value is not valid"))


@case
def list_unreadable_modified_since_is_400(run: Run) -> None:
    response = run.http.get(LIST, params={"modifiedSince": "yesterday"})
    assert_invalid(response, ("modifiedSince", "yesterday", "Value is not valid"))


@case
def list_of_a_mailbox_is_404(run: Run) -> None:
    assert_error(run.http.get("/v1/mailboxes/1/customers.json"), 404, NOT_FOUND)


# -- searches (spec §9.2)


def found(run: Run, query: str, **params: Any) -> list[int]:
    response = run.http.get(SEARCH, params={"query": query, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == ["page", "pages", "count", "items"]
    assert all(tuple(item) == SEARCH_KEYS for item in body["items"])
    return [item["id"] for item in body["items"]]


@case
def search_by_a_quoted_email(run: Run) -> None:
    assert found(run, f'(email:"{ANN_EMAIL}")') == [run.ann]


@case
def search_by_a_word(run: Run) -> None:
    customer = create(run.http, firstName="Xanthippe", lastName="Yarrow")
    assert found(run, "xanthippe") == [customer]


@case
def search_by_id(run: Run) -> None:
    assert found(run, f"id:{run.ann}") == [run.ann]


@case
def search_with_or_and_a_sort(run: Run) -> None:
    one = create(run.http, firstName="Sortie", lastName="Aa")
    two = create(run.http, firstName="Sortie", lastName="Bb")
    query = f"id:{one} OR id:{two}"
    assert found(run, query, sortField="lastName", sortOrder="asc") == [one, two]
    assert found(run, query, sortField="lastName", sortOrder="desc") == [two, one]


@case
def search_without_a_match_is_empty(run: Run) -> None:
    assert found(run, "nobody-matches-this") == []


@case
def search_does_not_see_another_account(run: Run) -> None:
    assert found(run, f"id:{run.theirs}") == []


@case
def search_that_cannot_be_read_is_400_saying_where(run: Run) -> None:
    response = run.http.get(SEARCH, params={"query": "id:abc"})
    message = 'The search query could not be read at position 4: "abc" is not an id'
    assert_error(response, 400, message)
    assert response.json() == {"code": 400, "error": message}


@case
def search_page_0_is_400(run: Run) -> None:
    response = run.http.get(SEARCH, params={"query": "ann", "page": "0"})
    assert_invalid(response, ("page", "0", "Value is not valid"))


# -- routes (spec §7)


@case
def unknown_path_is_404_naming_it(run: Run) -> None:
    response = run.http.get("/v1/unknown.json")
    assert response.json() == {"code": 404, "error": route_not_found("/v1/unknown.json")}


@case
def delete_is_404_naming_the_path(run: Run) -> None:
    path = f"/v1/customers/{run.ann}.json"
    assert_error(run.http.delete(path), 404, route_not_found(path))
    assert fetch(run.http, run.ann)["id"] == run.ann


@case
def post_to_a_customer_is_404_naming_the_path(run: Run) -> None:
    path = f"/v1/customers/{run.ann}.json"
    assert_error(run.http.post(path, json={"firstName": "X"}), 404, route_not_found(path))


# -- validation (spec §10)


@case
def create_without_names_is_400_listing_both(run: Run) -> None:
    assert_invalid(
        run.http.post(LIST, json={"organization": "Acme"}),
        ("firstName", None, "Value is required"),
        ("lastName", None, "Value is required"),
    )


@case
def create_with_an_invalid_email_is_400(run: Run) -> None:
    body = {"firstName": "A", "lastName": "B", "emails": [{"value": "ann@"}]}
    assert_invalid(
        run.http.post(LIST, json=body),
        ("emails:value", "ann@", "Value is not a valid email address"),
    )


@case
def create_with_a_name_too_long_is_400(run: Run) -> None:
    body = {"firstName": "x" * 41, "lastName": "B"}
    assert_invalid(run.http.post(LIST, json=body), ("firstName", "x" * 41, "Value is too long"))


@case
def create_with_a_field_of_the_wrong_type_is_400(run: Run) -> None:
    body = {"firstName": "A", "lastName": "B", "organization": 5}
    assert_invalid(run.http.post(LIST, json=body), ("organization", "5", "Value is not valid"))


@case
def create_that_is_not_json_is_400(run: Run) -> None:
    response = run.http.post(
        LIST, content=b"not json", headers={"Content-Type": "application/json"}
    )
    assert response.json() == MALFORMED


# -- keys (spec §3)


def assert_unauthorized(response: httpx.Response) -> None:
    assert_error(response, 401, "Invalid API Key")
    assert response.headers["www-authenticate"] == wire.WWW_AUTHENTICATE


@case
def no_key_is_401_with_the_cors_headers(run: Run) -> None:
    response = run.anonymous.get(LIST)
    assert_unauthorized(response)
    assert_cors(response)


@case
def an_unknown_key_is_401(run: Run) -> None:
    assert_unauthorized(run.anonymous.get(LIST, auth=(keys.generate_key(), "X")))


@case
def a_revoked_key_is_401(run: Run) -> None:
    assert_unauthorized(
        run.anonymous.get(f"/v1/customers/{run.ann}.json", auth=(run.revoked_key, "X"))
    )


@case
def a_bearer_token_is_401(run: Run) -> None:
    response = run.anonymous.get(LIST, headers={"Authorization": "Bearer abc"})
    assert_unauthorized(response)


@case
def an_authorization_that_is_not_ascii_is_401(run: Run) -> None:
    response = run.anonymous.get(LIST, headers={"Authorization": b"Basic \xc3\xa9"})
    assert_unauthorized(response)


@case
def the_key_is_checked_before_the_body(run: Run) -> None:
    assert_unauthorized(run.anonymous.post(LIST, content=b"{"))


# -- email taken (spec §10.4)


@case
def create_with_a_taken_email_is_409(run: Run) -> None:
    body = {"firstName": "A", "lastName": "B", "emails": [{"value": ANN_EMAIL}]}
    response = run.http.post(LIST, json=body)
    assert_error(response, 409, EMAIL_TAKEN["error"])
    assert response.json() == EMAIL_TAKEN


@case
def update_to_a_taken_email_in_capitals_is_409(run: Run) -> None:
    customer = create(run.http)
    before = raw(run.http, customer)
    response = run.http.put(
        f"/v1/customers/{customer}.json", json={"emails": [{"value": ANN_EMAIL.upper()}]}
    )
    assert response.json() == EMAIL_TAKEN
    assert raw(run.http, customer) == before


# -- bodies over 100 kB (spec §7)


@case
def create_over_100_kb_is_413(run: Run) -> None:
    response = run.http.post(LIST, content=_padded(LIMIT + 1))
    assert_error(response, 413, "The request is too large")


@case
def chunked_update_over_100_kb_is_413(run: Run) -> None:
    customer = create(run.http)
    before = raw(run.http, customer)
    response = run.http.put(f"/v1/customers/{customer}.json", content=_chunks(_padded(2 * LIMIT)))
    assert_error(response, 413, "The request is too large")
    assert raw(run.http, customer) == before


# -- outside the API


@case
def health_is_ok(run: Run) -> None:
    response = run.anonymous.get("/healthz")
    assert response.json() == {"status": "ok", "database": "ok", "webhooks": {"backlog": 0}}


@case
def the_openapi_document_is_served_without_a_key(run: Run) -> None:
    document = run.anonymous.get("/v1/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert "/v1/customers.json" in document["paths"]


assert len(CASES) == 60, len(CASES)


@pytest.mark.parametrize("name", CASES)
def test_the_conformance_run(run: Run, name: str) -> None:
    sent = len(run.answers)
    CASES[name](run)
    assert len(run.answers) > sent  # the case asked the server something


def test_60_creates_in_a_row_all_pass(run: Run) -> None:
    """What a first user tries: Help Scout's burst limit refused 51 of these."""
    for sent in range(60):
        body = {
            "firstName": "Row",
            "lastName": str(sent),
            "emails": [{"value": f"r{sent}@x.example"}],
        }
        response = run.http.post(LIST, json=body)
        assert_empty(response, 201)
        assert not [name for name in response.headers if name.startswith("x-ratelimit")]
    body = run.http.get(SEARCH, params={"query": "row"}).json()
    assert body["count"] == 60
